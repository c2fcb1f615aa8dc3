#include "host/kernel_calibration.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "host/child_process.h"
#include "host/qemu_launcher.h"

namespace mcusplit::host {
namespace {

constexpr const char* kPrefix = "kernel-bench: ";

// "key=value" fields of a line after its case name.
std::map<std::string, std::string> fields_of(std::istringstream& words) {
  std::map<std::string, std::string> fields;
  std::string word;
  while (words >> word) {
    const size_t eq = word.find('=');
    if (eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return fields;
}

int64_t whole(const std::map<std::string, std::string>& fields, const char* key,
              const std::string& line) {
  const auto it = fields.find(key);
  char* end = nullptr;
  const long long v = it == fields.end() ? -1 : std::strtoll(it->second.c_str(), &end, 10);
  if (it == fields.end() || end == it->second.c_str() || *end != '\0' || v < 0) {
    throw Error("the kernel bench printed a line without a whole '" + std::string(key) +
                    "': " + line,
                kExitFailure);
  }
  return v;
}

// Runs the child to its end, or kills it at `timeout`; returns its output
// and exit status (-1: killed or died of a signal).
std::pair<std::string, int> run_to_end(const std::string& path, std::vector<std::string> args,
                                       std::chrono::seconds timeout) {
  const Child child = spawn_child(path, std::move(args), true, "QEMU");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string output;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{child.output_fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(child.output_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  ::close(child.output_fd);
  if (timed_out) ::kill(child.pid, SIGKILL);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    throw Error("the kernel bench did not finish within " + std::to_string(timeout.count()) +
                    " s under QEMU",
                kExitFailure);
  }
  return {output, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

}  // namespace

std::vector<KernelBenchCase> parse_kernel_bench(const std::string& output, double tick_ns) {
  std::vector<KernelBenchCase> cases;
  bool done = false;
  std::istringstream lines(output);
  std::string line;
  // Instructions per tick under -icount: a tick is tick_ns of virtual time.
  const double per_tick = tick_ns / static_cast<double>(int64_t{1} << kIcountShift);
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(kPrefix, 0) != 0) continue;
    std::istringstream words(line.substr(std::string(kPrefix).size()));
    std::string name;
    words >> name;
    if (name == "done") {
      done = true;
      continue;
    }
    if (line.find("MISMATCH") != std::string::npos) {
      throw Error("the kernel bench's case " + name + " differs from its reference: " + line,
                  kExitFailure);
    }
    if (line.find(" kernel=") == std::string::npos) continue;  // the clock check, ...
    const std::map<std::string, std::string> fields = fields_of(words);
    KernelBenchCase c;
    c.name = name;
    c.kernel = fields.count("kernel") ? fields.at("kernel") : "";
    c.macs = whole(fields, "macs", line);
    c.work = whole(fields, "work", line);
    c.instructions = std::llround(static_cast<double>(whole(fields, "ticks", line)) * per_tick);
    if (c.kernel.empty() || c.work == 0) {
      throw Error("the kernel bench printed a case without a kernel or work: " + line,
                  kExitFailure);
    }
    cases.push_back(c);
  }
  if (cases.empty() || !done) {
    throw Error("the kernel bench's output has " +
                    std::string(cases.empty() ? "no cases" : "no 'done' line") +
                    " (is this the kernel bench firmware?)",
                kExitFailure);
  }
  return cases;
}

std::map<std::string, double> instructions_per_work(const std::vector<KernelBenchCase>& cases) {
  std::map<std::string, std::pair<int64_t, int64_t>> sums;
  for (const KernelBenchCase& c : cases) {
    sums[c.kernel].first += c.instructions;
    sums[c.kernel].second += c.work;
  }
  std::map<std::string, double> per_work;
  for (const auto& [kernel, sum] : sums) {
    per_work[kernel] = static_cast<double>(sum.first) / static_cast<double>(sum.second);
  }
  return per_work;
}

BoardCalibration calibrate_board(const std::string& qemu, const std::string& kernel_bench_elf,
                                 std::chrono::seconds timeout) {
  const std::string qemu_path = find_program(qemu);
  if (qemu_path.empty()) {
    throw Error("cannot calibrate: the emulator '" + qemu +
                "' was not found (apt-get install qemu-system-arm)");
  }
  if (!std::ifstream(kernel_bench_elf)) {
    throw Error("cannot calibrate: the kernel bench firmware '" + kernel_bench_elf +
                "' does not exist (build mcusplit with arm-none-eabi-g++ installed, or give "
                "--firmware ELF)");
  }
  const FirmwareLayout layout = read_firmware_layout(kernel_bench_elf);
  std::vector<std::string> args =
      qemu_command(qemu_path, kernel_bench_elf, QemuSerial::None, layout.machine);
  args.push_back("-icount");
  args.push_back("shift=" + std::to_string(kIcountShift));
  const auto [output, status] = run_to_end(qemu_path, std::move(args), timeout);
  if (status != 0) {
    throw Error("the kernel bench on " + layout.machine + " exited with status " +
                    std::to_string(status) + ": " + output,
                kExitFailure);
  }
  return {layout.board, layout.machine, parse_kernel_bench(output, 1e9 / layout.clock_hz)};
}

}  // namespace mcusplit::host
