#include "model/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace mcusplit::model {

std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error("cannot open '" + path + "': Is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error("cannot read '" + path + "': " + std::strerror(errno));
  return std::move(buffer).str();
}

void write_file_atomically(const std::string& path, const std::string& bytes,
                           const std::string& kind) {
  const auto fail = [&](const std::string& reason) {
    return Error("cannot write " + kind + "'" + path + "': " + reason);
  };
  // Per process, so two writers of the same path never share a temporary;
  // beside `path`, so the rename stays on one file system.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw fail(std::strerror(errno));
  // write(2) and close(2) rather than a stream: their errno says why a write
  // failed (a full file system: "No space left on device").
  const auto abandon = [&](int error) {
    ::close(fd);
    std::remove(tmp.c_str());
    return fail(std::strerror(error));
  };
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw abandon(n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    const int error = errno;
    std::remove(tmp.c_str());
    throw fail(std::strerror(error));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw fail(ec.message());
  }
}

}  // namespace mcusplit::model
