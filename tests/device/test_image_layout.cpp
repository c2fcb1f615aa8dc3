// The device image's parameter blocks are generated from the field lists;
// these pin the resulting layout, so that a changed field list is a
// deliberate format version bump (docs/device_image.md).
#include <gtest/gtest.h>

#include "device/device_image.h"

namespace mcusplit::device {
namespace {

using kernels::OpType;

TEST(ImageLayout, ParameterBlocksKeepTheirWords) {
  EXPECT_EQ(image::param_block_words(OpType::Conv), 29u);
  EXPECT_EQ(image::param_block_words(OpType::FullyConnected), 17u);
  EXPECT_EQ(image::param_block_words(OpType::Add), 15u);
  EXPECT_EQ(image::param_block_words(OpType::MaxPool), 14u);
  EXPECT_EQ(image::param_block_words(OpType::AveragePool), 14u);
  EXPECT_EQ(image::param_block_words(OpType::GlobalAveragePool), 9u);
  EXPECT_EQ(image::param_block_words(OpType::Concat), 2u);
  EXPECT_EQ(image::param_block_words(OpType::Reshape), 6u);
  EXPECT_EQ(image::param_block_words(OpType::Softmax), 6u);
  EXPECT_EQ(image::param_block_words(OpType::Pad), 10u);
  for (uint32_t i = 0; i < kernels::kOpTypeCount; ++i) {
    EXPECT_LE(image::param_block_words(static_cast<OpType>(i)), image::kImageParamWords) << i;
  }
}

TEST(ImageLayout, FieldsAndReferencesSitWhereTheDocSays) {
  EXPECT_EQ(image::param_field_word(OpType::Conv, "kernel_h"), 6);
  EXPECT_EQ(image::param_field_word(OpType::Conv, "activation"), 17);
  EXPECT_EQ(image::param_field_word(OpType::Conv, "weights_c1"), 20);
  EXPECT_EQ(image::param_field_word(OpType::FullyConnected, "per_tensor_requant"), 6);
  EXPECT_EQ(image::param_field_word(OpType::Conv, "no_such_field"), -1);
  EXPECT_EQ(image::constant_ref_word(OpType::Conv, image::ConstantArray::Weights), 21u);
  EXPECT_EQ(image::constant_ref_word(OpType::Conv, image::ConstantArray::Shift), 27u);
  EXPECT_EQ(image::constant_ref_word(OpType::FullyConnected, image::ConstantArray::Bias), 11u);
  EXPECT_EQ(image::concat_ref_word(OpType::Concat), 0u);
  EXPECT_EQ(4 * kernels::field_words(kernels::Int8ConcatParams{}), kImageConcatRecordBytes);
}

}  // namespace
}  // namespace mcusplit::device
