// IDX files (the MNIST / Fashion-MNIST format): unsigned-byte images (idx3)
// and labels (idx1), gzip-compressed or plain. Plus the step that turns one
// IDX image into a model input tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/float_tensor.h"
#include "model/graph.h"

namespace mcusplit::model {

// `count` grey images of rows x cols pixels, row-major, one byte per pixel.
struct IdxImages {
  int64_t count = 0;
  int32_t rows = 0;
  int32_t cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols

  const uint8_t* image(int64_t index) const { return pixels.data() + index * int64_t{rows} * cols; }
};

// Reads an idx3-ubyte file (magic 0x00000803), .gz or plain. Throws
// mcusplit::Error naming the file on a missing file, a bad magic number, a
// corrupt gzip stream or a size that disagrees with the header.
IdxImages read_idx_images(const std::string& path);

// Reads an idx1-ubyte file (magic 0x00000801), .gz or plain; same errors.
std::vector<uint8_t> read_idx_labels(const std::string& path);

// Normalisation of a grey pixel p: (p / 255 - mean) / std. The defaults are
// the statistics the Fashion-MNIST model of tools/ was trained with.
struct GreyNormalization {
  float mean = 0.2860f;
  float std = 0.3530f;
};

// Image `index` as a [1, 1, rows, cols] tensor for an input of shape
// `input_shape`, which must be exactly that (else mcusplit::Error: an image of
// the wrong size is bad input, not something to resize silently).
FloatTensor idx_image_tensor(const IdxImages& images, int64_t index, const Dims& input_shape,
                             const GreyNormalization& normalization = {});

}  // namespace mcusplit::model
