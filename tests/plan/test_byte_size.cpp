// parse_byte_size: units, fractions, and what it rejects.
#include <gtest/gtest.h>

#include "plan/byte_size.h"
#include "plan_test_helpers.h"

namespace mcusplit::plan {
namespace {

using testing::bad_input_message;

TEST(ByteSize, PlainNumbersAndUnits) {
  EXPECT_EQ(parse_byte_size("262144"), 262144);
  EXPECT_EQ(parse_byte_size("100B"), 100);
  EXPECT_EQ(parse_byte_size("128KiB"), 131072);
  EXPECT_EQ(parse_byte_size("128kiB"), 131072);
  EXPECT_EQ(parse_byte_size("128KB"), 128000);
  EXPECT_EQ(parse_byte_size("128kB"), 128000);
  EXPECT_EQ(parse_byte_size("2MiB"), 2097152);
  EXPECT_EQ(parse_byte_size("2MB"), 2000000);
  EXPECT_EQ(parse_byte_size("1GiB"), 1073741824);
  EXPECT_EQ(parse_byte_size("1GB"), 1000000000);
  EXPECT_EQ(parse_byte_size("256 KiB"), 262144);
}

TEST(ByteSize, FractionsThatMakeWholeBytes) {
  EXPECT_EQ(parse_byte_size("0.5MiB"), 524288);
  EXPECT_EQ(parse_byte_size("1.5KiB"), 1536);
  EXPECT_NE(bad_input_message([] { parse_byte_size("1.5B"); }).find("whole number"),
            std::string::npos);
}

TEST(ByteSize, RejectsZeroNegativeAndGarbage) {
  for (const char* text : {"0", "0KiB", "-1", "-128KiB", "", "KiB", "12XB", "1.2.3", "1e3", "abc",
                           "1 Kib", "99999999999GiB"}) {
    SCOPED_TRACE(text);
    const std::string message = bad_input_message([&] { parse_byte_size(text); });
    EXPECT_NE(message.find("bad byte size '" + std::string(text) + "'"), std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace mcusplit::plan
