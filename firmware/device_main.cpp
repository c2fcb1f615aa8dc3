// mcusplit_fw_device: one device of a plan as firmware (docs/firmware.md,
// "The device firmware"). Its program is the device image (docs/device_image.md)
// in the provisioning region, put there by QEMU before reset (-device
// loader,file=IMAGE,addr=PROVISION_ADDRESS) or sent by the coordinator as a
// Provision message before its greeting; the parsed tables go to a NOLOAD
// section in flash-like memory (they are constant once provisioned), and the
// RAM budget holds the static arena, one frame payload for the runtime, the
// link's buffers, the span records and the stack.
//
// It talks over UART0 (star topology: the coordinator relays every frame) or,
// built with MCUSPLIT_FW_LINK_ETHERNET (mcusplit_fw_device_eth), over the
// LAN9118 Ethernet controller through a switch to every participant
// (LinkTransport over the port, link_transport.h):
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
//   - then the DeviceSession every device runs (device/device_session.h):
//     Start, Ping, Stop, Result and Stats, with compute clock records
//     timed by the board's SYSCLK (25 or 20 MHz) with interrupts masked around each Compute
//     op, so that under QEMU's -icount they count instructions only
//     (docs/firmware.md, "Instruction counts"); a session that ends with
//     Stop exits 0 (semihosting), any other end exits 1.
#include <cstdint>
#include <cstring>
#include <new>

#include "board.h"
#include "device/device_image.h"
#include "device/device_session.h"
#include "device/image_auth.h"
#include "device/plan_acceptance.h"
#include "device/protocol.h"
#include "device/text.h"
#include "link_transport.h"
#if MCUSPLIT_FW_LINK_ETHERNET
#include "ethernet_port.h"
#else
#include "uart_port.h"
#endif

#ifndef MCUSPLIT_FW_RECEIVE_TIMEOUT_MS
#error "MCUSPLIT_FW_RECEIVE_TIMEOUT_MS comes from firmware/CMakeLists.txt"
#endif
#ifndef MCUSPLIT_FW_TRACE_RECORDS
#error "MCUSPLIT_FW_TRACE_RECORDS comes from firmware/CMakeLists.txt"
#endif

namespace fw = mcusplit::fw;
namespace dev = mcusplit::device;

namespace {

using dev::MessageType;
using dev::TransportStatus;
using Message = dev::Reason;

// How long a run waits for its next frame before it fails (a peer that
// stopped sending): the build option MCUSPLIT_FW_RECEIVE_TIMEOUT_MS. Between
// runs the firmware waits for commands without a limit (the host kills an
// abandoned QEMU).
constexpr uint32_t kReceiveTimeoutMs = MCUSPLIT_FW_RECEIVE_TIMEOUT_MS;
// After refusing the plan or failing: how long to wait for the coordinator's
// Stop before exiting, so that the Error frame is read before the link closes.
constexpr uint32_t kGoodbyeMs = 3000;
// Span records kept per inference (12 bytes each), and as many compute clock
// records (8 bytes each: one per compute span, so never more than spans):
// the build option MCUSPLIT_FW_TRACE_RECORDS. Further spans are only counted
// in the totals.
constexpr uint32_t kMaxSpans = MCUSPLIT_FW_TRACE_RECORDS;

// The parsed image tables: in flash-like memory (a NOLOAD section in the
// FLASH region, mps2.ld.in), not in the RAM budget. Constructed at boot
// (placement new), then filled by parse_device_image and never written again.
alignas(dev::DeviceImageStorage) __attribute__((
    section(".bss.mcusplit_image_tables"))) uint8_t g_tables[sizeof(dev::DeviceImageStorage)];

// The runtime's frame buffer: one chunk payload (RAM). The link transport
// keeps control payloads in it too (link_transport.h).
alignas(8) int8_t g_frame[fw::kFramePayloadBytes];
dev::SpanRecord g_spans[kMaxSpans];
dev::ComputeClockRecord g_compute_clocks[kMaxSpans];

// The SYSCLK counter, SysTick-extended; interrupts masked inside Compute ops.
class FirmwareClock final : public dev::SessionClock {
 public:
  uint64_t ticks() override { return fw::clock_ticks(); }
  uint64_t ticks_per_second() const override { return fw::kCoreClockHz; }
  bool compute_clock_records() const override { return true; }
  uint32_t compute_begin() override { return fw::mask_interrupts(); }
  void compute_end(uint32_t primask) override { fw::restore_interrupts(primask); }
};

#if MCUSPLIT_FW_LINK_ETHERNET
// The frame awaiting its Ack (Ethernet loses frames; link_transport.h).
fw::RetransmitState g_retransmit;
fw::EthernetPort g_port(fw::ethernet0(), g_retransmit);
fw::LinkTransport g_link(g_port, reinterpret_cast<uint8_t*>(g_frame));
#else
fw::UartPort g_port;
fw::LinkTransport g_link(g_port, reinterpret_cast<uint8_t*>(g_frame));
#endif
FirmwareClock g_clock;
// The session, constructed by the greeting once the plan is accepted (.bss).
alignas(dev::DeviceSession) uint8_t g_session_bytes[sizeof(dev::DeviceSession)];
dev::DeviceSession* g_session = nullptr;
dev::ParsedImage g_image;
char g_name[64] = "";

uint32_t address_of(const void* p) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p));
}

// Parses the device image at `image` (`bytes` long, inside the provisioning
// region, its tag included when it has one); on failure `why` says what is
// wrong with it. With a cluster key (fw::cluster_key) the image's tag is
// checked before a byte of it is parsed. Also checks that this firmware can
// run it.
bool load_image(const uint8_t* image, uint32_t bytes, Message* why) {
  const fw::MemoryRegion region = fw::provision_region();
  auto* tables = new (g_tables) dev::DeviceImageStorage;
  size_t image_bytes = bytes;
  // No image at all (an empty region): the parser says so below.
  const dev::ImageAuthStatus auth =
      dev::declared_image_bytes(image, bytes) == 0
          ? dev::ImageAuthStatus::Ok
          : dev::check_image_tag(image, bytes, fw::cluster_key(), &image_bytes);
  if (auth != dev::ImageAuthStatus::Ok) {
    why->add(dev::image_auth_status_text(auth));
    return false;
  }
  const dev::ImageStatus status = dev::parse_device_image(image, image_bytes, tables, &g_image);
  if (status == dev::ImageStatus::BadMagic) {
    why->add("its provisioning region at 0x").hex(address_of(region.data));
    why->add(" holds no device image (load one with -device loader,file=IMAGE,addr=0x");
    why->hex(address_of(region.data)).add(", or provision it over the link)");
    return false;
  }
  if (status != dev::ImageStatus::Ok) {
    dev::add_image_problem(*why, status, g_image);
    return false;
  }
  const uint32_t n = g_image.device_name_bytes < sizeof(g_name) - 1
                         ? g_image.device_name_bytes
                         : static_cast<uint32_t>(sizeof(g_name) - 1);
  std::memcpy(g_name, g_image.device_name, n);
  g_name[n] = '\0';
  dev::DeviceCapacity capacity;
  capacity.arena_bytes = static_cast<int64_t>(fw::kArenaBytes);
  capacity.max_payload = fw::kFramePayloadBytes;
  capacity.holder = "firmware";
  capacity.setting = "MCUSPLIT_FW_RAM_BYTES minus kDeviceRuntimeRamBytes";
  return dev::image_fits(g_image, capacity, why);
}

void print_banner(fw::CmsdkUart& uart, bool ok, const Message& why) {
  const fw::MemoryRegion region = fw::provision_region();
  Message t;
  t.add("mcusplit-fw device: ");
  if (ok) {
    const dev::DeviceProgram& p = g_image.program;
    t.add("'").add(g_name).add("' participant ").dec(static_cast<uint32_t>(p.participant));
    t.add(" of ").dec(static_cast<uint32_t>(p.participant_count));
    t.add(", plan ");
    t.hex(static_cast<uint32_t>(g_image.plan_hash >> 32))
        .hex(static_cast<uint32_t>(g_image.plan_hash));
    t.add(", image ").dec(g_image.image_bytes).add(" bytes at 0x").hex(address_of(region.data));
    t.add(", arena ").dec(static_cast<uint64_t>(p.arena_bytes)).add(" of ").dec(fw::kArenaBytes);
    t.add(", ops ").dec(static_cast<uint32_t>(p.op_count));
  } else {
    t.add("no usable plan: ").add(why.c_str());
  }
#if MCUSPLIT_FW_LINK_ETHERNET
  t.add(", ethernet ");
  for (size_t i = 0; i < dev::kMacBytes; ++i) {
    const uint8_t b = g_port.mac().bytes[i];
    const char hex[] = "0123456789abcdef";
    const char pair[4] = {hex[b >> 4], hex[b & 15], i + 1 < dev::kMacBytes ? ':' : '\0', '\0'};
    t.add(pair);
  }
#endif
  t.add(", ram_budget=").dec(fw::ram_budget_bytes());
  t.add(" static_ram=").dec(fw::ram_static_bytes());
  t.add(" arena=").dec(fw::kArenaBytes);
  t.add(" stack=").dec(fw::stack_bytes());
  t.add("\r\n");
  uart.write(t.bytes(), t.size());
  fw::semihosting::write0(t.c_str());
}

// Reads (and drops) what the coordinator still sends until its Stop or
// kGoodbyeMs, so that the frames this device sent last are read before its
// link closes; then exits with `code`. Says how deep the stack has been, as
// a clean stop does, and `text` again as its last line.
[[noreturn]] void goodbye(const char* text, int code) {
  g_link.flush();
  fw::semihosting::write0(text);
  fw::semihosting::write0("\n");
  const uint32_t start = fw::millis();
  while (fw::millis() - start < kGoodbyeMs) {
    dev::ControlMessage m;
    const uint32_t left = kGoodbyeMs - (fw::millis() - start);
    const TransportStatus s = g_link.wait_control(&m, left);
    if (s == TransportStatus::Timeout) break;
    if (s == TransportStatus::Ok && m.header.type == MessageType::Stop &&
        m.header.inference_id == dev::kNoInference) {
      break;
    }
  }
  Message t;
  t.add("mcusplit-fw: exits with ").dec(static_cast<uint32_t>(code));
  t.add(", stack_high_water=").dec(fw::stack_high_water_bytes()).add(", because:\n");
  fw::semihosting::write0(t.c_str());
  // Last, the reason again: the line the host quotes.
  fw::semihosting::write0(text);
  fw::semihosting::write0("\n");
  fw::semihosting::exit(code);
}

[[noreturn]] void shut_down() {
  g_link.flush();
  const dev::SerialReaderStats& s = g_link.reader_stats();
  Message t;
  t.add("mcusplit-fw: ");
  dev::add_device_name(t, g_name, g_link.self());
  t.add(" stops: inferences=").dec(g_session != nullptr ? g_session->inferences() : 0u);
  t.add(" frames_ok=").dec(s.frames_ok);
  t.add(" garbage_bytes=").dec(s.garbage_bytes);
  t.add(" tags_refused=").dec(g_link.tags_refused());
#if MCUSPLIT_FW_LINK_ETHERNET
  const fw::EthernetDrops& d = g_port.drops();
  t.add(" retransmissions=").dec(g_retransmit.retransmissions);
  t.add(" duplicates=").dec(g_retransmit.duplicates);
  t.add(" refused=").dec(g_retransmit.refused);
  t.add(" dropped_short=").dec(d.short_frames).add(" dropped_type=").dec(d.wrong_type);
  t.add(" dropped_unaddressed=").dec(d.not_addressed);
  t.add(" dropped_unknown_mac=").dec(d.unknown_source);
#endif
  t.add(" uptime_ms=").dec(fw::millis());
  t.add(" stack_high_water=").dec(fw::stack_high_water_bytes());
  t.add("\n");
  fw::semihosting::write0(t.c_str());
  fw::semihosting::exit(fw::kExitOk);
}

// The first Ping: the coordinator's greeting. Refuses (Error BadProvision,
// then exit 1) when this device cannot run the plan; else loads the program
// into the session and answers Pong with the image's plan hash.
void greet(const dev::ControlMessage& m, bool image_ok, const Message& problem) {
  const dev::FrameHeader& h = m.header;
  g_link.set_self(h.destination);
  Message why;
  if (!image_ok) {
    why.add(problem.c_str());
  } else if (dev::greeting_matches(g_image, h.source, h.destination, h.plan_hash, &why)) {
    g_link.set_plan(g_image.plan_hash, g_image.max_payload_bytes,
                    g_image.program.participant_count);
    g_link.set_timeout_ms(kReceiveTimeoutMs);
    const fw::MemoryRegion arena = fw::arena();
    g_session = new (g_session_bytes) dev::DeviceSession(
        g_link, g_clock,
        dev::SessionMemory{reinterpret_cast<int8_t*>(arena.data), arena.bytes, g_frame,
                           sizeof(g_frame),
                           dev::RunRecords{g_spans, kMaxSpans, g_compute_clocks, kMaxSpans}},
        kReceiveTimeoutMs);
    g_session->load(g_image.program, g_name, &why);
  }
  if (why.size() > 0) {
    Message t;
    dev::refusal_text(g_name, h.destination, why, &t);
    g_link.send_error(h.source, h.inference_id, dev::ErrorCode::BadProvision, t.c_str());
    goodbye(t.c_str(), fw::kExitError);
  }
  if (!g_link.keyed()) {
    g_link.send_control(MessageType::Pong, h.source, h.inference_id, m.payload, m.payload_bytes);
    return;
  }
  // With the key (docs/protocol.md, "Authentication"): the Ping's challenge
  // echoed, then this boot's own random bytes, under nonce 0 like the rest
  // of the greeting; from then on the link's tags take both.
  uint8_t answer[16];
  const uint64_t challenge = m.payload_bytes == 8 ? dev::load_le64(m.payload) : 0;
  const uint64_t own = fw::boot_random();
  dev::store_le64(answer, challenge);
  dev::store_le64(answer + 8, own);
  g_link.send_control(MessageType::Pong, h.source, h.inference_id, answer, sizeof answer);
  g_link.set_nonce(challenge ^ own);
}

// A Provision message whose body (docs/protocol.md: u32 image bytes, the
// image, then names and addresses, which a star device does not need) the
// transport wrote at the start of the provisioning region: its image starts
// 4 bytes in, 4-byte aligned as the parser requires.
#if MCUSPLIT_FW_LINK_ETHERNET
// The rest of an Ethernet device's Provision message, after the image: the
// participants' names (skipped) and where frames for each participant go,
// one MAC text per participant ("02:6d:73:00:01:00"), set as the port's
// routes. False, with `why`, on a message without them.
bool load_routes(const uint8_t* body, uint32_t body_bytes, uint32_t at, Message* why) {
  const auto u32 = [&](uint32_t* v) {
    if (body_bytes - at < 4) return false;
    *v = dev::load_le32(body + at);
    at += 4;
    return true;
  };
  uint32_t names = 0;
  if (!u32(&names)) return false;
  for (uint32_t i = 0; i < names; ++i) {
    uint32_t n = 0;
    if (!u32(&n) || body_bytes - at < n) return false;
    at += n;
  }
  uint32_t count = 0;
  if (!u32(&count) || count == 0 || count > static_cast<uint32_t>(dev::kMaxParticipants)) {
    why->add("its Provision message names no Ethernet address for each participant");
    return false;
  }
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t n = 0;
    dev::MacAddress mac;
    if (!u32(&n) || body_bytes - at < n ||
        !dev::parse_mac(reinterpret_cast<const char*>(body + at), n, &mac)) {
      why->add("its Provision message's address of participant ").dec(i);
      why->add(" is not a MAC address");
      return false;
    }
    at += n;
    g_port.set_route(static_cast<uint16_t>(i), mac);
  }
  return true;
}
#endif

bool load_provisioned_image(uint32_t body_bytes, Message* why) {
  const fw::MemoryRegion region = fw::provision_region();
  const uint32_t image_bytes = dev::load_le32(region.data);
  if (body_bytes > region.bytes || body_bytes < 4 || image_bytes > body_bytes - 4) {
    why->add("its Provision message is malformed (an image of ").dec(image_bytes);
    why->add(" bytes in a message of ").dec(body_bytes).add(")");
    return false;
  }
#if MCUSPLIT_FW_LINK_ETHERNET
  if (!load_routes(region.data, body_bytes, 4 + image_bytes, why)) {
    if (why->size() == 0) why->add("its Provision message is truncated after the image");
    return false;
  }
#endif
  return load_image(region.data + 4, image_bytes, why);
}

// Boot to greeting: parses the image in the provisioning region, prints the
// banner, then takes Provision messages and Stop until the coordinator's
// first Ping, which greet() answers (constructing the session) or refuses.
// Not inlined into main: its messages then leave the stack before the
// session runs, so the deepest path of a run does not carry them.
__attribute__((noinline)) void serve_until_greeted(fw::CmsdkUart& uart) {
  const fw::MemoryRegion region = fw::provision_region();
  Message problem;
  // An image QEMU loaded fills the region only in part: what its header
  // declares, and its tag after that when there is a key.
  const size_t declared = dev::declared_image_bytes(region.data, region.bytes);
  uint32_t loaded = region.bytes;
  if (fw::cluster_key() != nullptr && declared > 0 && declared + dev::kTagBytes <= region.bytes) {
    loaded = static_cast<uint32_t>(declared + dev::kTagBytes);
  }
  bool image_ok = load_image(region.data, loaded, &problem);
  print_banner(uart, image_ok, problem);
  g_link.set_provision_buffer(region.data, region.bytes);
  // Frames are tagged from the first one on (the UART firmware; link_transport.h).
  g_link.set_key(fw::cluster_key());

  // Until the greeting: no plan, so any plan hash and the default payload.
  while (g_session == nullptr) {
    dev::ControlMessage m;
    if (g_link.wait_control(&m, fw::kForever) != TransportStatus::Ok) {
      Message t;
      dev::add_device_name(t, g_name, g_link.self());
      t.add(": the link to the coordinator failed before the greeting: ").add(g_link.error());
      goodbye(t.c_str(), fw::kExitError);
    }
    const dev::FrameHeader& h = m.header;
    if (h.type == MessageType::Stop) {
      if (h.inference_id == dev::kNoInference) shut_down();
      continue;  // nothing runs: nothing to abandon
    }
    if (h.type == MessageType::Provision) {
      // The image over the link (the transport wrote it into the region);
      // the greeting that follows accepts or refuses it.
      problem = Message{};
      image_ok = load_provisioned_image(h.message_bytes, &problem);
      fw::semihosting::write0(image_ok ? "mcusplit-fw device: provisioned over the link\n"
                                       : "mcusplit-fw device: provisioning failed\n");
      continue;
    }
    if (h.type != MessageType::Ping) {
      g_link.send_error(h.source, h.inference_id, dev::ErrorCode::NotProvisioned,
                        "a device must be greeted with a Ping first");
      continue;
    }
    greet(m, image_ok, problem);
  }
}

}  // namespace

int main() {
  fw::CmsdkUart& uart = fw::board_init();
#if MCUSPLIT_FW_LINK_ETHERNET
  if (!g_port.start()) {
    mcusplit::device::Text<80> t;
    t.add("no LAN9118 Ethernet controller answers at 0x").hex(fw::board::kLan9118Base);
    fw::fail(t.c_str());
  }
#endif
  serve_until_greeted(uart);
  if (g_session->serve(dev::kWaitForever) == dev::SessionEnd::Shutdown) shut_down();
  goodbye(g_session->message(), fw::kExitError);
}
