#include "host/run_request.h"

#include <sstream>

#include "common/error.h"

namespace mcusplit::host {

std::vector<SocketAddress> parse_worker_list(const std::string& list) {
  std::vector<SocketAddress> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    out.push_back(parse_address(item, "--workers entry", false));
    for (size_t i = 0; i + 1 < out.size(); ++i) {
      if (out[i].text() == out.back().text()) {
        throw Error("--workers lists " + item + " twice: one worker serves one device");
      }
    }
  }
  return out;
}

}  // namespace mcusplit::host
