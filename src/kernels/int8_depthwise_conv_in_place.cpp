#include "kernels/int8_depthwise_conv_in_place.h"

namespace mcusplit::kernels {

namespace {

Box channel_of(const Box& box, int32_t c) { return Box{c, c + 1, box.y0, box.y1, box.x0, box.x1}; }

}  // namespace

bool can_run_depthwise_in_place(const Int8ConvParams& p) {
  return p.groups > 1 && is_depthwise_conv(p) && p.output.c == p.input.c;
}

int32_t int8_depthwise_conv_in_place_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  if (out_box.empty() || !can_run_depthwise_in_place(p)) return 0;
  // The kernel's need does not depend on which single channel it computes.
  return scratch_round(out_box.height() * out_box.width()) +
         int8_depthwise_conv_scratch_bytes(p, channel_of(out_box, out_box.c0));
}

KernelStatus int8_depthwise_conv_in_place(const Int8ConvParams& p, const InputTile& in,
                                          const OutputTile& out, Scratch scratch) {
  if (!can_run_depthwise_in_place(p) || out.box.empty()) {
    return out.box.empty() ? KernelStatus::Ok : KernelStatus::BadParams;
  }
  const ResolvedStrides os = resolve_strides(out);
  if (!os.ok || in.box.c0 != out.box.c0 || in.box.c1 != out.box.c1 ||
      os.pixel != in.box.channels() ||
      !scratch_fits(scratch, int8_depthwise_conv_in_place_scratch_bytes(p, out.box))) {
    return KernelStatus::BadParams;
  }
  const int32_t height = out.box.height();
  const int32_t width = out.box.width();
  // Where the tiles overlap, each output channel must land on its own input
  // channel's bytes.
  const auto in_first = reinterpret_cast<uintptr_t>(in.data);
  const auto out_first = reinterpret_cast<uintptr_t>(out.data);
  const uintptr_t in_end = in_first + static_cast<uintptr_t>(in.box.volume());
  const uintptr_t out_end =
      out_first + static_cast<uintptr_t>((height - 1) * os.row + (width - 1) * os.pixel) +
      static_cast<uintptr_t>(out.box.channels());
  const bool overlap = out_first < in_end && in_first < out_end;
  const uintptr_t apart = out_first > in_first ? out_first - in_first : in_first - out_first;
  if (overlap && apart % static_cast<uintptr_t>(os.pixel) != 0) return KernelStatus::BadParams;
  const int32_t plane_bytes = scratch_round(height * width);
  int8_t* plane = scratch.data;
  const Scratch kernel_scratch{scratch.data + plane_bytes, scratch.bytes - plane_bytes};
  for (int32_t c = out.box.c0; c < out.box.c1; ++c) {
    const KernelStatus s =
        int8_depthwise_conv(p, in, OutputTile{plane, channel_of(out.box, c)}, kernel_scratch);
    if (s != KernelStatus::Ok) return s;
    int8_t* dst = out.data + (c - out.box.c0);
    for (int32_t y = 0; y < height; ++y) {
      for (int32_t x = 0; x < width; ++x) {
        dst[y * os.row + x * os.pixel] = plane[y * width + x];
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
