#include "host/kernel_calibration.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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
    throw Error(
        "the kernel bench printed a line without a whole '" + std::string(key) + "': " + line,
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
    c.outputs = whole(fields, "outputs", line);
    c.inputs = whole(fields, "inputs", line);
    c.pixels = whole(fields, "pixels", line);
    c.calls = whole(fields, "calls", line);
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

namespace {

constexpr int kTerms = 5;  // work, outputs, inputs, pixels, calls

std::array<double, kTerms> terms_of(const KernelBenchCase& c) {
  return {static_cast<double>(c.work), static_cast<double>(c.outputs),
          static_cast<double>(c.inputs), static_cast<double>(c.pixels),
          static_cast<double>(c.calls)};
}

// Least squares of the relative error with the terms `use` (work always):
// the normal equations, at most 5 by 5, by Gaussian elimination. false if
// they are singular.
bool solve_terms(const std::vector<const KernelBenchCase*>& cases,
                 const std::array<bool, kTerms>& use, std::array<double, kTerms>& coefficient) {
  std::array<int, kTerms> index{};
  int n = 0;
  for (int t = 0; t < kTerms; ++t) {
    if (use[static_cast<size_t>(t)]) index[static_cast<size_t>(n++)] = t;
  }
  double a[kTerms][kTerms + 1] = {};
  for (const KernelBenchCase* c : cases) {
    const double y = static_cast<double>(c->instructions);
    std::array<double, kTerms> x = terms_of(*c);
    for (double& v : x) v /= y;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        a[i][j] += x[static_cast<size_t>(index[static_cast<size_t>(i)])] *
                   x[static_cast<size_t>(index[static_cast<size_t>(j)])];
      }
      a[i][n] += x[static_cast<size_t>(index[static_cast<size_t>(i)])];  // times y / y
    }
  }
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int r = col + 1; r < n; ++r) {
      if (std::fabs(a[r][col]) > std::fabs(a[pivot][col])) pivot = r;
    }
    if (std::fabs(a[pivot][col]) < 1e-12) return false;
    for (int k = 0; k <= n; ++k) std::swap(a[col][k], a[pivot][k]);
    for (int r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = a[r][col] / a[col][col];
      for (int k = col; k <= n; ++k) a[r][k] -= f * a[col][k];
    }
  }
  coefficient.fill(0);
  for (int i = 0; i < n; ++i) {
    coefficient[static_cast<size_t>(index[static_cast<size_t>(i)])] = a[i][n] / a[i][i];
  }
  return true;
}

}  // namespace

std::map<std::string, KernelFit> fit_kernel_costs(const std::vector<KernelBenchCase>& cases) {
  std::map<std::string, std::vector<const KernelBenchCase*>> by_kernel;
  for (const KernelBenchCase& c : cases) {
    if (c.instructions > 0) by_kernel[c.kernel].push_back(&c);
  }
  std::map<std::string, KernelFit> fits;
  for (const auto& [kernel, list] : by_kernel) {
    // Every subset of the other terms beside work; the best fit whose
    // coefficients are all non-negative (work alone always is).
    KernelFit best;
    double best_squares = -1;
    for (int subset = 0; subset < (1 << (kTerms - 1)); ++subset) {
      std::array<bool, kTerms> use{};
      use[0] = true;
      for (int t = 1; t < kTerms; ++t) use[static_cast<size_t>(t)] = (subset >> (t - 1)) & 1;
      std::array<double, kTerms> k{};
      if (!solve_terms(list, use, k) || k[0] <= 0 ||
          std::any_of(k.begin(), k.end(), [](double v) { return v < 0; })) {
        continue;
      }
      double squares = 0;
      double worst = 0;
      for (const KernelBenchCase* c : list) {
        const double y = static_cast<double>(c->instructions);
        const std::array<double, kTerms> x = terms_of(*c);
        double fitted = 0;
        for (size_t t = 0; t < x.size(); ++t) fitted += k[t] * x[t];
        const double e = (fitted - y) / y;
        squares += e * e;
        worst = std::max(worst, std::fabs(e));
      }
      if (best_squares < 0 || squares < best_squares) {
        best_squares = squares;
        best = KernelFit{k[0], k[1], k[2], k[3], k[4], worst};
      }
    }
    fits[kernel] = best;
  }
  return fits;
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
