#include <gtest/gtest.h>

#include <vector>

#include "kernels/int8_reshape.h"

namespace mcusplit::kernels {
namespace {

TEST(Int8Reshape, KeepsTheFlatNhwcOrder) {
  const ReshapeParams p{TensorShape3{3, 4, 5}, TensorShape3{60, 1, 1}};
  std::vector<int8_t> in(60);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int8_t>(i);
  // Neurons [17, 33) come from input rows 1 and 2.
  const Box out_box{17, 33, 0, 1, 0, 1};
  const Box rows = required_input_box(p, out_box);
  EXPECT_EQ(rows, (Box{0, 3, 1, 3, 0, 5}));
  const std::vector<int8_t> rows_data(in.begin() + 15, in.begin() + 45);
  std::vector<int8_t> out(60, -1);
  // The output tile is the box inside a whole-tensor buffer.
  const OutputTile tile{out.data() + 17, out_box, 60, 60};
  ASSERT_EQ(int8_reshape(p, InputTile{rows_data.data(), rows}, tile), KernelStatus::Ok);
  for (int32_t i = 0; i < 60; ++i) {
    EXPECT_EQ(out[static_cast<size_t>(i)], i >= 17 && i < 33 ? i : -1) << i;
  }
}

TEST(Int8Reshape, RefusesAnInputMissingRows) {
  const ReshapeParams p{TensorShape3{3, 4, 5}, TensorShape3{60, 1, 1}};
  std::vector<int8_t> in(15, 0);
  std::vector<int8_t> out(60, -1);
  const Box out_box{17, 33, 0, 1, 0, 1};
  EXPECT_EQ(int8_reshape(p, InputTile{in.data(), Box{0, 3, 1, 2, 0, 5}},
                         OutputTile{out.data() + 17, out_box, 60, 60}),
            KernelStatus::InputBoxTooSmall);
  EXPECT_EQ(int8_reshape(p, InputTile{}, OutputTile{out.data() + 17, out_box, 60, 60}),
            KernelStatus::InputBoxTooSmall);
  EXPECT_EQ(out, std::vector<int8_t>(60, -1));
}

TEST(Int8Reshape, EqualShapesReadTheOutputBox) {
  const ReshapeParams p{TensorShape3{2, 3, 3}, TensorShape3{2, 3, 3}};
  EXPECT_EQ(required_input_box(p, Box{0, 1, 1, 2, 0, 3}), (Box{0, 1, 1, 2, 0, 3}));
  EXPECT_TRUE(required_input_box(p, Box{}).empty());
}

}  // namespace
}  // namespace mcusplit::kernels
