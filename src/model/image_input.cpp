#include "model/image_input.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

#include "common/error.h"

namespace mcusplit::model {
namespace {

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

// A float image in interleaved HWC order.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<float> pixels;
};

Image decode(const std::string& path, int wanted_channels) {
  int w = 0;
  int h = 0;
  int file_channels = 0;
  std::unique_ptr<unsigned char, StbFree> data(
      stbi_load(path.c_str(), &w, &h, &file_channels, wanted_channels));
  if (!data) {
    std::ifstream probe(path);
    if (!probe) throw Error("cannot open image '" + path + "'");
    throw Error("cannot decode image '" + path + "': " + stbi_failure_reason());
  }
  Image img{w, h, wanted_channels, {}};
  const size_t n =
      static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(wanted_channels);
  img.pixels.resize(n);
  for (size_t i = 0; i < n; ++i) img.pixels[i] = static_cast<float>(data.get()[i]) / 255.0f;
  return img;
}

Image resize(const Image& src, int width, int height) {
  Image dst{width, height, src.channels, {}};
  dst.pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) *
                    static_cast<size_t>(src.channels));
  if (!stbir_resize_float(src.pixels.data(), src.width, src.height, 0, dst.pixels.data(), width,
                          height, 0, src.channels)) {
    throw Error("cannot resize image to " + std::to_string(width) + "x" + std::to_string(height));
  }
  return dst;
}

Image crop_center(const Image& src, int width, int height) {
  Image dst{width, height, src.channels, {}};
  const int x0 = (src.width - width) / 2;
  const int y0 = (src.height - height) / 2;
  for (int y = 0; y < height; ++y) {
    const float* row = &src.pixels[(static_cast<size_t>(y0 + y) * static_cast<size_t>(src.width) +
                                    static_cast<size_t>(x0)) *
                                   static_cast<size_t>(src.channels)];
    dst.pixels.insert(dst.pixels.end(), row, row + static_cast<ptrdiff_t>(width) * src.channels);
  }
  return dst;
}

}  // namespace

bool looks_like_image(const std::string& path) {
  int w = 0;
  int h = 0;
  int c = 0;
  return stbi_info(path.c_str(), &w, &h, &c) != 0;
}

FloatTensor load_image_tensor(const std::string& path, const Dims& input_shape,
                              const ImagePreprocessing& preprocessing) {
  if (input_shape.size() != 4 || input_shape[0] != 1 ||
      (input_shape[1] != 1 && input_shape[1] != 3)) {
    throw Error("an image cannot feed an input of shape " + dims_to_string(input_shape) +
                " (need [1, 1 or 3, H, W]); give a .pb tensor instead");
  }
  const int channels = static_cast<int>(input_shape[1]);
  const int height = static_cast<int>(input_shape[2]);
  const int width = static_cast<int>(input_shape[3]);

  Image img = decode(path, channels);
  if (preprocessing.center_crop) {
    // Shorter side to size*256/224, keeping the aspect ratio, then crop.
    const double scale = std::max(static_cast<double>(height) * 256.0 / 224.0 / img.height,
                                  static_cast<double>(width) * 256.0 / 224.0 / img.width);
    const int rw = std::max(width, static_cast<int>(img.width * scale + 0.5));
    const int rh = std::max(height, static_cast<int>(img.height * scale + 0.5));
    img = crop_center(resize(img, rw, rh), width, height);
  } else if (img.width != width || img.height != height) {
    img = resize(img, width, height);
  }

  FloatTensor t{Dims(input_shape)};
  const size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  for (int c = 0; c < channels; ++c) {
    const size_t sc = static_cast<size_t>(c);
    for (size_t i = 0; i < plane; ++i) {
      const float v = img.pixels[i * static_cast<size_t>(channels) + sc];
      t.data[sc * plane + i] = (v - preprocessing.mean[sc]) / preprocessing.std[sc];
    }
  }
  return t;
}

}  // namespace mcusplit::model
