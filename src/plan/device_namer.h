// Automatic device names: "<prefix>-<k>", k counting per prefix across the
// whole cluster, so "4xteensy41,2xteensy41" names teensy41-0 .. teensy41-5.
#pragma once

#include <map>
#include <string>

namespace mcusplit::plan {

class DeviceNamer {
 public:
  std::string next(const std::string& prefix) {
    return prefix + "-" + std::to_string(next_index_[prefix]++);
  }

 private:
  std::map<std::string, int> next_index_;
};

}  // namespace mcusplit::plan
