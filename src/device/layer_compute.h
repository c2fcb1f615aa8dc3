// One Compute op: tiles bound over the participant's arena buffers, then the
// layer's int8 kernel, called exactly as the single-device executor calls it
// (quant/int8_executor.cpp) but on the op's box. Freestanding.
#pragma once

#include <cstdint>

#include "device/device_program.h"
#include "kernels/int8_common.h"

namespace mcusplit::device {

// Computes op.box of layer program.layers[op.params] into its dst buffer.
// The program must have passed check_program. A Reshape whose input buffer
// misses rows it needs reports InputBoxTooSmall, like the kernels. scratch
// is the kernel's working memory (kernels::Scratch); a kernel stating more
// than it holds reports BadParams.
// An op whose dst buffer shares bytes with its input 0's buffer is computed
// in place (the record's invoke_in_place).
kernels::KernelStatus run_compute(const DeviceProgram& program, const DeviceOp& op, int8_t* arena,
                                  kernels::Scratch scratch);

// The two buffers share arena bytes.
bool buffers_overlap(const DeviceBuffer& a, const DeviceBuffer& b);

}  // namespace mcusplit::device
