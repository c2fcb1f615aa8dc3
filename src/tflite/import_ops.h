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

void import_pad(ImportContext& ctx);  // PAD, PADV2: folded or a Pad layer
// TRANSPOSE, QUANTIZE, DEQUANTIZE anywhere but at the graph's edges.
void refuse_inner_edge_op(ImportContext& ctx);

// A convolution's input: its QGraph tensor, and when a PAD was folded into
// it the rows and columns that PAD adds before and the padded size.
struct ConvInput {
  int tensor = -1;
  int32_t pad_top = 0, pad_left = 0;
  int32_t h = 0, w = 0;
};
ConvInput conv_input(ImportContext& ctx);

// The operators at the graph's edges that become the int8 graph's input and
// output quantization and layout: QUANTIZE (float in) and TRANSPOSE (NCHW in,
// perm [0, 2, 3, 1]) from the graph input, DEQUANTIZE (float out) into the
// graph output. `input` and `output` are the int8 NHWC tensors left;
// `skipped` marks the operators they replace.
struct GraphEdges {
  int32_t input = -1;
  int32_t output = -1;
  std::vector<bool> skipped;
};
GraphEdges graph_edges(ImportContext& ctx, int32_t input, int32_t output);

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
