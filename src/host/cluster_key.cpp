#include "host/cluster_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "device/image_auth.h"

namespace mcusplit::host {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

ClusterKey generate_cluster_key() {
  ClusterKey key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    throw Error("cannot generate a key: OpenSSL's random generator has no entropy", kExitFailure);
  }
  return key;
}

void write_cluster_key(const std::string& path, const ClusterKey& key) {
  // O_EXCL: never replace a key; 0600 from the start, so the bytes are never
  // readable by others even for a moment.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      throw Error("key file '" + path +
                  "' already exists; a cluster's key is not overwritten (remove it first to "
                  "replace the key of every device and coordinator)");
    }
    throw Error("cannot create key file '" + path + "': " + errno_text());
  }
  size_t written = 0;
  while (written < key.size()) {
    const ssize_t n = ::write(fd, key.data() + written, key.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(path.c_str());
      throw Error("cannot write key file '" + path + "': " + why);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(path.c_str());
    throw Error("cannot write key file '" + path + "': " + why);
  }
}

ClusterKey read_cluster_key(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open key file '" + path + "': " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("key file '" + path + "' is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Error("key file '" + path + "' has mode " + mode +
                ": others could read the cluster's key (chmod 600 it)");
  }
  ClusterKey key{};
  uint8_t extra = 0;
  size_t got = 0;
  while (got < key.size()) {
    const ssize_t n = ::read(fd, key.data() + got, key.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  const ssize_t more = got == key.size() ? ::read(fd, &extra, 1) : 0;
  ::close(fd);
  if (got != key.size() || more != 0) {
    throw Error("key file '" + path + "' is not a cluster key: it must hold exactly " +
                std::to_string(key.size()) + " bytes (mcusplit keygen -o FILE makes one)");
  }
  return key;
}

std::array<uint8_t, device::kSha256Bytes> hmac_sha256(const ClusterKey& key, const uint8_t* data,
                                                      size_t size) {
  std::array<uint8_t, device::kSha256Bytes> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, size, mac.data(),
           &length) == nullptr ||
      length != mac.size()) {
    throw Error("OpenSSL's HMAC-SHA256 failed", kExitFailure);
  }
  return mac;
}

std::vector<uint8_t> tagged_image(const std::vector<uint8_t>& image, const ClusterKey& key) {
  std::vector<uint8_t> message(device::kImageTagLabel,
                               device::kImageTagLabel + sizeof device::kImageTagLabel - 1);
  message.insert(message.end(), image.begin(), image.end());
  const auto mac = hmac_sha256(key, message.data(), message.size());
  std::vector<uint8_t> out = image;
  out.insert(out.end(), mac.begin(), mac.begin() + device::kTagBytes);
  return out;
}

}  // namespace mcusplit::host
