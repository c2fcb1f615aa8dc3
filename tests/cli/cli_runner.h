// Runs the mcusplit binary as a user would and captures what it prints.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace mcusplit::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string read_text_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A fresh scratch folder per test, removed when the test ends.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("mcusplit_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// `args` is appended to the binary path as is (the caller quotes); `env`
// ("NAME=value ...", unquoted) is set for the binary only.
inline CliResult run_cli(const std::string& args, const ScratchDir& dir,
                         const std::string& env = "") {
  const std::string out = dir.file("stdout.txt");
  const std::string err = dir.file("stderr.txt");
  const std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string(MCUSPLIT_BINARY) +
                          " " + args + " > '" + out + "' 2> '" + err + "'";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text_file(out);
  r.err = read_text_file(err);
  return r;
}

inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A small zoo MobileNetV2 (width 0.35, 64x64, 10 classes) quantized with
// `samples` random calibration inputs, written to dir/small.mq; "" (and a
// test failure) if either step fails.
inline std::string make_small_mq(const ScratchDir& dir, int samples) {
  const std::string onnx = dir.file("small.onnx");
  const CliResult zoo =
      run_cli("zoo mobilenetv2 --width 0.35 --resolution 64 --classes 10 -o '" + onnx + "'", dir);
  EXPECT_EQ(zoo.exit_code, 0) << zoo.err;
  const std::string mq = dir.file("small.mq");
  const CliResult q = run_cli("quantize '" + onnx + "' --calib random --samples " +
                                  std::to_string(samples) + " -o '" + mq + "'",
                              dir);
  EXPECT_EQ(q.exit_code, 0) << q.err;
  return zoo.exit_code == 0 && q.exit_code == 0 ? mq : "";
}

}  // namespace mcusplit::testing
