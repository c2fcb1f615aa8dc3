#include "quant/mq_format.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cstdio>

#include "common/byte_stream.h"
#include "common/error.h"
#include "model/file_io.h"
#include "quant/mq_codec.h"
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

std::string serialize_payload(const QGraph& g) {
  ByteWriter w;
  w.str(g.source_model);
  w.i32(g.input);
  w.i32(g.output);
  w.u32(static_cast<uint32_t>(g.tensors.size()));
  for (const QTensor& t : g.tensors) put_tensor(w, t);
  w.u32(static_cast<uint32_t>(g.layers.size()));
  for (const QLayer& l : g.layers) {
    put_layer_skeleton(w, l);
    put_layer_constants(w, l);
  }
  return w.take();
}

QGraph parse_payload(ByteReader& r) {
  QGraph g;
  g.source_model = r.str("the source model name");
  g.input = r.i32("the graph input");
  g.output = r.i32("the graph output");
  const uint32_t tensors = r.count("the tensor table", kMqTensorMinBytes);
  for (uint32_t i = 0; i < tensors; ++i) g.tensors.push_back(get_tensor(r));
  // A layer is its skeleton plus four array counts.
  const uint32_t layers = r.count("the layer table", kMqLayerSkeletonMinBytes + 16);
  for (uint32_t i = 0; i < layers; ++i) {
    QLayer l = get_layer_skeleton(r);
    get_layer_constants(r, l);
    g.layers.push_back(std::move(l));
  }
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
  model::write_file_atomically(path, serialize_mq(graph));
}

QGraph read_mq_file(const std::string& path) {
  return parse_mq(model::read_file_bytes(path), path);
}

}  // namespace mcusplit::quant
