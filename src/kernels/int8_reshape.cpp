#include "kernels/int8_reshape.h"

namespace mcusplit::kernels {

Box required_input_box(const ReshapeParams& p, const Box& out_box) {
  if (out_box.empty()) return Box{};
  if (p.input == p.output) return out_box;
  const int64_t out_row = int64_t{p.output.w} * p.output.c;
  const int64_t first = out_box.y0 * out_row + int64_t{out_box.x0} * p.output.c + out_box.c0;
  const int64_t last =
      (out_box.y1 - 1) * out_row + int64_t{out_box.x1 - 1} * p.output.c + (out_box.c1 - 1);
  const int64_t in_row = int64_t{p.input.w} * p.input.c;
  return Box{
      0, p.input.c, static_cast<int32_t>(first / in_row), static_cast<int32_t>(last / in_row + 1),
      0, p.input.w};
}

KernelStatus int8_reshape(const ReshapeParams& p, const InputTile& in, const OutputTile& out) {
  if (p.input.volume() != p.output.volume() || !core::inside(p.output, out.box)) {
    return KernelStatus::BadParams;
  }
  const ResolvedStrides strides = resolve_strides(out);
  if (!strides.ok || out.data == nullptr) return KernelStatus::BadParams;
  if (out.box.empty()) return KernelStatus::Ok;
  if (in.data == nullptr || !core::contains(in.box, required_input_box(p, out.box))) {
    return KernelStatus::InputBoxTooSmall;
  }
  const Box& box = out.box;
  const int64_t in_row = int64_t{p.input.w} * p.input.c;
  for (int32_t y = box.y0; y < box.y1; ++y) {
    for (int32_t x = box.x0; x < box.x1; ++x) {
      int8_t* dst = out.data + (y - box.y0) * strides.row + (x - box.x0) * strides.pixel;
      const int64_t pixel = (int64_t{y} * p.output.w + x) * p.output.c;
      for (int32_t c = box.c0; c < box.c1; ++c) {
        const int64_t flat = pixel + c;
        const int64_t rest = flat % in_row;
        const auto iy = static_cast<int32_t>(flat / in_row);
        const auto ix = static_cast<int32_t>(rest / p.input.c);
        const auto ic = static_cast<int32_t>(rest % p.input.c);
        dst[c - box.c0] = in.data[core::dense_offset(in.box, ic, iy, ix)];
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
