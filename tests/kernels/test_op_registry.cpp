// The operator records: one per OpType, each consistent with its kernel's
// own geometry, and the checks every layer of the tree relies on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/op_registry.h"

namespace mcusplit::kernels {
namespace {

OpLayer layer_of(OpType op, const OpParams& params, int32_t inputs,
                 const Int8ConcatParams* concat = nullptr) {
  return OpLayer{op, &params, concat, inputs};
}

TEST(OpRegistry, EveryOperatorHasItsRecord) {
  const std::vector<std::string> names = {
      "Conv",   "FullyConnected", "Add",     "MaxPool", "AveragePool", "GlobalAveragePool",
      "Concat", "Reshape",        "Softmax", "Pad"};
  ASSERT_EQ(names.size(), kOpTypeCount);
  for (uint32_t i = 0; i < kOpTypeCount; ++i) {
    const OpRegistration& r = op_registration(static_cast<OpType>(i));
    EXPECT_EQ(r.name, names[i]);
    EXPECT_NE(r.check, nullptr);
    EXPECT_NE(r.required_input_box, nullptr);
    EXPECT_NE(r.invoke, nullptr);
    EXPECT_NE(r.kernel_name, nullptr);
  }
  EXPECT_FALSE(valid_op_type(kOpTypeCount));
  EXPECT_STREQ(op_type_name(static_cast<OpType>(kOpTypeCount)), "unknown");
  // Only Conv and FullyConnected slice constants by channel; only Concat is
  // variadic; only Reshape aliases its input on one device.
  for (uint32_t i = 0; i < kOpTypeCount; ++i) {
    const auto op = static_cast<OpType>(i);
    const OpRegistration& r = op_registration(op);
    EXPECT_EQ(r.channel_constants != nullptr, op == OpType::Conv || op == OpType::FullyConnected);
    EXPECT_EQ(r.variadic_inputs, op == OpType::Concat);
    EXPECT_EQ(r.output_aliases_input, op == OpType::Reshape);
  }
}

TEST(OpRegistry, ConvGeometryWorkAndSlicesAreTheKernels) {
  OpParams p;
  Int8ConvParams& c = p.conv;
  c.input = {8, 10, 10};
  c.output = {16, 5, 5};
  c.kernel_h = c.kernel_w = 3;
  c.stride_h = c.stride_w = 2;
  c.pad_top = c.pad_left = 1;
  c.weights_c0 = 0;
  c.weights_c1 = 16;
  const OpLayer l = layer_of(OpType::Conv, p, 1);
  const OpRegistration& r = op_registration(OpType::Conv);
  const Box out{4, 8, 1, 3, 0, 5};
  EXPECT_EQ(r.required_input_box(l, 0, c.input, out), required_input_box(c, out));
  EXPECT_EQ(r.macs(l, out), int64_t{out.volume()} * 9 * 8);
  EXPECT_EQ(r.work(l, out), r.macs(l, out));
  EXPECT_STREQ(r.kernel_name(p), "conv");
  const ConstantCounts n = r.channel_constants->counts(p);
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.weights, 16u * 9 * 8);
  EXPECT_EQ(n.bias, 16u);
  EXPECT_EQ(n.requant, 16u);
  r.channel_constants->set_slice(p, ChannelRange{4, 8});
  EXPECT_EQ(r.channel_constants->counts(p).weights, 4u * 9 * 8);
  const std::vector<int8_t> w(4 * 9 * 8);
  const std::vector<int32_t> m(4), s(4);
  r.channel_constants->bind(p, ConstantArrays{w.data(), nullptr, m.data(), s.data()});
  const ConstantArrays bound = r.channel_constants->bound(p);
  EXPECT_EQ(bound.weights, w.data());
  EXPECT_EQ(bound.bias, nullptr);
  EXPECT_EQ(bound.multiplier, m.data());
  EXPECT_EQ(bound.shift, s.data());
}

TEST(OpRegistry, FullyConnectedReadsTheWholeInputAndCountsPerTensorRequant) {
  OpParams p;
  p.fc.input_size = 48;
  p.fc.output_size = 10;
  p.fc.weights_n0 = 2;
  p.fc.weights_n1 = 7;
  p.fc.per_tensor_requant = true;
  const OpLayer l = layer_of(OpType::FullyConnected, p, 1);
  const OpRegistration& r = op_registration(OpType::FullyConnected);
  const TensorShape3 in{3, 4, 4};
  EXPECT_EQ(r.required_input_box(l, 0, in, Box{2, 5, 0, 1, 0, 1}), core::full_box(in));
  EXPECT_TRUE(r.required_input_box(l, 0, in, Box{}).empty());
  EXPECT_EQ(r.macs(l, Box{2, 5, 0, 1, 0, 1}), 3 * 48);
  const ConstantCounts n = r.channel_constants->counts(p);
  EXPECT_EQ(n.weights, 5u * 48);
  EXPECT_EQ(n.requant, 1u);
  // A tile of the input that is not the whole input is refused, not read past.
  std::vector<int8_t> input(16), out(10);
  const InputTile part{input.data(), Box{0, 1, 0, 4, 0, 4}};
  EXPECT_EQ(r.invoke(l, &part, OutputTile{out.data(), Box{2, 5, 0, 1, 0, 1}}, Scratch{}),
            KernelStatus::InputBoxTooSmall);
}

TEST(OpRegistry, ElementwiseAndPoolingWorkCountsReadsAndWrites) {
  OpParams p;
  p.pool.input = {4, 8, 8};
  p.pool.output = {4, 4, 4};
  p.pool.kernel_h = p.pool.kernel_w = 2;
  p.pool.stride_h = p.pool.stride_w = 2;
  const Box out{0, 4, 0, 2, 0, 4};
  EXPECT_EQ(op_registration(OpType::MaxPool).work(layer_of(OpType::MaxPool, p, 1), out),
            int64_t{out.volume()} * 5);
  EXPECT_EQ(op_registration(OpType::Add).work(layer_of(OpType::Add, p, 2), out),
            3 * int64_t{out.volume()});
  EXPECT_EQ(op_registration(OpType::MaxPool).macs(layer_of(OpType::MaxPool, p, 1), out), 0);
}

TEST(OpRegistry, ChecksNameWhatIsInconsistent) {
  OpParams p;
  p.add.shape = {4, 3, 3};
  const TensorShape3 shapes[2] = {{4, 3, 3}, {4, 3, 3}};
  EXPECT_EQ(check_op_layer(layer_of(OpType::Add, p, 2), OpShapes{shapes, 2, {4, 3, 3}}), nullptr);
  EXPECT_STREQ(check_op_layer(layer_of(OpType::Add, p, 1), OpShapes{shapes, 1, {4, 3, 3}}),
               "wrong number of inputs");
  EXPECT_STREQ(check_op_layer(layer_of(OpType::Add, p, 2), OpShapes{shapes, 2, {4, 3, 2}}),
               "params disagree with the tensor shapes");
  EXPECT_STREQ(check_op_layer(layer_of(static_cast<OpType>(99), p, 2), OpShapes{shapes, 2, {}}),
               "unknown operator");

  OpParams r;
  r.reshape = {{4, 3, 3}, {36, 1, 1}};
  EXPECT_EQ(check_op_layer(layer_of(OpType::Reshape, r, 1), OpShapes{shapes, 1, {36, 1, 1}}),
            nullptr);
  r.reshape.output = {35, 1, 1};
  EXPECT_STREQ(check_op_layer(layer_of(OpType::Reshape, r, 1), OpShapes{shapes, 1, {35, 1, 1}}),
               "element count changes");

  // A Concat whose inputs do not fill the output.
  Int8ConcatParams blocks[2];
  blocks[0].input = blocks[1].input = {4, 3, 3};
  blocks[0].output = blocks[1].output = {9, 3, 3};
  blocks[1].offset_c = 4;
  EXPECT_STREQ(
      check_op_layer(layer_of(OpType::Concat, p, 2, blocks), OpShapes{shapes, 2, {9, 3, 3}}),
      "inputs do not add up to the output");
  EXPECT_STREQ(check_op_layer(layer_of(OpType::Concat, p, 2), OpShapes{shapes, 2, {8, 3, 3}}),
               "concat layer without parameters");
}

}  // namespace
}  // namespace mcusplit::kernels
