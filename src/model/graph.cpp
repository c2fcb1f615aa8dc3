#include "model/graph.h"

#include <algorithm>

namespace mcusplit::model {

int64_t element_count(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string dims_to_string(const Dims& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

std::string_view op_type_name(OpType op) {
  switch (op) {
    case OpType::Conv:
      return "Conv";
    case OpType::BatchNormalization:
      return "BatchNormalization";
    case OpType::Relu:
      return "Relu";
    case OpType::Clip:
      return "Clip";
    case OpType::Add:
      return "Add";
    case OpType::GlobalAveragePool:
      return "GlobalAveragePool";
    case OpType::ReduceMean:
      return "ReduceMean";
    case OpType::AveragePool:
      return "AveragePool";
    case OpType::MaxPool:
      return "MaxPool";
    case OpType::Gemm:
      return "Gemm";
    case OpType::MatMul:
      return "MatMul";
    case OpType::Flatten:
      return "Flatten";
    case OpType::Reshape:
      return "Reshape";
    case OpType::Concat:
      return "Concat";
    case OpType::Identity:
      return "Identity";
    case OpType::Dropout:
      return "Dropout";
  }
  return "?";
}

int Graph::add_tensor(Tensor tensor) {
  tensors.push_back(std::move(tensor));
  return static_cast<int>(tensors.size()) - 1;
}

int Graph::find_tensor(std::string_view name) const {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Graph::producer_of(int t) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& outs = nodes[i].outputs;
    if (std::find(outs.begin(), outs.end(), t) != outs.end()) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> Graph::consumers_of(int t) const {
  std::vector<int> result;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& ins = nodes[i].inputs;
    if (std::find(ins.begin(), ins.end(), t) != ins.end()) result.push_back(static_cast<int>(i));
  }
  return result;
}

bool Graph::is_graph_output(int t) const {
  return std::find(outputs.begin(), outputs.end(), t) != outputs.end();
}

void Graph::remove_unused_tensors() {
  std::vector<bool> used(tensors.size(), false);
  auto mark = [&](int t) {
    if (t >= 0) used[static_cast<size_t>(t)] = true;
  };
  for (const auto& n : nodes) {
    for (int t : n.inputs) mark(t);
    for (int t : n.outputs) mark(t);
  }
  for (int t : inputs) mark(t);
  for (int t : outputs) mark(t);

  std::vector<int> remap(tensors.size(), -1);
  std::vector<Tensor> kept;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(tensors[i]));
  }
  tensors = std::move(kept);
  auto fix = [&](std::vector<int>& ids) {
    for (int& t : ids) {
      if (t >= 0) t = remap[static_cast<size_t>(t)];
    }
  };
  for (auto& n : nodes) {
    fix(n.inputs);
    fix(n.outputs);
  }
  fix(inputs);
  fix(outputs);
}

}  // namespace mcusplit::model
