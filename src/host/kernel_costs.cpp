#include "host/kernel_costs.h"

#include <algorithm>
#include <cctype>

#include "host/op_spans.h"
#include "kernels/int8_conv_dispatch.h"
#include "plan/layer_geometry.h"

namespace mcusplit::host {

std::string layer_kernel_name(const quant::QLayer& layer) {
  if (layer.op == quant::QOpType::FullyConnected) return "fully_connected";
  if (layer.op == quant::QOpType::Conv) {
    switch (kernels::select_conv_variant(layer.conv)) {
      case kernels::ConvVariant::Pointwise:
        return "pointwise";
      case kernels::ConvVariant::Depthwise:
        return "depthwise";
      case kernels::ConvVariant::General:
        return "conv";
    }
  }
  std::string name = quant::qop_type_name(layer.op);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::vector<LayerKernelCost> layer_kernel_costs(const plan::PlanFile& file, int participant,
                                                const ParticipantReport& report, int icount_shift) {
  const plan::ParticipantPlan& pp = file.plan.participants[static_cast<size_t>(participant)];
  const int steps = file.plan.step_count();
  const std::vector<int64_t> instructions =
      step_instructions(report.compute_clocks, report.clock_hz, icount_shift, steps);
  std::vector<LayerKernelCost> costs;
  for (const plan::PlanOp& op : pp.ops) {
    if (op.kind != plan::OpKind::Compute || op.layer < 0) continue;
    const quant::QLayer& layer = file.graph.layers[static_cast<size_t>(op.layer)];
    if (costs.empty() || costs.back().step != op.step) {
      costs.push_back(LayerKernelCost{op.step, layer.name, layer_kernel_name(layer), 0,
                                      instructions[static_cast<size_t>(op.step)]});
    }
    costs.back().macs += plan::box_macs(layer, op.box);
  }
  return costs;
}

}  // namespace mcusplit::host
