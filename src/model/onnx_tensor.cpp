#include "model/onnx_tensor.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"

namespace mcusplit::model {
namespace {

static_assert(std::endian::native == std::endian::little,
              "raw_data is little-endian; a big-endian host needs byte swapping here");

// Guards allocations against absurd dims in corrupt files.
constexpr int64_t kMaxElements = int64_t{1} << 32;

int64_t checked_element_count(const Dims& dims, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) throw Error(what + " has a negative dimension " + dims_to_string(dims));
    if (d != 0 && n > kMaxElements / d) throw Error(what + " is too large " + dims_to_string(dims));
    n *= d;
  }
  return n;
}

float half_to_float(uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float value;
  if (exponent == 0) {
    value = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    value =
        mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    value = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  }
  return sign ? -value : value;
}

// Decodes `count` little-endian values of type T from raw bytes.
template <typename T, typename Convert>
std::vector<float> decode_raw(const std::string& raw, int64_t count, const std::string& what,
                              Convert convert) {
  if (raw.size() != static_cast<size_t>(count) * sizeof(T)) {
    throw Error(what + " has " + std::to_string(raw.size()) +
                " bytes of raw data but its dims need " +
                std::to_string(static_cast<size_t>(count) * sizeof(T)));
  }
  std::vector<float> out(static_cast<size_t>(count));
  for (size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = convert(v);
  }
  return out;
}

template <typename Field, typename Convert>
std::vector<float> decode_field(const Field& field, int64_t count, const std::string& what,
                                Convert convert) {
  if (field.size() != count) {
    throw Error(what + " holds " + std::to_string(field.size()) + " values but its dims need " +
                std::to_string(count));
  }
  std::vector<float> out;
  out.reserve(static_cast<size_t>(count));
  for (const auto& v : field) out.push_back(convert(v));
  return out;
}

template <typename T>
float to_float(T v) {
  return static_cast<float>(v);
}

}  // namespace

std::string onnx_data_type_name(int data_type) {
  if (onnx::TensorProto_DataType_IsValid(data_type)) {
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(data_type));
  }
  return "type " + std::to_string(data_type);
}

FloatTensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    throw Error(what +
                " uses external data, which is not supported; save the model with its "
                "weights inside the .onnx file");
  }
  if (proto.has_segment()) throw Error(what + " is segmented, which is not supported");
  Dims dims(proto.dims().begin(), proto.dims().end());
  const int64_t count = checked_element_count(dims, what);
  const bool raw = proto.has_raw_data();
  const std::string& bytes = proto.raw_data();

  std::vector<float> data;
  using onnx::TensorProto;
  switch (proto.data_type()) {
    case TensorProto::FLOAT:
      data = raw ? decode_raw<float>(bytes, count, what, to_float<float>)
                 : decode_field(proto.float_data(), count, what, to_float<float>);
      break;
    case TensorProto::DOUBLE:
      data = raw ? decode_raw<double>(bytes, count, what, to_float<double>)
                 : decode_field(proto.double_data(), count, what, to_float<double>);
      break;
    case TensorProto::INT64:
      data = raw ? decode_raw<int64_t>(bytes, count, what, to_float<int64_t>)
                 : decode_field(proto.int64_data(), count, what, to_float<int64_t>);
      break;
    case TensorProto::UINT64:
    case TensorProto::UINT32:
      if (raw && proto.data_type() == TensorProto::UINT32) {
        data = decode_raw<uint32_t>(bytes, count, what, to_float<uint32_t>);
      } else {
        data = raw ? decode_raw<uint64_t>(bytes, count, what, to_float<uint64_t>)
                   : decode_field(proto.uint64_data(), count, what, to_float<uint64_t>);
      }
      break;
    case TensorProto::INT32:
      data = raw ? decode_raw<int32_t>(bytes, count, what, to_float<int32_t>)
                 : decode_field(proto.int32_data(), count, what, to_float<int32_t>);
      break;
    case TensorProto::INT16:
      data = raw ? decode_raw<int16_t>(bytes, count, what, to_float<int16_t>)
                 : decode_field(proto.int32_data(), count, what, to_float<int32_t>);
      break;
    case TensorProto::UINT16:
      data = raw ? decode_raw<uint16_t>(bytes, count, what, to_float<uint16_t>)
                 : decode_field(proto.int32_data(), count, what, to_float<int32_t>);
      break;
    case TensorProto::INT8:
      data = raw ? decode_raw<int8_t>(bytes, count, what, to_float<int8_t>)
                 : decode_field(proto.int32_data(), count, what, to_float<int32_t>);
      break;
    case TensorProto::UINT8:
    case TensorProto::BOOL:
      data = raw ? decode_raw<uint8_t>(bytes, count, what, to_float<uint8_t>)
                 : decode_field(proto.int32_data(), count, what, to_float<int32_t>);
      break;
    case TensorProto::FLOAT16:
      data = raw ? decode_raw<uint16_t>(bytes, count, what, half_to_float)
                 : decode_field(proto.int32_data(), count, what, [](int32_t bits) {
                     return half_to_float(static_cast<uint16_t>(bits));
                   });
      break;
    default:
      throw Error(what + " has element type " + onnx_data_type_name(proto.data_type()) +
                  ", which cannot be converted to float");
  }
  return FloatTensor(std::move(dims), std::move(data));
}

onnx::TensorProto tensor_to_proto(const FloatTensor& tensor, const std::string& name) {
  onnx::TensorProto proto;
  proto.set_name(name);
  proto.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : tensor.shape) proto.add_dims(d);
  std::string raw(tensor.data.size() * sizeof(float), '\0');
  if (!raw.empty()) std::memcpy(raw.data(), tensor.data.data(), raw.size());
  proto.set_raw_data(std::move(raw));
  return proto;
}

}  // namespace mcusplit::model
