// TFLM's person detection model through the mcusplit executable: inspect,
// infer with the int8 test inputs, plan and run over TCP on local workers
// (bit-exact with infer, also given the .tflite as --model), and a bad
// .tflite refused with exit code 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "support/required_data.h"

namespace mcusplit::testing {
namespace {

const std::string kModels = SHARED_MODELS_DIR;
const std::string kModel = kModels + "/person_detect.tflite";
const std::string kPerson = kModels + "/person_int8.pb";

#define REQUIRE_MODELS()                                                                     \
  MCUSPLIT_REQUIRE_DATA(std::filesystem::exists(kModel) && std::filesystem::exists(kPerson), \
                        "../shared/models (person_detect.tflite)")

TEST(CliTflite, InfersPlansAndRunsPersonDetectBitExact) {
  REQUIRE_MODELS();
  ScratchDir dir("cli_tflite");
  CliResult r = run_cli("inspect '" + kModel + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Softmax"), std::string::npos) << r.out;
  const std::string single = dir.file("single.pb");
  r = run_cli("infer '" + kModel + "' --input '" + kPerson + "' --output '" + single + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string plan = dir.file("p.plan");
  r = run_cli("plan '" + kModel + "' --devices 4xnrf52840 -o '" + plan + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string split = dir.file("split.pb");
  r = run_cli("run '" + plan + "' --input '" + kPerson + "' --output '" + split + "'", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string a = read_text_file(single), b = read_text_file(split);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  // --model names the .tflite the plan was made from (what a re-plan reads):
  // read as the plan's model, the run is bit-exact too.
  const std::string with_model = dir.file("with_model.pb");
  r = run_cli("run '" + plan + "' --input '" + kPerson + "' --output '" + with_model +
                  "' --on-failure replan --model '" + kModel + "'",
              dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text_file(with_model), a);
  // The last two bytes are the int8 scores: no person, person.
  EXPECT_GT(static_cast<int8_t>(a[a.size() - 1]), static_cast<int8_t>(a[a.size() - 2]));
}

TEST(CliTflite, ABadTfliteFileIsOneLineAndExitCode2) {
  ScratchDir dir("cli_tflite_bad");
  const std::string bad = dir.file("bad.tflite");
  std::ofstream(bad) << "this is not a flatbuffer at all";
  const CliResult r = run_cli("infer '" + bad + "' --input '" + bad + "'", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not a TensorFlow Lite model: file identifier"), std::string::npos)
      << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

}  // namespace
}  // namespace mcusplit::testing
