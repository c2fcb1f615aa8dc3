// The Stats message's records (docs/protocol.md: u32 StatKey, u64 value) as
// a host-side map, both ways.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "device/protocol.h"

namespace mcusplit::host {

using StatRecords = std::map<device::StatKey, uint64_t>;

std::vector<uint8_t> encode_stats(const StatRecords& records);
// Every key is kept (callers skip the ones they do not know); a body that is not a whole
// number of records yields the whole records only.
StatRecords decode_stats(const std::vector<uint8_t>& body);

}  // namespace mcusplit::host
