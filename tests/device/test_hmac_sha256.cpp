// The device's own SHA-256 and HMAC-SHA256 against the published vectors:
// FIPS 180-4's examples (NIST's "SHA-256" example document) and RFC 4231's
// HMAC-SHA256 test cases. tests/host/test_cluster_key.cpp checks them
// against OpenSSL on random inputs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "device/hmac_sha256.h"

namespace mcusplit::device {
namespace {

std::string hex(const uint8_t* bytes, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[bytes[i] >> 4];
    s += digits[bytes[i] & 15];
  }
  return s;
}

std::vector<uint8_t> bytes_of(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::string sha256_hex(const std::vector<uint8_t>& data) {
  uint8_t digest[kSha256Bytes];
  sha256(data.data(), data.size(), digest);
  return hex(digest, kSha256Bytes);
}

std::string hmac_hex(const std::vector<uint8_t>& key, const std::vector<uint8_t>& data) {
  uint8_t mac[kSha256Bytes];
  hmac_sha256(key.data(), key.size(), data.data(), data.size(), mac);
  return hex(mac, kSha256Bytes);
}

TEST(Sha256, Fips180Examples) {
  EXPECT_EQ(sha256_hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(bytes_of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::vector<uint8_t>(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalUpdatesGiveTheSameDigest) {
  // Every split of a 200-byte message into two updates: block boundaries,
  // the padding's 56-byte edge and partial blocks on both sides.
  std::vector<uint8_t> message(200);
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 200u}) {
    const std::vector<uint8_t> m(message.begin(), message.begin() + static_cast<long>(len));
    const std::string whole = sha256_hex(m);
    for (size_t cut = 0; cut <= len; ++cut) {
      Sha256 h;
      h.update(m.data(), cut);
      h.update(m.data() + cut, len - cut);
      uint8_t digest[kSha256Bytes];
      h.finish(digest);
      ASSERT_EQ(hex(digest, kSha256Bytes), whole) << len << " cut at " << cut;
    }
  }
}

TEST(HmacSha256, Rfc4231TestCases) {
  // 1: a 20-byte key.
  EXPECT_EQ(hmac_hex(std::vector<uint8_t>(20, 0x0b), bytes_of("Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // 2: a key shorter than the output.
  EXPECT_EQ(hmac_hex(bytes_of("Jefe"), bytes_of("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // 3: 50 bytes of 0xdd.
  EXPECT_EQ(hmac_hex(std::vector<uint8_t>(20, 0xaa), std::vector<uint8_t>(50, 0xdd)),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // 4: a 25-byte key 0x01..0x19.
  std::vector<uint8_t> key4;
  for (uint8_t b = 1; b <= 25; ++b) key4.push_back(b);
  EXPECT_EQ(hmac_hex(key4, std::vector<uint8_t>(50, 0xcd)),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // 5: truncated to 128 bits, as frames and images carry it.
  EXPECT_EQ(hmac_hex(std::vector<uint8_t>(20, 0x0c), bytes_of("Test With Truncation"))
                .substr(0, 2 * kTagBytes),
            "a3b6167473100ee06e0c796c2955552b");
  // 6 and 7: a 131-byte key, hashed first; data shorter and longer than a
  // block.
  EXPECT_EQ(hmac_hex(std::vector<uint8_t>(131, 0xaa),
                     bytes_of("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hmac_hex(std::vector<uint8_t>(131, 0xaa),
                     bytes_of("This is a test using a larger than block-size key and a larger "
                              "than block-size data. The key needs to be hashed before being "
                              "used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256, ConstantTimeComparison) {
  const uint8_t a[kTagBytes] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  uint8_t b[kTagBytes];
  for (size_t i = 0; i < kTagBytes; ++i) b[i] = a[i];
  EXPECT_TRUE(equal_in_constant_time(a, b, kTagBytes));
  for (size_t i = 0; i < kTagBytes; ++i) {
    b[i] ^= 0x80;
    EXPECT_FALSE(equal_in_constant_time(a, b, kTagBytes)) << i;
    b[i] ^= 0x80;
  }
  EXPECT_TRUE(equal_in_constant_time(a, b, 0));
}

}  // namespace
}  // namespace mcusplit::device
