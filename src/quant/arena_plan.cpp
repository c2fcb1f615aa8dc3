#include "quant/arena_plan.h"

#include <algorithm>

#include "common/error.h"

namespace mcusplit::quant {
namespace {

[[noreturn]] void fail(const QGraph& g, const std::string& what) {
  throw Error("int8 graph" + (g.source_model.empty() ? "" : " '" + g.source_model + "'") + ": " +
              what);
}

void check_tensor_index(const QGraph& g, int t, const std::string& where) {
  if (t < 0 || t >= static_cast<int>(g.tensors.size())) {
    fail(g, where + " refers to tensor " + std::to_string(t) + " of " +
                std::to_string(g.tensors.size()));
  }
}

}  // namespace

std::vector<int> ArenaPlan::live_buffers(int step) const {
  std::vector<int> live;
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i].first_use <= step && step <= buffers[i].last_use) {
      live.push_back(static_cast<int>(i));
    }
  }
  return live;
}

int64_t ArenaPlan::scratch_offset(int layer) const {
  const int b = layer_scratch[static_cast<size_t>(layer)];
  return b < 0 ? 0 : layout.offsets[static_cast<size_t>(b)];
}

int64_t ArenaPlan::scratch_bytes(int layer) const {
  const int b = layer_scratch[static_cast<size_t>(layer)];
  return b < 0 ? 0 : buffers[static_cast<size_t>(b)].bytes;
}

ArenaPlan plan_arena(const QGraph& graph) {
  return plan_arena(graph, GreedyMemoryPlanner{});
}

ArenaPlan plan_arena(const QGraph& graph, const MemoryPlanner& planner) {
  const QGraph& g = graph;
  check_tensor_index(g, g.input, "the graph input");
  check_tensor_index(g, g.output, "the graph output");
  const int last_step = std::max(0, static_cast<int>(g.layers.size()) - 1);

  ArenaPlan plan;
  plan.alignment = planner.alignment();
  plan.tensor_buffer.assign(g.tensors.size(), -1);
  auto new_buffer = [&](int tensor, int first) {
    const QTensor& t = g.tensors[static_cast<size_t>(tensor)];
    plan.tensor_buffer[static_cast<size_t>(tensor)] = static_cast<int>(plan.buffers.size());
    plan.buffers.push_back(BufferRequest{t.name, t.bytes(), first, first});
  };
  auto buffer_of = [&](int tensor) -> BufferRequest& {
    return plan.buffers[static_cast<size_t>(plan.tensor_buffer[static_cast<size_t>(tensor)])];
  };

  new_buffer(g.input, 0);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const QLayer& l = g.layers[i];
    const int step = static_cast<int>(i);
    const std::string where = "layer '" + l.name + "'";
    if (l.inputs.empty()) fail(g, where + " has no inputs");
    for (const int in : l.inputs) {
      check_tensor_index(g, in, where);
      if (plan.tensor_buffer[static_cast<size_t>(in)] < 0) {
        fail(g, where + " reads tensor '" + g.tensors[static_cast<size_t>(in)].name +
                    "' before any layer produces it");
      }
      BufferRequest& b = buffer_of(in);
      b.last_use = std::max(b.last_use, step);
    }
    check_tensor_index(g, l.output, where);
    if (plan.tensor_buffer[static_cast<size_t>(l.output)] >= 0) {
      fail(g, where + " writes tensor '" + g.tensors[static_cast<size_t>(l.output)].name +
                  "', which already has a value");
    }
    if (l.record().output_aliases_input) {
      const int in = l.inputs[0];
      if (l.inputs.size() != 1 || g.tensors[static_cast<size_t>(in)].bytes() !=
                                      g.tensors[static_cast<size_t>(l.output)].bytes()) {
        fail(g, where + " (Reshape) must have one input of the output's size");
      }
      plan.tensor_buffer[static_cast<size_t>(l.output)] =
          plan.tensor_buffer[static_cast<size_t>(in)];
    } else {
      new_buffer(l.output, step);
    }
  }
  if (plan.tensor_buffer[static_cast<size_t>(g.output)] < 0) {
    fail(g, "no layer produces the graph output '" + g.tensors[static_cast<size_t>(g.output)].name +
                "'");
  }
  buffer_of(g.output).last_use = last_step;

  plan.layer_scratch.assign(g.layers.size(), -1);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const QLayer& l = g.layers[i];
    const int32_t bytes = l.record().scratch_bytes(
        l.view(), core::full_box(g.tensors[static_cast<size_t>(l.output)].shape));
    if (bytes <= 0) continue;
    plan.layer_scratch[i] = static_cast<int>(plan.buffers.size());
    const int step = static_cast<int>(i);
    plan.buffers.push_back(BufferRequest{"scratch of " + l.name, bytes, step, step});
  }

  plan.layout = planner.plan(plan.buffers);
  return plan;
}

}  // namespace mcusplit::quant
