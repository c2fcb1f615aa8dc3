// The .mq file: a QGraph on disk (docs/mq_format.md). A 24-byte header
// (magic "MCUSPLMQ", format version, CRC-32 of the payload, payload length)
// then a little-endian payload: tensors, then layers with all their integer
// parameters and constant arrays. Reading gives back exactly what was written.
#pragma once

#include <cstdint>
#include <string>

#include "quant/qgraph.h"

namespace mcusplit::quant {

inline constexpr char kMqMagic[8] = {'M', 'C', 'U', 'S', 'P', 'L', 'M', 'Q'};
inline constexpr uint32_t kMqFormatVersion = 2;
inline constexpr size_t kMqHeaderBytes = 24;

// The whole file's bytes, header included.
std::string serialize_mq(const QGraph& graph);
// Parses bytes from serialize_mq; `origin` names the file in errors. Throws
// mcusplit::Error (exit code 2) for a bad magic, an unsupported version, a
// length or checksum mismatch, a truncated payload or an inconsistent graph.
QGraph parse_mq(const std::string& bytes, const std::string& origin);

// Writes atomically: a temporary file beside `path`, renamed over it, so no
// reader ever sees a half-written .mq. Throws mcusplit::Error on I/O failure.
void write_mq_file(const QGraph& graph, const std::string& path);
QGraph read_mq_file(const std::string& path);

}  // namespace mcusplit::quant
