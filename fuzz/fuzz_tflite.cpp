// libFuzzer target for the TFLite reader and importer (tflite/tflite_model,
// tflite/tflite_import). For every input:
// - import it: it either becomes a graph that passed validate_qgraph, or
//   throws mcusplit::Error; anything else (a crash, an out-of-bounds read
//   under ASan, another exception) is a bug;
// - whenever it imports and exports (export may refuse, by layer), the
//   exported file imports again to the same layers, and exporting that
//   writes the very same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "tflite/tflite_export.h"
#include "tflite/tflite_import.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool same_layers(const mcusplit::quant::QGraph& a, const mcusplit::quant::QGraph& b) {
  if (a.layers.size() != b.layers.size()) return false;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const mcusplit::quant::QLayer& x = a.layers[i];
    const mcusplit::quant::QLayer& y = b.layers[i];
    if (x.op != y.op || x.weights != y.weights || x.bias != y.bias ||
        x.multiplier != y.multiplier || x.shift != y.shift || x.concat != y.concat ||
        !(static_cast<const mcusplit::kernels::OpParams&>(x) ==
          static_cast<const mcusplit::kernels::OpParams&>(y))) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  mcusplit::quant::QGraph graph;
  try {
    graph = mcusplit::tflite::import_tflite(bytes, "fuzz.tflite");
  } catch (const mcusplit::Error&) {
    return 0;  // refused with a message: fine
  }
  std::string exported;
  try {
    exported = mcusplit::tflite::export_tflite(graph);
  } catch (const mcusplit::Error&) {
    return 0;  // a layer TFLite cannot write exactly (e.g. a multiplier flushed to 0)
  }
  const mcusplit::quant::QGraph back = mcusplit::tflite::import_tflite(exported, "fuzz.tflite");
  check(same_layers(graph, back));
  check(mcusplit::tflite::export_tflite(back) == exported);
  return 0;
}
