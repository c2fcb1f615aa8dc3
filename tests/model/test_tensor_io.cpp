// .pb tensor files: round trip, element types, errors.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/error_matchers.h"
#include "model/onnx_builder.h"
#include "model/tensor_io.h"
#include "support/required_data.h"

namespace mcusplit::model {
namespace {

using onnx_test::expect_error;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("mcusplit_tensor_io_" + name)).string();
}

void write_proto(const std::string& path, const onnx::TensorProto& proto) {
  std::ofstream out(path, std::ios::binary);
  out << proto.SerializeAsString();
}

TEST(TensorIo, RoundTrip) {
  const std::string path = temp_path("round.pb");
  const FloatTensor t({1, 2, 3}, {1.5f, -2.0f, 0.0f, 3.25f, 1e-7f, -1e9f});
  write_tensor_file(path, "x", t);
  const FloatTensor back = read_tensor_file(path);
  EXPECT_EQ(back.shape, t.shape);
  EXPECT_EQ(back.data, t.data);
  onnx::TensorProto proto;
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(proto.ParseFromIstream(&in));
  EXPECT_EQ(proto.name(), "x");
  EXPECT_EQ(proto.data_type(), onnx::TensorProto::FLOAT);
  std::filesystem::remove(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(TensorIo, ScalarRoundTrip) {
  const std::string path = temp_path("scalar.pb");
  write_tensor_file(path, "s", FloatTensor({}, {42.0f}));
  const FloatTensor back = read_tensor_file(path);
  EXPECT_TRUE(back.shape.empty());
  EXPECT_EQ(back.data, (std::vector<float>{42.0f}));
  std::filesystem::remove(path);
}

TEST(TensorIo, ReadsFloatDataAndIntegerTypes) {
  const std::string path = temp_path("types.pb");
  write_proto(path, onnx_test::float_tensor_proto("f", {2}, {1.0f, 2.0f}));
  EXPECT_EQ(read_tensor_file(path).data, (std::vector<float>{1.0f, 2.0f}));

  write_proto(path, onnx_test::int64_tensor_proto("i", {3}, {-1, 0, 5}));
  EXPECT_EQ(read_tensor_file(path).data, (std::vector<float>{-1, 0, 5}));

  onnx::TensorProto u8;
  u8.set_data_type(onnx::TensorProto::UINT8);
  u8.add_dims(3);
  u8.set_raw_data(std::string("\x00\x80\xff", 3));
  write_proto(path, u8);
  EXPECT_EQ(read_tensor_file(path).data, (std::vector<float>{0, 128, 255}));

  onnx::TensorProto i8;
  i8.set_data_type(onnx::TensorProto::INT8);
  i8.add_dims(2);
  i8.add_int32_data(-128);
  i8.add_int32_data(7);
  write_proto(path, i8);
  EXPECT_EQ(read_tensor_file(path).data, (std::vector<float>{-128, 7}));

  onnx::TensorProto d;
  d.set_data_type(onnx::TensorProto::DOUBLE);
  d.add_dims(1);
  double v = 0.5;
  d.set_raw_data(std::string(reinterpret_cast<const char*>(&v), sizeof v));
  write_proto(path, d);
  EXPECT_EQ(read_tensor_file(path).data, (std::vector<float>{0.5f}));

  onnx::TensorProto i32;
  i32.set_data_type(onnx::TensorProto::INT32);
  i32.add_dims(2);
  i32.add_int32_data(-3);
  i32.add_int32_data(1 << 20);
  write_proto(path, i32);
  EXPECT_EQ(read_tensor_file(path).data, (std::vector<float>{-3, 1 << 20}));
  std::filesystem::remove(path);
}

TEST(TensorIo, Errors) {
  expect_error([] { read_tensor_file("/nonexistent/t.pb"); },
               {"cannot open '/nonexistent/t.pb'", "No such file"});
  const std::string path = temp_path("bad.pb");
  {
    std::ofstream out(path, std::ios::binary);
    out << "\xff\xff\xff\xff not a tensor";
  }
  expect_error([&] { read_tensor_file(path); }, {"not a valid ONNX TensorProto"});

  onnx::TensorProto short_raw;
  short_raw.set_data_type(onnx::TensorProto::FLOAT);
  short_raw.add_dims(4);
  short_raw.set_raw_data(std::string(8, '\0'));
  write_proto(path, short_raw);
  expect_error([&] { read_tensor_file(path); }, {"8 bytes"});

  onnx::TensorProto strings;
  strings.set_data_type(onnx::TensorProto::STRING);
  strings.add_dims(1);
  strings.add_string_data("a");
  write_proto(path, strings);
  expect_error([&] { read_tensor_file(path); }, {"STRING"});

  expect_error([&] { write_tensor_file("/nonexistent/dir/t.pb", "t", FloatTensor({1}, {1})); },
               {"cannot write"});
  expect_error([&] { write_tensor_file(path, "t", FloatTensor({2}, {1})); }, {"shape [2]"});
  std::filesystem::remove(path);
}

TEST(TensorIo, ReadsOnnxBackendTestData) {
  const std::string path =
      std::string(ONNX_NODE_TEST_DIR) + "/test_relu/test_data_set_0/input_0.pb";
  MCUSPLIT_REQUIRE_DATA(std::filesystem::exists(path), "libonnx-testdata");
  const FloatTensor t = read_tensor_file(path);
  EXPECT_EQ(t.shape, (Dims{3, 4, 5}));
  EXPECT_EQ(t.data.size(), 60u);
}

}  // namespace
}  // namespace mcusplit::model
