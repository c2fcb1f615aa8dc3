#include "model/idx_dataset.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/error.h"

namespace mcusplit::model {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dims
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dim

struct GzClose {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// The whole (decompressed) file. zlib's gzread passes plain files through
// unchanged, so one reader serves .gz and uncompressed IDX files.
std::vector<uint8_t> read_all(const std::string& path) {
  std::unique_ptr<gzFile_s, GzClose> file(gzopen(path.c_str(), "rb"));
  if (!file) {
    throw Error(fmt::format("cannot open IDX file '{}': {}", path, std::strerror(errno)));
  }
  std::vector<uint8_t> bytes;
  constexpr unsigned kChunk = 1u << 20;
  for (;;) {
    const size_t old_size = bytes.size();
    bytes.resize(old_size + kChunk);
    const int n = gzread(file.get(), bytes.data() + old_size, kChunk);
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      throw Error(fmt::format("cannot read IDX file '{}': corrupt gzip data ({})", path, message));
    }
    bytes.resize(old_size + static_cast<size_t>(n));
    if (n == 0) break;
  }
  // gzread stops quietly at a truncated gzip stream; gzerror tells.
  int code = Z_OK;
  const char* message = gzerror(file.get(), &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    throw Error(fmt::format("cannot read IDX file '{}': {}", path, message));
  }
  return bytes;
}

uint32_t big_endian_u32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}

// Checks magic and total size; returns the header's dims.
std::vector<uint32_t> parse_header(const std::vector<uint8_t>& bytes, const std::string& path,
                                   uint32_t magic, const char* kind) {
  const size_t rank = magic & 0xff;
  const size_t header_bytes = 4 + 4 * rank;
  if (bytes.size() < 4 || big_endian_u32(bytes, 0) != magic) {
    throw Error(fmt::format("'{}' is not an IDX {} file (bad magic number, expected 0x{:08x})",
                            path, kind, magic));
  }
  if (bytes.size() < header_bytes) {
    throw Error(fmt::format("IDX file '{}' is truncated (header cut short)", path));
  }
  std::vector<uint32_t> dims;
  uint64_t payload = 1;
  for (size_t i = 0; i < rank; ++i) {
    dims.push_back(big_endian_u32(bytes, 4 + 4 * i));
    payload *= dims.back();
  }
  const uint64_t expected = header_bytes + payload;
  if (bytes.size() < expected) {
    throw Error(fmt::format("IDX file '{}' is truncated ({} bytes, the header promises {})", path,
                            bytes.size(), expected));
  }
  if (bytes.size() > expected) {
    throw Error(fmt::format("IDX file '{}' has {} bytes after the data its header describes", path,
                            bytes.size() - expected));
  }
  return dims;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  std::vector<uint8_t> bytes = read_all(path);
  const auto dims = parse_header(bytes, path, kImagesMagic, "images (idx3-ubyte)");
  if (dims[1] == 0 || dims[2] == 0 || dims[1] > 65536 || dims[2] > 65536) {
    throw Error(fmt::format("IDX file '{}' has images of {}x{} pixels", path, dims[1], dims[2]));
  }
  IdxImages images;
  images.count = dims[0];
  images.rows = static_cast<int32_t>(dims[1]);
  images.cols = static_cast<int32_t>(dims[2]);
  images.pixels.assign(bytes.begin() + 16, bytes.end());
  return images;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  std::vector<uint8_t> bytes = read_all(path);
  parse_header(bytes, path, kLabelsMagic, "labels (idx1-ubyte)");
  return std::vector<uint8_t>(bytes.begin() + 8, bytes.end());
}

FloatTensor idx_image_tensor(const IdxImages& images, int64_t index, const Dims& input_shape,
                             const GreyNormalization& normalization) {
  if (index < 0 || index >= images.count) {
    throw Error(fmt::format("IDX image {} out of range (the file has {})", index, images.count));
  }
  const Dims wanted{1, 1, images.rows, images.cols};
  if (input_shape != wanted) {
    throw Error(fmt::format("IDX images are {}x{} grey, shape {}, but the model input is {}",
                            images.rows, images.cols, dims_to_string(wanted),
                            dims_to_string(input_shape)));
  }
  if (!(normalization.std > 0.0f)) throw Error("the normalisation std must be positive");
  FloatTensor t{wanted};
  const uint8_t* pixels = images.image(index);
  for (size_t i = 0; i < t.data.size(); ++i) {
    t.data[i] = (static_cast<float>(pixels[i]) / 255.0f - normalization.mean) / normalization.std;
  }
  return t;
}

}  // namespace mcusplit::model
