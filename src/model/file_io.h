// Whole-file reads and atomic writes, shared by every file format.
#pragma once

#include <string>

namespace mcusplit::model {

// The file's bytes. Throws mcusplit::Error "cannot open '<path>': <reason>"
// (also for a directory) or "cannot read '<path>': <reason>".
std::string read_file_bytes(const std::string& path);

// Writes a per-process temporary file beside `path` and renames it over
// `path`, so no reader ever sees a half-written file and an existing file
// survives a failed write. Throws mcusplit::Error "cannot write <kind>'<path>':
// <reason>" (`kind` such as "report ", may be empty).
void write_file_atomically(const std::string& path, const std::string& bytes,
                           const std::string& kind = "");

}  // namespace mcusplit::model
