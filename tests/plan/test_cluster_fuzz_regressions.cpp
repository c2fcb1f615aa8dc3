// Cluster files fuzz_cluster_json found the reader mishandling
// (docs/fuzzing.md): each must be refused with a one-line message naming
// the file and the problem.
#include <gtest/gtest.h>

#include <string>

#include "plan/cluster_file.h"
#include "plan_test_helpers.h"

namespace mcusplit::plan {
namespace {

using testing::bad_input_message;

// A number no double holds: nlohmann's parser throws out_of_range, not
// parse_error, and it escaped the reader (std::terminate in the fuzzer).
TEST(ClusterFuzzRegressions, ANumberTooLargeForADoubleIsMalformedJson) {
  for (const char* number : {"1e31072", "-1e400"}) {
    const std::string text =
        std::string(R"({"devices": [{"profile": "teensy41", "ram_bytes": )") + number + "}]}";
    const std::string message = bad_input_message([&] { parse_cluster_json(text, "c.json"); });
    EXPECT_NE(message.find("c.json: malformed JSON: "), std::string::npos) << message;
    EXPECT_NE(message.find(std::string("number overflow parsing '") + number + "'"),
              std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace mcusplit::plan
