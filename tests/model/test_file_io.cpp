// model/file_io's atomic write when the file system refuses the bytes: the
// error names the file and the system's reason, the earlier file is left as
// it was and no temporary file stays beside it. (The fault matrix's FullDisk
// cell does the same on a full tmpfs, as root; a file size limit needs no
// root.)
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.h"
#include "model/file_io.h"

namespace mcusplit::model {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// RLIMIT_FSIZE lowered for the scope, SIGXFSZ ignored so that a write past it
// fails with EFBIG instead of ending the process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit lower = saved_;
    lower.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lower);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  sighandler_t old_handler_ = SIG_DFL;
};

TEST(FileIo, AFailedWriteSaysWhyAndLeavesTheEarlierFile) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("mcusplit_file_io_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "out.pb").string();
  write_file_atomically(path, "earlier");
  std::string message;
  {
    const FileSizeLimit limit(16);
    try {
      write_file_atomically(path, std::string(4096, 'x'), "output ");
    } catch (const Error& e) {
      message = e.what();
    }
  }
  EXPECT_EQ(message, "cannot write output '" + path + "': File too large");
  EXPECT_EQ(slurp(path), "earlier");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1) << "a temporary file stayed";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mcusplit::model
