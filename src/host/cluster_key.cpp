#include "host/cluster_key.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
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

namespace {

// One HMAC context per thread, keyed once: re-initialised per message with
// the key it holds, since setting a key up (and fetching the digest) costs
// about as much again as the MAC of a whole frame.
class KeyedHmac {
 public:
  KeyedHmac() = default;
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;
  ~KeyedHmac() { EVP_MAC_CTX_free(ctx_); }

  // The context, ready for a new message under `key`; null on failure.
  EVP_MAC_CTX* start(const uint8_t* key) {
    if (ctx_ != nullptr && std::memcmp(key_.data(), key, key_.size()) == 0) {
      return EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1 ? ctx_ : nullptr;
    }
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX_free(ctx_);
    ctx_ = hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (ctx_ == nullptr || EVP_MAC_init(ctx_, key, key_.size(), params) != 1) {
      EVP_MAC_CTX_free(ctx_);
      ctx_ = nullptr;
      return nullptr;
    }
    std::memcpy(key_.data(), key, key_.size());
    return ctx_;
  }

 private:
  std::array<uint8_t, device::kClusterKeyBytes> key_{};
  EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace

void openssl_prefixed_hmac_sha256(const uint8_t* key, const uint8_t* prefix, size_t prefix_bytes,
                                  const uint8_t* data, size_t size,
                                  uint8_t mac[device::kSha256Bytes]) {
  thread_local KeyedHmac keyed;
  EVP_MAC_CTX* ctx = keyed.start(key);
  size_t length = 0;
  const bool ok = ctx != nullptr && EVP_MAC_update(ctx, prefix, prefix_bytes) == 1 &&
                  EVP_MAC_update(ctx, data, size) == 1 &&
                  EVP_MAC_final(ctx, mac, &length, device::kSha256Bytes) == 1 &&
                  length == device::kSha256Bytes;
  // Called from the codec, which has no way to report a failure: a zeroed
  // MAC makes the tag wrong, so the frame is refused rather than trusted.
  if (!ok) std::memset(mac, 0, device::kSha256Bytes);
}

uint64_t random_u64() {
  uint8_t bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw Error("OpenSSL's random generator has no entropy", kExitFailure);
  }
  uint64_t v = 0;
  for (const uint8_t b : bytes) v = v << 8 | b;
  return v;
}

std::vector<uint8_t> tagged_image(const std::vector<uint8_t>& image, const ClusterKey& key) {
  uint8_t mac[device::kSha256Bytes];
  openssl_prefixed_hmac_sha256(key.data(), reinterpret_cast<const uint8_t*>(device::kImageTagLabel),
                               sizeof device::kImageTagLabel - 1, image.data(), image.size(), mac);
  std::vector<uint8_t> out = image;
  out.insert(out.end(), mac, mac + device::kTagBytes);
  return out;
}

}  // namespace mcusplit::host
