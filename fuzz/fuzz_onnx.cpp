// libFuzzer target for the ONNX importer (model/onnx_import): the protobuf
// reader, constant folding of shape sub-graphs, attribute and tensor
// decoding and shape inference, then the standard passes every command runs
// after import (model/passes.h). For every input:
// - import it: it either becomes a graph or throws mcusplit::Error; anything
//   else (a crash, a sanitizer report, another exception, an allocation
//   beyond libFuzzer's limit) is a bug;
// - an imported graph is well formed: every index points at a tensor, every
//   dim is at least 0, and every constant holds exactly its shape's
//   elements; the passes either refuse it with an Error or keep it so.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "model/graph.h"
#include "model/onnx_import.h"
#include "model/passes.h"

namespace {

using namespace mcusplit::model;

void check(bool ok) {
  if (!ok) std::abort();
}

bool tensor_ok(const Graph& g, int t) {
  return t >= 0 && static_cast<size_t>(t) < g.tensors.size();
}

void check_graph(const Graph& g) {
  for (const Tensor& t : g.tensors) {
    for (int64_t d : t.shape) check(d >= 0);
    if (t.is_constant) check(t.data.size() == static_cast<size_t>(element_count(t.shape)));
  }
  for (int t : g.inputs) check(tensor_ok(g, t) && !g.tensors[static_cast<size_t>(t)].is_constant);
  for (int t : g.outputs) check(tensor_ok(g, t));
  for (const Node& n : g.nodes) {
    for (int t : n.inputs) check(t == -1 || tensor_ok(g, t));
    check(!n.outputs.empty());
    for (int t : n.outputs) check(tensor_ok(g, t));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  Graph graph;
  try {
    graph = import_onnx_bytes(bytes, "fuzz.onnx");
  } catch (const mcusplit::Error&) {
    return 0;  // refused with a message: fine
  }
  check_graph(graph);
  try {
    run_standard_passes(graph);
  } catch (const mcusplit::Error&) {
    return 0;
  }
  check_graph(graph);
  return 0;
}
