#include "quant/mq_format.h"

#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "model/error.h"
#include "quant/byte_stream.h"
#include "quant/qgraph_validate.h"

namespace mcusplit::quant {
namespace {

uint32_t crc32_of(const char* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed big payloads in slices.
  while (size > 0) {
    const auto n = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), n);
    data += n;
    size -= n;
  }
  return static_cast<uint32_t>(crc);
}

// ---- payload, format version 1 (docs/mq_format.md) ----

void put_shape(ByteWriter& w, const core::TensorShape3& s) {
  w.i32(s.c);
  w.i32(s.h);
  w.i32(s.w);
}
core::TensorShape3 get_shape(ByteReader& r) {
  core::TensorShape3 s;
  s.c = r.i32("a shape");
  s.h = r.i32("a shape");
  s.w = r.i32("a shape");
  return s;
}
void put_activation(ByteWriter& w, const core::ActivationRange& a) {
  w.i32(a.min);
  w.i32(a.max);
}
core::ActivationRange get_activation(ByteReader& r) {
  core::ActivationRange a;
  a.min = r.i32("an activation range");
  a.max = r.i32("an activation range");
  return a;
}

void put_conv(ByteWriter& w, const kernels::Int8ConvParams& p) {
  put_shape(w, p.input);
  put_shape(w, p.output);
  for (int32_t v : {p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                    p.pad_top, p.pad_left, p.groups, p.input_zero_point, p.output_zero_point}) {
    w.i32(v);
  }
  put_activation(w, p.activation);
  w.i32(p.weights_c0);
  w.i32(p.weights_c1);
}
kernels::Int8ConvParams get_conv(ByteReader& r) {
  kernels::Int8ConvParams p;
  p.input = get_shape(r);
  p.output = get_shape(r);
  for (int32_t* v :
       {&p.kernel_h, &p.kernel_w, &p.stride_h, &p.stride_w, &p.dilation_h, &p.dilation_w,
        &p.pad_top, &p.pad_left, &p.groups, &p.input_zero_point, &p.output_zero_point}) {
    *v = r.i32("conv params");
  }
  p.activation = get_activation(r);
  p.weights_c0 = r.i32("conv params");
  p.weights_c1 = r.i32("conv params");
  return p;
}

void put_fc(ByteWriter& w, const kernels::Int8FullyConnectedParams& p) {
  for (int32_t v : {p.input_size, p.output_size, p.input_zero_point, p.output_zero_point}) w.i32(v);
  put_activation(w, p.activation);
  w.u8(p.per_tensor_requant ? 1 : 0);
  w.i32(p.weights_n0);
  w.i32(p.weights_n1);
}
kernels::Int8FullyConnectedParams get_fc(ByteReader& r) {
  kernels::Int8FullyConnectedParams p;
  for (int32_t* v : {&p.input_size, &p.output_size, &p.input_zero_point, &p.output_zero_point}) {
    *v = r.i32("fully connected params");
  }
  p.activation = get_activation(r);
  p.per_tensor_requant = r.u8("fully connected params") != 0;
  p.weights_n0 = r.i32("fully connected params");
  p.weights_n1 = r.i32("fully connected params");
  return p;
}

void put_add(ByteWriter& w, const kernels::Int8AddParams& p) {
  put_shape(w, p.shape);
  for (int32_t v :
       {p.input1_offset, p.input2_offset, p.output_offset, p.input1_multiplier, p.input1_shift,
        p.input2_multiplier, p.input2_shift, p.output_multiplier, p.output_shift, p.left_shift}) {
    w.i32(v);
  }
  put_activation(w, p.activation);
}
kernels::Int8AddParams get_add(ByteReader& r) {
  kernels::Int8AddParams p;
  p.shape = get_shape(r);
  for (int32_t* v : {&p.input1_offset, &p.input2_offset, &p.output_offset, &p.input1_multiplier,
                     &p.input1_shift, &p.input2_multiplier, &p.input2_shift, &p.output_multiplier,
                     &p.output_shift, &p.left_shift}) {
    *v = r.i32("add params");
  }
  p.activation = get_activation(r);
  return p;
}

void put_pool(ByteWriter& w, const kernels::Int8PoolParams& p) {
  put_shape(w, p.input);
  put_shape(w, p.output);
  for (int32_t v : {p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left})
    w.i32(v);
  put_activation(w, p.activation);
}
kernels::Int8PoolParams get_pool(ByteReader& r) {
  kernels::Int8PoolParams p;
  p.input = get_shape(r);
  p.output = get_shape(r);
  for (int32_t* v : {&p.kernel_h, &p.kernel_w, &p.stride_h, &p.stride_w, &p.pad_top, &p.pad_left}) {
    *v = r.i32("pool params");
  }
  p.activation = get_activation(r);
  return p;
}

void put_global_pool(ByteWriter& w, const kernels::Int8GlobalAveragePoolParams& p) {
  put_shape(w, p.input);
  for (int32_t v : {p.input_zero_point, p.output_zero_point, p.multiplier, p.shift}) w.i32(v);
  put_activation(w, p.activation);
}
kernels::Int8GlobalAveragePoolParams get_global_pool(ByteReader& r) {
  kernels::Int8GlobalAveragePoolParams p;
  p.input = get_shape(r);
  for (int32_t* v : {&p.input_zero_point, &p.output_zero_point, &p.multiplier, &p.shift}) {
    *v = r.i32("global average pool params");
  }
  p.activation = get_activation(r);
  return p;
}

constexpr size_t kConcatParamsBytes = 4 * (3 + 3 + 3 + 4);
void put_concat(ByteWriter& w, const kernels::Int8ConcatParams& p) {
  put_shape(w, p.input);
  put_shape(w, p.output);
  for (int32_t v : {p.offset_c, p.offset_y, p.offset_x, p.input_zero_point, p.output_zero_point,
                    p.multiplier, p.shift}) {
    w.i32(v);
  }
}
kernels::Int8ConcatParams get_concat(ByteReader& r) {
  kernels::Int8ConcatParams p;
  p.input = get_shape(r);
  p.output = get_shape(r);
  for (int32_t* v : {&p.offset_c, &p.offset_y, &p.offset_x, &p.input_zero_point,
                     &p.output_zero_point, &p.multiplier, &p.shift}) {
    *v = r.i32("concat params");
  }
  return p;
}

void put_layer(ByteWriter& w, const QLayer& l) {
  w.str(l.name);
  w.u8(static_cast<uint8_t>(l.op));
  w.u32(static_cast<uint32_t>(l.inputs.size()));
  for (int t : l.inputs) w.i32(t);
  w.i32(l.output);
  switch (l.op) {
    case QOpType::Conv:
      put_conv(w, l.conv);
      break;
    case QOpType::FullyConnected:
      put_fc(w, l.fc);
      break;
    case QOpType::Add:
      put_add(w, l.add);
      break;
    case QOpType::MaxPool:
    case QOpType::AveragePool:
      put_pool(w, l.pool);
      break;
    case QOpType::GlobalAveragePool:
      put_global_pool(w, l.global_pool);
      break;
    case QOpType::Concat:
      w.u32(static_cast<uint32_t>(l.concat.size()));
      for (const auto& p : l.concat) put_concat(w, p);
      break;
    case QOpType::Reshape:
      break;
  }
  w.i8_array(l.weights);
  w.i32_array(l.bias);
  w.i32_array(l.multiplier);
  w.i32_array(l.shift);
}

QLayer get_layer(ByteReader& r) {
  QLayer l;
  l.name = r.str("a layer name");
  const uint8_t op = r.u8("a layer type");
  if (op > static_cast<uint8_t>(QOpType::Reshape)) {
    throw Error(fmt::format("'{}': layer '{}' has unknown type {} (corrupt or newer .mq)",
                            r.origin(), l.name, op));
  }
  l.op = static_cast<QOpType>(op);
  const uint32_t inputs = r.count("layer inputs", 4);
  for (uint32_t i = 0; i < inputs; ++i) l.inputs.push_back(r.i32("layer inputs"));
  l.output = r.i32("a layer output");
  switch (l.op) {
    case QOpType::Conv:
      l.conv = get_conv(r);
      break;
    case QOpType::FullyConnected:
      l.fc = get_fc(r);
      break;
    case QOpType::Add:
      l.add = get_add(r);
      break;
    case QOpType::MaxPool:
    case QOpType::AveragePool:
      l.pool = get_pool(r);
      break;
    case QOpType::GlobalAveragePool:
      l.global_pool = get_global_pool(r);
      break;
    case QOpType::Concat: {
      const uint32_t n = r.count("concat params", kConcatParamsBytes);
      for (uint32_t i = 0; i < n; ++i) l.concat.push_back(get_concat(r));
      break;
    }
    case QOpType::Reshape:
      break;
  }
  l.weights = r.i8_array("weights");
  l.bias = r.i32_array("bias");
  l.multiplier = r.i32_array("requantization multipliers");
  l.shift = r.i32_array("requantization shifts");
  return l;
}

std::string serialize_payload(const QGraph& g) {
  ByteWriter w;
  w.str(g.source_model);
  w.i32(g.input);
  w.i32(g.output);
  w.u32(static_cast<uint32_t>(g.tensors.size()));
  for (const QTensor& t : g.tensors) {
    w.str(t.name);
    put_shape(w, t.shape);
    w.f32(t.quant.scale);
    w.i32(t.quant.zero_point);
  }
  w.u32(static_cast<uint32_t>(g.layers.size()));
  for (const QLayer& l : g.layers) put_layer(w, l);
  return w.take();
}

QGraph parse_payload(ByteReader& r) {
  QGraph g;
  g.source_model = r.str("the source model name");
  g.input = r.i32("the graph input");
  g.output = r.i32("the graph output");
  const uint32_t tensors = r.count("the tensor table", 24);
  for (uint32_t i = 0; i < tensors; ++i) {
    QTensor t;
    t.name = r.str("a tensor name");
    t.shape = get_shape(r);
    t.quant.scale = r.f32("a tensor scale");
    t.quant.zero_point = r.i32("a tensor zero point");
    g.tensors.push_back(std::move(t));
  }
  const uint32_t layers = r.count("the layer table", 29);
  for (uint32_t i = 0; i < layers; ++i) g.layers.push_back(get_layer(r));
  if (r.remaining() != 0) {
    throw Error(fmt::format("'{}': {} unexpected bytes after the last layer (corrupt .mq)",
                            r.origin(), r.remaining()));
  }
  return g;
}

}  // namespace

std::string serialize_mq(const QGraph& graph) {
  const std::string payload = serialize_payload(graph);
  ByteWriter header;
  for (char c : kMqMagic) header.u8(static_cast<uint8_t>(c));
  header.u32(kMqFormatVersion);
  header.u32(crc32_of(payload.data(), payload.size()));
  header.u64(payload.size());
  return header.bytes() + payload;
}

QGraph parse_mq(const std::string& bytes, const std::string& origin) {
  const size_t magic_bytes = std::min(bytes.size(), sizeof kMqMagic);
  if (bytes.size() < sizeof kMqMagic || std::memcmp(bytes.data(), kMqMagic, magic_bytes) != 0) {
    throw Error(fmt::format("'{}' is not an .mq file (bad magic; expected \"MCUSPLMQ\")", origin));
  }
  if (bytes.size() < kMqHeaderBytes) {
    throw Error(
        fmt::format("'{}': .mq file truncated inside its {}-byte header", origin, kMqHeaderBytes));
  }
  ByteReader header(bytes.data() + sizeof kMqMagic, kMqHeaderBytes - sizeof kMqMagic, origin);
  const uint32_t version = header.u32("the version");
  const uint32_t crc = header.u32("the checksum");
  const uint64_t length = header.u64("the payload length");
  if (version != kMqFormatVersion) {
    throw Error(fmt::format("'{}': unsupported .mq format version {} (this build reads version {})",
                            origin, version, kMqFormatVersion));
  }
  const size_t have = bytes.size() - kMqHeaderBytes;
  if (have < length) {
    throw Error(fmt::format("'{}': .mq file truncated: payload of {} bytes, header says {}", origin,
                            have, length));
  }
  if (have > length) {
    throw Error(fmt::format("'{}': .mq file has {} bytes beyond the payload its header describes",
                            origin, have - length));
  }
  const char* payload = bytes.data() + kMqHeaderBytes;
  const uint32_t actual = crc32_of(payload, have);
  if (actual != crc) {
    throw Error(
        fmt::format("'{}': .mq checksum mismatch (header {:08x}, payload {:08x}): the file "
                    "is corrupt",
                    origin, crc, actual));
  }
  ByteReader r(payload, have, origin);
  QGraph g = parse_payload(r);
  validate_qgraph(g, origin);
  return g;
}

void write_mq_file(const QGraph& graph, const std::string& path) {
  const std::string bytes = serialize_mq(graph);
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw Error(fmt::format("cannot write '{}': write failed", path));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(fmt::format("cannot write '{}': {}", path, ec.message()));
  }
}

QGraph read_mq_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  const std::string bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  if (f.bad()) throw Error(fmt::format("cannot read '{}'", path));
  return parse_mq(bytes, path);
}

}  // namespace mcusplit::quant
