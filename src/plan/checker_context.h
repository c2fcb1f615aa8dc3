// Shared state of the plan checker's passes (plan_checker.cpp): the plan, the
// graph, the problem list and the wording every message uses, so problems
// read alike whichever pass finds them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/box.h"
#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan::checker {

// What the structural pass learnt about one participant, so the dataflow pass
// touches only buffers and ops that make sense (the rest is already reported).
struct ParticipantFacts {
  std::vector<bool> buffer_ok;  // tensor, box and place in the arena are sound
  // Indices valid; its buffers hold its tensor and box (for a Compute, its
  // output's; inputs_ok then says which input buffers can be read).
  std::vector<bool> op_ok;
  std::vector<std::vector<bool>> inputs_ok;
};

class Context {
 public:
  Context(const Plan& plan, const quant::QGraph& graph) : plan_(plan), graph_(graph) {}

  const Plan& plan() const { return plan_; }
  const quant::QGraph& graph() const { return graph_; }
  int layer_count() const { return static_cast<int>(graph_.layers.size()); }
  int participant_count() const { return static_cast<int>(plan_.participants.size()); }
  const ParticipantPlan& participant(int p) const { return plan_.participants[idx(p)]; }
  const quant::QLayer& layer(int l) const { return graph_.layers[idx(l)]; }

  bool valid_tensor(int t) const {
    return t >= 0 && static_cast<size_t>(t) < graph_.tensors.size();
  }
  bool valid_layer(int l) const { return l >= 0 && l < layer_count(); }
  bool valid_participant(int p) const { return p >= 0 && p < participant_count(); }
  const core::TensorShape3& shape(int t) const { return graph_.tensors[idx(t)].shape; }

  // "participant 'dev-0' (#0)".
  std::string who(int p) const;
  // "participant 'dev-0' (#0) op 5 (Send, step 3)".
  std::string where(int p, int op) const;
  // "tensor 'conv_0_out'" (or "tensor #7" when out of range).
  std::string tensor_text(int t) const;
  // "layer 'conv_0' (Conv)".
  std::string layer_text(int l) const;
  // "buffer #2 (tensor 'x' [c 0:8, y 0:4, x 0:8], steps 1..3, offset 128)".
  std::string buffer_text(int p, int b) const;
  // "element (c 3, y 0, x 7) of tensor 'x'", or a note that the byte holds nothing valid.
  std::string tag_text(uint64_t tag) const;

  void add(std::string problem) { problems_.push_back(std::move(problem)); }
  std::vector<std::string>& problems() { return problems_; }

  static size_t idx(int i) { return static_cast<size_t>(i); }

 private:
  const Plan& plan_;
  const quant::QGraph& graph_;
  std::vector<std::string> problems_;
};

// "[c 0:8, y 0:4, x 0:16]".
std::string box_text(const core::Box& b);

// The simulated arenas tag each byte with the tensor element it holds; 0
// means nothing valid. Element indices are NHWC offsets in the whole tensor.
using Tag = uint64_t;
constexpr Tag kInvalidTag = 0;
inline Tag element_tag(int tensor, const core::TensorShape3& s, int32_t c, int32_t y, int32_t x) {
  const int64_t index = (int64_t{y} * s.w + x) * s.c + c;
  return (static_cast<uint64_t>(tensor) + 1) << 32 | static_cast<uint64_t>(index);
}

// The passes, in the order check_plan runs them.
void check_structure(Context& ctx, std::vector<ParticipantFacts>& facts);
void check_coverage(Context& ctx);
void check_arenas_and_weights(Context& ctx);
void check_estimates(Context& ctx);
void check_dataflow(Context& ctx, const std::vector<ParticipantFacts>& facts);

}  // namespace mcusplit::plan::checker
