#include "quant/calibration_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>
#include <vector>

#include "common/error.h"

namespace mcusplit::quant {
namespace {

namespace fs = std::filesystem;

// Standard normal values by Box-Muller over mt19937_64, both fully specified,
// so a seed gives the same inputs with every standard library.
class RandomSource final : public CalibrationSource {
 public:
  RandomSource(model::Dims shape, uint64_t seed)
      : shape_(std::move(shape)), seed_(seed), rng_(seed) {}

  std::optional<model::FloatTensor> next() override {
    model::FloatTensor t{shape_};
    for (float& v : t.data) v = static_cast<float>(normal());
    return t;
  }
  std::string description() const override { return fmt::format("random (seed {})", seed_); }

 private:
  double uniform_open() {
    // (0, 1]: 53 random bits, never 0 so the log below is finite.
    return (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53;
  }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2.0 * std::log(uniform_open()));
    const double angle = 2.0 * std::numbers::pi * uniform_open();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

  model::Dims shape_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

class ImageFolderSource final : public CalibrationSource {
 public:
  ImageFolderSource(const std::string& folder, model::Dims shape,
                    const model::ImagePreprocessing& preprocessing)
      : folder_(folder), shape_(std::move(shape)), preprocessing_(preprocessing) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      if (entry.is_regular_file()) files_.push_back(entry.path().string());
    }
    if (ec)
      throw Error(fmt::format("cannot list calibration folder '{}': {}", folder, ec.message()));
    std::sort(files_.begin(), files_.end());
  }

  std::optional<model::FloatTensor> next() override {
    while (next_file_ < files_.size()) {
      const std::string& file = files_[next_file_++];
      try {
        return model::load_image_tensor(file, shape_, preprocessing_);
      } catch (const Error&) {
        ++skipped_;  // not an image stb_image decodes: pass over it
      }
    }
    return std::nullopt;
  }
  int64_t skipped() const override { return skipped_; }
  std::string description() const override {
    return fmt::format("folder '{}' ({} files)", folder_, files_.size());
  }

 private:
  std::string folder_;
  model::Dims shape_;
  model::ImagePreprocessing preprocessing_;
  std::vector<std::string> files_;
  size_t next_file_ = 0;
  int64_t skipped_ = 0;
};

class IdxSource final : public CalibrationSource {
 public:
  IdxSource(const std::string& path, model::Dims shape, const model::GreyNormalization& norm)
      : path_(path), images_(model::read_idx_images(path)), shape_(std::move(shape)), norm_(norm) {
    if (images_.count > 0) model::idx_image_tensor(images_, 0, shape_, norm_);  // size check now
  }

  std::optional<model::FloatTensor> next() override {
    if (next_ >= images_.count) return std::nullopt;
    return model::idx_image_tensor(images_, next_++, shape_, norm_);
  }
  std::string description() const override {
    return fmt::format("IDX file '{}' ({} images)", path_, images_.count);
  }

 private:
  std::string path_;
  model::IdxImages images_;
  model::Dims shape_;
  model::GreyNormalization norm_;
  int64_t next_ = 0;
};

bool is_image_shape(const model::Dims& s) {
  return s.size() == 4 && s[0] == 1 && (s[1] == 1 || s[1] == 3) && s[2] > 0 && s[3] > 0;
}

}  // namespace

std::unique_ptr<CalibrationSource> open_calibration_source(const std::string& spec,
                                                           const model::Dims& input_shape,
                                                           const CalibrationInputOptions& options) {
  if (spec == "random") return std::make_unique<RandomSource>(input_shape, options.seed);
  std::error_code ec;
  const auto status = fs::status(spec, ec);
  if (!fs::exists(status)) {
    throw Error(fmt::format(
        "calibration source '{}' does not exist (give a folder of images, an IDX file or random)",
        spec));
  }
  if (!is_image_shape(input_shape)) {
    throw Error(
        fmt::format("images cannot feed the model input of shape {} (need [1, 1 or 3, H, W]); "
                    "calibrate with random",
                    model::dims_to_string(input_shape)));
  }
  if (fs::is_directory(status)) {
    return std::make_unique<ImageFolderSource>(spec, input_shape, options.image_preprocessing);
  }
  return std::make_unique<IdxSource>(spec, input_shape, options.idx_normalization);
}

}  // namespace mcusplit::quant
