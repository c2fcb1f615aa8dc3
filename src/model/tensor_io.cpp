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

namespace {

// Writes a temporary file and renames it, so an existing file is never left
// half-written.
void write_file_atomically(const std::string& path, const std::string& bytes) {
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

}  // namespace

void write_tensor_file(const std::string& path, const std::string& name, const FloatTensor& t) {
  if (static_cast<int64_t>(t.data.size()) != element_count(t.shape)) {
    throw Error("cannot write '" + path + "': tensor has " + std::to_string(t.data.size()) +
                " values but shape " + dims_to_string(t.shape));
  }
  write_file_atomically(path, tensor_to_proto(t, name).SerializeAsString());
}

void write_int8_tensor_file(const std::string& path, const std::string& name, const Dims& shape,
                            const std::vector<int8_t>& data) {
  if (static_cast<int64_t>(data.size()) != element_count(shape)) {
    throw Error("cannot write '" + path + "': tensor has " + std::to_string(data.size()) +
                " values but shape " + dims_to_string(shape));
  }
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(onnx::TensorProto::INT8);
  for (int64_t d : shape) proto.add_dims(d);
  proto.set_raw_data(std::string(reinterpret_cast<const char*>(data.data()), data.size()));
  write_file_atomically(path, proto.SerializeAsString());
}

}  // namespace mcusplit::model
