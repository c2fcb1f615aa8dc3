// ONNX ModelProto to graph IR: model checks, initializers, inputs, then the
// nodes in order. Shapes are inferred node by node as the graph grows, because
// auto_pad, negative axes and Shape nodes need the shapes of earlier tensors.
#include "model/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "common/error.h"
#include "model/file_io.h"
#include "model/onnx_constant_folding.h"
#include "model/onnx_node_context.h"
#include "model/onnx_op_import.h"
#include "model/onnx_tensor.h"
#include "model/shape_inference.h"

namespace mcusplit::model {
namespace {

constexpr int64_t kMinOpset = 6;
constexpr int64_t kMaxOpset = 17;
// Older opsets are read only for operators whose definition has not changed
// since opset 1 (test_globalaveragepool, say, still declares opset 1).
constexpr int64_t kMinLegacyOpset = 1;

bool unchanged_since_opset_1(const std::string& op) {
  return op == "GlobalAveragePool" || op == "Identity" || op == "MatMul" || op == "Flatten";
}

int64_t default_domain_opset(const onnx::ModelProto& model, const std::string& origin) {
  for (const auto& entry : model.opset_import()) {
    if (entry.domain().empty() || entry.domain() == "ai.onnx") {
      const int64_t opset = entry.version();
      if (opset < kMinLegacyOpset || opset > kMaxOpset) {
        throw Error("'" + origin + "' uses ONNX opset " + std::to_string(opset) +
                    "; supported are opsets " + std::to_string(kMinOpset) + " to " +
                    std::to_string(kMaxOpset) + " (convert it with onnx.version_converter)");
      }
      return opset;
    }
  }
  throw Error("'" + origin +
              "' is not a valid ONNX model: it declares no opset for the default "
              "ONNX domain");
}

// Static dims of a graph input. The batch dimension may be symbolic (or 0,
// as some exporters write it) and becomes 1; any other must be fixed.
Dims input_dims(const onnx::ValueInfoProto& info) {
  const std::string what = "graph input '" + info.name() + "'";
  if (!info.type().has_tensor_type()) throw Error(what + " is not a tensor");
  const auto& type = info.type().tensor_type();
  if (!type.has_shape()) {
    throw Error(what +
                " has no shape; mcusplit needs static input shapes (export with fixed "
                "input dimensions)");
  }
  Dims dims;
  for (int i = 0; i < type.shape().dim_size(); ++i) {
    const auto& dim = type.shape().dim(i);
    const bool fixed = dim.has_dim_value() && dim.dim_value() > 0;
    if (fixed) {
      dims.push_back(dim.dim_value());
    } else if (i == 0) {
      dims.push_back(1);
    } else {
      const std::string value =
          dim.has_dim_param() ? "'" + dim.dim_param() + "'" : std::to_string(dim.dim_value());
      throw Error(what + " has dimension " + value + " at axis " + std::to_string(i) +
                  "; only the batch dimension (axis 0) may be symbolic, export with fixed "
                  "input dimensions");
    }
  }
  return dims;
}

// Names read by some node or listed as graph outputs, sorted for lookup.
std::vector<std::string> used_names(const onnx::GraphProto& g) {
  std::vector<std::string> names;
  for (const auto& node : g.node())
    names.insert(names.end(), node.input().begin(), node.input().end());
  for (const auto& out : g.output()) names.push_back(out.name());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

class GraphImporter {
 public:
  GraphImporter(const onnx::GraphProto& proto, int64_t opset, std::string origin)
      : proto_(proto), origin_(std::move(origin)), used_(used_names(proto)) {
    graph_.opset = opset;
  }

  Graph run() {
    if (proto_.node_size() == 0) throw Error("'" + origin_ + "' has an empty graph (no nodes)");
    if (proto_.output_size() == 0) throw Error("'" + origin_ + "' has a graph without outputs");
    if (proto_.sparse_initializer_size() > 0) {
      throw Error("'" + origin_ + "' has sparse initializers, which are not supported");
    }
    try {
      add_initializers();
      add_inputs();
      for (int i = 0; i < proto_.node_size(); ++i) add_node(i);
      add_outputs();
      // Folded shape computations and stray initializers are no longer needed.
      graph_.remove_unused_tensors();
      infer_shapes(graph_);
    } catch (const Error& e) {
      // Every message names the file once.
      const std::string prefix = "'" + origin_ + "'";
      if (std::string_view(e.what()).starts_with(prefix)) throw;
      throw Error(prefix + ": " + e.what(), e.exit_code());
    }
    return std::move(graph_);
  }

 private:
  void define_tensor(Tensor tensor, const std::string& what) {
    if (tensor.name.empty()) throw Error(what + " has no name");
    if (graph_.find_tensor(tensor.name) >= 0) {
      throw Error(what + " redefines tensor '" + tensor.name + "'");
    }
    graph_.add_tensor(std::move(tensor));
  }

  void add_initializers() {
    for (const auto& init : proto_.initializer()) {
      FloatTensor value = tensor_from_proto(init, "initializer '" + init.name() + "'");
      define_tensor({init.name(), std::move(value.shape), std::move(value.data), true},
                    "initializer '" + init.name() + "'");
    }
  }

  void add_inputs() {
    for (const auto& info : proto_.input()) {
      // Old exporters list initializers as inputs too; those are constants.
      if (graph_.find_tensor(info.name()) >= 0) continue;
      define_tensor({info.name(), input_dims(info), {}, false},
                    "graph input '" + info.name() + "'");
      graph_.inputs.push_back(static_cast<int>(graph_.tensors.size()) - 1);
    }
  }

  void add_node(int index) {
    const onnx::NodeProto& proto = proto_.node(index);
    OnnxNodeContext ctx(graph_, proto, index, graph_.opset);
    ctx.set_used_names(&used_);
    if (!proto.domain().empty() && proto.domain() != "ai.onnx") {
      ctx.fail("operator domain '" + proto.domain() +
               "' is not supported; supported operators: " + supported_operators_list());
    }
    const std::string& op = proto.op_type();
    if (graph_.opset < kMinOpset && !unchanged_since_opset_1(op)) {
      ctx.fail("opset " + std::to_string(graph_.opset) + " is read only for GlobalAveragePool, " +
               "Identity, MatMul and Flatten; supported are opsets " + std::to_string(kMinOpset) +
               " to " + std::to_string(kMaxOpset) + " (convert it with onnx.version_converter)");
    }
    if ((op == "Squeeze" || op == "Unsqueeze") && !all_inputs_constant(ctx)) {
      add_reshape_for_squeeze(ctx);
    } else if (is_import_time_op(op) || (folds_on_constants(op) && all_inputs_constant(ctx))) {
      add_folded_outputs(ctx, evaluate_at_import(ctx));
    } else if (auto ir_op = ir_op_for(op)) {
      add_ir_node(ctx, import_ir_node(ctx, *ir_op));
    } else {
      ctx.fail("unsupported operator; supported operators: " + supported_operators_list());
    }
  }

  void add_folded_outputs(const OnnxNodeContext& ctx, std::vector<FloatTensor> values) {
    for (size_t i = 0; i < values.size() && i < static_cast<size_t>(ctx.proto().output_size());
         ++i) {
      const std::string& name = ctx.proto().output(static_cast<int>(i));
      define_tensor({name, std::move(values[i].shape), std::move(values[i].data), true},
                    ctx.label() + " output");
    }
  }

  // Squeeze/Unsqueeze of an activation only changes the shape: a Reshape to
  // a constant shape expresses it.
  void add_reshape_for_squeeze(const OnnxNodeContext& ctx) {
    if (ctx.proto().output_size() < 1) ctx.fail("has no output");
    const Dims out = squeeze_unsqueeze_output_dims(ctx, ctx.input_tensor(0).shape);
    std::vector<float> values(out.begin(), out.end());
    Tensor shape{ctx.proto().output(0) + "_shape",
                 {static_cast<int64_t>(out.size())},
                 std::move(values),
                 true};
    define_tensor(std::move(shape), ctx.label() + " shape");
    Node node;
    node.name = ctx.display_name();
    node.op = OpType::Reshape;
    node.inputs = {ctx.required_input(0), static_cast<int>(graph_.tensors.size()) - 1};
    add_ir_node(ctx, std::move(node));
  }

  void add_ir_node(const OnnxNodeContext& ctx, Node node) {
    if (ctx.proto().output_size() < 1) ctx.fail("has no output");
    define_tensor({ctx.proto().output(0), {}, {}, false}, ctx.label() + " output");
    node.outputs = {static_cast<int>(graph_.tensors.size()) - 1};
    std::vector<Dims> shapes = infer_node_output_shapes(graph_, node);
    graph_.tensors[static_cast<size_t>(node.outputs[0])].shape = std::move(shapes.at(0));
    const bool dropout_mask = node.op == OpType::Dropout && ctx.proto().output_size() > 1 &&
                              !ctx.proto().output(1).empty();
    if (dropout_mask) {
      // At inference Dropout keeps every element: its mask is all true.
      const Dims dims = graph_.tensors[static_cast<size_t>(node.outputs[0])].shape;
      std::vector<float> ones(static_cast<size_t>(element_count(dims)), 1.0f);
      define_tensor({ctx.proto().output(1), dims, std::move(ones), true}, ctx.label() + " mask");
    }
    graph_.nodes.push_back(std::move(node));
  }

  void add_outputs() {
    for (const auto& out : proto_.output()) {
      const int t = graph_.find_tensor(out.name());
      if (t < 0) {
        throw Error("graph output '" + out.name() + "' is not produced by any node");
      }
      graph_.outputs.push_back(t);
    }
  }

  const onnx::GraphProto& proto_;
  std::string origin_;
  std::vector<std::string> used_;
  Graph graph_;
};

}  // namespace

std::string supported_operators_list() {
  return "Add, AveragePool, BatchNormalization, Clip, Concat, Conv, Dropout, Flatten, Gemm, "
         "GlobalAveragePool, Identity, MatMul, MaxPool, ReduceMean, Relu, Reshape; on constants "
         "and shape sub-graphs also Cast, Constant, Gather, Shape, Slice, Squeeze, Transpose, "
         "Unsqueeze";
}

Graph import_onnx_file(const std::string& path) {
  return import_onnx_bytes(read_file_bytes(path), path);
}

Graph import_onnx_bytes(const std::string& bytes, const std::string& origin) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes)) {
    throw Error("'" + origin + "' is not a valid ONNX model (cannot parse the protobuf)");
  }
  return import_onnx_model(model, origin);
}

Graph import_onnx_model(const onnx::ModelProto& model, const std::string& origin) {
  if (!model.has_graph()) throw Error("'" + origin + "' is not a valid ONNX model (no graph)");
  const int64_t opset = default_domain_opset(model, origin);
  return GraphImporter(model.graph(), opset, origin).run();
}

}  // namespace mcusplit::model
