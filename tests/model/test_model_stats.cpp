// compute_model_stats on small hand-built graphs (no importer needed).
#include <gtest/gtest.h>

#include "model/graph.h"
#include "model/model_stats.h"

namespace mcusplit::model {
namespace {

int activation(Graph& g, const std::string& name, Dims shape) {
  return g.add_tensor(Tensor{name, std::move(shape), {}, false});
}

int constant(Graph& g, const std::string& name, Dims shape) {
  std::vector<float> data(static_cast<size_t>(element_count(shape)), 0.5f);
  return g.add_tensor(Tensor{name, std::move(shape), std::move(data), true});
}

Node make_node(const std::string& name, OpType op, std::vector<int> inputs, int output) {
  Node node;
  node.name = name;
  node.op = op;
  node.inputs = std::move(inputs);
  node.outputs = {output};
  return node;
}

// input [1,3,8,8] -> Conv 3x3 s2 (8) -> BN -> Clip -> depthwise 3x3 -> Add(skip)
// -> GlobalAveragePool -> Flatten -> Gemm(transB) 8->5 -> MatMul 5->2 -> Add(bias)
Graph small_graph() {
  Graph g;
  const int input = activation(g, "input", {1, 3, 8, 8});
  g.inputs = {input};

  const int conv_w = constant(g, "conv.w", {8, 3, 3, 3});
  const int conv_out = activation(g, "conv.out", {1, 8, 4, 4});
  Node conv = make_node("conv", OpType::Conv, {input, conv_w, -1}, conv_out);
  conv.conv.group = 1;
  g.nodes.push_back(conv);

  const int bn_out = activation(g, "bn.out", {1, 8, 4, 4});
  g.nodes.push_back(make_node("bn", OpType::BatchNormalization,
                              {conv_out, constant(g, "bn.scale", {8}), constant(g, "bn.bias", {8}),
                               constant(g, "bn.mean", {8}), constant(g, "bn.var", {8})},
                              bn_out));

  const int clip_out = activation(g, "clip.out", {1, 8, 4, 4});
  g.nodes.push_back(make_node("clip", OpType::Clip,
                              {bn_out, constant(g, "clip.min", {}), constant(g, "clip.max", {})},
                              clip_out));

  const int dw_out = activation(g, "dw.out", {1, 8, 4, 4});
  Node dw =
      make_node("dw", OpType::Conv,
                {clip_out, constant(g, "dw.w", {8, 1, 3, 3}), constant(g, "dw.b", {8})}, dw_out);
  dw.conv.group = 8;
  g.nodes.push_back(dw);

  const int add_out = activation(g, "add.out", {1, 8, 4, 4});
  g.nodes.push_back(make_node("add", OpType::Add, {clip_out, dw_out}, add_out));

  const int gap_out = activation(g, "gap.out", {1, 8, 1, 1});
  g.nodes.push_back(make_node("gap", OpType::GlobalAveragePool, {add_out}, gap_out));

  const int flat_out = activation(g, "flat.out", {1, 8});
  g.nodes.push_back(make_node("flatten", OpType::Flatten, {gap_out}, flat_out));

  const int gemm_out = activation(g, "gemm.out", {1, 5});
  Node gemm =
      make_node("gemm", OpType::Gemm,
                {flat_out, constant(g, "fc.w", {5, 8}), constant(g, "fc.b", {5})}, gemm_out);
  gemm.gemm.trans_b = true;
  g.nodes.push_back(gemm);

  const int matmul_out = activation(g, "matmul.out", {1, 2});
  g.nodes.push_back(
      make_node("matmul", OpType::MatMul, {gemm_out, constant(g, "mm.w", {5, 2})}, matmul_out));
  const int output = activation(g, "output", {1, 2});
  g.nodes.push_back(make_node("bias", OpType::Add, {matmul_out, constant(g, "mm.b", {2})}, output));
  g.outputs = {output};
  return g;
}

TEST(ModelStats, PerLayerParamsMacsAndIo) {
  const ModelStats stats = compute_model_stats(small_graph());
  ASSERT_EQ(stats.layers.size(), 10u);

  const LayerStats& conv = stats.layers[0];
  EXPECT_EQ(conv.name, "conv");
  EXPECT_EQ(conv.op, "Conv");
  ASSERT_EQ(conv.input_shapes.size(), 1u);  // constants and omitted inputs are not inputs
  EXPECT_EQ(conv.input_shapes[0], (Dims{1, 3, 8, 8}));
  EXPECT_EQ(conv.output_shape, (Dims{1, 8, 4, 4}));
  EXPECT_EQ(conv.params, 8 * 3 * 3 * 3);
  EXPECT_EQ(conv.macs, 8 * 4 * 4 * 3 * 3 * 3);
  EXPECT_EQ(conv.io_bytes_int8, 3 * 8 * 8 + 8 * 4 * 4);

  const LayerStats& bn = stats.layers[1];
  EXPECT_EQ(bn.params, 16);  // scale + shift, not running mean/var
  EXPECT_EQ(bn.macs, 0);
  EXPECT_EQ(bn.io_bytes_int8, 2 * 128);

  const LayerStats& clip = stats.layers[2];
  EXPECT_EQ(clip.params, 0);  // min/max are not parameters
  EXPECT_EQ(clip.io_bytes_int8, 2 * 128);

  const LayerStats& dw = stats.layers[3];
  EXPECT_EQ(dw.params, 8 * 9 + 8);
  EXPECT_EQ(dw.macs, 8 * 4 * 4 * 9);  // Cin/group = 1

  const LayerStats& add = stats.layers[4];
  EXPECT_EQ(add.input_shapes.size(), 2u);
  EXPECT_EQ(add.params, 0);
  EXPECT_EQ(add.macs, 0);
  EXPECT_EQ(add.io_bytes_int8, 3 * 128);

  EXPECT_EQ(stats.layers[5].macs, 0);  // pools are not MACs
  EXPECT_EQ(stats.layers[5].io_bytes_int8, 128 + 8);
  EXPECT_EQ(stats.layers[6].io_bytes_int8, 16);

  const LayerStats& gemm = stats.layers[7];
  EXPECT_EQ(gemm.params, 5 * 8 + 5);
  EXPECT_EQ(gemm.macs, 1 * 5 * 8);

  EXPECT_EQ(stats.layers[8].params, 10);
  EXPECT_EQ(stats.layers[8].macs, 1 * 2 * 5);
  EXPECT_EQ(stats.layers[9].params, 2);  // an exported Linear's bias
  EXPECT_EQ(stats.layers[9].io_bytes_int8, 4);

  EXPECT_EQ(stats.params, 216 + 16 + 80 + 45 + 10 + 2);
  EXPECT_EQ(stats.macs, 3456 + 1152 + 40 + 10);
  EXPECT_EQ(stats.peak_layer_io_bytes_int8, 3 * 128);
}

TEST(ModelStats, GemmWithTransposedA) {
  Graph g;
  const int a = activation(g, "a", {8, 1});  // K=8, M=1 stored transposed
  const int out = activation(g, "out", {1, 3});
  Node gemm = make_node("gemm", OpType::Gemm, {a, constant(g, "w", {8, 3})}, out);
  gemm.gemm.trans_a = true;
  g.nodes.push_back(gemm);
  const ModelStats stats = compute_model_stats(g);
  EXPECT_EQ(stats.macs, 1 * 3 * 8);
  EXPECT_EQ(stats.params, 24);
}

TEST(ModelStats, EmptyGraph) {
  const ModelStats stats = compute_model_stats(Graph{});
  EXPECT_TRUE(stats.layers.empty());
  EXPECT_EQ(stats.params, 0);
  EXPECT_EQ(stats.macs, 0);
  EXPECT_EQ(stats.peak_layer_io_bytes_int8, 0);
}

}  // namespace
}  // namespace mcusplit::model
