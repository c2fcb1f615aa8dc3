// Where calibration inputs come from: a folder of images, an IDX image file
// (Fashion-MNIST format) or seeded random numbers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "model/float_tensor.h"
#include "model/idx_dataset.h"
#include "model/image_input.h"

namespace mcusplit::quant {

struct CalibrationInputOptions {
  uint64_t seed = 0;                              // `random`
  model::ImagePreprocessing image_preprocessing;  // image folders
  model::GreyNormalization idx_normalization;     // IDX files
};

class CalibrationSource {
 public:
  virtual ~CalibrationSource() = default;
  // The next input tensor, or nullopt once the source is exhausted.
  virtual std::optional<model::FloatTensor> next() = 0;
  // Files passed over because they could not be used (image folders).
  virtual int64_t skipped() const { return 0; }
  // For messages and summaries: "random (seed 0)", "folder 'imgs' (12 files)".
  virtual std::string description() const = 0;
};

// `spec` is the word `random` (standard normal values of the input shape,
// seeded), a folder (every regular file in name order, through
// model::load_image_tensor; files that do not decode are skipped and counted)
// or a file (read as IDX images). Throws mcusplit::Error for a missing path,
// an input shape images cannot feed, or a bad IDX file. A folder literally
// called random is reached as ./random.
std::unique_ptr<CalibrationSource> open_calibration_source(const std::string& spec,
                                                           const model::Dims& input_shape,
                                                           const CalibrationInputOptions& options);

}  // namespace mcusplit::quant
