// A private temporary directory under $TMPDIR (or /tmp), removed with
// everything in it when it goes: where `run --targets qemu` writes the device
// images QEMU loads, and where an emulated Ethernet keeps its switches'
// sockets.
#pragma once

#include <string>

namespace mcusplit::host {

class TempDir {
 public:
  // `prefix` starts the directory's name. Throws mcusplit::Error (exit code
  // 1) if it cannot be created.
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace mcusplit::host
