#include "kernels/int8_global_average_pool.h"

namespace mcusplit::kernels {

Int8GlobalAveragePoolParams make_int8_global_average_pool_params(const TensorShape3& input,
                                                                 const core::QuantParams& in_q,
                                                                 const core::QuantParams& out_q) {
  Int8GlobalAveragePoolParams p;
  p.input = input;
  p.input_zero_point = in_q.zero_point;
  p.output_zero_point = out_q.zero_point;
  const auto m =
      core::quantize_multiplier(static_cast<double>(in_q.scale) / static_cast<double>(out_q.scale));
  p.multiplier = m.multiplier;
  p.shift = m.shift;
  return p;
}

Box required_input_box(const Int8GlobalAveragePoolParams& p, const Box& out_box) {
  if (out_box.empty()) return Box{};
  return Box{out_box.c0, out_box.c1, 0, p.input.h, 0, p.input.w};
}

namespace {

// Channels summed per pass; the running sums live in the scratch.
constexpr int32_t kChannelBlock = 64;

bool valid_gap_params(const Int8GlobalAveragePoolParams& p) {
  return valid_shape(p.input) && valid_zero_point(p.input_zero_point) &&
         valid_zero_point(p.output_zero_point) && valid_activation(p.activation) &&
         p.shift >= -31 && p.shift <= 30;
}

}  // namespace

int32_t int8_global_average_pool_scratch_bytes(const Int8GlobalAveragePoolParams& /*p*/,
                                               const Box& out_box) {
  if (out_box.empty()) return 0;
  return scratch_array_bytes<int32_t>(core::min_i32(kChannelBlock, out_box.channels()));
}

KernelStatus int8_global_average_pool(const Int8GlobalAveragePoolParams& p, const InputTile& in,
                                      const OutputTile& out, Scratch scratch) {
  if (!valid_gap_params(p)) return KernelStatus::BadParams;
  if (out.box.empty()) return KernelStatus::Ok;
  if (!core::inside(TensorShape3{p.input.c, 1, 1}, out.box) || out.data == nullptr) {
    return KernelStatus::BadParams;
  }
  if (!in.box.empty() && (!core::inside(p.input, in.box) || in.data == nullptr)) {
    return KernelStatus::BadParams;
  }
  if (!core::contains(in.box, required_input_box(p, out.box))) {
    return KernelStatus::InputBoxTooSmall;
  }
  if (!scratch_fits(scratch, int8_global_average_pool_scratch_bytes(p, out.box))) {
    return KernelStatus::BadParams;
  }

  const int32_t count = p.input.h * p.input.w;
  const int32_t in_pixel = in.box.channels();
  ScratchCarver carver(scratch);
  int32_t* const sums = carver.carve<int32_t>(core::min_i32(kChannelBlock, out.box.channels()));
  for (int32_t block_c0 = out.box.c0; block_c0 < out.box.c1; block_c0 += kChannelBlock) {
    const int32_t n = core::min_i32(kChannelBlock, out.box.c1 - block_c0);
    for (int32_t i = 0; i < n; ++i) sums[i] = 0;
    for (int32_t y = 0; y < p.input.h; ++y) {
      const int8_t* src = in.data + core::dense_offset(in.box, block_c0, y, 0);
      for (int32_t x = 0; x < p.input.w; ++x, src += in_pixel) {
        for (int32_t i = 0; i < n; ++i) sums[i] += src[i];
      }
    }
    for (int32_t i = 0; i < n; ++i) {
      int32_t acc = sums[i] - count * p.input_zero_point;
      acc = core::multiply_by_quantized_multiplier(acc, p.multiplier, p.shift);
      acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      out.data[block_c0 + i - out.box.c0] = clamp_to_int8(acc + p.output_zero_point, p.activation);
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
