// IDX reader: Debian's Fashion-MNIST files, plain and gzip'd files written
// here, and every way a file can be wrong.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "model/error_matchers.h"
#include "model/idx_dataset.h"
#include "quant/quant_test_models.h"

namespace mcusplit::model {
namespace {

using onnx_test::expect_error;
using quant_test::temp_file;

const std::string kDir = FASHION_MNIST_DIR;

std::string idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims,
                      const std::vector<uint8_t>& data) {
  std::string b;
  const auto be = [&b](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((v >> s) & 0xff));
  };
  be(magic);
  for (uint32_t d : dims) be(d);
  b.append(data.begin(), data.end());
  return b;
}

std::string write_plain(const std::string& name, const std::string& bytes) {
  const std::string path = temp_file(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string write_gz(const std::string& name, const std::string& bytes) {
  const std::string path = temp_file(name);
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return path;
}

TEST(IdxDataset, ReadsFashionMnistTestSet) {
  const IdxImages images = read_idx_images(kDir + "/t10k-images-idx3-ubyte.gz");
  const std::vector<uint8_t> labels = read_idx_labels(kDir + "/t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(images.count, 10000);
  EXPECT_EQ(images.rows, 28);
  EXPECT_EQ(images.cols, 28);
  EXPECT_EQ(images.pixels.size(), 10000u * 28 * 28);
  ASSERT_EQ(labels.size(), 10000u);
  EXPECT_EQ(labels[0], 9);  // an ankle boot, as tests/data/images/fashion_test0_ankle-boot.pgm
  EXPECT_EQ(labels[1], 2);  // pullover
  for (uint8_t l : labels) ASSERT_LT(l, 10);
  int64_t lit = 0;
  for (int i = 0; i < 28 * 28; ++i) lit += images.image(0)[i] > 0;
  EXPECT_GT(lit, 100);
}

TEST(IdxDataset, PlainAndGzipFilesReadTheSame) {
  std::vector<uint8_t> pixels(2 * 3 * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 10);
  const std::string bytes = idx_bytes(0x803, {2, 3, 4}, pixels);
  const std::string plain = write_plain("plain.idx", bytes);
  const std::string gz = write_gz("packed.idx.gz", bytes);
  for (const std::string& path : {plain, gz}) {
    const IdxImages images = read_idx_images(path);
    EXPECT_EQ(images.count, 2);
    EXPECT_EQ(images.rows, 3);
    EXPECT_EQ(images.cols, 4);
    EXPECT_EQ(images.pixels, pixels);
    std::remove(path.c_str());
  }
  const std::string labels = write_plain("labels.idx", idx_bytes(0x801, {3}, {1, 2, 3}));
  EXPECT_EQ(read_idx_labels(labels), (std::vector<uint8_t>{1, 2, 3}));
  std::remove(labels.c_str());
}

TEST(IdxDataset, BadFilesFailWithClearErrors) {
  const std::string missing = temp_file("missing.idx");
  expect_error([&] { read_idx_images(missing); }, {"cannot open", missing});
  // Labels are not images and images are not labels.
  expect_error([&] { read_idx_images(kDir + "/t10k-labels-idx1-ubyte.gz"); },
               {"t10k-labels", "bad magic"});
  expect_error([&] { read_idx_labels(kDir + "/t10k-images-idx3-ubyte.gz"); }, {"bad magic"});

  const std::string truncated = write_gz("truncated.gz", idx_bytes(0x803, {2, 3, 4}, {1, 2, 3}));
  expect_error([&] { read_idx_images(truncated); }, {truncated, "truncated"});
  const std::string short_header = write_plain("header.idx", idx_bytes(0x803, {2}, {}));
  expect_error([&] { read_idx_images(short_header); }, {"truncated"});
  const std::string trailing = write_plain("trailing.idx", idx_bytes(0x801, {1}, {1, 2}));
  expect_error([&] { read_idx_labels(trailing); }, {"after the data"});
  const std::string empty = write_plain("empty.idx", "");
  expect_error([&] { read_idx_images(empty); }, {"bad magic"});

  // A gzip stream cut in half.
  std::ifstream f(kDir + "/t10k-labels-idx1-ubyte.gz", std::ios::binary);
  std::string gz{std::istreambuf_iterator<char>(f), {}};
  const std::string cut = write_plain("cut.gz", gz.substr(0, gz.size() / 2));
  EXPECT_THROW(read_idx_labels(cut), Error);
  for (const auto& p : {truncated, short_header, trailing, empty, cut}) std::remove(p.c_str());
}

TEST(IdxDataset, ImageTensorNormalisesAndChecksTheInputShape) {
  IdxImages images;
  images.count = 1;
  images.rows = 2;
  images.cols = 2;
  images.pixels = {0, 255, 51, 102};
  const FloatTensor t = idx_image_tensor(images, 0, {1, 1, 2, 2}, {0.5f, 0.25f});
  EXPECT_EQ(t.shape, (Dims{1, 1, 2, 2}));
  EXPECT_FLOAT_EQ(t.data[0], -2.0f);
  EXPECT_FLOAT_EQ(t.data[1], 2.0f);
  EXPECT_NEAR(t.data[2], (0.2f - 0.5f) / 0.25f, 1e-6f);
  // Fashion-MNIST defaults.
  const FloatTensor d = idx_image_tensor(images, 0, {1, 1, 2, 2});
  EXPECT_NEAR(d.data[1], (1.0f - 0.2860f) / 0.3530f, 1e-6f);

  expect_error([&] { idx_image_tensor(images, 0, {1, 3, 2, 2}); }, {"2x2", "[1, 3, 2, 2]"});
  expect_error([&] { idx_image_tensor(images, 1, {1, 1, 2, 2}); }, {"out of range"});
}

}  // namespace
}  // namespace mcusplit::model
