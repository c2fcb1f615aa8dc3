// Conv followed by inference BatchNormalization is one Conv with scaled
// weights: w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps).
#include <cmath>

#include "model/graph_rewrite.h"
#include "model/passes.h"

namespace mcusplit::model {
namespace {

// A constant the conv may overwrite: itself if nothing else reads it, else
// a fresh copy (shared weights must keep their values for other readers).
int writable_copy(Graph& graph, int t, const std::string& suffix) {
  if (feeds_only_one_node(graph, t)) return t;
  Tensor copy = graph.tensors[static_cast<size_t>(t)];
  copy.name = unique_tensor_name(graph, copy.name + suffix);
  return graph.add_tensor(std::move(copy));
}

bool try_fold(Graph& graph, size_t bn_index) {
  const Node& bn = graph.nodes[bn_index];
  const int x = bn.inputs[0];
  const int conv_index = graph.producer_of(x);
  if (conv_index < 0) return false;
  Node& conv = graph.nodes[static_cast<size_t>(conv_index)];
  if (conv.op != OpType::Conv || !conv.activation.is_none() || !feeds_only_one_node(graph, x)) {
    return false;
  }
  const bool has_bias = conv.inputs.size() > 2 && conv.inputs[2] >= 0;
  if (!is_constant_tensor(graph, conv.inputs[1]) ||
      (has_bias && !is_constant_tensor(graph, conv.inputs[2]))) {
    return false;
  }
  for (size_t i = 1; i < 5; ++i) {
    if (!is_constant_tensor(graph, bn.inputs[i])) return false;
  }
  // Copy the parameters: adding tensors below may move graph.tensors.
  auto values = [&](int t) { return graph.tensors[static_cast<size_t>(t)].data; };
  const std::vector<float> gamma = values(bn.inputs[1]), beta = values(bn.inputs[2]),
                           mean = values(bn.inputs[3]), var = values(bn.inputs[4]);
  const float eps = bn.batch_norm.epsilon;
  const size_t channels = gamma.size();
  const Tensor& w_in = graph.tensors[static_cast<size_t>(conv.inputs[1])];
  const bool shapes_match =
      channels > 0 && !w_in.shape.empty() && static_cast<size_t>(w_in.shape[0]) == channels &&
      w_in.data.size() % channels == 0 && beta.size() == channels && mean.size() == channels &&
      var.size() == channels && (!has_bias || values(conv.inputs[2]).size() == channels);
  if (!shapes_match) return false;

  const std::string conv_name = conv.name;
  const int weight = writable_copy(graph, conv.inputs[1], "_bn_folded");
  const int bias = has_bias ? writable_copy(graph, conv.inputs[2], "_bn_folded")
                            : graph.add_tensor({unique_tensor_name(graph, conv_name + "_bn_bias"),
                                                {static_cast<int64_t>(channels)},
                                                std::vector<float>(channels, 0.0f),
                                                true});
  std::vector<float>& w = graph.tensors[static_cast<size_t>(weight)].data;
  std::vector<float>& b = graph.tensors[static_cast<size_t>(bias)].data;
  const size_t per_channel = w.size() / channels;
  for (size_t m = 0; m < channels; ++m) {
    const float scale = gamma[m] / std::sqrt(var[m] + eps);
    for (size_t k = 0; k < per_channel; ++k) w[m * per_channel + k] *= scale;
    b[m] = (b[m] - mean[m]) * scale + beta[m];
  }

  Node& folded = graph.nodes[static_cast<size_t>(conv_index)];
  folded.inputs.resize(3);
  folded.inputs[1] = weight;
  folded.inputs[2] = bias;
  folded.outputs[0] = graph.nodes[bn_index].outputs[0];
  graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(bn_index));
  return true;
}

}  // namespace

void fold_batch_norm_into_conv(Graph& graph) {
  for (size_t i = 0; i < graph.nodes.size();) {
    const bool is_bn = graph.nodes[i].op == OpType::BatchNormalization;
    if (!is_bn || !try_fold(graph, i)) ++i;
  }
}

}  // namespace mcusplit::model
