// Runs one participant's DeviceProgram: its ops in order, inside a static
// arena the caller provides, talking to the other participants through a
// Transport one frame at a time (credit flow control, docs/protocol.md):
// entering a step it grants each sender the bytes of that step's receives,
// every arriving chunk goes straight into its Receive op's arena buffer, and
// a Send gathers chunk by chunk from its buffer, never past the credit. Freestanding: no
// allocation, no exceptions, no clock; failures are status codes with the failing op, and timing is
// left to an OpObserver the host (or the firmware, with its cycle counter) implements.
#pragma once

#include <cstdint>

#include "device/device_program.h"
#include "device/runtime_status.h"
#include "device/transport.h"
#include "kernels/int8_common.h"

namespace mcusplit::device {

// What the last run() did, measured from the writes and messages themselves.
struct RuntimeStats {
  // One past the highest arena byte any op wrote (received, copied, loaded
  // or computed), from the exact boxes written and the kernel scratch given
  // to each Compute: what the plan's arena_bytes promises never to exceed.
  int64_t high_water_bytes = 0;
  int64_t bytes_sent = 0;  // payload bytes
  int64_t bytes_received = 0;
  int64_t messages_sent = 0;
  int64_t messages_received = 0;
  int64_t frames_sent = 0;  // Data frames
  int64_t frames_received = 0;
  int64_t credit_grants = 0;  // Credit messages sent
  int32_t ops_done = 0;       // ops completed
};

// Most participants (devices plus the coordinator) a program may name: the
// runtime, the inbound dispatcher and the stream sequences keep per-peer
// state in fixed arrays of this size (about 40 bytes per participant in
// all). 128 on the host; the firmware sets its own, smaller, through
// MCUSPLIT_DEVICE_MAX_PARTICIPANTS (firmware/CMakeLists.txt), since the
// arrays are part of the device's fixed RAM (core/device_runtime_ram.h).
#ifndef MCUSPLIT_DEVICE_MAX_PARTICIPANTS
#define MCUSPLIT_DEVICE_MAX_PARTICIPANTS 128
#endif
inline constexpr int32_t kMaxParticipants = MCUSPLIT_DEVICE_MAX_PARTICIPANTS;
static_assert(kMaxParticipants >= 2, "a plan has at least one device and the coordinator");

// The frame buffer a runtime needs: one chunk payload, at most the largest
// message of the program.
constexpr int64_t frame_buffer_bytes(const DeviceProgram& program, int32_t max_payload) {
  return program.scratch_bytes < max_payload ? program.scratch_bytes : max_payload;
}

// Why the runtime refused to start or stopped.
struct RuntimeFailure {
  RuntimeStatus status = RuntimeStatus::Ok;
  int32_t op_index = -1;    // the failing op; -1 for set-up problems
  const char* detail = "";  // static text (check_program's problem, ...)
  int32_t index = -1;       // the buffer or layer entry a BadProgram detail refers to
  kernels::KernelStatus kernel = kernels::KernelStatus::Ok;  // KernelFailed
  TransportStatus transport = TransportStatus::Ok;           // TransportFailed
  ChunkHeader received;  // ReceiveMismatch: the chunk that arrived instead
};

// Hooks around every op, e.g. to time Compute ops per layer.
class OpObserver {
 public:
  virtual void op_begin(int32_t op_index, const DeviceOp& op) = 0;
  virtual void op_end(int32_t op_index, const DeviceOp& op, RuntimeStatus status) = 0;

 protected:
  ~OpObserver() = default;
};

class DeviceRuntime {
 public:
  // Checks the program (check_program) and the caller's memory: the arena
  // (4-byte aligned: kernel scratch lives in it) must hold
  // program.arena_bytes and the scratch one frame payload
  // (frame_buffer_bytes with the transport's max payload). On failure
  // failure() says why and run() refuses with the same status. Nothing is
  // copied: the program, arena, scratch and transport must outlive the
  // runtime.
  DeviceRuntime(const DeviceProgram& program, int8_t* arena, int64_t arena_capacity,
                int8_t* scratch, int64_t scratch_capacity, Transport* transport);

  DeviceRuntime(const DeviceRuntime&) = delete;
  DeviceRuntime& operator=(const DeviceRuntime&) = delete;

  // Runs every op once. `input` (the graph input, NHWC, input_bytes values)
  // is read by LoadInput and `output` (output_bytes values) written by
  // StoreOutput; a participant without those ops may pass nullptr and 0.
  // Stops at the first failure; failure() names the op.
  RuntimeStatus run(const int8_t* input, int64_t input_bytes, int8_t* output, int64_t output_bytes,
                    OpObserver* observer = nullptr);

  const DeviceProgram& program() const { return program_; }
  const RuntimeStats& stats() const { return stats_; }
  const RuntimeFailure& failure() const { return failure_; }
  // Ok if the program and memory passed the constructor's checks.
  RuntimeStatus setup_status() const { return setup_status_; }

 private:
  RuntimeStatus run_op(const DeviceOp& op);
  RuntimeStatus load_input(const DeviceOp& op);
  RuntimeStatus store_output(const DeviceOp& op);
  RuntimeStatus send(const DeviceOp& op);
  RuntimeStatus receive(int32_t op_index, const DeviceOp& op);
  // Grants credit for the Receive ops of the run of same-step ops starting at
  // `first`, once per run.
  RuntimeStatus grant_step(int32_t first);
  // Waits for one link event and applies it (a chunk into its buffer, credit).
  RuntimeStatus handle_event();
  RuntimeStatus accept_chunk(const ChunkHeader& chunk);
  int32_t next_receive_from(int32_t peer, int32_t after) const;
  RuntimeStatus copy(const DeviceOp& op);
  RuntimeStatus compute(const DeviceOp& op);
  int8_t* buffer_data(int32_t buffer) const;
  void note_written(int32_t buffer, const core::Box& box);
  RuntimeStatus fail(RuntimeStatus status, const char* detail);

  const DeviceProgram& program_;
  int8_t* arena_;
  int64_t arena_capacity_;
  int8_t* scratch_;
  int64_t scratch_capacity_;
  Transport* transport_;
  RuntimeStatus setup_status_ = RuntimeStatus::Ok;
  RuntimeFailure setup_failure_;
  RuntimeStats stats_;
  RuntimeFailure failure_;
  // The graph input/output of the current run().
  const int8_t* input_ = nullptr;
  int64_t input_bytes_ = 0;
  int8_t* output_ = nullptr;
  int64_t output_bytes_ = 0;
  // Per-run link state, per peer: bytes it lets this participant send; its
  // oldest Receive op not yet complete (op_count: none) and the bytes of it
  // already in. Receive ops before granted_end_ have been granted credit.
  int64_t credit_[kMaxParticipants] = {};
  int32_t next_receive_[kMaxParticipants] = {};
  int64_t received_[kMaxParticipants] = {};
  int32_t granted_end_ = 0;
};

}  // namespace mcusplit::device
