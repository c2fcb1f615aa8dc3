// Turns an image file (PNG, JPEG, PGM/PPM, BMP: whatever stb_image reads) into
// a model input tensor, with the preprocessing the model documents.
#pragma once

#include <array>
#include <string>

#include "model/float_tensor.h"

namespace mcusplit::model {

struct ImagePreprocessing {
  // torchvision's ImageNet statistics, applied after scaling pixels to [0, 1].
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  // Resize the shorter side to size*256/224, then centre-crop (torchvision's
  // evaluation transform). Off: resize straight to the input size.
  bool center_crop = true;
};

// Loads `path` and produces a [1, C, H, W] tensor for an input of shape
// `input_shape` (C is 1 or 3). Throws mcusplit::Error for a missing or
// undecodable file or an input shape that is not an image.
FloatTensor load_image_tensor(const std::string& path, const Dims& input_shape,
                              const ImagePreprocessing& preprocessing);

// True when the file starts like an image stb_image can decode rather than a
// TensorProto.
bool looks_like_image(const std::string& path);

}  // namespace mcusplit::model
