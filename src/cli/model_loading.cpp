#include "cli/model_loading.h"

#include "model/onnx_import.h"
#include "model/passes.h"

namespace mcusplit::cli {

LoadedModel load_onnx_model(const std::string& path) {
  LoadedModel m;
  m.imported = model::import_onnx_file(path);
  m.prepared = m.imported;
  model::run_standard_passes(m.prepared);
  return m;
}

}  // namespace mcusplit::cli
