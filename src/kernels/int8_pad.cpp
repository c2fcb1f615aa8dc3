#include "kernels/int8_pad.h"

namespace mcusplit::kernels {

const char* check_int8_pad_params(const Int8PadParams& p) {
  if (!valid_shape(p.input) || !valid_shape(p.output)) return "bad shapes";
  if (p.pad_c < 0 || p.pad_top < 0 || p.pad_left < 0 || p.pad_c + p.input.c > p.output.c ||
      p.pad_top + p.input.h > p.output.h || p.pad_left + p.input.w > p.output.w) {
    return "the input does not fit in the output at its offsets";
  }
  if (p.value < -128 || p.value > 127) return "pad value outside int8";
  return nullptr;
}

Box required_input_box(const Int8PadParams& p, const Box& out_box) {
  if (out_box.empty()) return Box{};
  const Box shifted{out_box.c0 - p.pad_c,   out_box.c1 - p.pad_c,    out_box.y0 - p.pad_top,
                    out_box.y1 - p.pad_top, out_box.x0 - p.pad_left, out_box.x1 - p.pad_left};
  const Box inside = core::intersect(shifted, core::full_box(p.input));
  return inside.empty() ? Box{} : inside;
}

int32_t int8_pad_scratch_bytes(const Int8PadParams& /*p*/, const Box& /*out_box*/) {
  return 0;
}

KernelStatus int8_pad(const Int8PadParams& p, const InputTile& in, const OutputTile& out,
                      Scratch /*scratch*/) {
  if (check_int8_pad_params(p) != nullptr || !core::inside(p.output, out.box)) {
    return KernelStatus::BadParams;
  }
  const ResolvedStrides strides = resolve_strides(out);
  if (!strides.ok || (out.data == nullptr && !out.box.empty())) return KernelStatus::BadParams;
  if (out.box.empty()) return KernelStatus::Ok;
  const Box need = required_input_box(p, out.box);
  if (!need.empty() && (in.data == nullptr || !core::contains(in.box, need))) {
    return KernelStatus::InputBoxTooSmall;
  }
  const auto fill = static_cast<int8_t>(p.value);
  const Box& box = out.box;
  for (int32_t y = box.y0; y < box.y1; ++y) {
    const int32_t iy = y - p.pad_top;
    for (int32_t x = box.x0; x < box.x1; ++x) {
      const int32_t ix = x - p.pad_left;
      int8_t* dst = out.data + (y - box.y0) * strides.row + (x - box.x0) * strides.pixel;
      const bool pixel_inside =
          !need.empty() && iy >= need.y0 && iy < need.y1 && ix >= need.x0 && ix < need.x1;
      for (int32_t c = box.c0; c < box.c1; ++c) {
        const int32_t ic = c - p.pad_c;
        dst[c - box.c0] = pixel_inside && ic >= need.c0 && ic < need.c1
                              ? in.data[core::dense_offset(in.box, ic, iy, ix)]
                              : fill;
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
