// What /proc says of a running process: resident memory, open descriptors
// and CPU time. A soak test samples these while a run lasts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace mcusplit::testing {

struct ProcessFigures {
  int64_t rss_bytes = 0;  // VmRSS of /proc/PID/status
  int64_t open_fds = 0;   // entries of /proc/PID/fd
  int64_t cpu_ticks = 0;  // utime + stime of /proc/PID/stat
};

// Empty once the process has exited (a zombie has no VmRSS and no fds).
inline std::optional<ProcessFigures> read_process_figures(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  ProcessFigures f;
  std::ifstream status(dir + "/status");
  bool has_rss = false;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      f.rss_bytes = std::stoll(line.substr(6)) * 1024;  // "VmRSS:   1234 kB"
      has_rss = true;
    }
  }
  if (!has_rss) return std::nullopt;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++f.open_fds;
  }
  if (ec) return std::nullopt;
  // Fields 14 and 15, counted after the command name's closing parenthesis
  // (the name may hold spaces): state is field 3.
  std::ifstream stat_file(dir + "/stat");
  std::stringstream stat;
  stat << stat_file.rdbuf();
  const std::string text = stat.str();
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 1));
  std::string skip;
  for (int field = 3; field <= 13; ++field) fields >> skip;
  int64_t utime = 0;
  int64_t stime = 0;
  if (!(fields >> utime >> stime)) return std::nullopt;
  f.cpu_ticks = utime + stime;
  return f;
}

}  // namespace mcusplit::testing
