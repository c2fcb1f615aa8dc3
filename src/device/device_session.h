// The device's side of the protocol once it holds its program
// (docs/protocol.md, "Message types"): between runs it answers Ping with
// Pong, ignores a Stop of an inference that is not running and ends on a
// Stop of kNoInference; each Start runs the DeviceRuntime, then sends Result
// and Stats (span records, compute clock records, then the summary whose
// TotalMicros closes them); a Stop or Error from the coordinator during a
// run abandons it (Stats StoppedAtOp); a runtime failure is reported as Stats
// StoppedAtOp and an Error frame (RuntimeFailed) naming the op and cause.
//
// One session serves the firmware (over UART), the host worker (over
// sockets) and the in-process cluster (over the in-memory network), so host
// tests run the code the firmware runs. Greeting and provisioning come
// before it and differ by where the image comes from; their checks are
// plan_acceptance.h. Freestanding: no heap, no exceptions; the runtime lives
// inside the session, the arena, frame buffer and records are the caller's.
#pragma once

#include <cstdint>

#include "device/device_runtime.h"
#include "device/plan_acceptance.h"
#include "device/run_timer.h"
#include "device/session_link.h"

namespace mcusplit::device {

// Caller-owned memory of a session.
struct SessionMemory {
  int8_t* arena = nullptr;
  int64_t arena_bytes = 0;
  // The runtime's frame buffer, reused for Stats and Error bodies after a
  // run: at least kMinSessionFrameBytes.
  int8_t* frame = nullptr;
  int64_t frame_bytes = 0;
  RunRecords records;
};

// Room for the summary Stats record set and for an Error frame's code and
// whole message (a Reason).
inline constexpr int64_t kSummaryStatsBytes = 12 * int64_t{kStatRecordBytes};
inline constexpr int64_t kErrorBodyBytes = int64_t{kErrorCodeBytes} + int64_t{sizeof(Reason)};
inline constexpr int64_t kMinSessionFrameBytes =
    kSummaryStatsBytes > kErrorBodyBytes ? kSummaryStatsBytes : kErrorBodyBytes;

enum class SessionEnd : uint8_t {
  Shutdown,       // Stop with kNoInference
  RuntimeFailed,  // reported to the coordinator (Stats StoppedAtOp, Error)
  Unexpected,     // a command the session does not take (reported with an Error)
  Idle,           // no command within the idle timeout
  LinkFailed,     // the link to the coordinator failed or closed
};

class DeviceSession {
 public:
  // `receive_timeout_ms` is only for messages: how long the link's polls wait.
  DeviceSession(SessionLink& link, SessionClock& clock, const SessionMemory& memory,
                uint32_t receive_timeout_ms);
  DeviceSession(const DeviceSession&) = delete;
  DeviceSession& operator=(const DeviceSession&) = delete;

  // Sets up the runtime for `program` (which must outlive the session) of
  // the device called `name` (NUL-terminated, may be ""). False, and `why`
  // says so, if the runtime refuses it or the memory is too small.
  bool load(const DeviceProgram& program, const char* name, Reason* why);

  // Serves the coordinator's commands until one of the ends above; waits up
  // to `idle_timeout_ms` (kWaitForever: no limit) for each. `observer`, if
  // given, also sees every op of every run.
  SessionEnd serve(uint32_t idle_timeout_ms, OpObserver* observer = nullptr);

  // Why serve() ended, one line (what was sent in the Error frame, if any).
  const char* message() const { return message_.c_str(); }
  // The last run's failure and figures.
  const RuntimeFailure& failure() const { return runtime()->failure(); }
  const RuntimeStats& stats() const { return runtime()->stats(); }
  uint32_t inferences() const { return inferences_; }
  bool loaded() const { return loaded_; }

 private:
  enum class RunEnd : uint8_t { Done, Abandoned, Shutdown, Failed };
  RunEnd run_inference(uint32_t id, OpObserver* observer);
  void describe_failure(const RuntimeFailure& f);
  // An Error frame whose text is message().
  void send_error(uint16_t destination, uint32_t id, ErrorCode code);
  void send_stopped_at(uint32_t id, int32_t op);
  TransportStatus send_stats(uint32_t id, const RunTimer& timer, uint64_t total_us);
  uint16_t coordinator() const { return static_cast<uint16_t>(program_->participant_count - 1); }
  DeviceRuntime* runtime() { return reinterpret_cast<DeviceRuntime*>(runtime_storage_); }
  const DeviceRuntime* runtime() const {
    return reinterpret_cast<const DeviceRuntime*>(runtime_storage_);
  }

  SessionLink& link_;
  SessionClock& clock_;
  SessionMemory memory_;
  uint32_t receive_timeout_ms_;
  const DeviceProgram* program_ = nullptr;
  char name_[64] = "";
  bool loaded_ = false;
  uint32_t inferences_ = 0;
  Reason message_;
  // The runtime, constructed by load() (no heap; never destroyed: it owns
  // nothing).
  alignas(DeviceRuntime) uint8_t runtime_storage_[sizeof(DeviceRuntime)] = {};
};

}  // namespace mcusplit::device
