#include "kernels/int8_concat.h"

#include <cstring>

namespace mcusplit::kernels {

void set_int8_concat_quantization(Int8ConcatParams& p, const core::QuantParams& in_q,
                                  const core::QuantParams& out_q) {
  p.input_zero_point = in_q.zero_point;
  p.output_zero_point = out_q.zero_point;
  const auto m =
      core::quantize_multiplier(static_cast<double>(in_q.scale) / static_cast<double>(out_q.scale));
  p.multiplier = m.multiplier;
  p.shift = m.shift;
}

namespace {

Box shifted(const Box& b, int32_t dc, int32_t dy, int32_t dx) {
  return Box{b.c0 + dc, b.c1 + dc, b.y0 + dy, b.y1 + dy, b.x0 + dx, b.x1 + dx};
}

bool valid_concat_params(const Int8ConcatParams& p) {
  return valid_shape(p.input) && valid_shape(p.output) && valid_zero_point(p.input_zero_point) &&
         valid_zero_point(p.output_zero_point) && p.shift >= -31 && p.shift <= 30 &&
         input_placed_inside_output(p);
}

}  // namespace

bool input_placed_inside_output(const Int8ConcatParams& p) {
  // Compared, not shifted: an offset near the int32 limits would overflow.
  const auto fits = [](int32_t offset, int32_t in, int32_t out) {
    return offset >= 0 && int64_t{offset} + in <= out;
  };
  return fits(p.offset_c, p.input.c, p.output.c) && fits(p.offset_y, p.input.h, p.output.h) &&
         fits(p.offset_x, p.input.w, p.output.w);
}

Box required_input_box(const Int8ConcatParams& p, const Box& out_box) {
  // An empty box may hold any coordinates: shifting them could overflow.
  if (out_box.empty()) return Box{};
  const Box b = core::intersect(shifted(out_box, -p.offset_c, -p.offset_y, -p.offset_x),
                                core::full_box(p.input));
  return b.empty() ? Box{} : b;
}

int32_t int8_concat_scratch_bytes(const Int8ConcatParams& /*p*/, const Box& /*copy_box*/) {
  return 0;
}

KernelStatus int8_concat(const Int8ConcatParams& p, const InputTile& in, const Box& copy_box,
                         const OutputTile& out, Scratch /*scratch*/) {
  if (!valid_concat_params(p)) return KernelStatus::BadParams;
  if (copy_box.empty()) return KernelStatus::Ok;
  const Box dest = shifted(copy_box, p.offset_c, p.offset_y, p.offset_x);
  const ResolvedStrides os = resolve_strides(out);
  if (!core::inside(p.output, out.box) || !core::contains(out.box, dest) || !os.ok ||
      out.data == nullptr) {
    return KernelStatus::BadParams;
  }
  if (!core::inside(p.input, copy_box)) return KernelStatus::BadParams;
  if (!core::contains(in.box, copy_box)) return KernelStatus::InputBoxTooSmall;
  if (in.data == nullptr) return KernelStatus::BadParams;

  // MBQM(x, 2^30, 1) == x, so equal quantization is a plain copy.
  const bool identity = p.multiplier == (int32_t{1} << 30) && p.shift == 1 &&
                        p.input_zero_point == p.output_zero_point;
  const int32_t channels = copy_box.channels();
  for (int32_t y = copy_box.y0; y < copy_box.y1; ++y) {
    for (int32_t x = copy_box.x0; x < copy_box.x1; ++x) {
      const int8_t* src = in.data + core::dense_offset(in.box, copy_box.c0, y, x);
      int8_t* dst = out.data + (y + p.offset_y - out.box.y0) * os.row +
                    (x + p.offset_x - out.box.x0) * os.pixel + (dest.c0 - out.box.c0);
      if (identity) {
        std::memcpy(dst, src, static_cast<size_t>(channels));
        continue;
      }
      for (int32_t c = 0; c < channels; ++c) {
        const int32_t v = core::multiply_by_quantized_multiplier(src[c] - p.input_zero_point,
                                                                 p.multiplier, p.shift);
        dst[c] = clamp_to_int8(v + p.output_zero_point, ActivationRange{});
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
