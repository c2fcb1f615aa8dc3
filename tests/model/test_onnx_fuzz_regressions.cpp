// ONNX models fuzz_onnx found the importer mishandling (docs/fuzzing.md):
// each must be refused with a message naming the file, the node and the
// problem.
#include <gtest/gtest.h>

#include "model/error_matchers.h"
#include "model/onnx_builder.h"

namespace mcusplit::model {
namespace {

using onnx_test::expect_error;
using onnx_test::OnnxBuilder;

// A Squeeze of an activation without an output: the importer read output(0)
// of an empty list (a null dereference under UBSan) while making the
// Reshape that stands for it.
TEST(OnnxFuzzRegressions, ASqueezeWithoutAnOutputIsRefused) {
  for (const char* op : {"Squeeze", "Unsqueeze"}) {
    OnnxBuilder b(11);
    b.input("x", {1, 2, 1, 1}).output("x");
    b.node(op, {"x"}, {}, "no_output").ints("axes", {2});
    expect_error([&] { b.import("squeeze.onnx"); }, {"squeeze.onnx", "no_output", "has no output"});
  }
}

}  // namespace
}  // namespace mcusplit::model
