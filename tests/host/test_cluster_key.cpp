// Cluster keys (host/cluster_key.h) and the two HMAC-SHA256s: OpenSSL's on
// the host and the devices' own (device/hmac_sha256.h) agree on random keys
// and messages, split into random updates; images tagged by the host are
// accepted by the device check, and refused when altered, untagged or keyed
// on one side only.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "device/device_image.h"
#include "device/image_auth.h"
#include "host/cluster_key.h"

namespace mcusplit::host {
namespace {

TEST(ClusterKey, DeviceHmacEqualsOpenSslOnRandomInputs) {
  std::mt19937 rng(20261207);
  for (int trial = 0; trial < 300; ++trial) {
    ClusterKey key{};
    for (uint8_t& b : key) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> data(rng() % 3000);
    for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
    uint8_t expected[device::kSha256Bytes];
    openssl_prefixed_hmac_sha256(key.data(), nullptr, 0, data.data(), data.size(), expected);
    // The device's, fed in random pieces as a frame's payload streams in.
    device::HmacSha256 mac(key.data(), key.size());
    size_t at = 0;
    while (at < data.size()) {
      const size_t n = std::min<size_t>(data.size() - at, rng() % 200);
      mac.update(data.data() + at, n);
      at += n;
    }
    uint8_t got[device::kSha256Bytes];
    mac.finish(got);
    ASSERT_EQ(std::vector<uint8_t>(got, got + sizeof got),
              std::vector<uint8_t>(expected, expected + sizeof expected))
        << "trial " << trial << ", " << data.size() << " bytes";
  }
}

// The host's frame MAC keeps a keyed context per thread: keys switching
// back and forth and messages of every length still give the device's MAC.
TEST(ClusterKey, HostPrefixedHmacEqualsTheDevicesAcrossKeySwitches) {
  std::mt19937 rng(7);
  ClusterKey keys[3] = {};
  for (ClusterKey& key : keys) {
    for (uint8_t& b : key) b = static_cast<uint8_t>(rng());
  }
  for (int trial = 0; trial < 300; ++trial) {
    const ClusterKey& key = keys[rng() % 3];
    std::vector<uint8_t> prefix(rng() % 40);
    std::vector<uint8_t> data(rng() % 3000);
    for (uint8_t& b : prefix) b = static_cast<uint8_t>(rng());
    for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
    uint8_t host[device::kSha256Bytes];
    uint8_t dev[device::kSha256Bytes];
    openssl_prefixed_hmac_sha256(key.data(), prefix.data(), prefix.size(), data.data(), data.size(),
                                 host);
    device::prefixed_hmac_sha256(key.data(), prefix.data(), prefix.size(), data.data(), data.size(),
                                 dev);
    ASSERT_EQ(std::vector<uint8_t>(host, host + sizeof host),
              std::vector<uint8_t>(dev, dev + sizeof dev))
        << "trial " << trial;
  }
}

std::vector<uint8_t> fake_image(size_t bytes) {
  // What check_image_tag reads of a header: the magic and the length.
  std::vector<uint8_t> image(bytes, 0x5a);
  for (size_t i = 0; i < sizeof device::kImageMagic; ++i) image[i] = device::kImageMagic[i];
  for (int i = 0; i < 4; ++i) {
    image[device::kImageOffImageBytes + static_cast<size_t>(i)] =
        static_cast<uint8_t>(bytes >> (8 * i));
  }
  return image;
}

TEST(ClusterKey, TaggedImagesPassTheDeviceCheckAndNothingElseDoes) {
  const ClusterKey key = generate_cluster_key();
  ClusterKey other = key;
  other[0] ^= 1;
  const std::vector<uint8_t> image = fake_image(512);
  const std::vector<uint8_t> tagged = tagged_image(image, key);
  ASSERT_EQ(tagged.size(), image.size() + device::kTagBytes);
  size_t image_bytes = 0;
  EXPECT_EQ(device::check_image_tag(tagged.data(), tagged.size(), key.data(), &image_bytes),
            device::ImageAuthStatus::Ok);
  EXPECT_EQ(image_bytes, image.size());
  uint8_t own[device::kTagBytes];
  device::image_tag(image.data(), image.size(), key.data(), own);
  EXPECT_TRUE(std::equal(own, own + device::kTagBytes, tagged.end() - device::kTagBytes));

  EXPECT_EQ(device::check_image_tag(tagged.data(), tagged.size(), other.data(), &image_bytes),
            device::ImageAuthStatus::WrongTag);
  for (size_t at : {size_t{0}, size_t{200}, image.size() - 1, tagged.size() - 1}) {
    std::vector<uint8_t> altered = tagged;
    altered[at] ^= 0x10;
    EXPECT_NE(device::check_image_tag(altered.data(), altered.size(), key.data(), &image_bytes),
              device::ImageAuthStatus::Ok)
        << "byte " << at;
  }
  EXPECT_EQ(device::check_image_tag(image.data(), image.size(), key.data(), &image_bytes),
            device::ImageAuthStatus::NotTagged);
  EXPECT_EQ(device::check_image_tag(tagged.data(), tagged.size(), nullptr, &image_bytes),
            device::ImageAuthStatus::TagWithoutKey);
  EXPECT_EQ(device::check_image_tag(image.data(), image.size(), nullptr, &image_bytes),
            device::ImageAuthStatus::Ok);
  EXPECT_EQ(image_bytes, image.size());
}

TEST(ClusterKey, KeyFilesAreOwnerOnlyNeverOverwrittenAndExactlyOneKey) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("mcusplit_cluster_key_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "k").string();
  const ClusterKey key = generate_cluster_key();
  write_cluster_key(path, key);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(read_cluster_key(path), key);
  EXPECT_THROW(write_cluster_key(path, generate_cluster_key()), Error);
  EXPECT_EQ(read_cluster_key(path), key);
  EXPECT_NE(generate_cluster_key(), key);

  ::chmod(path.c_str(), 0640);
  EXPECT_THROW(read_cluster_key(path), Error);
  ::chmod(path.c_str(), 0600);
  std::ofstream(path, std::ios::app) << 'x';
  EXPECT_THROW(read_cluster_key(path), Error);
  EXPECT_THROW(read_cluster_key((dir / "missing").string()), Error);
  EXPECT_THROW(read_cluster_key(dir.string()), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mcusplit::host
