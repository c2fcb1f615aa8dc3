// What the TFLite file must say so that TFLM derives a layer's integer
// parameters exactly: the float32 weight scale behind a requantization
// multiplier, the fused activation behind a clamp, softmax's beta, the
// padding behind a window. Each answers "none" when no value of the file
// gives the layer's integers; the exporter then refuses the layer.
#pragma once

#include <cstdint>
#include <optional>

#include "core/quant_params.h"
#include "kernels/int8_softmax.h"
#include "tflite/tflite_schema_generated.h"

namespace mcusplit::tflite {

// A float32 weight scale w > 0 with quantize_multiplier(in_scale * w /
// out_scale), computed in double as TFLM's PopulateConvolutionQuantizationParams
// does, equal to (multiplier, shift). The quantizer and the importer made
// the multiplier that way from a float32 scale, so one lies within a few
// float steps of the real value the multiplier stands for.
std::optional<float> weight_scale_for(float in_scale, float out_scale, int32_t multiplier,
                                      int32_t shift);

// The fused activation whose clamp (CalculateActivationRangeQuantized on
// `out`) is `range`: NONE first, so a clamp that is no clamp stays NONE.
std::optional<fb::ActivationFunctionType> fused_function_for(const core::ActivationRange& range,
                                                             const core::QuantParams& out);

// A float32 beta for which make_int8_softmax_params gives `p` (1.0 first).
std::optional<float> softmax_beta_for(const kernels::Int8SoftmaxParams& p, float input_scale);

// A window's geometry on one TFLite operator: SAME or VALID padding, and
// when neither gives the layer's padding, explicit amounts for a PAD in front
// of a VALID window.
struct WindowPadding {
  fb::Padding padding = fb::Padding::VALID;
  bool explicit_pad = false;
  int32_t top = 0, bottom = 0, left = 0, right = 0;
};
struct WindowGeometry {
  int32_t in_h, in_w, out_h, out_w;
  int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left;
};
std::optional<WindowPadding> window_padding_for(const WindowGeometry& g);

}  // namespace mcusplit::tflite
