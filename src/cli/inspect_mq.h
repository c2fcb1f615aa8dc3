// `mcusplit inspect MODEL.mq`: the int8 graph's layers and what one device
// needs to run it (flash for constants, the planned static arena).
#pragma once

#include <string>

namespace mcusplit::cli {

void inspect_mq(const std::string& path, bool json);

}  // namespace mcusplit::cli
