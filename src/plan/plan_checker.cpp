#include "plan/plan_checker.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "plan/checker_context.h"

namespace mcusplit::plan {
namespace checker {

std::string box_text(const core::Box& b) {
  return fmt::format("[c {}:{}, y {}:{}, x {}:{}]", b.c0, b.c1, b.y0, b.y1, b.x0, b.x1);
}

std::string Context::who(int p) const {
  if (!valid_participant(p)) return fmt::format("participant #{}", p);
  const ParticipantPlan& pp = participant(p);
  return fmt::format("{} '{}' (#{})", pp.coordinator ? "coordinator" : "participant", pp.name, p);
}

std::string Context::where(int p, int op) const {
  const PlanOp& o = participant(p).ops[idx(op)];
  return fmt::format("{} op {} ({}, step {})", who(p), op, op_kind_name(o.kind), o.step);
}

std::string Context::tensor_text(int t) const {
  if (!valid_tensor(t)) return fmt::format("tensor #{}", t);
  return fmt::format("tensor '{}'", graph_.tensors[idx(t)].name);
}

std::string Context::layer_text(int l) const {
  if (!valid_layer(l)) return fmt::format("layer #{}", l);
  return fmt::format("layer '{}' ({})", layer(l).name, quant::op_type_name(layer(l).op));
}

std::string Context::buffer_text(int p, int b) const {
  const std::vector<PlanBuffer>& buffers = participant(p).buffers;
  if (b < 0 || idx(b) >= buffers.size()) return fmt::format("buffer #{}", b);
  const PlanBuffer& buf = buffers[idx(b)];
  return fmt::format("buffer #{} ({} {}, ops {}..{}, offset {})", b, tensor_text(buf.tensor),
                     box_text(buf.box), buf.first_op, buf.last_op, buf.offset);
}

std::string Context::tag_text(Tag tag) const {
  if (tag == kInvalidTag) return "nothing valid (never written there)";
  const int t = static_cast<int>(tag >> 32) - 1;
  const int64_t index = static_cast<int64_t>(tag & 0xffffffffu);
  if (!valid_tensor(t)) return "an unknown tag";
  const core::TensorShape3& s = shape(t);
  const int64_t c = index % s.c;
  const int64_t x = (index / s.c) % s.w;
  const int64_t y = index / (int64_t{s.c} * s.w);
  return fmt::format("element (c {}, y {}, x {}) of {}", c, y, x, tensor_text(t));
}

}  // namespace checker

std::vector<std::string> check_plan(const Plan& plan, const quant::QGraph& graph) {
  checker::Context ctx(plan, graph);
  std::vector<checker::ParticipantFacts> facts;
  checker::check_structure(ctx, facts);
  checker::check_coverage(ctx);
  checker::check_arenas_and_weights(ctx);
  checker::check_estimates(ctx);
  checker::check_dataflow(ctx, facts);
  return std::move(ctx.problems());
}

void require_valid_plan(const Plan& plan, const quant::QGraph& graph, const std::string& origin) {
  const std::vector<std::string> problems = check_plan(plan, graph);
  if (problems.empty()) return;
  constexpr size_t kShown = 5;
  std::string message = fmt::format("{}: invalid plan ({} problem{})", origin, problems.size(),
                                    problems.size() == 1 ? "" : "s");
  for (size_t i = 0; i < problems.size() && i < kShown; ++i) message += "; " + problems[i];
  if (problems.size() > kShown) message += fmt::format("; and {} more", problems.size() - kShown);
  throw Error(message, kExitFailure);
}

}  // namespace mcusplit::plan
