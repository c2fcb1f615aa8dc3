#include "model/onnx_writer.h"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>

#include "model/error.h"

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

  // The pid keeps concurrent writers of the same path from sharing a temp file.
  const std::string temp_path = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path + ": cannot create " + temp_path);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp_path, ignored);
      throw Error("cannot write " + path + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp_path, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp_path, ignored);
    throw Error("cannot write " + path + ": " + ec.message());
  }
}

}  // namespace mcusplit::model
