#include "model/onnx_writer.h"

#include <cstdint>
#include <limits>

#include "common/error.h"
#include "model/file_io.h"

namespace mcusplit::model {

void write_onnx_file(const onnx::ModelProto& model, const std::string& path) {
  // protobuf refuses messages of 2 GiB or more.
  if (model.ByteSizeLong() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw Error("cannot write " + path + ": model is larger than 2 GiB");
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    throw Error("cannot write " + path + ": serialization failed");
  }

  write_file_atomically(path, bytes);
}

}  // namespace mcusplit::model
