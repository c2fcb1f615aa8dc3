// ONNX backend node tests (Debian's libonnx-testdata) against the float
// reference executor: import, run with and without the standard passes, and
// compare with the expected outputs.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "model/float_executor.h"
#include "model/onnx_import.h"
#include "model/passes.h"
#include "model/tensor_io.h"

namespace mcusplit::model {
namespace {

namespace fs = std::filesystem;

constexpr float kRtol = 1e-4f;
constexpr float kAtol = 1e-4f;

// Operators the float engine implements.
const std::set<std::string> kSupportedOps = {
    "Conv",       "BatchNormalization",
    "Relu",       "Clip",
    "Add",        "GlobalAveragePool",
    "ReduceMean", "AveragePool",
    "MaxPool",    "Gemm",
    "MatMul",     "Flatten",
    "Reshape",    "Concat",
    "Identity",   "Dropout",
};
// Nodes the importer folds away; they may appear beside supported operators.
const std::set<std::string> kFoldedHelperOps = {"Constant", "Shape", "Gather", "Unsqueeze",
                                                "Squeeze",  "Cast",  "Slice"};

// Cases the importer rejects on purpose, with a phrase its error message must
// contain. A skip of any other case, or for another reason, is a failure, so
// an importer bug cannot hide as a skip.
struct ExpectedSkip {
  const char* test_case;
  const char* reason;
};
const ExpectedSkip kExpectedSkips[] = {
    {"test_averagepool_1d_default", "only 2-D"},
    {"test_averagepool_3d_default", "only 2-D"},
    {"test_batchnorm_epsilon_training_mode", "training_mode"},
    {"test_batchnorm_example_training_mode", "training_mode"},
    // GlobalAveragePool is unchanged since opset 1, but the importer's
    // opset floor is 6; the executor's GlobalAveragePool is unit-tested.
    {"test_identity_opt", "is not a tensor"},
    {"test_identity_sequence", "is not a tensor"},
    {"test_maxpool_1d_default", "only 2-D"},
    {"test_maxpool_2d_dilations", "dilations"},
    {"test_maxpool_3d_default", "only 2-D"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "Indices output"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "storage_order"},
    {"test_reshape_allowzero_reordered", "allowzero"},
    {"test_training_dropout", "training_mode"},
    {"test_training_dropout_default", "training_mode"},
    {"test_training_dropout_default_mask", "training_mode"},
    {"test_training_dropout_mask", "training_mode"},
    {"test_training_dropout_zero_ratio", "training_mode"},
    {"test_training_dropout_zero_ratio_mask", "training_mode"},
};

const ExpectedSkip* expected_skip(const std::string& test_case) {
  for (const ExpectedSkip& s : kExpectedSkips) {
    if (test_case == s.test_case) return &s;
  }
  return nullptr;
}

onnx::ModelProto read_model_proto(const fs::path& path) {
  onnx::ModelProto model;
  std::ifstream in(path, std::ios::binary);
  if (!in || !model.ParseFromIstream(&in)) throw Error("cannot parse " + path.string());
  return model;
}

// True when every node is a supported operator or a folded helper, and at
// least one is supported.
bool uses_only_our_operators(const onnx::ModelProto& model) {
  bool any_supported = false;
  for (const auto& node : model.graph().node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx") return false;
    if (kSupportedOps.count(node.op_type())) {
      any_supported = true;
    } else if (!kFoldedHelperOps.count(node.op_type())) {
      return false;
    }
  }
  return any_supported;
}

std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0;; ++i) {
    fs::path p = dir / (prefix + std::to_string(i) + ".pb");
    if (!fs::exists(p)) break;
    files.push_back(p);
  }
  return files;
}

// Names of the model's runtime inputs (graph inputs that are not
// initializers), in order: the order of input_N.pb.
std::vector<std::string> runtime_input_names(const onnx::ModelProto& model) {
  std::set<std::string> initializers;
  for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
  std::vector<std::string> names;
  for (const auto& vi : model.graph().input()) {
    if (!initializers.count(vi.name())) names.push_back(vi.name());
  }
  return names;
}

// Graph inputs that real models hold as constants (Reshape's target shape,
// Clip's bounds, Dropout's ratio and training_mode) but the backend tests feed
// at run time. Their test data
// becomes an initializer so the static importer sees a constant.
std::set<std::string> parameter_inputs(const onnx::ModelProto& model) {
  std::set<std::string> names;
  for (const auto& node : model.graph().node()) {
    if (node.op_type() == "Reshape" && node.input_size() > 1) names.insert(node.input(1));
    if (node.op_type() == "Clip" || node.op_type() == "Dropout") {
      for (int i = 1; i < node.input_size(); ++i) names.insert(node.input(i));
    }
  }
  return names;
}

struct CaseOutcome {
  enum Kind { Passed, Failed, Skipped } kind;
  std::string reason;
};

std::string compare(const std::vector<FloatTensor>& got, const std::vector<FloatTensor>& want) {
  if (got.size() != want.size()) {
    return "got " + std::to_string(got.size()) + " outputs, expected " +
           std::to_string(want.size());
  }
  for (size_t o = 0; o < got.size(); ++o) {
    if (got[o].shape != want[o].shape) {
      return "output " + std::to_string(o) + " shape " + dims_to_string(got[o].shape) +
             ", expected " + dims_to_string(want[o].shape);
    }
    for (size_t i = 0; i < want[o].data.size(); ++i) {
      const float a = got[o].data[i];
      const float b = want[o].data[i];
      if (std::isnan(a) && std::isnan(b)) continue;
      if (a == b) continue;  // equal infinities
      if (!(std::fabs(a - b) <= kAtol + kRtol * std::fabs(b))) {
        return "output " + std::to_string(o) + " element " + std::to_string(i) + " is " +
               std::to_string(a) + ", expected " + std::to_string(b);
      }
    }
  }
  return "";
}

CaseOutcome run_case(const fs::path& dir) {
  const std::string name = dir.filename().string();
  onnx::ModelProto model = read_model_proto(dir / "model.onnx");
  const std::vector<std::string> input_names = runtime_input_names(model);
  const std::set<std::string> parameters = parameter_inputs(model);

  std::vector<fs::path> data_sets;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) {
      data_sets.push_back(entry.path());
    }
  }
  std::sort(data_sets.begin(), data_sets.end());
  if (data_sets.empty()) return {CaseOutcome::Failed, "no test_data_set_* folder"};

  for (const fs::path& set_dir : data_sets) {
    const std::vector<fs::path> input_files = numbered_files(set_dir, "input_");
    const std::vector<fs::path> output_files = numbered_files(set_dir, "output_");
    if (input_files.size() > input_names.size()) {
      return {CaseOutcome::Failed, "more input files than model inputs"};
    }
    // Bake parameter inputs into a copy of the model as initializers.
    onnx::ModelProto baked = model;
    auto* graph_inputs = baked.mutable_graph()->mutable_input();
    std::vector<std::string> runtime_names;
    std::vector<fs::path> runtime_files;
    for (size_t i = 0; i < input_files.size(); ++i) {
      if (!parameters.count(input_names[i])) {
        runtime_names.push_back(input_names[i]);
        runtime_files.push_back(input_files[i]);
        continue;
      }
      onnx::TensorProto value;
      std::ifstream in(input_files[i], std::ios::binary);
      if (!value.ParseFromIstream(&in)) return {CaseOutcome::Failed, "cannot parse input"};
      value.set_name(input_names[i]);
      *baked.mutable_graph()->add_initializer() = value;
      for (int k = 0; k < graph_inputs->size(); ++k) {
        if (graph_inputs->Get(k).name() == input_names[i]) {
          graph_inputs->DeleteSubrange(k, 1);
          break;
        }
      }
    }
    std::string bytes;
    baked.SerializeToString(&bytes);

    Graph graph;
    try {
      graph = import_onnx_bytes(bytes, (dir / "model.onnx").string());
    } catch (const Error& e) {
      const ExpectedSkip* skip = expected_skip(name);
      if (skip && std::string(e.what()).find(skip->reason) != std::string::npos) {
        return {CaseOutcome::Skipped, e.what()};
      }
      return {CaseOutcome::Failed, std::string("import: ") + e.what()};
    }

    try {
      // Inputs in graph.inputs order, matched by name.
      std::vector<FloatTensor> inputs(graph.inputs.size());
      std::vector<bool> fed(graph.inputs.size(), false);
      for (size_t i = 0; i < runtime_names.size(); ++i) {
        for (size_t g = 0; g < graph.inputs.size(); ++g) {
          if (graph.tensors[static_cast<size_t>(graph.inputs[g])].name == runtime_names[i]) {
            inputs[g] = read_tensor_file(runtime_files[i].string());
            fed[g] = true;
          }
        }
      }
      if (std::find(fed.begin(), fed.end(), false) != fed.end()) {
        return {CaseOutcome::Failed, "a graph input has no test data"};
      }
      std::vector<FloatTensor> expected;
      for (const fs::path& f : output_files) expected.push_back(read_tensor_file(f.string()));

      std::string mismatch = compare(run_graph(graph, inputs), expected);
      if (!mismatch.empty()) return {CaseOutcome::Failed, "without passes: " + mismatch};
      run_standard_passes(graph);
      mismatch = compare(run_graph(graph, inputs), expected);
      if (!mismatch.empty()) return {CaseOutcome::Failed, "with passes: " + mismatch};
    } catch (const Error& e) {
      return {CaseOutcome::Failed, std::string("run: ") + e.what()};
    }
  }
  if (expected_skip(name)) {
    return {CaseOutcome::Passed,
            "passes although listed as an expected skip; drop it from the list"};
  }
  return {CaseOutcome::Passed, ""};
}

TEST(OnnxBackend, SupportedNodeTestsMatchReference) {
  const fs::path root = ONNX_NODE_TEST_DIR;
  ASSERT_TRUE(fs::is_directory(root)) << root;
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("test_", 0) == 0 &&
        fs::exists(entry.path() / "model.onnx")) {
      cases.push_back(entry.path());
    }
  }
  std::sort(cases.begin(), cases.end());

  int passed = 0;
  std::vector<std::string> failures;
  std::vector<std::string> skips;
  std::vector<std::string> notes;
  const bool verbose = std::getenv("MCUSPLIT_CONFORMANCE_VERBOSE") != nullptr;
  for (const fs::path& dir : cases) {
    const std::string name = dir.filename().string();
    CaseOutcome outcome;
    try {
      if (!uses_only_our_operators(read_model_proto(dir / "model.onnx"))) continue;
      outcome = run_case(dir);
    } catch (const std::exception& e) {
      outcome = {CaseOutcome::Failed, std::string("unexpected exception: ") + e.what()};
    }
    switch (outcome.kind) {
      case CaseOutcome::Passed:
        ++passed;
        if (!outcome.reason.empty()) notes.push_back(name + ": " + outcome.reason);
        if (verbose) std::cout << "PASSED  " << name << "\n";
        break;
      case CaseOutcome::Failed:
        failures.push_back(name + ": " + outcome.reason);
        break;
      case CaseOutcome::Skipped:
        skips.push_back(name + ": " + outcome.reason);
        break;
    }
  }
  for (const std::string& f : failures) std::cout << "FAILED  " << f << "\n";
  for (const std::string& s : skips) std::cout << "SKIPPED " << s << "\n";
  for (const std::string& n : notes) std::cout << "NOTE    " << n << "\n";
  std::cout << "conformance: " << passed << " passed, " << failures.size() << " failed, "
            << skips.size() << " skipped\n";
  EXPECT_EQ(failures.size(), 0u);
  EXPECT_GT(passed, 0);
}

}  // namespace
}  // namespace mcusplit::model
