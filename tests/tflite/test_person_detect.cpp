// TFLM's person detection model (../shared/models): imported, its two test
// images classified as TFLM's own test expects, and split runs on 2, 4 and 8
// devices bit-exact with the single device.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "host/device_slice.h"
#include "host/in_process_cluster.h"
#include "model/tensor_io.h"
#include "plan/devices_shorthand.h"
#include "plan/planner.h"
#include "quant/int8_executor.h"
#include "support/required_data.h"
#include "tflite/tflite_import.h"

namespace mcusplit::tflite {
namespace {

const std::string kModels = SHARED_MODELS_DIR;
const std::string kModel = kModels + "/person_detect.tflite";

bool have_models() {
  return std::filesystem::exists(kModel) && std::filesystem::exists(kModels + "/person_int8.pb") &&
         std::filesystem::exists(kModels + "/no_person_int8.pb");
}

#define REQUIRE_MODELS() \
  MCUSPLIT_REQUIRE_DATA(have_models(), "../shared/models (person_detect.tflite)")

const quant::QGraph& person_detect() {
  static const quant::QGraph g = read_tflite_file(kModel);
  return g;
}

// The int8 TensorProto's values as they are (NHWC, as TFLM's test feeds them).
std::vector<int8_t> int8_input(const std::string& name) {
  const std::string path = kModels + "/" + name;
  EXPECT_TRUE(model::tensor_file_is_int8(path));
  const model::FloatTensor t = model::read_tensor_file(path);
  EXPECT_EQ(t.shape, (model::Dims{1, 96, 96, 1}));
  std::vector<int8_t> q;
  for (const float v : t.data) q.push_back(static_cast<int8_t>(v));
  return q;
}

TEST(PersonDetect, ImportsWithItsOperatorsAndQuantization) {
  REQUIRE_MODELS();
  const quant::QGraph& g = person_detect();
  std::map<std::string, int> ops;
  for (const quant::QLayer& l : g.layers) ++ops[quant::op_type_name(l.op)];
  EXPECT_EQ(g.layers.size(), 31u);
  EXPECT_EQ(ops["Conv"], 28);  // 14 CONV_2D and 14 DEPTHWISE_CONV_2D
  EXPECT_EQ(ops["AveragePool"], 1);
  EXPECT_EQ(ops["Reshape"], 1);
  EXPECT_EQ(ops["Softmax"], 1);
  const quant::QTensor& in = g.tensors[static_cast<size_t>(g.input)];
  EXPECT_EQ(in.shape, (core::TensorShape3{1, 96, 96}));
  EXPECT_NEAR(in.quant.scale, 0.00784314f, 1e-7);
  EXPECT_EQ(in.quant.zero_point, -1);
  const quant::QTensor& out = g.tensors[static_cast<size_t>(g.output)];
  EXPECT_EQ(out.shape, (core::TensorShape3{2, 1, 1}));
  EXPECT_EQ(out.quant.scale, 1.0f / 256.0f);
  EXPECT_EQ(out.quant.zero_point, -128);
}

TEST(PersonDetect, ScoresTheTestImagesAsTflmsTestExpects) {
  REQUIRE_MODELS();
  const quant::QGraph& g = person_detect();
  quant::Int8Executor exec(g);
  const std::vector<int8_t> person = exec.run(int8_input("person_int8.pb"));
  const std::vector<int8_t> no_person = exec.run(int8_input("no_person_int8.pb"));
  ASSERT_EQ(person.size(), 2u);
  ASSERT_EQ(no_person.size(), 2u);
  std::printf("person image: no-person %d, person %d; no-person image: no-person %d, person %d\n",
              person[0], person[1], no_person[0], no_person[1]);
  EXPECT_GT(person[1], person[0]);
  EXPECT_LT(no_person[1], no_person[0]);
}

TEST(PersonDetect, SplitRunsEqualTheSingleDeviceBitForBit) {
  REQUIRE_MODELS();
  const quant::QGraph& g = person_detect();
  quant::Int8Executor exec(g);
  const std::vector<std::vector<int8_t>> inputs = {int8_input("person_int8.pb"),
                                                   int8_input("no_person_int8.pb")};
  int runs = 0;
  for (const char* devices :
       {"2xteensy41", "4xteensy41", "8xteensy41", "2xteensy41,2xrp2040", "4xnrf52840"}) {
    for (const plan::Scheme scheme : {plan::Scheme::Auto, plan::Scheme::Paper}) {
      plan::PlanOptions o;
      o.scheme = scheme;
      const plan::Plan p = plan::make_plan(g, plan::parse_devices_shorthand(devices), o);
      const plan::PlanFile file = host::provision_plan(p, g);
      for (const auto& input : inputs) {
        EXPECT_EQ(host::InProcessCluster(file).run(input).output, exec.run(input))
            << devices << " " << plan::scheme_name(scheme);
        ++runs;
      }
    }
  }
  EXPECT_EQ(runs, 20);
}

}  // namespace
}  // namespace mcusplit::tflite
