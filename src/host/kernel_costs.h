// What each layer cost a device in instructions, next to the work it did:
// the compute clock records of a firmware run under QEMU's -icount, the
// plan's multiply-accumulates and the kernel that ran (docs/firmware.md,
// "Instruction counts").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/coordinator.h"
#include "plan/plan_file.h"
#include "quant/qgraph.h"

namespace mcusplit::host {

// The kernel that computes `layer`: "conv", "depthwise", "pointwise" (1x1),
// "fully_connected", or the op's name in lower case ("add", "maxpool", ...).
std::string layer_kernel_name(const quant::QLayer& layer);

struct LayerKernelCost {
  int step = 0;
  std::string layer;
  std::string kernel;
  int64_t macs = 0;          // of the boxes this device computed (the plan's figure)
  int64_t instructions = 0;  // in its Compute ops of this step
};

// Per layer that `participant` computes, in step order. Instructions come
// from report.compute_clocks under -icount shift=`icount_shift` (0 when the
// device sent no clock records).
std::vector<LayerKernelCost> layer_kernel_costs(const plan::PlanFile& file, int participant,
                                                const ParticipantReport& report, int icount_shift);

}  // namespace mcusplit::host
