// ONNX import: onnx::ModelProto (Debian's libonnx) to the graph IR.
#pragma once

#include <string>

#include "model/graph.h"

namespace onnx {
class ModelProto;
}

namespace mcusplit::model {

// Reads and imports an ONNX file. Shape sub-graphs (Shape/Gather/Unsqueeze/
// Concat feeding Reshape) and Constant nodes are folded to constants, shapes
// are inferred for every tensor, and a symbolic batch dimension becomes 1.
// Throws mcusplit::Error naming the problem (missing file, corrupt bytes,
// unsupported operator with its node name and opset, unsupported attribute).
Graph import_onnx_file(const std::string& path);
Graph import_onnx_bytes(const std::string& bytes, const std::string& origin);
// Imports an already parsed model, e.g. one whose graph inputs a test runner
// turned into initializers (Clip bounds, Reshape shapes must be constant).
Graph import_onnx_model(const onnx::ModelProto& model, const std::string& origin);

// Operators the importer accepts, for error messages and docs.
std::string supported_operators_list();

}  // namespace mcusplit::model
