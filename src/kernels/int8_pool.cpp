#include "kernels/int8_pool.h"

namespace mcusplit::kernels {

Box required_input_box(const Int8PoolParams& p, const Box& out_box) {
  if (out_box.empty()) return Box{};
  Box b;
  b.c0 = out_box.c0;
  b.c1 = out_box.c1;
  b.y0 = out_box.y0 * p.stride_h - p.pad_top;
  b.y1 = (out_box.y1 - 1) * p.stride_h - p.pad_top + p.kernel_h;
  b.x0 = out_box.x0 * p.stride_w - p.pad_left;
  b.x1 = (out_box.x1 - 1) * p.stride_w - p.pad_left + p.kernel_w;
  b = core::intersect(b, core::full_box(p.input));
  return b.empty() ? Box{} : b;
}

namespace {

bool valid_pool_params(const Int8PoolParams& p) {
  if (!valid_shape(p.input) || !valid_shape(p.output) || p.input.c != p.output.c) return false;
  if (p.kernel_h < 1 || p.kernel_w < 1 || p.stride_h < 1 || p.stride_w < 1) return false;
  // First windows reach a real cell; last windows start inside the input.
  if (p.pad_top < 0 || p.pad_left < 0 || p.pad_top >= p.kernel_h || p.pad_left >= p.kernel_w) {
    return false;
  }
  if ((p.output.h - 1) * p.stride_h - p.pad_top >= p.input.h) return false;
  if ((p.output.w - 1) * p.stride_w - p.pad_left >= p.input.w) return false;
  return valid_activation(p.activation);
}

KernelStatus validate_pool(const Int8PoolParams& p, const InputTile& in, const OutputTile& out) {
  if (!valid_pool_params(p)) return KernelStatus::BadParams;
  if (out.box.empty()) return KernelStatus::Ok;
  if (!core::inside(p.output, out.box) || out.data == nullptr || !resolve_strides(out).ok) {
    return KernelStatus::BadParams;
  }
  if (!in.box.empty() && (!core::inside(p.input, in.box) || in.data == nullptr)) {
    return KernelStatus::BadParams;
  }
  if (!core::contains(in.box, required_input_box(p, out.box))) {
    return KernelStatus::InputBoxTooSmall;
  }
  return KernelStatus::Ok;
}

enum class PoolOp { Max, Average };

// One loop nest for both pools; the per-channel work is tiny, so the op is a
// compile-time branch.
template <PoolOp kOp>
KernelStatus pool(const Int8PoolParams& p, const InputTile& in, const OutputTile& out) {
  const KernelStatus status = validate_pool(p, in, out);
  if (status != KernelStatus::Ok || out.box.empty()) return status;

  const ResolvedStrides os = resolve_strides(out);
  const int32_t in_pixel = in.box.channels();
  const int32_t in_row = in.box.width() * in_pixel;
  for (int32_t oy = out.box.y0; oy < out.box.y1; ++oy) {
    const int32_t iy_origin = oy * p.stride_h - p.pad_top;
    const TapRange ky = valid_taps(iy_origin, p.input.h, p.kernel_h, 1);
    for (int32_t ox = out.box.x0; ox < out.box.x1; ++ox) {
      const int32_t ix_origin = ox * p.stride_w - p.pad_left;
      const TapRange kx = valid_taps(ix_origin, p.input.w, p.kernel_w, 1);
      const int32_t count = (ky.end - ky.begin) * (kx.end - kx.begin);
      const int8_t* window = in.data + (iy_origin + ky.begin - in.box.y0) * in_row +
                             (ix_origin + kx.begin - in.box.x0) * in_pixel +
                             (out.box.c0 - in.box.c0);
      int8_t* out_pixel = out.data + (oy - out.box.y0) * os.row + (ox - out.box.x0) * os.pixel;
      for (int32_t c = 0; c < out.box.channels(); ++c) {
        int32_t acc = kOp == PoolOp::Max ? -128 : 0;
        for (int32_t wy = 0; wy < ky.end - ky.begin; ++wy) {
          const int8_t* src = window + wy * in_row + c;
          for (int32_t wx = 0; wx < kx.end - kx.begin; ++wx, src += in_pixel) {
            if constexpr (kOp == PoolOp::Max) {
              if (*src > acc) acc = *src;
            } else {
              acc += *src;
            }
          }
        }
        if constexpr (kOp == PoolOp::Average) {
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        }
        out_pixel[c] = clamp_to_int8(acc, p.activation);
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace

int32_t int8_max_pool_scratch_bytes(const Int8PoolParams& /*p*/, const Box& /*out_box*/) {
  return 0;
}

KernelStatus int8_max_pool(const Int8PoolParams& p, const InputTile& in, const OutputTile& out,
                           Scratch /*scratch*/) {
  return pool<PoolOp::Max>(p, in, out);
}

int32_t int8_average_pool_scratch_bytes(const Int8PoolParams& /*p*/, const Box& /*out_box*/) {
  return 0;
}

KernelStatus int8_average_pool(const Int8PoolParams& p, const InputTile& in, const OutputTile& out,
                               Scratch /*scratch*/) {
  return pool<PoolOp::Average>(p, in, out);
}

}  // namespace mcusplit::kernels
