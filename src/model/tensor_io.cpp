#include "model/tensor_io.h"

#include "common/error.h"
#include "model/file_io.h"
#include "model/onnx_tensor.h"

namespace mcusplit::model {

FloatTensor read_tensor_file(const std::string& path) {
  onnx::TensorProto proto;
  if (!proto.ParseFromString(read_file_bytes(path))) {
    throw Error("'" + path + "' is not a valid ONNX TensorProto file");
  }
  return tensor_from_proto(proto, "tensor file '" + path + "'");
}

bool tensor_file_is_int8(const std::string& path) {
  onnx::TensorProto proto;
  if (!proto.ParseFromString(read_file_bytes(path))) {
    throw Error("'" + path + "' is not a valid ONNX TensorProto file");
  }
  return proto.data_type() == onnx::TensorProto::INT8;
}

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
