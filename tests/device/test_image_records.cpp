// The device image's field lists (device/image_records.h): the version 2
// layout they produce, pinned number by number, and docs/device_image.md's
// header and record tables compared with them row by row.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "device/device_image.h"
#include "support/markdown_table.h"

namespace mcusplit::device {
namespace {

TEST(ImageRecords, Version2LayoutIsPinned) {
  EXPECT_EQ(kImageFormatVersion, 2u);
  EXPECT_EQ(kImageHeaderBytes, 128u);
  const size_t offsets[] = {
      kImageOffMagic,       kImageOffVersion,          kImageOffImageBytes,  kImageOffCrc,
      kImageOffReserved0,   kImageOffPlanHash,         kImageOffArenaBytes,  kImageOffMaxPayload,
      kImageOffParticipant, kImageOffParticipantCount, kImageOffInputTensor, kImageOffOutputTensor,
      kImageOffRegions,     kImageOffReserved1};
  const size_t pinned[] = {0, 8, 12, 16, 20, 24, 32, 48, 52, 56, 60, 64, 68, 124};
  for (size_t i = 0; i < std::size(pinned); ++i) EXPECT_EQ(offsets[i], pinned[i]) << i;
  EXPECT_EQ(image::header_byte("scratch bytes"), 40u);
  EXPECT_EQ(kImageTensorRecordBytes, 12u);
  EXPECT_EQ(kImageBufferRecordBytes, 36u);
  EXPECT_EQ(kImageOpRecordBytes, 104u);
  EXPECT_EQ(kImageLayerRecordBytes, 164u);
  EXPECT_EQ(kImageConcatRecordBytes, 52u);
  EXPECT_EQ(image::kBufBox, 1u);
  EXPECT_EQ(image::kBufOffset, 7u);
  EXPECT_EQ(image::field_word<DeviceOp>("layer"), 2u);
  EXPECT_EQ(image::kOpParams, 3u);
  EXPECT_EQ(image::kOpBox, 6u);
  EXPECT_EQ(image::kOpSrcBuffer, 12u);
  EXPECT_EQ(image::kOpInputCount, 14u);
  EXPECT_EQ(image::kOpInputs, 15u);
  EXPECT_EQ(image::kOpScratchOffset, 23u);
  EXPECT_EQ(image::kOpScratchBytes, 25u);
  EXPECT_EQ(image::kLayerKind, 1u);
  EXPECT_EQ(image::kLayerInputs, 4u);
  EXPECT_EQ(image::kLayerParams, 12u);
}

// Writes and reads one record through its field list: what was written
// comes back equal, and unused slots become -1.
TEST(ImageRecords, AnOpGoesThroughItsFieldListUnchanged) {
  DeviceOp op;
  op.kind = DeviceOpKind::Compute;
  op.step = 3;
  op.layer = 7;
  op.params = 2;
  op.peer = -1;
  op.tensor = 5;
  op.box = core::Box{0, 4, 1, 3, 0, 8};
  op.dst_buffer = 9;
  op.input_count = 2;
  op.inputs[0] = 4;
  op.inputs[1] = -1;
  op.inputs[5] = 77;  // past input_count: written as -1
  op.scratch_offset = 0x1'0000'0010;  // both words of the i64
  op.scratch_bytes = 96;
  std::vector<uint8_t> bytes(kImageOpRecordBytes, 0xAB);
  image::WordWriter writer(bytes.data());
  visit_fields(op, writer);
  DeviceOp back;
  image::WordReader reader(bytes.data());
  visit_fields(back, reader);
  EXPECT_FALSE(reader.bad_kind());
  op.inputs[5] = -1;
  EXPECT_EQ(back, op);
}

TEST(ImageRecords, AReaderNotesKindsFlagsAndReservedWordsOutOfRange) {
  std::vector<uint8_t> bytes(kImageOpRecordBytes, 0);
  store_le32(bytes.data(), image::kDeviceOpKinds);
  DeviceOp op;
  image::WordReader reader(bytes.data());
  visit_fields(op, reader);
  EXPECT_TRUE(reader.bad_kind());

  std::vector<uint8_t> header(kImageHeaderBytes, 0);
  store_le32(header.data() + kImageOffReserved1, 1);
  image::Header h;
  DeviceProgram program;
  image::WordReader header_reader(header.data());
  image::visit_header(h, program, header_reader);
  EXPECT_TRUE(header_reader.bad_reserved());
}

// ---- the docs ----

const std::string kDoc = std::string(MCUSPLIT_SOURCE_DIR) + "/docs/device_image.md";

// One field as the doc spells it: "type name", its first word and words.
struct Field {
  std::string type, name;
  uint32_t word = 0, words = 0;
};

// Lists a field list's fields with their words (counted by the same
// counter the sizes come from).
struct FieldSpelling {
  std::vector<Field> fields;
  image::WordCounter counter;

  template <class Count>
  void add(const char* type, const char* name, Count count) {
    const uint32_t before = counter.words;
    count();
    fields.push_back({type, name, before, counter.words - before});
  }
  template <class T>
  void i32(const char* n, T& v) {
    add("i32", n, [&] { counter.i32(n, v); });
  }
  template <class T>
  void u32(const char* n, T& v) {
    add("u32", n, [&] { counter.u32(n, v); });
  }
  template <class T>
  void i64(const char* n, T& v) {
    add("i64", n, [&] { counter.i64(n, v); });
  }
  template <class T>
  void u64(const char* n, T& v) {
    add("u64", n, [&] { counter.u64(n, v); });
  }
  template <class T>
  void flag(const char* n, T& v) {
    add("flag", n, [&] { counter.flag(n, v); });
  }
  template <class T>
  void shape(const char* n, T& v) {
    add("shape", n, [&] { counter.shape(n, v); });
  }
  template <class T>
  void activation(const char* n, T& v) {
    add("act", n, [&] { counter.activation(n, v); });
  }
  template <class T>
  void box(const char* n, T& v) {
    add("box", n, [&] { counter.box(n, v); });
  }
  template <class T>
  void kind(const char* n, T& v, uint32_t kinds) {
    add("u32", n, [&] { counter.kind(n, v, kinds); });
  }
  template <class T, class N>
  void slots(const char* n, T& v, N& count) {
    add("i32[8]", n, [&] { counter.slots(n, v, count); });
  }
  template <class T>
  void magic(const char* n, T& v) {
    add("u8[8]", n, [&] { counter.magic(n, v); });
  }
  template <class T>
  void regions(const char* n, T& v) {
    add("region[7]", n, [&] { counter.regions(n, v); });
  }
  void reserved(const char* n) {
    add("u32", n, [&] { counter.reserved(n); });
  }
  void block(const char* n, uint32_t words) {
    add("block", n, [&] { counter.block(n, words); });
  }
};

std::string word_range(const Field& f) {
  const std::string first = std::to_string(f.word);
  return f.words == 1 ? first : first + ".." + std::to_string(f.word + f.words - 1);
}

TEST(ImageRecordDocs, HeaderTableMatchesItsFieldList) {
  FieldSpelling spelling;
  const image::Header h;
  const DeviceProgram program;
  image::visit_header(h, program, spelling);
  const auto rows = mcusplit::testing::markdown_table(
      kDoc, "## Header (" + std::to_string(kImageHeaderBytes) + " bytes)");
  ASSERT_EQ(rows.size(), spelling.fields.size()) << "one row per header field in " << kDoc;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Field& f = spelling.fields[i];
    ASSERT_GE(rows[i].size(), 3u);
    EXPECT_EQ(rows[i][0], std::to_string(4 * f.word)) << f.name;
    EXPECT_EQ(rows[i][1], std::to_string(4 * f.words)) << f.name;
    EXPECT_EQ(rows[i][2], f.name);
  }
}

template <class T>
void expect_documented(const char* record) {
  FieldSpelling spelling;
  const T value{};
  image::visit_fields(value, spelling);
  const std::string title =
      std::string("**") + record + "** (" + std::to_string(image::record_words<T>()) + " words)";
  const auto rows = mcusplit::testing::markdown_table(kDoc, title);
  ASSERT_EQ(rows.size(), spelling.fields.size())
      << "one row per field under \"" << title << "\" in " << kDoc;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Field& f = spelling.fields[i];
    ASSERT_GE(rows[i].size(), 2u);
    EXPECT_EQ(rows[i][0], word_range(f)) << record << " " << f.name;
    EXPECT_EQ(rows[i][1], f.type + " " + f.name) << record;
  }
}

TEST(ImageRecordDocs, RecordTablesMatchTheirFieldLists) {
  expect_documented<core::TensorShape3>("tensor");
  expect_documented<DeviceBuffer>("buffer");
  expect_documented<DeviceOp>("op");
  expect_documented<DeviceLayer>("layer");
}

}  // namespace
}  // namespace mcusplit::device
