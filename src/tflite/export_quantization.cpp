#include "tflite/export_quantization.h"

#include <cmath>
#include <limits>

#include "core/fixed_point.h"
#include "tflite/import_ops.h"

namespace mcusplit::tflite {

namespace {

// Float steps tried on each side of the first guess: the multiplier keeps
// 31 bits, a float 24, so the scale it came from is within a step or two.
constexpr int kFloatStepsTried = 64;

// The first float at or around `guess` (stepping outwards) that `fits`.
template <class Fits>
std::optional<float> nearby_float(float guess, Fits fits) {
  if (!(guess > 0.0f) || !std::isfinite(guess)) return std::nullopt;
  float up = guess, down = guess;
  for (int i = 0; i <= kFloatStepsTried; ++i) {
    if (fits(up)) return up;
    if (fits(down)) return down;
    up = std::nextafter(up, std::numeric_limits<float>::infinity());
    down = std::nextafter(down, 0.0f);
  }
  return std::nullopt;
}

}  // namespace

std::optional<float> weight_scale_for(float in_scale, float out_scale, int32_t multiplier,
                                      int32_t shift) {
  if (multiplier <= 0) return std::nullopt;
  const double real = std::ldexp(static_cast<double>(multiplier), shift - 31);
  const auto fits = [&](float w) {
    const double effective =
        static_cast<double>(in_scale) * static_cast<double>(w) / static_cast<double>(out_scale);
    const core::QuantizedMultiplier m = core::quantize_multiplier(effective);
    return m.multiplier == multiplier && m.shift == shift;
  };
  return nearby_float(
      static_cast<float>(real * static_cast<double>(out_scale) / static_cast<double>(in_scale)),
      fits);
}

std::optional<fb::ActivationFunctionType> fused_function_for(const core::ActivationRange& range,
                                                             const core::QuantParams& out) {
  using F = fb::ActivationFunctionType;
  const struct {
    F function;
    core::ActivationRange range;
  } candidates[] = {
      {F::NONE, core::ActivationRange{}},
      {F::RELU, core::quantized_activation_range(out, 0.0f, INFINITY)},
      {F::RELU6, core::quantized_activation_range(out, 0.0f, 6.0f)},
      {F::RELU_N1_TO_1, core::quantized_activation_range(out, -1.0f, 1.0f)},
  };
  for (const auto& c : candidates) {
    if (c.range == range) return c.function;
  }
  return std::nullopt;
}

std::optional<float> softmax_beta_for(const kernels::Int8SoftmaxParams& p, float input_scale) {
  const auto fits = [&](float beta) {
    const kernels::Int8SoftmaxSetup s = kernels::make_int8_softmax_params(
        p.shape, static_cast<double>(beta), static_cast<double>(input_scale));
    return s.ok && s.params == p;
  };
  if (fits(1.0f)) return 1.0f;
  // input_multiplier * 2^(shift - 31) = beta * input_scale * 2^26.
  const double real =
      std::ldexp(static_cast<double>(p.input_multiplier), p.input_left_shift - 31 - 26);
  return nearby_float(static_cast<float>(real / static_cast<double>(input_scale)), fits);
}

std::optional<WindowPadding> window_padding_for(const WindowGeometry& g) {
  const auto matches = [&](fb::Padding padding) {
    const AxisWindow y = tflite_axis_window(padding, g.in_h, g.kernel_h, g.stride_h, g.dilation_h);
    const AxisWindow x = tflite_axis_window(padding, g.in_w, g.kernel_w, g.stride_w, g.dilation_w);
    return y.out == g.out_h && x.out == g.out_w && y.pad_before == g.pad_top &&
           x.pad_before == g.pad_left;
  };
  WindowPadding w;
  if (matches(fb::Padding::VALID)) return w;
  if (matches(fb::Padding::SAME)) {
    w.padding = fb::Padding::SAME;
    return w;
  }
  // PAD then a VALID window: pad the far side just enough for the last window.
  const auto far_side = [](int32_t in, int32_t out, int32_t kernel, int32_t stride,
                           int32_t dilation, int32_t before) {
    const int32_t effective = (kernel - 1) * dilation + 1;
    const int32_t after = (out - 1) * stride + effective - in - before;
    return after > 0 ? after : 0;
  };
  w.explicit_pad = true;
  w.top = g.pad_top;
  w.left = g.pad_left;
  w.bottom = far_side(g.in_h, g.out_h, g.kernel_h, g.stride_h, g.dilation_h, g.pad_top);
  w.right = far_side(g.in_w, g.out_w, g.kernel_w, g.stride_w, g.dilation_w, g.pad_left);
  const AxisWindow y = tflite_axis_window(fb::Padding::VALID, g.in_h + w.top + w.bottom, g.kernel_h,
                                          g.stride_h, g.dilation_h);
  const AxisWindow x = tflite_axis_window(fb::Padding::VALID, g.in_w + w.left + w.right, g.kernel_w,
                                          g.stride_w, g.dilation_w);
  if (y.out != g.out_h || x.out != g.out_w || g.pad_top < 0 || g.pad_left < 0) return std::nullopt;
  return w;
}

}  // namespace mcusplit::tflite
