#include "host/kernel_costs.h"

#include <algorithm>

#include "host/op_spans.h"
#include "plan/layer_geometry.h"

namespace mcusplit::host {

std::string layer_kernel_name(const quant::QLayer& layer) {
  return layer.record().kernel_name(layer);
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
