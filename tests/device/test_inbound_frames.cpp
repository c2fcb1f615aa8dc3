// The frame handling the socket and UART transports share
// (device/inbound_frames.h): per-stream sequence numbers, the stale
// inference filter and the link events made of Data and Credit frames.
#include <gtest/gtest.h>

#include "device/data_frame.h"
#include "device/inbound_frames.h"

namespace mcusplit::device {
namespace {

TEST(InboundFrames, SequenceNumbersRunPerStreamAndAGapIsRefused) {
  StreamSequences in;
  uint32_t expected = 99;
  EXPECT_EQ(in.accept(2, 0, &expected), SequenceVerdict::Ok);
  EXPECT_EQ(in.accept(2, 1, &expected), SequenceVerdict::Ok);
  // Another source's stream starts at 0 on its own.
  EXPECT_EQ(in.accept(5, 0, &expected), SequenceVerdict::Ok);
  // Skipped: 3 instead of 2.
  EXPECT_EQ(in.accept(2, 3, &expected), SequenceVerdict::Gap);
  EXPECT_EQ(expected, 2u);
  // Repeated: 3 again after moving past it.
  EXPECT_EQ(in.accept(2, 3, &expected), SequenceVerdict::Gap);
  EXPECT_EQ(expected, 4u);
  EXPECT_EQ(in.accept(2, 4, &expected), SequenceVerdict::Ok);
  EXPECT_EQ(in.accept(static_cast<uint32_t>(kMaxParticipants), 0, &expected),
            SequenceVerdict::UnknownSource);
}

TEST(InboundFrames, SendSequencesCountPerDestination) {
  StreamSequences out;
  EXPECT_EQ(out.next(1), 0u);
  out.advance(1);
  out.advance(1);
  EXPECT_EQ(out.next(1), 2u);
  EXPECT_EQ(out.next(0), 0u);
  out.set(1, 7);
  EXPECT_EQ(out.next(1), 7u);
  EXPECT_FALSE(StreamSequences::known(static_cast<uint32_t>(kMaxParticipants)));
}

TEST(InboundFrames, OnlyEarlierInferencesAreStaleAcrossTheWrap) {
  EXPECT_TRUE(stale_inference(4, 5));
  EXPECT_FALSE(stale_inference(5, 5));
  EXPECT_FALSE(stale_inference(6, 5));  // a faster peer's next inference: kept
  EXPECT_TRUE(stale_inference(0xFFFFFFFEu, 1));
  EXPECT_FALSE(stale_inference(1, 0xFFFFFFFEu));
}

TEST(InboundFrames, DataAndCreditFramesBecomeLinkEvents) {
  ChunkHeader c;
  c.source = 1;
  c.destination = 0;
  c.tensor = 3;
  c.box = core::Box{0, 4, 2, 3, 0, 5};
  c.message_bytes = c.box.volume();
  c.chunk_offset = 8;
  c.payload_bytes = 12;
  FrameHeader h = data_frame_header(c, 9);
  h.source = 1;
  const LinkEvent data = data_event(h);
  EXPECT_EQ(data.kind, LinkEventKind::Data);
  EXPECT_EQ(data.chunk.source, 1);
  EXPECT_EQ(data.chunk.destination, 0);
  EXPECT_EQ(data.chunk.tensor, 3);
  EXPECT_EQ(data.chunk.box, c.box);
  EXPECT_EQ(data.chunk.message_bytes, c.message_bytes);
  EXPECT_EQ(data.chunk.chunk_offset, 8);
  EXPECT_EQ(data.chunk.payload_bytes, 12);

  FrameHeader credit;
  credit.type = MessageType::Credit;
  credit.source = 2;
  const LinkEvent grant = credit_event(credit, 4096);
  EXPECT_EQ(grant.kind, LinkEventKind::Credit);
  EXPECT_EQ(grant.peer, 2);
  EXPECT_EQ(grant.credit_bytes, 4096);
}

}  // namespace
}  // namespace mcusplit::device
