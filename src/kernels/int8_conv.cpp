#include "kernels/int8_conv.h"

namespace mcusplit::kernels {

namespace {

// Tight range [lo, hi) of input positions that outputs [o0, o1) read along
// one axis; with dilation or large padding the union is not just the clipped
// span of the windows, so each output position is visited (cheap: O(o1-o0)).
struct AxisSpan {
  int32_t lo = 0;
  int32_t hi = 0;
};

AxisSpan touched_span(int32_t o0, int32_t o1, int32_t stride, int32_t pad, int32_t size,
                      int32_t kernel, int32_t dilation) {
  AxisSpan span{size, 0};
  for (int32_t o = o0; o < o1; ++o) {
    const int32_t origin = o * stride - pad;
    const TapRange taps = valid_taps(origin, size, kernel, dilation);
    if (taps.begin == taps.end) continue;
    span.lo = core::min_i32(span.lo, origin + taps.begin * dilation);
    span.hi = core::max_i32(span.hi, origin + (taps.end - 1) * dilation + 1);
  }
  return span;
}

}  // namespace

Box required_input_box(const Int8ConvParams& p, const Box& out_box) {
  if (out_box.empty() || p.groups <= 0 || p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 ||
      p.dilation_w < 1) {
    return Box{};
  }
  const int32_t in_per_group = p.input.c / p.groups;
  const int32_t out_per_group = p.output.c / p.groups;
  if (in_per_group <= 0 || out_per_group <= 0) return Box{};
  const AxisSpan ys = touched_span(out_box.y0, out_box.y1, p.stride_h, p.pad_top, p.input.h,
                                   p.kernel_h, p.dilation_h);
  const AxisSpan xs = touched_span(out_box.x0, out_box.x1, p.stride_w, p.pad_left, p.input.w,
                                   p.kernel_w, p.dilation_w);
  if (ys.lo >= ys.hi || xs.lo >= xs.hi) return Box{};
  const int32_t first_group = out_box.c0 / out_per_group;
  const int32_t end_group = (out_box.c1 - 1) / out_per_group + 1;
  return Box{first_group * in_per_group, end_group * in_per_group, ys.lo, ys.hi, xs.lo, xs.hi};
}

bool valid_conv_params(const Int8ConvParams& p) {
  return valid_conv_geometry(p) && p.weights_c0 >= 0 && p.weights_c1 <= p.output.c &&
         p.weights_c0 < p.weights_c1 && p.weights != nullptr && p.requant.multiplier != nullptr &&
         p.requant.shift != nullptr;
}

bool valid_conv_geometry(const Int8ConvParams& p) {
  if (!valid_shape(p.input) || !valid_shape(p.output)) return false;
  if (p.kernel_h < 1 || p.kernel_w < 1 || p.stride_h < 1 || p.stride_w < 1) return false;
  if (p.dilation_h < 1 || p.dilation_w < 1 || p.pad_top < 0 || p.pad_left < 0) return false;
  if (p.groups < 1 || p.input.c % p.groups != 0 || p.output.c % p.groups != 0) return false;
  if (!valid_zero_point(p.input_zero_point) || !valid_zero_point(p.output_zero_point)) {
    return false;
  }
  if (!valid_activation(p.activation)) return false;
  return true;
}

KernelStatus validate_conv(const Int8ConvParams& p, const InputTile& in, const OutputTile& out) {
  if (!valid_conv_params(p)) return KernelStatus::BadParams;
  if (out.box.empty()) return KernelStatus::Ok;
  if (!core::inside(p.output, out.box) || out.data == nullptr) return KernelStatus::BadParams;
  if (out.box.c0 < p.weights_c0 || out.box.c1 > p.weights_c1) return KernelStatus::BadParams;
  if (!resolve_strides(out).ok) return KernelStatus::BadParams;
  if (!in.box.empty() && (!core::inside(p.input, in.box) || in.data == nullptr)) {
    return KernelStatus::BadParams;
  }
  if (!core::contains(in.box, required_input_box(p, out.box))) {
    return KernelStatus::InputBoxTooSmall;
  }
  return KernelStatus::Ok;
}

int32_t int8_conv_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  return core::max_i32(int8_conv_plain_scratch_bytes(p, out_box),
                       int8_conv_packed_scratch_bytes(p, out_box));
}

KernelStatus int8_conv(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                       Scratch scratch) {
  // Holds the caller to the stated need (both variants'), so scratch sized
  // on one build fits on every other.
  if (!scratch_fits(scratch, int8_conv_scratch_bytes(p, out.box))) return KernelStatus::BadParams;
#if defined(__ARM_FEATURE_DSP)
  return int8_conv_packed(p, in, out, scratch);
#else
  return int8_conv_plain(p, in, out, scratch);
#endif
}

int32_t int8_conv_plain_scratch_bytes(const Int8ConvParams& /*p*/, const Box& /*out_box*/) {
  return 0;
}

KernelStatus int8_conv_plain(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                             Scratch /*scratch*/) {
  const KernelStatus status = validate_conv(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;

  const ResolvedStrides os = resolve_strides(out);
  const int32_t in_per_group = p.input.c / p.groups;
  const int32_t out_per_group = p.output.c / p.groups;
  const int32_t in_pixel = in.box.channels();
  const int32_t in_row = in.box.width() * in_pixel;
  const int32_t taps_per_channel = p.kernel_h * p.kernel_w * in_per_group;
  const int32_t input_offset = -p.input_zero_point;
  // A window row is one contiguous run when taps are adjacent and a pixel holds
  // exactly the group's channels.
  const bool contiguous_rows = p.dilation_w == 1 && in_per_group == in_pixel;

  for (int32_t oy = out.box.y0; oy < out.box.y1; ++oy) {
    const int32_t iy_origin = oy * p.stride_h - p.pad_top;
    const TapRange ky_range = valid_taps(iy_origin, p.input.h, p.kernel_h, p.dilation_h);
    for (int32_t ox = out.box.x0; ox < out.box.x1; ++ox) {
      const int32_t ix_origin = ox * p.stride_w - p.pad_left;
      const TapRange kx_range = valid_taps(ix_origin, p.input.w, p.kernel_w, p.dilation_w);
      const int32_t run_taps = kx_range.end - kx_range.begin;
      int8_t* out_pixel = out.data + (oy - out.box.y0) * os.row + (ox - out.box.x0) * os.pixel;

      for (int32_t oc = out.box.c0; oc < out.box.c1; ++oc) {
        const int32_t slot = oc - p.weights_c0;
        const int32_t group = oc / out_per_group;
        const int8_t* filter = p.weights + slot * taps_per_channel;
        int32_t acc = p.bias != nullptr ? p.bias[slot] : 0;
        for (int32_t ky = ky_range.begin; ky < ky_range.end; ++ky) {
          const int32_t iy = iy_origin + ky * p.dilation_h;
          const int8_t* in_row_ptr =
              in.data + (iy - in.box.y0) * in_row + (group * in_per_group - in.box.c0);
          const int8_t* filter_row = filter + ky * p.kernel_w * in_per_group;
          if (contiguous_rows) {
            const int32_t ix = ix_origin + kx_range.begin;
            acc += dot_s8_offset(in_row_ptr + (ix - in.box.x0) * in_pixel,
                                 filter_row + kx_range.begin * in_per_group,
                                 run_taps * in_per_group, input_offset);
            continue;
          }
          for (int32_t kx = kx_range.begin; kx < kx_range.end; ++kx) {
            const int32_t ix = ix_origin + kx * p.dilation_w;
            acc += dot_s8_offset(in_row_ptr + (ix - in.box.x0) * in_pixel,
                                 filter_row + kx * in_per_group, in_per_group, input_offset);
          }
        }
        out_pixel[oc - out.box.c0] =
            requantize(acc, p.requant.multiplier[slot], p.requant.shift[slot], p.output_zero_point,
                       p.activation);
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
