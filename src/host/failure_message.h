// Host-side wording of a device runtime failure: which participant, which op
// (kind, step, layer, tensor and box by name), and what went wrong, e.g.
// what it waited for when a receive timed out.
#pragma once

#include <chrono>
#include <string>

#include "device/device_program.h"
#include "device/device_runtime.h"
#include "plan/plan_file.h"

namespace mcusplit::host {

// "[c0, c1) x [y0, y1) x [x0, x1)".
std::string box_text(const core::Box& box);

// "op N (receive of tensor 'x' [...] from 'dev', step S of layer 'L' (Conv))".
std::string describe_op(const plan::PlanFile& file, const device::DeviceProgram& program,
                        int32_t op_index);

// One line naming the participant of `program` in `file`, the failing op and
// the cause. `receive_timeout` is how long a timed-out receive waited.
std::string failure_message(const plan::PlanFile& file, const device::DeviceProgram& program,
                            const device::RuntimeFailure& failure,
                            std::chrono::milliseconds receive_timeout);

}  // namespace mcusplit::host
