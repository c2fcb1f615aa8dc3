// device::InboundDispatcher and ChunkAssembly: the receive-side rules the
// firmware's UART transport and the host's socket transport both follow
// (sequence gaps, stale inference frames, credit kept for a later
// inference, control messages during a run, malformed frames, multi-frame
// messages).
#include <gtest/gtest.h>

#include <vector>

#include "device/data_frame.h"
#include "device/inbound_dispatcher.h"
#include "device/serial_frame_reader.h"

namespace mcusplit::device {
namespace {

constexpr uint16_t kSelf = 0;

FrameHeader control(MessageType type, uint16_t source, uint32_t sequence,
                    uint32_t inference = kNoInference) {
  FrameHeader h;
  h.type = type;
  h.source = source;
  h.destination = kSelf;
  h.sequence = sequence;
  h.inference_id = inference;
  return h;
}

FrameHeader data(uint16_t source, uint32_t sequence, uint32_t inference) {
  ChunkHeader c;
  c.source = source;
  c.destination = kSelf;
  c.tensor = 3;
  c.box = core::Box{0, 2, 0, 2, 0, 2};
  c.message_bytes = c.box.volume();
  c.chunk_offset = 4;
  c.payload_bytes = 4;
  FrameHeader h = data_frame_header(c, inference);
  h.source = source;
  h.sequence = sequence;
  return h;
}

struct Grant {
  FrameHeader header;
  uint8_t body[kCreditPayloadBytes];
};

Grant credit(uint16_t source, uint32_t sequence, uint32_t inference, uint32_t bytes) {
  Grant g{control(MessageType::Credit, source, sequence, inference), {}};
  g.header.message_bytes = g.header.payload_bytes = kCreditPayloadBytes;
  encode_credit_payload(bytes, g.body);
  return g;
}

InboundDispatcher dispatcher(uint32_t inference) {
  InboundDispatcher d;
  d.set_self(kSelf);
  d.set_participants(4);
  d.set_inference(inference);
  return d;
}

TEST(InboundDispatcher, ASkippedOrRepeatedFrameIsASequenceGapAndIsNotCounted) {
  InboundDispatcher d = dispatcher(5);
  EXPECT_EQ(d.accept(control(MessageType::Ping, 1, 0), nullptr, true).kind, InboundKind::Control);
  EXPECT_EQ(d.accept(data(1, 1, 5), nullptr, true).kind, InboundKind::Data);
  // Another source's stream runs on its own.
  EXPECT_EQ(d.accept(control(MessageType::Ping, 2, 0), nullptr, true).kind, InboundKind::Control);
  EXPECT_EQ(d.received(), 3u);

  const Inbound skipped = d.accept(data(1, 3, 5), nullptr, true);
  EXPECT_EQ(skipped.kind, InboundKind::SequenceGap);
  EXPECT_EQ(skipped.expected, 2u);
  EXPECT_TRUE(refused(skipped.kind));
  // Past the gap, the stream is in step again; a repeat is a gap too.
  EXPECT_EQ(d.accept(data(1, 4, 5), nullptr, true).kind, InboundKind::Data);
  const Inbound repeated = d.accept(data(1, 4, 5), nullptr, true);
  EXPECT_EQ(repeated.kind, InboundKind::SequenceGap);
  EXPECT_EQ(repeated.expected, 5u);
  EXPECT_EQ(d.received(), 4u);
  d.reset_count();
  EXPECT_EQ(d.received(), 0u);
}

TEST(InboundDispatcher, ARestartedStreamBeginsAgainAtTheGivenNumber) {
  InboundDispatcher d = dispatcher(5);
  EXPECT_EQ(d.accept(control(MessageType::Ping, 1, 0), nullptr, true).kind, InboundKind::Control);
  d.restart_stream(1, 0);
  EXPECT_EQ(d.accept(control(MessageType::Ping, 1, 0), nullptr, true).kind, InboundKind::Control);
  d.restart_stream(1, 7);
  EXPECT_EQ(d.accept(control(MessageType::Ping, 1, 0), nullptr, true).kind,
            InboundKind::SequenceGap);
}

TEST(InboundDispatcher, FramesForAnotherParticipantOrFromAnUnknownOneAreRefused) {
  InboundDispatcher d = dispatcher(5);
  FrameHeader other = control(MessageType::Ping, 1, 0);
  other.destination = 2;
  EXPECT_EQ(d.accept(other, nullptr, true).kind, InboundKind::OtherDestination);
  // Refused frames use up no sequence number: 0 is still due.
  EXPECT_EQ(d.accept(control(MessageType::Ping, 1, 0), nullptr, true).kind, InboundKind::Control);
  EXPECT_EQ(d.accept(control(MessageType::Ping, 4, 0), nullptr, true).kind,
            InboundKind::UnknownSource);
  EXPECT_EQ(d.received(), 1u);

  // Until this participant is known, frames for any destination are taken.
  InboundDispatcher fresh;
  EXPECT_FALSE(fresh.self_known());
  EXPECT_EQ(fresh.accept(other, nullptr, true).kind, InboundKind::Control);
  EXPECT_EQ(fresh.participants(), kMaxParticipants);
}

TEST(InboundDispatcher, DataOfAnAbandonedInferenceIsStaleAndOfALaterOneWaits) {
  InboundDispatcher d = dispatcher(5);
  EXPECT_EQ(d.accept(data(1, 0, 4), nullptr, true).kind, InboundKind::Stale);
  EXPECT_EQ(d.accept(data(1, 1, 6), nullptr, true).kind, InboundKind::DataLater);
  // The current inference's data while nothing runs cannot be taken either.
  EXPECT_EQ(d.accept(data(1, 2, 5), nullptr, false).kind, InboundKind::DataLater);
  const Inbound now = d.accept(data(1, 3, 5), nullptr, true);
  ASSERT_EQ(now.kind, InboundKind::Data);
  EXPECT_EQ(now.event.kind, LinkEventKind::Data);
  EXPECT_EQ(now.event.chunk.source, 1);
  EXPECT_EQ(now.event.chunk.tensor, 3);
  EXPECT_EQ(now.event.chunk.chunk_offset, 4);
  EXPECT_EQ(now.event.chunk.payload_bytes, 4);
  // Stale frames are still frames of their stream: counted, in sequence.
  EXPECT_EQ(d.received(), 4u);

  // Ids wrap: just below 2^32 is earlier than 1.
  InboundDispatcher wrapped = dispatcher(1);
  EXPECT_EQ(wrapped.accept(data(1, 0, 0xFFFFFFFEu), nullptr, true).kind, InboundKind::Stale);
}

TEST(InboundDispatcher, DataForTheRunIsKnownFromItsHeaderBeforeItsPayload) {
  InboundDispatcher d = dispatcher(5);
  EXPECT_TRUE(d.data_for_run(data(1, 0, 5), true));
  EXPECT_FALSE(d.data_for_run(data(1, 0, 5), false));
  EXPECT_FALSE(d.data_for_run(data(1, 0, 6), true));
  FrameHeader other = data(1, 0, 5);
  other.destination = 3;
  EXPECT_FALSE(d.data_for_run(other, true));
  EXPECT_FALSE(d.data_for_run(control(MessageType::Ping, 1, 0, 5), true));
}

TEST(InboundDispatcher, CreditOfTheRunIsAnEventAndCreditForALaterOneIsKeptUntilItBegins) {
  InboundDispatcher d = dispatcher(5);
  Grant g = credit(2, 0, 5, 4096);
  const Inbound now = d.accept(g.header, g.body, true);
  ASSERT_EQ(now.kind, InboundKind::Credit);
  EXPECT_EQ(now.event.kind, LinkEventKind::Credit);
  EXPECT_EQ(now.event.peer, 2);
  EXPECT_EQ(now.event.credit_bytes, 4096);

  g = credit(2, 1, 4, 100);
  EXPECT_EQ(d.accept(g.header, g.body, true).kind, InboundKind::Stale);

  // A faster peer already runs inference 6: its grants add up until 6 begins.
  g = credit(2, 2, 6, 300);
  EXPECT_EQ(d.accept(g.header, g.body, true).kind, InboundKind::CreditKept);
  g = credit(2, 3, 6, 200);
  EXPECT_EQ(d.accept(g.header, g.body, true).kind, InboundKind::CreditKept);
  LinkEvent e;
  EXPECT_FALSE(d.take_kept_credit(&e));
  d.set_inference(6);
  ASSERT_TRUE(d.take_kept_credit(&e));
  EXPECT_EQ(e.kind, LinkEventKind::Credit);
  EXPECT_EQ(e.peer, 2);
  EXPECT_EQ(e.credit_bytes, 500);
  EXPECT_FALSE(d.take_kept_credit(&e));

  // Granted while nothing runs: kept for the run.
  g = credit(3, 0, 6, 64);
  EXPECT_EQ(d.accept(g.header, g.body, false).kind, InboundKind::CreditKept);
  ASSERT_TRUE(d.take_kept_credit(&e));
  EXPECT_EQ(e.peer, 3);
  EXPECT_EQ(e.credit_bytes, 64);

  // Kept credit goes with an abandoned run's leftovers.
  g = credit(3, 1, 7, 64);
  EXPECT_EQ(d.accept(g.header, g.body, true).kind, InboundKind::CreditKept);
  d.drop_kept_credit();
  d.set_inference(7);
  EXPECT_FALSE(d.take_kept_credit(&e));
}

TEST(InboundDispatcher, DuringARunPingIsAnsweredStopAndErrorInterruptTheRestIsUnexpected) {
  InboundDispatcher d = dispatcher(5);
  // A Ping during a run is a control message for the transport, not an event.
  const FrameHeader ping = control(MessageType::Ping, 3, 0, kNoInference);
  EXPECT_EQ(d.accept(ping, nullptr, true).kind, InboundKind::Control);
  EXPECT_EQ(control_during_run(MessageType::Ping), RunControl::AnswerPing);
  EXPECT_EQ(control_during_run(MessageType::Stop), RunControl::Interrupt);
  EXPECT_EQ(control_during_run(MessageType::Error), RunControl::Interrupt);
  for (MessageType t : {MessageType::Start, MessageType::Result, MessageType::Stats,
                        MessageType::Pong, MessageType::Provision}) {
    EXPECT_EQ(control_during_run(t), RunControl::Unexpected) << message_type_name(t);
    EXPECT_FALSE(interrupts_run(t));
  }
}

// Frames through the serial reader: noise is told from a real frame that is
// refused, and a frame whose payload is lost keeps its stream in step.
TEST(InboundDispatcher, MalformedFramesAreNoiseOrRefusedAndALostPayloadKeepsTheStreamInStep) {
  const auto frame = [](uint32_t sequence) {
    FrameHeader h = control(MessageType::Ping, 1, sequence);
    const uint8_t body[3] = {7, 8, 9};
    h.message_bytes = h.payload_bytes = sizeof body;
    std::vector<uint8_t> out(frame_bytes_for(sizeof body));
    out.resize(encode_frame(h, body, out.data(), out.size()));
    return out;
  };
  std::vector<uint8_t> stream = {'b', 'o', 'o', 't', 'M', 'S', 'P', 'F', '!'};  // noise
  std::vector<uint8_t> bad = frame(0);
  bad[bad.size() - 6] ^= 0xFF;  // a payload byte: the payload CRC fails
  stream.insert(stream.end(), bad.begin(), bad.end());
  const std::vector<uint8_t> good = frame(1);
  stream.insert(stream.end(), good.begin(), good.end());

  InboundDispatcher d = dispatcher(5);
  SerialFrameReader reader;
  int lost = 0;
  int taken = 0;
  for (uint8_t byte : stream) {
    const ReaderEvent ev = reader.push(byte);
    if (ev.kind == ReaderEventKind::HeaderRejected) {
      EXPECT_EQ(classify_malformed(ev.header_sound), Malformed::Noise);
    } else if (ev.kind == ReaderEventKind::FrameBadCrc) {
      d.payload_lost(reader.header());
      ++lost;
    } else if (ev.kind == ReaderEventKind::FrameOk) {
      EXPECT_EQ(d.accept(reader.header(), nullptr, true).kind, InboundKind::Control);
      ++taken;
    }
  }
  EXPECT_EQ(lost, 1);
  EXPECT_EQ(taken, 1);

  // A sound header that the reader refuses (another plan) is a real frame.
  DecoderConfig cfg;
  cfg.expected_plan_hash = 42;
  SerialFrameReader strict(cfg);
  FrameHeader h = control(MessageType::Ping, 1, 2);
  h.plan_hash = 43;
  std::vector<uint8_t> refused_frame(frame_bytes_for(0));
  refused_frame.resize(encode_frame(h, nullptr, refused_frame.data(), refused_frame.size()));
  bool seen = false;
  for (uint8_t byte : refused_frame) {
    const ReaderEvent ev = strict.push(byte);
    if (ev.kind != ReaderEventKind::HeaderRejected) continue;
    EXPECT_EQ(ev.status, DecodeStatus::WrongPlanHash);
    EXPECT_EQ(classify_malformed(ev.header_sound), Malformed::Refused);
    seen = true;
  }
  EXPECT_TRUE(seen);
}

FrameHeader chunk(MessageType type, uint16_t source, uint32_t offset, uint32_t bytes,
                  uint32_t total) {
  FrameHeader h = control(type, source, 0);
  h.message_bytes = total;
  h.chunk_offset = offset;
  h.payload_bytes = bytes;
  return h;
}

TEST(ChunkAssembly, ChunksInOrderMakeAWholeMessage) {
  ChunkAssembly a;
  EXPECT_TRUE(a.in_order(chunk(MessageType::Provision, 1, 0, 4, 10)));
  EXPECT_FALSE(a.in_order(chunk(MessageType::Provision, 1, 4, 4, 10)));
  EXPECT_EQ(a.accept(chunk(MessageType::Provision, 1, 0, 4, 10)), ChunkStep::Partial);
  EXPECT_FALSE(a.abandoned());
  EXPECT_TRUE(a.in_progress());
  EXPECT_EQ(a.received(), 4u);
  EXPECT_TRUE(a.in_order(chunk(MessageType::Provision, 1, 4, 4, 10)));
  EXPECT_EQ(a.accept(chunk(MessageType::Provision, 1, 4, 4, 10)), ChunkStep::Partial);
  EXPECT_EQ(a.accept(chunk(MessageType::Provision, 1, 8, 2, 10)), ChunkStep::Complete);
  EXPECT_FALSE(a.in_progress());
  // A one-frame message is whole at once.
  EXPECT_EQ(a.accept(chunk(MessageType::Start, 1, 0, 3, 3)), ChunkStep::Complete);
}

TEST(ChunkAssembly, AChunkOutOfPlaceOrOfAnotherMessageIsOutOfOrder) {
  ChunkAssembly a;
  EXPECT_EQ(a.accept(chunk(MessageType::Provision, 1, 4, 4, 10)), ChunkStep::OutOfOrder);
  EXPECT_EQ(a.accept(chunk(MessageType::Provision, 1, 0, 4, 10)), ChunkStep::Partial);
  // Skipped a chunk.
  EXPECT_FALSE(a.in_order(chunk(MessageType::Provision, 1, 8, 2, 10)));
  EXPECT_EQ(a.accept(chunk(MessageType::Provision, 1, 8, 2, 10)), ChunkStep::OutOfOrder);
  EXPECT_FALSE(a.in_progress());

  ASSERT_EQ(a.accept(chunk(MessageType::Provision, 1, 0, 4, 10)), ChunkStep::Partial);
  EXPECT_FALSE(a.in_order(chunk(MessageType::Provision, 2, 4, 4, 10)));  // another source
  EXPECT_FALSE(a.in_order(chunk(MessageType::Result, 1, 4, 4, 10)));     // another type
  EXPECT_EQ(a.accept(chunk(MessageType::Result, 1, 4, 4, 10)), ChunkStep::OutOfOrder);

  // Offset 0 while a message is in progress begins a new one, and says so.
  ASSERT_EQ(a.accept(chunk(MessageType::Provision, 1, 0, 4, 10)), ChunkStep::Partial);
  EXPECT_EQ(a.accept(chunk(MessageType::Provision, 1, 0, 4, 10)), ChunkStep::Partial);
  EXPECT_TRUE(a.abandoned());
  EXPECT_EQ(a.received(), 4u);
}

}  // namespace
}  // namespace mcusplit::device
