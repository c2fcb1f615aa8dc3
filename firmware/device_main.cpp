// mcusplit_fw_device: one device of a plan as firmware (docs/firmware.md,
// "The device firmware"). Its program is the device image (docs/device_image.md)
// in the provisioning region, put there by QEMU before reset (-device
// loader,file=IMAGE,addr=PROVISION_ADDRESS) or sent by the coordinator as a
// Provision message before its greeting; the parsed tables go to a NOLOAD
// section in flash-like memory (they are constant once provisioned), and the
// RAM budget holds the static arena, one frame payload for the runtime, the
// link's buffers, the span records and the stack.
//
// It talks to the coordinator over UART0 (UartTransport, star topology):
//   - boot: prints one banner line on UART0 (the coordinator's serial link
//     skips it as garbage) and on semihosting, and parses the image;
//   - a Provision message before the greeting (provisioning over the link):
//     the transport writes its body into the provisioning region, and the
//     image in it replaces whatever was there (parsed at once, judged by
//     the greeting);
//   - the coordinator's first Ping: refused with an Error frame
//     (BadProvision; "device 'NAME' refused the plan: ...") if the image is
//     missing or corrupt, its arena exceeds this firmware's, its frames are
//     larger than the frame buffer, or the Ping is for another participant or
//     plan; the firmware then waits briefly for the coordinator's Stop and
//     exits with code 1. Otherwise a Pong carrying the image's plan hash;
//   - Start(id): runs the DeviceRuntime (no graph input or output on a
//     device), then Result (empty box), then Stats as a host worker sends
//     them (span records, compute clock records, then the summary); a Stop or Error from the
//     coordinator during the run abandons it (Stats with StoppedAtOp);
//   - Ping: Pong; Stop with inference id 0xFFFFFFFF: exit 0 (semihosting);
//   - a runtime failure: Stats StoppedAtOp, an Error frame (RuntimeFailed,
//     naming the op, the runtime status and its detail), exit code 1.
#include <cstdint>
#include <cstring>
#include <new>

#include "board.h"
#include "device/device_image.h"
#include "device/device_runtime.h"
#include "device/frame_codec.h"
#include "device/protocol.h"
#include "text.h"
#include "uart_transport.h"

#ifndef MCUSPLIT_FW_RECEIVE_TIMEOUT_MS
#error "MCUSPLIT_FW_RECEIVE_TIMEOUT_MS comes from firmware/CMakeLists.txt"
#endif

namespace fw = mcusplit::fw;
namespace dev = mcusplit::device;

namespace {

using dev::MessageType;
using dev::StatKey;
using dev::TransportStatus;

// How long a run waits for its next frame before it fails (a peer that
// stopped sending): the build option MCUSPLIT_FW_RECEIVE_TIMEOUT_MS. Between
// runs the firmware waits for commands without a limit (the host kills an
// abandoned QEMU).
constexpr uint32_t kReceiveTimeoutMs = MCUSPLIT_FW_RECEIVE_TIMEOUT_MS;
// After refusing the plan or failing: how long to wait for the coordinator's
// Stop before exiting, so that the Error frame is read before the link closes.
constexpr uint32_t kGoodbyeMs = 3000;
// Span records kept per inference (12 bytes each); further spans are only
// counted in the totals.
constexpr uint32_t kMaxSpans = 512;
// Span records per Stats frame.
constexpr uint32_t kStatsPerFrame = fw::kFramePayloadBytes / dev::kStatRecordBytes;

// The parsed image tables: in flash-like memory (a NOLOAD section in the
// FLASH region, mps2_an500.ld.in), not in the RAM budget. Constructed at boot
// (placement new), then filled by parse_device_image and never written again.
alignas(dev::DeviceImageStorage) __attribute__((
    section(".bss.mcusplit_image_tables"))) uint8_t g_tables[sizeof(dev::DeviceImageStorage)];

// The runtime's frame buffer: one chunk payload (RAM).
alignas(8) int8_t g_frame[fw::kFramePayloadBytes];

fw::UartTransport g_link(fw::uart0());
dev::ParsedImage g_image;

// Times every op through the runtime's OpObserver hooks: consecutive ops of
// one kind in one step merge into a span (docs/protocol.md, span records),
// and the compute and wait totals add up every op. Each Compute op also gets
// a clock record of its own: the 25 MHz ticks it took, with interrupts
// masked so that no SysTick handler runs inside it. Under QEMU's -icount
// that makes the figure a function of the instructions the op executed only
// (docs/firmware.md, "Instruction counts").
struct Span {
  uint32_t key;  // 0x80000000 | kind << 24 | step
  uint32_t begin_us;
  uint32_t duration_us;
};
struct ComputeClock {
  uint32_t step;
  uint32_t ticks;
};
// Zero-initialised, in .bss (inside the timer object its vtable pointer
// would put the whole arrays in .data).
Span g_spans[kMaxSpans];
ComputeClock g_compute_clocks[kMaxSpans];

class OpTimer final : public dev::OpObserver {
 public:
  void start() {
    start_ticks_ = fw::clock_ticks();
    count_ = 0;
    clock_count_ = 0;
    dropped_ = 0;
    compute_ticks_ = 0;
    wait_ticks_ = 0;
  }

  void op_begin(int32_t /*op_index*/, const dev::DeviceOp& op) override {
    if (op.kind == dev::DeviceOpKind::Compute) primask_ = fw::mask_interrupts();
    op_start_ticks_ = fw::clock_ticks();
  }

  void op_end(int32_t /*op_index*/, const dev::DeviceOp& op,
              dev::RuntimeStatus /*status*/) override {
    const uint64_t now = fw::clock_ticks();
    const uint64_t spent = now - op_start_ticks_;
    const uint32_t kind = kind_of(op.kind);
    if (kind == 0) {
      fw::restore_interrupts(primask_);
      compute_ticks_ += spent;
      if (clock_count_ < kMaxSpans) {
        g_compute_clocks[clock_count_++] =
            ComputeClock{static_cast<uint32_t>(op.step), clamp32(spent)};
      }
    }
    if (kind == 1 || kind == 2) wait_ticks_ += spent;
    const uint32_t key =
        0x80000000u | (kind << 24) | (static_cast<uint32_t>(op.step) & 0x00FFFFFFu);
    if (count_ > 0 && g_spans[count_ - 1].key == key) {
      g_spans[count_ - 1].duration_us = to_us(now - start_ticks_) - g_spans[count_ - 1].begin_us;
      return;
    }
    if (count_ == kMaxSpans) {
      ++dropped_;
      return;
    }
    g_spans[count_++] = Span{key, to_us(op_start_ticks_ - start_ticks_), to_us(spent)};
  }

  const Span* spans() const { return g_spans; }
  uint32_t count() const { return count_; }
  const ComputeClock* compute_clocks() const { return g_compute_clocks; }
  uint32_t clock_count() const { return clock_count_; }
  uint32_t dropped() const { return dropped_; }
  uint64_t compute_us() const { return compute_ticks_ / kTicksPerUs; }
  uint64_t wait_us() const { return wait_ticks_ / kTicksPerUs; }

 private:
  static constexpr uint32_t kTicksPerUs = fw::kCoreClockHz / 1000000;
  // The span kinds of the protocol: 0 compute, 1 receive, 2 send, 3 other.
  static uint32_t kind_of(dev::DeviceOpKind k) {
    switch (k) {
      case dev::DeviceOpKind::Compute:
        return 0;
      case dev::DeviceOpKind::Receive:
        return 1;
      case dev::DeviceOpKind::Send:
        return 2;
      default:
        return 3;
    }
  }
  static uint32_t clamp32(uint64_t v) { return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : uint32_t(v); }
  static uint32_t to_us(uint64_t ticks) { return clamp32(ticks / kTicksPerUs); }

  uint32_t count_ = 0;
  uint32_t clock_count_ = 0;
  uint32_t dropped_ = 0;
  uint32_t primask_ = 0;
  uint64_t start_ticks_ = 0;
  uint64_t op_start_ticks_ = 0;
  uint64_t compute_ticks_ = 0;
  uint64_t wait_ticks_ = 0;
};

OpTimer g_timer;

// What the device knows about itself for messages.
struct Identity {
  char name[64] = "";
  bool image_ok = false;
  uint32_t inferences = 0;
};
Identity g_self;

using Message = fw::Text<320>;

void add_name(Message& t, int32_t participant) {
  if (g_self.name[0] != '\0') {
    t.add("device '").add(g_self.name).add("'");
  } else {
    t.add("device (participant ").dec(static_cast<uint32_t>(participant)).add(")");
  }
}

uint32_t address_of(const void* p) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p));
}

void add_hash(Message& t, uint64_t hash) {
  t.hex(static_cast<uint32_t>(hash >> 32)).hex(static_cast<uint32_t>(hash));
}

// Parses the device image at `image` (`bytes` long, inside the provisioning
// region); on failure `why` says what is wrong with it. Also checks that this
// firmware can run it.
bool load_image(const uint8_t* image, uint32_t bytes, Message* why) {
  const fw::MemoryRegion region = fw::provision_region();
  auto* tables = new (g_tables) dev::DeviceImageStorage;
  const dev::ImageStatus status = dev::parse_device_image(image, bytes, tables, &g_image);
  if (status == dev::ImageStatus::BadMagic) {
    why->add("its provisioning region at 0x").hex(address_of(region.data));
    why->add(" holds no device image (load one with -device loader,file=IMAGE,addr=0x");
    why->hex(address_of(region.data)).add(", or provision it over the link)");
    return false;
  }
  if (status != dev::ImageStatus::Ok) {
    why->add("its device image is unusable: ").add(dev::device_image_status_name(status));
    why->add(" (").add(g_image.detail);
    if (status == dev::ImageStatus::BadProgram) why->add(": ").add(g_image.problem.what);
    why->add(")");
    return false;
  }
  const uint32_t n = g_image.device_name_bytes < sizeof(g_self.name) - 1
                         ? g_image.device_name_bytes
                         : static_cast<uint32_t>(sizeof(g_self.name) - 1);
  std::memcpy(g_self.name, g_image.device_name, n);
  g_self.name[n] = '\0';
  const dev::DeviceProgram& program = g_image.program;
  if (program.arena_bytes > static_cast<int64_t>(fw::kArenaBytes)) {
    why->add("its arena needs ").dec(static_cast<uint64_t>(program.arena_bytes));
    why->add(" bytes, this firmware has ").dec(fw::kArenaBytes);
    why->add(" (MCUSPLIT_FW_ARENA_BYTES)");
    return false;
  }
  if (g_image.max_payload_bytes > fw::kFramePayloadBytes) {
    why->add("its frames carry up to ").dec(g_image.max_payload_bytes);
    why->add(" payload bytes, this firmware's frame buffer holds ").dec(fw::kFramePayloadBytes);
    return false;
  }
  if (program.participant_count > dev::kMaxParticipants) {
    why->add("its plan has ").dec(static_cast<uint32_t>(program.participant_count));
    why->add(" participants, this firmware supports ").dec(dev::kMaxParticipants);
    return false;
  }
  if (program.coordinator()) {
    why->add("its image is the coordinator's program, not a device's");
    return false;
  }
  return true;
}

void print_banner(fw::CmsdkUart& uart, bool ok, const Message& why) {
  const fw::MemoryRegion region = fw::provision_region();
  Message t;
  t.add("mcusplit-fw device: ");
  if (ok) {
    const dev::DeviceProgram& p = g_image.program;
    t.add("'").add(g_self.name).add("' participant ").dec(static_cast<uint32_t>(p.participant));
    t.add(" of ").dec(static_cast<uint32_t>(p.participant_count));
    t.add(", plan ");
    add_hash(t, g_image.plan_hash);
    t.add(", image ").dec(g_image.image_bytes).add(" bytes at 0x").hex(address_of(region.data));
    t.add(", arena ").dec(static_cast<uint64_t>(p.arena_bytes)).add(" of ").dec(fw::kArenaBytes);
    t.add(", ops ").dec(static_cast<uint32_t>(p.op_count));
  } else {
    t.add("no usable plan: ").add(why.c_str());
  }
  t.add(", ram_budget=").dec(fw::ram_budget_bytes());
  t.add(" static_ram=").dec(fw::ram_static_bytes());
  t.add("\r\n");
  uart.write(t.bytes(), t.size());
  fw::semihosting::write0(t.c_str());
}

// Reads (and drops) what the coordinator still sends until its Stop or
// kGoodbyeMs, so that the frames this device sent last are read before its
// link closes; then exits with `code`.
[[noreturn]] void goodbye(const char* text, int code) {
  g_link.flush();
  fw::semihosting::write0(text);
  fw::semihosting::write0("\n");
  const uint32_t start = fw::millis();
  while (fw::millis() - start < kGoodbyeMs) {
    fw::ControlMessage m;
    const uint32_t left = kGoodbyeMs - (fw::millis() - start);
    const TransportStatus s = g_link.wait_control(&m, left);
    if (s == TransportStatus::Timeout) break;
    if (s == TransportStatus::Ok && m.header.type == MessageType::Stop &&
        m.header.inference_id == dev::kNoInference) {
      break;
    }
  }
  fw::semihosting::exit(code);
}

[[noreturn]] void shut_down() {
  g_link.flush();
  const dev::SerialReaderStats& s = g_link.reader_stats();
  Message t;
  t.add("mcusplit-fw: ");
  add_name(t, g_link.self());
  t.add(" stops: inferences=").dec(g_self.inferences);
  t.add(" frames_ok=").dec(s.frames_ok);
  t.add(" garbage_bytes=").dec(s.garbage_bytes);
  t.add(" uptime_ms=").dec(fw::millis());
  t.add(" stack_high_water=").dec(fw::stack_high_water_bytes());
  t.add("\n");
  fw::semihosting::write0(t.c_str());
  fw::semihosting::exit(fw::kExitOk);
}

uint16_t coordinator() {
  return static_cast<uint16_t>(g_image.program.participant_count - 1);
}

void put_stat(uint8_t* body, uint32_t* n, StatKey key, uint64_t value) {
  dev::encode_stat(key, value, body + *n);
  *n += dev::kStatRecordBytes;
}

void send_stopped_at(uint32_t id, int32_t op) {
  uint8_t body[dev::kStatRecordBytes];
  uint32_t n = 0;
  put_stat(body, &n, StatKey::StoppedAtOp, static_cast<uint64_t>(op < 0 ? 0 : op));
  g_link.send_control(MessageType::Stats, coordinator(), id, body, n);
}

[[noreturn]] void runtime_failed(uint32_t id, const dev::DeviceRuntime& runtime) {
  const dev::RuntimeFailure& f = runtime.failure();
  const dev::DeviceProgram& program = g_image.program;
  send_stopped_at(id, f.op_index);
  Message t;
  add_name(t, g_link.self());
  if (f.op_index >= 0 && f.op_index < program.op_count) {
    const dev::DeviceOp& op = program.ops[f.op_index];
    t.add(" failed at op ").dec(static_cast<uint32_t>(f.op_index)).add(" (");
    t.add(dev::device_op_kind_name(op.kind)).add(", step ").dec(static_cast<uint32_t>(op.step));
    if (op.kind == dev::DeviceOpKind::Compute) t.add(", layer ").dec(uint32_t(op.layer));
    if (op.peer >= 0) t.add(", peer ").dec(static_cast<uint32_t>(op.peer));
    t.add(")");
  } else {
    t.add(" failed before its first op");
  }
  t.add(": ").add(dev::runtime_status_name(f.status)).add(": ").add(f.detail);
  if (f.status == dev::RuntimeStatus::TransportFailed) {
    t.add(" (").add(dev::transport_status_name(f.transport));
    if (f.transport == TransportStatus::Timeout) t.add(" after ").dec(kReceiveTimeoutMs).add(" ms");
    if (g_link.error()[0] != '\0') t.add(": ").add(g_link.error());
    t.add(")");
  }
  if (f.status == dev::RuntimeStatus::KernelFailed) {
    t.add(" (kernel status ").dec(static_cast<uint32_t>(f.kernel)).add(")");
  }
  g_link.send_error(coordinator(), id, dev::ErrorCode::RuntimeFailed, t.c_str());
  goodbye(t.c_str(), fw::kExitError);
}

// Span records and compute clock records (as many Stats frames as they
// take), then the summary.
void send_stats(uint32_t id, const dev::DeviceRuntime& runtime, uint64_t total_us) {
  auto* body = reinterpret_cast<uint8_t*>(g_frame);  // the run is over: the frame buffer is free
  const uint32_t per_frame = g_image.max_payload_bytes / dev::kStatRecordBytes < kStatsPerFrame
                                 ? g_image.max_payload_bytes / dev::kStatRecordBytes
                                 : kStatsPerFrame;
  uint32_t n = 0;
  const auto put_record = [&](uint32_t key, uint64_t value) {
    dev::store_le32(body + n, key);
    dev::store_le64(body + n + 4, value);
    n += dev::kStatRecordBytes;
    if (n == per_frame * dev::kStatRecordBytes) {
      g_link.send_control(MessageType::Stats, coordinator(), id, body, n);
      n = 0;
    }
  };
  const Span* spans = g_timer.spans();
  for (uint32_t i = 0; i < g_timer.count(); ++i) {
    put_record(spans[i].key,
               (static_cast<uint64_t>(spans[i].begin_us) << 32) | spans[i].duration_us);
  }
  const ComputeClock* clocks = g_timer.compute_clocks();
  for (uint32_t i = 0; i < g_timer.clock_count(); ++i) {
    put_record(dev::compute_clock_key(clocks[i].step), clocks[i].ticks);
  }
  if (n > 0) g_link.send_control(MessageType::Stats, coordinator(), id, body, n);
  n = 0;
  const dev::RuntimeStats& s = runtime.stats();
  const fw::UartLinkCounters& c = g_link.counters();
  // The keys in ascending order, as a host worker sends them; FramesSent
  // counts this summary frame too.
  put_stat(body, &n, StatKey::TotalMicros, total_us);
  put_stat(body, &n, StatKey::ComputeMicros, g_timer.compute_us());
  put_stat(body, &n, StatKey::WaitMicros, g_timer.wait_us());
  put_stat(body, &n, StatKey::BytesSent, static_cast<uint64_t>(s.bytes_sent));
  put_stat(body, &n, StatKey::BytesReceived, static_cast<uint64_t>(s.bytes_received));
  put_stat(body, &n, StatKey::FramesSent, c.frames_sent + 1u);
  put_stat(body, &n, StatKey::FramesReceived, c.frames_received);
  put_stat(body, &n, StatKey::PeakArenaBytes, static_cast<uint64_t>(s.high_water_bytes));
  put_stat(body, &n, StatKey::DataFramesSent, static_cast<uint64_t>(s.frames_sent));
  put_stat(body, &n, StatKey::CreditFramesSent, static_cast<uint64_t>(s.credit_grants));
  put_stat(body, &n, StatKey::ClockHz, fw::kCoreClockHz);
  g_link.send_control(MessageType::Stats, coordinator(), id, body, n);
}

void run_inference(uint32_t id, dev::DeviceRuntime& runtime) {
  g_link.set_inference(id);
  g_link.reset_counters();
  g_link.clear_interrupt();
  g_timer.start();
  const uint64_t start_us = fw::micros();
  const dev::RuntimeStatus status = runtime.run(nullptr, 0, nullptr, 0, &g_timer);
  if (status != dev::RuntimeStatus::Ok) {
    const fw::UartTransport::Interrupt stop = g_link.interrupt();
    if (!stop.pending) runtime_failed(id, runtime);
    g_link.clear_interrupt();
    if (stop.type == MessageType::Stop && stop.inference_id == dev::kNoInference) shut_down();
    // Abandoned (a Stop, or the coordinator's Error): say where this device
    // was, so that the coordinator can say where the run stopped.
    send_stopped_at(id, runtime.failure().op_index);
    return;
  }
  g_link.send_control(MessageType::Result, coordinator(), id, nullptr, 0,
                      static_cast<uint32_t>(g_image.program.output_tensor));
  send_stats(id, runtime, fw::micros() - start_us);
  ++g_self.inferences;
}

// The device runtime, constructed once the plan is accepted (in .bss).
alignas(dev::DeviceRuntime) uint8_t g_runtime_bytes[sizeof(dev::DeviceRuntime)];

// The first Ping: the coordinator's greeting. Refuses (Error BadProvision,
// then exit 1) when this device cannot run the plan; else sets up the
// runtime and answers Pong with the image's plan hash.
dev::DeviceRuntime* greet(const fw::ControlMessage& m, bool image_ok, const Message& problem) {
  const dev::FrameHeader& h = m.header;
  g_link.set_self(h.destination);
  Message why;
  if (!image_ok) {
    why.add(problem.c_str());
  } else if (h.destination != g_image.program.participant) {
    why.add("the coordinator addressed participant ").dec(h.destination);
    why.add(" but its image is participant ").dec(uint32_t(g_image.program.participant));
  } else if (h.source != coordinator()) {
    why.add("the greeting came from participant ").dec(h.source);
    why.add(" but its plan's coordinator is participant ").dec(coordinator());
  } else if (h.plan_hash != 0 && h.plan_hash != g_image.plan_hash) {
    why.add("its device image is for plan ");
    add_hash(why, g_image.plan_hash);
    why.add(" but the coordinator runs plan ");
    add_hash(why, h.plan_hash);
  }
  dev::DeviceRuntime* runtime = nullptr;
  if (why.size() == 0) {
    g_link.set_plan(g_image.plan_hash, g_image.max_payload_bytes,
                    g_image.program.participant_count);
    g_link.set_timeout_ms(kReceiveTimeoutMs);
    const fw::MemoryRegion arena = fw::arena();
    runtime = new (g_runtime_bytes)
        dev::DeviceRuntime(g_image.program, reinterpret_cast<int8_t*>(arena.data), arena.bytes,
                           g_frame, sizeof(g_frame), &g_link);
    const dev::RuntimeFailure& f = runtime->failure();
    if (runtime->setup_status() != dev::RuntimeStatus::Ok) {
      why.add("the device runtime refuses its program: ").add(dev::runtime_status_name(f.status));
      why.add(" (").add(f.detail).add(")");
    }
  }
  if (why.size() > 0) {
    Message t;
    add_name(t, h.destination);
    t.add(" refused the plan: ").add(why.c_str());
    g_link.send_error(h.source, h.inference_id, dev::ErrorCode::BadProvision, t.c_str());
    goodbye(t.c_str(), fw::kExitError);
  }
  g_link.send_control(MessageType::Pong, h.source, h.inference_id, m.payload, m.payload_bytes);
  return runtime;
}

// A Provision message whose body (docs/protocol.md: u32 image bytes, the
// image, then names and addresses, which a star device does not need) the
// transport wrote at the start of the provisioning region: its image starts
// 4 bytes in, 4-byte aligned as the parser requires.
bool load_provisioned_image(Message* why) {
  const fw::MemoryRegion region = fw::provision_region();
  const uint32_t image_bytes = dev::load_le32(region.data);
  if (image_bytes > region.bytes - 4) {
    why->add("its Provision message is malformed (an image of ").dec(image_bytes);
    why->add(" bytes in a region of ").dec(region.bytes).add(")");
    return false;
  }
  return load_image(region.data + 4, image_bytes, why);
}

[[noreturn]] void link_failed(const char* when) {
  Message t;
  add_name(t, g_link.self());
  t.add(": the link to the coordinator failed ").add(when).add(": ").add(g_link.error());
  goodbye(t.c_str(), fw::kExitError);
}

}  // namespace

int main() {
  fw::CmsdkUart& uart = fw::board_init();
  const fw::MemoryRegion region = fw::provision_region();
  Message problem;
  bool image_ok = load_image(region.data, region.bytes, &problem);
  print_banner(uart, image_ok, problem);
  g_link.set_provision_buffer(region.data, region.bytes);

  // Until the greeting: no plan, so any plan hash and the default payload.
  dev::DeviceRuntime* runtime = nullptr;
  for (;;) {
    fw::ControlMessage m;
    if (g_link.wait_control(&m, fw::kForever) != TransportStatus::Ok) {
      link_failed("between inferences");
    }
    const dev::FrameHeader& h = m.header;
    if (h.type == MessageType::Stop) {
      if (h.inference_id == dev::kNoInference) shut_down();
      continue;  // nothing runs: nothing to abandon
    }
    if (runtime == nullptr && h.type == MessageType::Provision) {
      // The image over the link (the transport wrote it into the region);
      // the greeting that follows accepts or refuses it.
      problem = Message{};
      image_ok = load_provisioned_image(&problem);
      fw::semihosting::write0(image_ok ? "mcusplit-fw device: provisioned over the link\n"
                                       : "mcusplit-fw device: provisioning failed\n");
      continue;
    }
    if (runtime == nullptr) {
      if (h.type != MessageType::Ping) {
        g_link.send_error(h.source, h.inference_id, dev::ErrorCode::NotProvisioned,
                          "a device must be greeted with a Ping first");
        continue;
      }
      runtime = greet(m, image_ok, problem);
      continue;
    }
    switch (h.type) {
      case MessageType::Ping:
        g_link.send_control(MessageType::Pong, h.source, h.inference_id, m.payload,
                            m.payload_bytes);
        break;
      case MessageType::Start:
        run_inference(h.inference_id, *runtime);
        break;
      default: {
        Message t;
        add_name(t, g_link.self());
        t.add(": unexpected ").add(dev::message_type_name(h.type)).add(" message");
        g_link.send_error(h.source, h.inference_id, dev::ErrorCode::UnexpectedMessage, t.c_str());
        goodbye(t.c_str(), fw::kExitError);
      }
    }
  }
}
