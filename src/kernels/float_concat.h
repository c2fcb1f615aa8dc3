// Concat as a strided copy: each input, viewed as [outer][inner], fills a
// column range of the output viewed as [outer][out_inner].
#pragma once

#include <cstdint>

namespace mcusplit::kernels {

// inner = input's extent along the axis times everything after it;
// out_inner = the same for the output; offset = columns already filled by the
// preceding inputs.
void concat_copy_f32(int64_t outer, int64_t inner, int64_t out_inner, int64_t offset,
                     const float* input, float* output);

}  // namespace mcusplit::kernels
