// Plan checker passes 3 and 4: runs every participant's program on a
// simulated arena whose bytes carry tags (which element of which tensor they
// hold), with messages queued FIFO per (sender, receiver) pair. Every read is
// checked against the tags; every write stores the tags the op means to
// write, so one wrong op is reported once rather than by everything
// downstream of it.
#include <fmt/format.h>

#include <algorithm>
#include <deque>

#include "plan/checker_context.h"
#include "plan/checker_geometry.h"

namespace mcusplit::plan::checker {
namespace {

using core::Box;
using core::TensorShape3;

// Arenas above this are not simulated (8 tag bytes per arena byte).
constexpr int64_t kMaxSimulatedArena = int64_t{32} << 20;

std::vector<int32_t> span(int32_t begin, int32_t end) {
  std::vector<int32_t> v;
  for (int32_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

// The elements of `list` inside [lo, hi).
std::vector<int32_t> clip(const std::vector<int32_t>& list, int32_t lo, int32_t hi) {
  std::vector<int32_t> v;
  for (int32_t i : list) {
    if (lo <= i && i < hi) v.push_back(i);
  }
  return v;
}

// The first wrong element a read found, and how many were wrong.
struct ReadReport {
  int64_t checked = 0;
  int64_t bad = 0;
  Tag found = kInvalidTag;
  int32_t c = 0;
  int32_t y = 0;
  int32_t x = 0;
  int64_t byte = 0;
};

class Simulator {
 public:
  Simulator(Context& ctx, const std::vector<ParticipantFacts>& facts)
      : ctx_(ctx), facts_(facts), n_(ctx.participant_count()) {
    queues_.resize(Context::idx(n_ * n_));
    runners_.resize(Context::idx(n_));
    for (int p = 0; p < n_; ++p) {
      const int64_t bytes = ctx_.participant(p).arena_bytes;
      if (bytes < 0 || bytes > kMaxSimulatedArena) {
        ctx_.add(fmt::format(
            "{}: an arena of {} bytes is beyond what the checker simulates ({} bytes); its "
            "dataflow is unchecked",
            ctx_.who(p), bytes, kMaxSimulatedArena));
        continue;
      }
      runners_[Context::idx(p)].simulated = true;
      runners_[Context::idx(p)].arena.assign(static_cast<size_t>(bytes), kInvalidTag);
    }
  }

  void run() {
    bool progress = true;
    while (progress) {
      progress = false;
      for (int p = 0; p < n_; ++p) {
        while (try_run(p)) progress = true;
      }
    }
    // Messages left queued behind a deadlock say nothing more.
    if (!report_blocked()) report_unreceived();
  }

 private:
  struct Message {
    int sender_op = -1;
    int step = 0;
    int tensor = -1;
    Box box;
  };
  struct Runner {
    bool simulated = false;
    std::vector<Tag> arena;
    size_t next = 0;  // index of the next op to run
  };

  std::deque<Message>& queue(int src, int dst) { return queues_[Context::idx(src * n_ + dst)]; }
  const PlanOp& op(int p, size_t i) const { return ctx_.participant(p).ops[i]; }
  const PlanBuffer& buffer(int p, int b) const {
    return ctx_.participant(p).buffers[Context::idx(b)];
  }

  // Runs p's next op unless p is finished or waits for a message.
  bool try_run(int p) {
    Runner& r = runners_[Context::idx(p)];
    if (r.next >= ctx_.participant(p).ops.size()) return false;
    const PlanOp& o = op(p, r.next);
    const bool peer_ok = ctx_.valid_participant(o.peer) && o.peer != p;
    if (o.kind == OpKind::Receive && peer_ok && queue(o.peer, p).empty()) return false;
    const int i = static_cast<int>(r.next);
    const bool ok = facts_[Context::idx(p)].op_ok[r.next] && r.simulated;
    switch (o.kind) {
      case OpKind::LoadInput:
        if (ok) write_box(p, o.dst_buffer, o.tensor, o.box);
        break;
      case OpKind::StoreOutput:
        if (ok) check_box(p, i, o.src_buffer, o.tensor, o.box, "stores");
        break;
      case OpKind::Send:
        if (ok) check_box(p, i, o.src_buffer, o.tensor, o.box, "sends");
        if (peer_ok) queue(p, o.peer).push_back(Message{i, o.step, o.tensor, o.box});
        break;
      case OpKind::Receive:
        if (peer_ok) receive(p, i, ok);
        break;
      case OpKind::Copy:
        if (ok) {
          check_box(p, i, o.src_buffer, o.tensor, o.box, "copies");
          write_box(p, o.dst_buffer, o.tensor, o.box);
        }
        break;
      case OpKind::Compute:
        if (ok) compute(p, i);
        break;
    }
    ++r.next;
    return true;
  }

  void receive(int p, int i, bool ok) {
    const PlanOp& o = op(p, Context::idx(i));
    std::deque<Message>& q = queue(o.peer, p);
    const Message m = q.front();
    q.pop_front();
    if (m.tensor != o.tensor || m.box != o.box) {
      ctx_.add(fmt::format(
          "{}: expects {} {} from {}, but the next message from it is {} {} (its op {}); "
          "messages between two participants arrive in the order they are sent",
          ctx_.where(p, i), ctx_.tensor_text(o.tensor), box_text(o.box), ctx_.who(o.peer),
          ctx_.tensor_text(m.tensor), box_text(m.box), m.sender_op));
    } else if (m.step != o.step) {
      ctx_.add(
          fmt::format("{}: receives the message {} sent at step {}; a message is received in "
                      "the step it is sent",
                      ctx_.where(p, i), ctx_.where(o.peer, m.sender_op), m.step));
    }
    if (ok) write_box(p, o.dst_buffer, o.tensor, o.box);
  }

  void write_box(int p, int b, int tensor, const Box& box) {
    std::vector<Tag>& arena = runners_[Context::idx(p)].arena;
    const PlanBuffer& buf = buffer(p, b);
    const TensorShape3& s = ctx_.shape(tensor);
    for (int32_t y = box.y0; y < box.y1; ++y) {
      for (int32_t x = box.x0; x < box.x1; ++x) {
        const int64_t base = buf.offset + core::dense_offset(buf.box, box.c0, y, x);
        for (int32_t c = box.c0; c < box.c1; ++c) {
          arena[static_cast<size_t>(base + (c - box.c0))] = element_tag(tensor, s, c, y, x);
        }
      }
    }
  }

  void probe(ReadReport& r, const std::vector<Tag>& arena, const PlanBuffer& buf, int tensor,
             const TensorShape3& s, int32_t c, int32_t y, int32_t x) const {
    ++r.checked;
    const int64_t byte = buf.offset + core::dense_offset(buf.box, c, y, x);
    const Tag found = arena[static_cast<size_t>(byte)];
    if (found == element_tag(tensor, s, c, y, x)) return;
    if (r.bad++ == 0) {
      r.found = found;
      r.c = c;
      r.y = y;
      r.x = x;
      r.byte = byte;
    }
  }

  // Reads every element of the grid cs x ys x xs lying in buffer b (the
  // structural pass reports elements outside it).
  ReadReport read_grid(int p, int b, int tensor, const std::vector<int32_t>& cs,
                       const std::vector<int32_t>& ys, const std::vector<int32_t>& xs) const {
    const std::vector<Tag>& arena = runners_[Context::idx(p)].arena;
    const PlanBuffer& buf = buffer(p, b);
    const TensorShape3& s = ctx_.shape(tensor);
    const std::vector<int32_t> in_c = clip(cs, buf.box.c0, buf.box.c1);
    const std::vector<int32_t> in_y = clip(ys, buf.box.y0, buf.box.y1);
    const std::vector<int32_t> in_x = clip(xs, buf.box.x0, buf.box.x1);
    ReadReport r;
    for (int32_t y : in_y) {
      for (int32_t x : in_x) {
        for (int32_t c : in_c) probe(r, arena, buf, tensor, s, c, y, x);
      }
    }
    return r;
  }

  // Reshape: output element n of out_box reads input element n.
  ReadReport read_flat(int p, int b, int tensor, const TensorShape3& out_shape,
                       const Box& out_box) const {
    const std::vector<Tag>& arena = runners_[Context::idx(p)].arena;
    const PlanBuffer& buf = buffer(p, b);
    const TensorShape3& s = ctx_.shape(tensor);
    ReadReport r;
    for (int32_t y = out_box.y0; y < out_box.y1; ++y) {
      for (int32_t x = out_box.x0; x < out_box.x1; ++x) {
        for (int32_t c = out_box.c0; c < out_box.c1; ++c) {
          const Coord in = reshape_source(s, out_shape, c, y, x);
          if (core::contains(buf.box, Box{in.c, in.c + 1, in.y, in.y + 1, in.x, in.x + 1})) {
            probe(r, arena, buf, tensor, s, in.c, in.y, in.x);
          }
        }
      }
    }
    return r;
  }

  void report_read(int p, int i, int b, int tensor, const ReadReport& r, const std::string& what) {
    if (r.bad == 0) return;
    ctx_.add(fmt::format(
        "{}: {} data that is not there: element (c {}, y {}, x {}) of {} in {} is at arena byte "
        "{}, which holds {} ({} of {} elements read are wrong)",
        ctx_.where(p, i), what, r.c, r.y, r.x, ctx_.tensor_text(tensor), ctx_.buffer_text(p, b),
        r.byte, ctx_.tag_text(r.found), r.bad, r.checked));
  }

  void check_box(int p, int i, int b, int tensor, const Box& box, const char* what) {
    const ReadReport r =
        read_grid(p, b, tensor, span(box.c0, box.c1), span(box.y0, box.y1), span(box.x0, box.x1));
    report_read(p, i, b, tensor, r, what);
  }

  void compute(int p, int i) {
    const PlanOp& o = op(p, Context::idx(i));
    const quant::QLayer& layer = ctx_.layer(o.layer);
    const std::vector<InputNeed> needs = needed_inputs(ctx_.graph(), layer, o.box);
    const std::vector<bool>& usable = facts_[Context::idx(p)].inputs_ok[Context::idx(i)];
    for (size_t k = 0; k < needs.size(); ++k) {
      if (!usable[k]) continue;  // reported by the structural pass
      const int t = layer.inputs[k];
      const int b = o.inputs[k];
      const InputNeed& need = needs[k];
      const ReadReport r = need.flat ? read_flat(p, b, t, ctx_.shape(layer.output), need.out_box)
                                     : read_grid(p, b, t, need.cs, need.ys, need.xs);
      report_read(p, i, b, t, r, fmt::format("input {} of {} reads", k, ctx_.layer_text(o.layer)));
    }
    // The kernel leaves its scratch holding nothing a later op may read.
    std::vector<Tag>& arena = runners_[Context::idx(p)].arena;
    const int64_t scratch_end =
        std::min<int64_t>(o.scratch_offset + o.scratch_bytes, static_cast<int64_t>(arena.size()));
    for (int64_t byte = std::max<int64_t>(o.scratch_offset, 0); byte < scratch_end; ++byte) {
      arena[static_cast<size_t>(byte)] = kInvalidTag;
    }
    write_box(p, o.dst_buffer, layer.output, o.box);
  }

  std::string waiting_text(int p) const {
    const Runner& r = runners_[Context::idx(p)];
    const auto& ops = ctx_.participant(p).ops;
    if (r.next >= ops.size()) return fmt::format("{} has finished", ctx_.who(p));
    const PlanOp& o = ops[r.next];
    return fmt::format("{} waits for {} {} from {}", ctx_.where(p, static_cast<int>(r.next)),
                       ctx_.tensor_text(o.tensor), box_text(o.box), ctx_.who(o.peer));
  }

  bool report_blocked() {
    std::string waits;
    for (int p = 0; p < n_; ++p) {
      if (runners_[Context::idx(p)].next >= ctx_.participant(p).ops.size()) continue;
      if (!waits.empty()) waits += "; ";
      waits += waiting_text(p);
    }
    if (waits.empty()) return false;
    ctx_.add("deadlock: no participant can proceed: " + waits);
    return true;
  }

  void report_unreceived() {
    for (int src = 0; src < n_; ++src) {
      for (int dst = 0; dst < n_; ++dst) {
        const std::deque<Message>& q = queue(src, dst);
        if (q.empty()) continue;
        const Message& m = q.front();
        ctx_.add(fmt::format(
            "{}: sends {} {} to {}, which never receives it{}", ctx_.where(src, m.sender_op),
            ctx_.tensor_text(m.tensor), box_text(m.box), ctx_.who(dst),
            q.size() > 1 ? fmt::format(" (nor {} later messages)", q.size() - 1) : std::string()));
      }
    }
  }

  Context& ctx_;
  const std::vector<ParticipantFacts>& facts_;
  int n_;
  std::vector<std::deque<Message>> queues_;
  std::vector<Runner> runners_;
};

}  // namespace

void check_dataflow(Context& ctx, const std::vector<ParticipantFacts>& facts) {
  Simulator(ctx, facts).run();
}

}  // namespace mcusplit::plan::checker
