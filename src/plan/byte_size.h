// Byte sizes as people write them: "262144", "256KiB", "1.5 MiB", "2MB".
#pragma once

#include <cstdint>
#include <string>

namespace mcusplit::plan {

// Units: none or B (bytes), KB/MB/GB (powers of 1000), KiB/MiB/GiB (powers
// of 1024); "k" may be lower case. A fractional number is allowed when the
// result is a whole number of bytes. Throws mcusplit::Error (exit code 2) on
// anything else, on zero or negative sizes, and above 2^62 bytes.
int64_t parse_byte_size(const std::string& text);

}  // namespace mcusplit::plan
