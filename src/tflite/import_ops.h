// One converter per TFLite operator the importer supports: each reads the
// current operator of the context and appends its QGraph layer(s), keeping
// the file's quantization exactly (multipliers and shifts derived from the
// scales as TFLM's kernels derive them).
#pragma once

#include "tflite/import_context.h"

namespace mcusplit::tflite {

void import_conv_2d(ImportContext& ctx);            // CONV_2D
void import_depthwise_conv_2d(ImportContext& ctx);  // DEPTHWISE_CONV_2D
void import_average_pool_2d(ImportContext& ctx);    // AVERAGE_POOL_2D
void import_max_pool_2d(ImportContext& ctx);        // MAX_POOL_2D
void import_reshape(ImportContext& ctx);            // RESHAPE, SQUEEZE
void import_softmax(ImportContext& ctx);            // SOFTMAX
void import_mean(ImportContext& ctx);               // MEAN over height and width
void import_fully_connected(ImportContext& ctx);    // FULLY_CONNECTED
void import_add(ImportContext& ctx);                // ADD
void import_concatenation(ImportContext& ctx);      // CONCATENATION along channels

// The window geometry along one axis as TFLite computes it
// (ComputeOutSize, ComputePaddingHeightWidth): the output size and the
// padding before the first element.
struct AxisWindow {
  int32_t out = 0;
  int32_t pad_before = 0;
};
AxisWindow tflite_axis_window(fb::Padding padding, int32_t in, int32_t kernel, int32_t stride,
                              int32_t dilation);

}  // namespace mcusplit::tflite
