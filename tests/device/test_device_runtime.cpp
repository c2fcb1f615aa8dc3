// The device runtime on its own: one participant's program run against a
// scripted transport that answers every receive with the message the plan
// promises (or a wrong one), plus the box copies it is built on and the
// refusals of bad memory and bad programs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "device/box_copy.h"
#include "device/device_runtime.h"
#include "host/device_slice.h"
#include "host/failure_message.h"
#include "plan/devices_shorthand.h"
#include "plan/planner.h"
#include "plan/random_models.h"

namespace mcusplit::device {
namespace {

using core::Box;
using core::TensorShape3;

// ---- box copies ----

TEST(BoxCopy, CopiesASubBoxBetweenBuffersOfDifferentBoxes) {
  const Box src_box{0, 4, 0, 3, 0, 5};
  const Box dst_box{1, 3, 1, 3, 2, 5};
  const Box box{1, 3, 1, 3, 2, 4};
  std::vector<int8_t> src(static_cast<size_t>(src_box.volume()));
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<int8_t>(i);
  std::vector<int8_t> dst(static_cast<size_t>(dst_box.volume()), -1);
  copy_box(src.data(), src_box, dst.data(), dst_box, box);
  for (int32_t y = 0; y < 3; ++y) {
    for (int32_t x = 0; x < 5; ++x) {
      for (int32_t c = 0; c < 4; ++c) {
        const bool in_box = c >= 1 && c < 3 && y >= 1 && x >= 2 && x < 4;
        if (in_box) {
          EXPECT_EQ(dst[static_cast<size_t>(core::dense_offset(dst_box, c, y, x))],
                    src[static_cast<size_t>(core::dense_offset(src_box, c, y, x))]);
        }
      }
    }
  }
  // Column x = 4 of the destination was not part of the box.
  EXPECT_EQ(dst[static_cast<size_t>(core::dense_offset(dst_box, 1, 1, 4))], -1);
}

TEST(BoxCopy, DenseEndIsOnePastTheLastByteOfTheBox) {
  const Box buffer{0, 4, 0, 3, 0, 5};
  EXPECT_EQ(dense_end(buffer, buffer), buffer.volume());
  EXPECT_EQ(dense_end(buffer, Box{0, 2, 0, 1, 0, 1}), 2);
  EXPECT_EQ(dense_end(buffer, Box{0, 1, 0, 3, 0, 5}), buffer.volume() - 3);
  EXPECT_EQ(dense_end(buffer, Box{}), 0);
}

// Random boxes within random buffers: gathering a body's byte ranges in
// arbitrary pieces and scattering them back equals one copy_box.
TEST(BoxCopy, GatherAndScatterRangesMatchCopyBox) {
  std::mt19937 rng(3);
  const auto pick = [&](int32_t lo, int32_t hi) {
    return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 300; ++trial) {
    const Box buffer{pick(0, 3), pick(4, 9), pick(0, 2), pick(3, 7), pick(0, 2), pick(3, 7)};
    Box box{pick(buffer.c0, buffer.c1 - 1), 0, pick(buffer.y0, buffer.y1 - 1), 0,
            pick(buffer.x0, buffer.x1 - 1), 0};
    box.c1 = trial % 3 == 0 ? buffer.c1 : pick(box.c0 + 1, buffer.c1);
    box.y1 = pick(box.y0 + 1, buffer.y1);
    box.x1 = pick(box.x0 + 1, buffer.x1);
    std::vector<int8_t> src(static_cast<size_t>(buffer.volume()));
    for (auto& v : src) v = static_cast<int8_t>(pick(-128, 127));
    std::vector<int8_t> dense(static_cast<size_t>(box.volume()));
    copy_box(src.data(), buffer, dense.data(), box, box);
    std::vector<int8_t> gathered(dense.size(), 0);
    std::vector<int8_t> scattered(src.size(), 0);
    std::vector<int8_t> expected(src.size(), 0);
    copy_box(src.data(), buffer, expected.data(), buffer, box);
    for (int64_t offset = 0; offset < box.volume();) {
      const int64_t n = std::min<int64_t>(pick(1, 13), box.volume() - offset);
      gather_range(src.data(), buffer, box, offset, n, gathered.data() + offset);
      scatter_range(gathered.data() + offset, scattered.data(), buffer, box, offset, n);
      offset += n;
    }
    ASSERT_EQ(gathered, dense) << trial;
    ASSERT_EQ(scattered, expected) << trial;
  }
}

// ---- one participant against a scripted transport ----

// Plays every other participant: answers each credit grant with the chunks
// of the Receive ops it covers (random payload, at most max_payload bytes
// each, or a defect), grants the runtime credit in pieces of `credit_piece`
// bytes whenever it waits with nothing else to deliver, and checks that no
// send exceeds the credit granted.
class ScriptedTransport final : public Transport {
 public:
  enum class Defect { None, WrongBox, Timeout, DataWithoutCredit };

  ScriptedTransport(const DeviceProgram& program, Defect defect, int32_t max_payload = 1372,
                    int64_t credit_piece = int64_t{1} << 30)
      : program_(program), defect_(defect), max_payload_(max_payload), credit_piece_(credit_piece) {
    for (int32_t i = 0; i < program.op_count; ++i) {
      const DeviceOp& op = program.ops[i];
      if (op.kind == DeviceOpKind::Receive) pending_[op.peer].push_back(op);
    }
    if (defect_ == Defect::DataWithoutCredit) {
      // The program's last receive arrives first, long before its step.
      for (int32_t i = program.op_count - 1; i >= 0; --i) {
        if (program.ops[i].kind != DeviceOpKind::Receive) continue;
        queue_chunks(program.ops[i]);
        pending_[program.ops[i].peer].pop_back();
        break;
      }
    }
  }

  int32_t max_payload() const override { return max_payload_; }

  TransportStatus send_chunk(const ChunkHeader& header, const int8_t* /*payload*/) override {
    ++frames_sent;
    sent_bytes += header.payload_bytes;
    if (header.payload_bytes > max_payload_) ++violations;
    credit_[header.destination] -= header.payload_bytes;
    if (credit_[header.destination] < 0) ++violations;
    if (header.chunk_offset + header.payload_bytes == header.message_bytes) ++sends;
    return TransportStatus::Ok;
  }

  TransportStatus grant_credit(int32_t source, int64_t bytes) override {
    ++grants;
    auto& ops = pending_[source];
    while (bytes > 0 && !ops.empty()) {
      const DeviceOp op = ops.front();
      ops.pop_front();
      bytes -= op.box.volume();
      queue_chunks(op);
    }
    if (bytes != 0) ++violations;  // a grant must cover whole receives exactly
    return TransportStatus::Ok;
  }

  TransportStatus poll(LinkEvent* event, int8_t* payload, int32_t capacity) override {
    ++polls;
    if (defect_ == Defect::Timeout) return TransportStatus::Timeout;
    if (!chunks_.empty()) {
      *event = LinkEvent{};
      event->kind = LinkEventKind::Data;
      event->chunk = chunks_.front();
      chunks_.pop_front();
      if (event->chunk.payload_bytes > capacity) return TransportStatus::PayloadTooLarge;
      for (int32_t i = 0; i < event->chunk.payload_bytes; ++i) {
        payload[i] = static_cast<int8_t>(rng_() & 0x7f);
      }
      return TransportStatus::Ok;
    }
    // Nothing to deliver: the runtime waits for credit from some peer.
    next_peer_ = (next_peer_ + 1) % program_.participant_count;
    *event = LinkEvent{};
    event->kind = LinkEventKind::Credit;
    event->peer = next_peer_;
    event->credit_bytes = credit_piece_;
    credit_[next_peer_] += credit_piece_;
    return TransportStatus::Ok;
  }

  int sends = 0;
  int frames_sent = 0;
  int grants = 0;
  int polls = 0;
  int violations = 0;
  int64_t sent_bytes = 0;

 private:
  void queue_chunks(const DeviceOp& op) {
    ChunkHeader c;
    c.source = op.peer;
    c.destination = program_.participant;
    c.tensor = op.tensor;
    c.box = op.box;
    if (defect_ == Defect::WrongBox) c.box.x1 += 1;  // one column too many
    c.message_bytes = op.box.volume();
    for (int64_t offset = 0; offset < c.message_bytes; offset += max_payload_) {
      c.chunk_offset = offset;
      c.payload_bytes =
          static_cast<int32_t>(std::min<int64_t>(max_payload_, c.message_bytes - offset));
      chunks_.push_back(c);
    }
  }

  const DeviceProgram& program_;
  Defect defect_;
  int32_t max_payload_;
  int64_t credit_piece_;
  std::map<int32_t, std::deque<DeviceOp>> pending_;
  std::map<int32_t, int64_t> credit_;
  std::deque<ChunkHeader> chunks_;
  int32_t next_peer_ = 0;
  std::mt19937 rng_{7};
};

// A small random CNN planned on three devices; device 0's slice.
class DeviceRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The first seed whose plan gives device 0 both receives and a conv.
    for (uint32_t seed = 1;; ++seed) {
      quant::QGraph g = plan::testing::random_cnn(seed);
      plan::PlanOptions options;
      options.scheme = plan::Scheme::Paper;
      const plan::Plan p = plan::make_plan(g, plan::parse_devices_shorthand("3xteensy41"), options);
      auto file = std::make_unique<plan::PlanFile>(host::provision_plan(p, g));
      auto slice = std::make_unique<host::DeviceSlice>(*file, 0);
      bool receives = false;
      bool conv = false;
      const DeviceProgram& program = slice->program();
      for (int32_t i = 0; i < program.op_count; ++i) {
        receives |= program.ops[i].kind == DeviceOpKind::Receive;
      }
      for (int32_t i = 0; i < program.layer_count; ++i) {
        conv |= program.layers[i].op == OpType::Conv;
      }
      if (receives && conv) {
        file_ = file.release();
        slice_ = slice.release();
        return;
      }
    }
  }
  static void TearDownTestSuite() {
    delete slice_;
    delete file_;
  }

  static const DeviceProgram& program() { return slice_->program(); }
  static const plan::ParticipantPlan& planned() { return file_->plan.participants[0]; }

  static int32_t first_op(DeviceOpKind kind) {
    for (int32_t i = 0; i < program().op_count; ++i) {
      if (program().ops[i].kind == kind) return i;
    }
    return -1;
  }

  // The first op that waits on the link: a receive, or a send (credit
  // starts at 0).
  static int32_t first_link_op() {
    for (int32_t i = 0; i < program().op_count; ++i) {
      const DeviceOpKind k = program().ops[i].kind;
      if (k == DeviceOpKind::Receive || k == DeviceOpKind::Send) return i;
    }
    return -1;
  }

  static plan::PlanFile* file_;
  static host::DeviceSlice* slice_;
};

plan::PlanFile* DeviceRuntimeTest::file_ = nullptr;
host::DeviceSlice* DeviceRuntimeTest::slice_ = nullptr;

TEST_F(DeviceRuntimeTest, RunsItsWholeProgramInsideThePlannedArena) {
  ScriptedTransport transport(program(), ScriptedTransport::Defect::None);
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(static_cast<size_t>(program().scratch_bytes));
  DeviceRuntime runtime(program(), arena.data(), program().arena_bytes, scratch.data(),
                        program().scratch_bytes, &transport);
  ASSERT_EQ(runtime.setup_status(), RuntimeStatus::Ok) << runtime.failure().detail;
  ASSERT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::Ok)
      << host::failure_message(*file_, program(), runtime.failure(), {});
  const RuntimeStats& s = runtime.stats();
  EXPECT_EQ(s.ops_done, program().op_count);
  EXPECT_EQ(s.high_water_bytes, planned().arena_bytes);
  EXPECT_EQ(s.bytes_sent, planned().estimate.bytes_sent);
  EXPECT_EQ(s.messages_sent, planned().estimate.messages_sent);
  EXPECT_EQ(s.bytes_received, planned().estimate.bytes_received);
  EXPECT_EQ(transport.sends, s.messages_sent);
  EXPECT_EQ(transport.violations, 0);
}

// Frames of 7 bytes and credit in pieces of 5: every message crosses many
// frames and many grants, and the runtime still never sends past its credit
// and lands every byte where the plan says.
TEST_F(DeviceRuntimeTest, ChunksMessagesUnderSmallFramesAndCredit) {
  ScriptedTransport transport(program(), ScriptedTransport::Defect::None, 7, 5);
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(7);
  DeviceRuntime runtime(program(), arena.data(), program().arena_bytes, scratch.data(), 7,
                        &transport);
  ASSERT_EQ(runtime.setup_status(), RuntimeStatus::Ok) << runtime.failure().detail;
  ASSERT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::Ok)
      << host::failure_message(*file_, program(), runtime.failure(), {});
  const RuntimeStats& s = runtime.stats();
  EXPECT_EQ(s.high_water_bytes, planned().arena_bytes);
  EXPECT_EQ(s.bytes_sent, planned().estimate.bytes_sent);
  EXPECT_EQ(s.bytes_received, planned().estimate.bytes_received);
  EXPECT_EQ(s.messages_sent, planned().estimate.messages_sent);
  EXPECT_GT(s.frames_sent, s.messages_sent);
  EXPECT_EQ(transport.violations, 0);
}

TEST_F(DeviceRuntimeTest, RefusesDataItHasNotGrantedCreditFor) {
  ScriptedTransport transport(program(), ScriptedTransport::Defect::DataWithoutCredit);
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(1372);
  DeviceRuntime runtime(program(), arena.data(), program().arena_bytes, scratch.data(), 1372,
                        &transport);
  // The last receive must lie in a later step than the first op that waits
  // on the link, so its data arrives before any credit for it.
  int32_t last_receive = -1;
  for (int32_t i = 0; i < program().op_count; ++i) {
    if (program().ops[i].kind == DeviceOpKind::Receive) last_receive = i;
  }
  ASSERT_GT(program().ops[last_receive].step, program().ops[first_link_op()].step);
  EXPECT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::ReceiveMismatch);
  EXPECT_STREQ(runtime.failure().detail, "data arrived without credit for it");
  EXPECT_EQ(runtime.failure().op_index, first_link_op());
  EXPECT_EQ(runtime.failure().received.box, program().ops[last_receive].box);
}

TEST_F(DeviceRuntimeTest, RefusesAnArenaSmallerThanThePlan) {
  ScriptedTransport transport(program(), ScriptedTransport::Defect::None);
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(static_cast<size_t>(program().scratch_bytes));
  DeviceRuntime runtime(program(), arena.data(), program().arena_bytes - 1, scratch.data(),
                        program().scratch_bytes, &transport);
  EXPECT_EQ(runtime.setup_status(), RuntimeStatus::ArenaTooSmall);
  EXPECT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::ArenaTooSmall);
  EXPECT_EQ(transport.sends + transport.polls + transport.grants, 0);
  EXPECT_EQ(runtime.stats().ops_done, 0);
}

TEST_F(DeviceRuntimeTest, RefusesAFrameBufferSmallerThanOneFrame) {
  ScriptedTransport transport(program(), ScriptedTransport::Defect::None, 16);
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(16);
  DeviceRuntime runtime(program(), arena.data(), program().arena_bytes, scratch.data(), 15,
                        &transport);
  EXPECT_EQ(runtime.setup_status(), RuntimeStatus::ScratchTooSmall);
  EXPECT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::ScratchTooSmall);
}

TEST_F(DeviceRuntimeTest, ReportsAMismatchedReceiveWithItsOp) {
  ScriptedTransport transport(program(), ScriptedTransport::Defect::WrongBox);
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(static_cast<size_t>(program().scratch_bytes) + 4096);
  DeviceRuntime runtime(program(), arena.data(), program().arena_bytes, scratch.data(),
                        static_cast<int64_t>(scratch.size()), &transport);
  ASSERT_EQ(runtime.setup_status(), RuntimeStatus::Ok);
  EXPECT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::ReceiveMismatch);
  const RuntimeFailure& f = runtime.failure();
  // The first chunk arrives at the first op that waits on the link.
  const int32_t waiting = first_link_op();
  EXPECT_EQ(f.op_index, waiting);
  EXPECT_EQ(f.received.box.x1, program().ops[first_op(DeviceOpKind::Receive)].box.x1 + 1);
  EXPECT_EQ(runtime.stats().ops_done, waiting);
  const std::string message = host::failure_message(*file_, program(), f, {});
  EXPECT_NE(message.find("'teensy41-0' failed at op " + std::to_string(waiting) + " ("),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("unexpected message"), std::string::npos) << message;
}

TEST_F(DeviceRuntimeTest, ReportsATimedOutReceive) {
  ScriptedTransport transport(program(), ScriptedTransport::Defect::Timeout);
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(static_cast<size_t>(program().scratch_bytes));
  DeviceRuntime runtime(program(), arena.data(), program().arena_bytes, scratch.data(),
                        program().scratch_bytes, &transport);
  EXPECT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::TransportFailed);
  EXPECT_EQ(runtime.failure().transport, TransportStatus::Timeout);
  EXPECT_EQ(runtime.failure().op_index, first_link_op());
  const std::string message =
      host::failure_message(*file_, program(), runtime.failure(), std::chrono::milliseconds(250));
  EXPECT_NE(message.find("nothing arrived within 250 ms"), std::string::npos) << message;
}

// A copy of the program whose ops and layers can be edited.
struct EditableProgram {
  explicit EditableProgram(const DeviceProgram& p)
      : program(p), ops(p.ops, p.ops + p.op_count), layers(p.layers, p.layers + p.layer_count) {
    program.ops = ops.data();
    program.layers = layers.data();
  }
  DeviceProgram program;
  std::vector<DeviceOp> ops;
  std::vector<DeviceLayer> layers;
};

TEST_F(DeviceRuntimeTest, ReportsAKernelFailureWithItsOp) {
  EditableProgram e(program());
  int32_t conv_op = -1;
  for (int32_t i = 0; i < e.program.op_count && conv_op < 0; ++i) {
    const DeviceOp& op = e.ops[static_cast<size_t>(i)];
    if (op.kind == DeviceOpKind::Compute &&
        e.layers[static_cast<size_t>(op.params)].op == OpType::Conv) {
      conv_op = i;
      e.layers[static_cast<size_t>(op.params)].conv.weights = nullptr;  // passes the program check
    }
  }
  ASSERT_GE(conv_op, 0);
  ScriptedTransport transport(e.program, ScriptedTransport::Defect::None);
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(static_cast<size_t>(program().scratch_bytes));
  DeviceRuntime runtime(e.program, arena.data(), program().arena_bytes, scratch.data(),
                        program().scratch_bytes, &transport);
  EXPECT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::KernelFailed);
  EXPECT_EQ(runtime.failure().op_index, conv_op);
  EXPECT_EQ(runtime.failure().kernel, kernels::KernelStatus::BadParams);
  const std::string message = host::failure_message(*file_, e.program, runtime.failure(), {});
  EXPECT_NE(message.find("compute of layer '"), std::string::npos) << message;
  EXPECT_NE(message.find("bad parameters"), std::string::npos) << message;
}

TEST_F(DeviceRuntimeTest, RefusesAProgramWhoseOpLeavesItsBuffer) {
  EditableProgram e(program());
  const int32_t receive = first_op(DeviceOpKind::Receive);
  e.ops[static_cast<size_t>(receive)].box.y0 = -1;  // outside its buffer (and tensor)
  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(static_cast<size_t>(program().scratch_bytes));
  ScriptedTransport transport(e.program, ScriptedTransport::Defect::None);
  DeviceRuntime runtime(e.program, arena.data(), program().arena_bytes, scratch.data(),
                        program().scratch_bytes, &transport);
  EXPECT_EQ(runtime.setup_status(), RuntimeStatus::BadProgram);
  EXPECT_EQ(runtime.failure().op_index, receive);
  EXPECT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::BadProgram);
  EXPECT_EQ(transport.polls + transport.grants, 0);

  // A buffer reaching past the arena.
  EditableProgram f(program());
  std::vector<DeviceBuffer> buffers(f.program.buffers, f.program.buffers + f.program.buffer_count);
  buffers.back().offset = f.program.arena_bytes;
  f.program.buffers = buffers.data();
  DeviceRuntime runtime2(f.program, arena.data(), program().arena_bytes, scratch.data(),
                         program().scratch_bytes, &transport);
  EXPECT_EQ(runtime2.setup_status(), RuntimeStatus::BadProgram);
  EXPECT_EQ(runtime2.failure().index, f.program.buffer_count - 1);
}

// The kernel scratch is the plan's, in the arena: every conv has its own,
// and a program that gives a kernel less, or puts it outside the arena or
// off 4-byte alignment, is refused before anything runs.
TEST_F(DeviceRuntimeTest, KernelScratchIsPlannedInTheArenaAndChecked) {
  int32_t conv = -1;
  for (int32_t i = 0; i < program().op_count; ++i) {
    const DeviceOp& op = program().ops[i];
    if (op.kind == DeviceOpKind::Compute && program().layers[op.params].op == OpType::Conv)
      conv = i;
  }
  ASSERT_GE(conv, 0);
  const DeviceOp& planned_conv = program().ops[conv];
  ASSERT_GT(planned_conv.scratch_bytes, 0);
  EXPECT_LE(planned_conv.scratch_offset + planned_conv.scratch_bytes, program().arena_bytes);
  for (int32_t i = 0; i < program().op_count; ++i) {
    if (program().ops[i].kind == DeviceOpKind::Compute) continue;
    EXPECT_EQ(program().ops[i].scratch_bytes, 0);
    EXPECT_EQ(program().ops[i].scratch_offset, 0);
  }

  std::vector<int8_t> arena(static_cast<size_t>(program().arena_bytes));
  std::vector<int8_t> scratch(static_cast<size_t>(program().scratch_bytes));
  ScriptedTransport transport(program(), ScriptedTransport::Defect::None);
  const auto refusal = [&](const EditableProgram& e) {
    DeviceRuntime runtime(e.program, arena.data(), program().arena_bytes, scratch.data(),
                          program().scratch_bytes, &transport);
    EXPECT_EQ(runtime.setup_status(), RuntimeStatus::BadProgram);
    EXPECT_EQ(runtime.failure().op_index, conv);
    return std::string(runtime.failure().detail);
  };
  EditableProgram small(program());
  small.ops[static_cast<size_t>(conv)].scratch_bytes -= 4;
  EXPECT_EQ(refusal(small), "kernel scratch smaller than the kernel needs");
  EditableProgram outside(program());
  outside.ops[static_cast<size_t>(conv)].scratch_offset = program().arena_bytes;
  EXPECT_EQ(refusal(outside), "kernel scratch outside the arena or not 4-byte aligned");
  EditableProgram misaligned(program());
  misaligned.ops[static_cast<size_t>(conv)].scratch_offset += 2;
  EXPECT_EQ(refusal(misaligned), "kernel scratch outside the arena or not 4-byte aligned");
  EditableProgram on_receive(program());
  on_receive.ops[static_cast<size_t>(first_op(DeviceOpKind::Receive))].scratch_bytes = 4;
  DeviceRuntime runtime(on_receive.program, arena.data(), program().arena_bytes, scratch.data(),
                        program().scratch_bytes, &transport);
  EXPECT_EQ(runtime.setup_status(), RuntimeStatus::BadProgram);
  EXPECT_STREQ(runtime.failure().detail, "kernel scratch on an op that computes nothing");

  // The arena must start 4-byte aligned, as the scratch in it.
  std::vector<int8_t> larger(arena.size() + 4);
  DeviceRuntime offset(program(), larger.data() + 1, program().arena_bytes, scratch.data(),
                       program().scratch_bytes, &transport);
  EXPECT_EQ(offset.setup_status(), RuntimeStatus::BadArgument);
}

TEST_F(DeviceRuntimeTest, CoordinatorWithoutItsInputRefusesToRun) {
  const host::DeviceSlice coordinator(*file_, file_->plan.coordinator());
  const DeviceProgram& p = coordinator.program();
  ASSERT_TRUE(p.coordinator());
  ScriptedTransport transport(p, ScriptedTransport::Defect::None);
  std::vector<int8_t> arena(static_cast<size_t>(p.arena_bytes));
  std::vector<int8_t> scratch(static_cast<size_t>(p.scratch_bytes));
  DeviceRuntime runtime(p, arena.data(), p.arena_bytes, scratch.data(), p.scratch_bytes,
                        &transport);
  ASSERT_EQ(runtime.setup_status(), RuntimeStatus::Ok);
  EXPECT_EQ(runtime.run(nullptr, 0, nullptr, 0), RuntimeStatus::BadArgument);
  EXPECT_EQ(runtime.failure().op_index, 0);  // load_input comes first
}

}  // namespace
}  // namespace mcusplit::device
