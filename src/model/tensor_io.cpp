#include "model/tensor_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "model/error.h"
#include "model/onnx_tensor.h"

namespace mcusplit::model {

FloatTensor read_tensor_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error("cannot read '" + path + "': " + std::strerror(errno));
  onnx::TensorProto proto;
  if (!proto.ParseFromString(buffer.str())) {
    throw Error("'" + path + "' is not a valid ONNX TensorProto file");
  }
  return tensor_from_proto(proto, "tensor file '" + path + "'");
}

void write_tensor_file(const std::string& path, const std::string& name, const FloatTensor& t) {
  if (static_cast<int64_t>(t.data.size()) != element_count(t.shape)) {
    throw Error("cannot write '" + path + "': tensor has " + std::to_string(t.data.size()) +
                " values but shape " + dims_to_string(t.shape));
  }
  const std::string bytes = tensor_to_proto(t, name).SerializeAsString();
  // A per-process name, so two writers of the same path never share a temporary.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write '" + tmp + "': " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error("cannot write '" + tmp + "': " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw Error("cannot rename '" + tmp + "' to '" + path + "': " + reason);
  }
}

}  // namespace mcusplit::model
