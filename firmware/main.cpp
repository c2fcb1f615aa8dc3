// mcusplit_fw_echo: the smallest firmware that proves the path from a host
// socket through QEMU's UART0 to the protocol code and back. It prints a
// banner line, then reads protocol frames (docs/protocol.md) from UART0 with
// the SerialFrameReader, skipping any garbage around them, and
//   - answers every good Ping with a Pong: source and destination swapped,
//     same inference id, the Ping's payload echoed, its own sequence numbers
//     (0, 1, ...) and plan hash 0 (it holds no plan);
//   - answers a frame whose payload CRC fails, and a rejected frame whose
//     header is sound, with an Error frame (BadFrame, text: what failed);
//   - on Stop with inference id 0xFFFFFFFF prints its counters through
//     semihosting and exits with code 0.
// The banner: "mcusplit-fw echo: ram_budget=N static_ram=N arena=N stack=N
// provision=0xADDR+N head=HEX" and CR LF, where head is the first 16 bytes of
// the provisioning region (to check that QEMU's -device loader put an image
// there).
#include <cstdint>

#include "board.h"
#include "device/frame_codec.h"
#include "device/protocol.h"
#include "device/serial_frame_reader.h"
#include "device/text.h"

namespace fw = mcusplit::fw;
namespace dev = mcusplit::device;

namespace {

uint8_t g_ping_payload[dev::kDefaultMaxPayload];
uint8_t g_tx[dev::frame_bytes_for(dev::kDefaultMaxPayload)];
uint32_t g_tx_sequence = 0;

void print_banner(fw::CmsdkUart& uart) {
  const fw::MemoryRegion provision = fw::provision_region();
  mcusplit::device::Text<256> t;
  t.add("mcusplit-fw echo: ram_budget=").dec(fw::ram_budget_bytes());
  t.add(" static_ram=").dec(fw::ram_static_bytes());
  t.add(" arena=").dec(fw::arena().bytes);
  t.add(" stack=").dec(fw::stack_bytes());
  t.add(" provision=0x").hex(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(provision.data)));
  t.add("+").dec(provision.bytes).add(" head=");
  for (uint32_t i = 0; i < 16 && i < provision.bytes; ++i) t.hex(provision.data[i], 2);
  t.add("\r\n");
  uart.write(t.bytes(), t.size());
}

// Sends one frame from this device (the destination of `to`) back to its
// source.
void send_reply(fw::CmsdkUart& uart, const dev::FrameHeader& to, dev::MessageType type,
                const uint8_t* payload, uint32_t payload_bytes) {
  dev::FrameHeader h;
  h.type = type;
  h.source = to.destination;
  h.destination = to.source;
  h.plan_hash = 0;
  h.inference_id = to.inference_id;
  h.sequence = g_tx_sequence++;
  h.message_bytes = payload_bytes;
  h.payload_bytes = payload_bytes;
  const size_t n = dev::encode_frame(h, payload, g_tx, sizeof(g_tx));
  if (n == 0) fw::fail("echo: could not encode a reply");
  uart.write(g_tx, n);
}

void send_error(fw::CmsdkUart& uart, const dev::FrameHeader& to, const char* text) {
  uint8_t payload[64];
  const size_t n =
      dev::encode_error_payload(dev::ErrorCode::BadFrame, text, payload, sizeof(payload));
  send_reply(uart, to, dev::MessageType::Error, payload, static_cast<uint32_t>(n));
}

[[noreturn]] void stop(fw::CmsdkUart& uart, const dev::SerialFrameReader& reader) {
  uart.flush();
  const dev::SerialReaderStats& s = reader.stats();
  mcusplit::device::Text<256> t;
  t.add("mcusplit-fw echo: stop: frames_ok=").dec(s.frames_ok);
  t.add(" frames_bad_crc=").dec(s.frames_bad_crc);
  t.add(" headers_rejected=").dec(s.headers_rejected);
  t.add(" garbage_bytes=").dec(s.garbage_bytes);
  t.add(" bytes=").dec(s.bytes_fed);
  t.add(" uptime_ms=").dec(fw::millis());
  t.add(" stack_high_water=").dec(fw::stack_high_water_bytes());
  t.add("\n");
  fw::semihosting::write0(t.c_str());
  fw::semihosting::exit(fw::kExitOk);
}

}  // namespace

int main() {
  fw::CmsdkUart& uart = fw::board_init();
  print_banner(uart);
  fw::semihosting::write0("mcusplit-fw echo: ready\n");

  dev::SerialFrameReader reader;  // no plan: any plan hash, the default max payload
  bool is_ping = false;
  for (;;) {
    uint8_t byte = 0;
    if (!uart.read_byte(&byte, fw::kForever)) continue;
    const dev::ReaderEvent ev = reader.push(byte);
    const dev::FrameHeader& h = reader.header();
    switch (ev.kind) {
      case dev::ReaderEventKind::None:
        break;
      case dev::ReaderEventKind::Header:
        is_ping = h.type == dev::MessageType::Ping;
        break;
      case dev::ReaderEventKind::Payload:
        // The reader's max payload is the buffer's size.
        if (is_ping) {
          for (uint32_t i = 0; i < ev.size; ++i) g_ping_payload[ev.offset + i] = ev.data[i];
        }
        break;
      case dev::ReaderEventKind::FrameOk:
        if (h.type == dev::MessageType::Ping) {
          send_reply(uart, h, dev::MessageType::Pong, g_ping_payload, h.payload_bytes);
        } else if (h.type == dev::MessageType::Stop && h.inference_id == dev::kNoInference) {
          stop(uart, reader);
        }
        break;
      case dev::ReaderEventKind::FrameBadCrc:
        send_error(uart, h, "bad payload crc");
        break;
      case dev::ReaderEventKind::HeaderRejected:
        if (ev.header_sound) send_error(uart, h, dev::decode_status_name(ev.status));
        break;
    }
  }
}
