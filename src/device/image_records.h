// The device image's header and records as field lists (docs/device_image.md):
// one visitor per record, in the style of kernels/op_params.h, from which
// the parser (device_image.cpp), the writer (host/device_image_writer.cpp),
// every record size and word index (device_image.h) and the docs test all
// follow. Adding a field is one line in a list here, one doc row and a
// format version bump. Freestanding; the sizes and indices are constexpr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "device/device_program.h"
#include "device/protocol.h"
#include "kernels/op_params.h"

namespace mcusplit::device {

// The regions, in the order of the header's region table. Offsets count
// bytes from the image start; counts are bytes for Name and Data, records
// for the others.
enum class ImageRegion : uint32_t { Name, Tensors, Buffers, Ops, Layers, Concat, Data };
inline constexpr size_t kImageRegionCount = 7;

// Input slots of an op or layer record: fixed by the format.
inline constexpr int32_t kImageInputSlots = 8;
static_assert(kImageInputSlots == kMaxLayerInputs,
              "DeviceOp/DeviceLayer input arrays changed: bump kImageFormatVersion");

namespace image {

// Words of a layer record's parameter block (its layout: device_image.h).
inline constexpr uint32_t kImageParamWords = 29;

struct RegionEntry {
  uint32_t offset = 0;
  uint32_t count = 0;
  friend constexpr bool operator==(const RegionEntry&, const RegionEntry&) = default;
};

// What the header holds beside the program's scalars (which its field list
// reads and writes in the DeviceProgram itself).
struct Header {
  uint8_t magic[8] = {};
  uint32_t version = 0;
  uint32_t image_bytes = 0;
  uint32_t crc = 0;
  uint64_t plan_hash = 0;
  uint32_t max_payload_bytes = 0;
  RegionEntry regions[kImageRegionCount] = {};
  friend constexpr bool operator==(const Header&, const Header&) = default;
};

inline constexpr uint32_t kDeviceOpKinds = static_cast<uint32_t>(DeviceOpKind::StoreOutput) + 1;

// ---- field lists ----
// Every field is a run of little-endian 32-bit words. A visitor has, beside
// op_params.h's i32, flag (0 or 1), shape (c, h, w) and activation (min,
// max):
//   u32(name, uint32_t&)                    1 word
//   i64 / u64(name, int64_t& / uint64_t&)   2 words, low first
//   box(name, Box&)                         6 words: c0 c1 y0 y1 x0 x1
//   kind(name, E&, uint32_t kinds)          1 word, an enum below `kinds`
//   slots(name, int32_t (&)[8], count)      8 words: [0, count) used, the rest -1
//   magic(name, uint8_t (&)[8])             2 words of ASCII
//   regions(name, RegionEntry (&)[7])       7 x (u32 offset, u32 count)
//   reserved(name)                          1 word, 0
//   block(name, words)                      `words` words laid out by their
//                                           own rules (the parameter block);
//                                           readers and writers skip it
// (const references when visiting const structs). Fields in format order.

using kernels::FieldsOf;

template <class V, class H, class P>
requires FieldsOf<H, Header> && FieldsOf<P, DeviceProgram>
constexpr void visit_header(H& h, P& program, V& v) {
  v.magic("magic", h.magic);
  v.u32("format version", h.version);
  v.u32("image length", h.image_bytes);
  v.u32("CRC", h.crc);
  v.reserved("reserved");
  v.u64("plan hash", h.plan_hash);
  v.i64("arena bytes", program.arena_bytes);
  v.i64("scratch bytes", program.scratch_bytes);
  v.u32("max payload", h.max_payload_bytes);
  v.i32("participant", program.participant);
  v.i32("participant count", program.participant_count);
  v.i32("input tensor", program.input_tensor);
  v.i32("output tensor", program.output_tensor);
  v.regions("region table", h.regions);
  v.reserved("reserved");
}

template <class V, class S>
requires FieldsOf<S, core::TensorShape3>
constexpr void visit_fields(S& shape, V& v) {
  v.shape("shape", shape);
}

template <class V, class B>
requires FieldsOf<B, DeviceBuffer>
constexpr void visit_fields(B& b, V& v) {
  v.i32("tensor", b.tensor);
  v.box("box", b.box);
  v.i64("offset", b.offset);
}

template <class V, class O>
requires FieldsOf<O, DeviceOp>
constexpr void visit_fields(O& op, V& v) {
  v.kind("kind", op.kind, kDeviceOpKinds);
  v.i32("step", op.step);
  v.i32("layer", op.layer);
  v.i32("params", op.params);
  v.i32("peer", op.peer);
  v.i32("tensor", op.tensor);
  v.box("box", op.box);
  v.i32("src_buffer", op.src_buffer);
  v.i32("dst_buffer", op.dst_buffer);
  v.i32("input_count", op.input_count);
  v.slots("inputs", op.inputs, op.input_count);
  v.i64("scratch_offset", op.scratch_offset);
  v.i32("scratch_bytes", op.scratch_bytes);
}

template <class V, class L>
requires FieldsOf<L, DeviceLayer>
constexpr void visit_fields(L& l, V& v) {
  v.i32("layer", l.layer);
  v.kind("kind", l.op, kernels::kOpTypeCount);
  v.i32("output_tensor", l.output_tensor);
  v.i32("input_count", l.input_count);
  v.slots("input_tensors", l.input_tensors, l.input_count);
  v.block("params", kImageParamWords);
}

// The concat record is Int8ConcatParams' own list (kernels/op_params.h).

// ---- what follows from a list ----

// Counts words: a record's size, and where each field starts.
struct WordCounter : kernels::FieldWordCounter {
  template <class T>
  constexpr void u32(const char*, T&) {
    words += 1;
  }
  template <class T>
  constexpr void i64(const char*, T&) {
    words += 2;
  }
  template <class T>
  constexpr void u64(const char*, T&) {
    words += 2;
  }
  template <class T>
  constexpr void box(const char*, T&) {
    words += 6;
  }
  template <class T>
  constexpr void kind(const char*, T&, uint32_t) {
    words += 1;
  }
  template <class T, class N>
  constexpr void slots(const char*, T&, N&) {
    words += kImageInputSlots;
  }
  template <class T>
  constexpr void magic(const char*, T&) {
    words += 2;
  }
  template <class T>
  constexpr void regions(const char*, T&) {
    words += 2 * kImageRegionCount;
  }
  constexpr void reserved(const char*) { words += 1; }
  constexpr void block(const char*, uint32_t n) { words += n; }
};

constexpr bool same_name(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

// Finds where field `name` starts (-1 if none), and its words, by counting
// the words of the fields before it; `skip` skips that many earlier fields
// of the same name.
class FieldFinder {
  // Defined before its callers: clang 14 refuses, in a constant expression,
  // a member template defined after the non-template members that call it.
  template <class Count>
  constexpr void note(const char* n, Count count) {
    const uint32_t before = counter_.words;
    count(counter_);
    if (word_ >= 0 || !same_name(n, name_)) return;
    if (skip_-- > 0) return;
    word_ = static_cast<int32_t>(before);
    words_ = counter_.words - before;
  }
 public:
  constexpr explicit FieldFinder(const char* name, int32_t skip = 0) : name_(name), skip_(skip) {}
  template <class... T>
  constexpr void i32(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.i32(n, f...); });
  }
  template <class... T>
  constexpr void flag(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.flag(n, f...); });
  }
  template <class... T>
  constexpr void shape(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.shape(n, f...); });
  }
  template <class... T>
  constexpr void activation(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.activation(n, f...); });
  }
  template <class... T>
  constexpr void u32(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.u32(n, f...); });
  }
  template <class... T>
  constexpr void i64(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.i64(n, f...); });
  }
  template <class... T>
  constexpr void u64(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.u64(n, f...); });
  }
  template <class... T>
  constexpr void box(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.box(n, f...); });
  }
  template <class T>
  constexpr void kind(const char* n, T& f, uint32_t kinds) {
    note(n, [&](WordCounter& c) { c.kind(n, f, kinds); });
  }
  template <class T, class N>
  constexpr void slots(const char* n, T& f, N& count) {
    note(n, [&](WordCounter& c) { c.slots(n, f, count); });
  }
  template <class... T>
  constexpr void magic(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.magic(n, f...); });
  }
  template <class... T>
  constexpr void regions(const char* n, T&... f) {
    note(n, [&](WordCounter& c) { c.regions(n, f...); });
  }
  constexpr void reserved(const char* n) {
    note(n, [&](WordCounter& c) { c.reserved(n); });
  }
  constexpr void block(const char* n, uint32_t words) {
    note(n, [&](WordCounter& c) { c.block(n, words); });
  }
  constexpr int32_t word() const { return word_; }
  constexpr uint32_t words() const { return words_; }

 private:
  const char* name_;
  int32_t skip_;
  WordCounter counter_;
  int32_t word_ = -1;
  uint32_t words_ = 0;
};

template <class T>
constexpr uint32_t record_words() {
  const T record{};
  WordCounter counter;
  visit_fields(record, counter);
  return counter.words;
}

// Never defined: reached only when a constant names no field, which then
// does not compile.
uint32_t no_field_of_that_name();

template <class T>
consteval uint32_t field_word(const char* name) {
  const T record{};
  FieldFinder finder(name);
  visit_fields(record, finder);
  return finder.word() >= 0 ? static_cast<uint32_t>(finder.word()) : no_field_of_that_name();
}

constexpr uint32_t header_words() {
  const Header h;
  const DeviceProgram p;
  WordCounter counter;
  visit_header(h, p, counter);
  return counter.words;
}

consteval size_t header_byte(const char* name, int32_t skip = 0) {
  const Header h;
  const DeviceProgram p;
  FieldFinder finder(name, skip);
  visit_header(h, p, finder);
  return finder.word() >= 0 ? size_t{4} * static_cast<uint32_t>(finder.word())
                            : no_field_of_that_name();
}

// Reads fields as consecutive words from `first`; the caller has checked
// that they lie inside the image. Notes a flag other than 0 or 1, a kind
// out of range and a reserved word other than 0 rather than stopping, so
// the parser reports them in its own order. Slots are read as they are.
class WordReader {
 public:
  explicit WordReader(const uint8_t* record, uint32_t first = 0) : p_(record), next_(first) {}
  void u32(const char*, uint32_t& v) { v = word(); }
  // Two's complement: C++20 defines the u32 -> i32 conversion as modular.
  void i32(const char*, int32_t& v) { v = static_cast<int32_t>(word()); }
  void u64(const char*, uint64_t& v) {
    v = load_le64(at());
    next_ += 2;
  }
  void i64(const char*, int64_t& v) {
    uint64_t u = 0;
    u64(nullptr, u);
    v = static_cast<int64_t>(u);
  }
  void flag(const char*, bool& v) {
    const uint32_t u = word();
    bad_flag_ = bad_flag_ || u > 1;
    v = u == 1;
  }
  void shape(const char*, core::TensorShape3& s) {
    i32(nullptr, s.c);
    i32(nullptr, s.h);
    i32(nullptr, s.w);
  }
  void activation(const char*, core::ActivationRange& a) {
    i32(nullptr, a.min);
    i32(nullptr, a.max);
  }
  void box(const char*, core::Box& b) {
    for (int32_t* v : {&b.c0, &b.c1, &b.y0, &b.y1, &b.x0, &b.x1}) i32(nullptr, *v);
  }
  template <class E>
  void kind(const char*, E& v, uint32_t kinds) {
    const uint32_t u = word();
    bad_kind_ = bad_kind_ || u >= kinds;
    v = static_cast<E>(u < kinds ? u : 0);
  }
  void slots(const char*, int32_t (&s)[kImageInputSlots], int32_t) {
    for (int32_t& v : s) i32(nullptr, v);
  }
  void magic(const char*, uint8_t (&m)[8]) {
    for (size_t k = 0; k < 8; ++k) m[k] = at()[k];
    next_ += 2;
  }
  void regions(const char*, RegionEntry (&r)[kImageRegionCount]) {
    for (RegionEntry& e : r) {
      u32(nullptr, e.offset);
      u32(nullptr, e.count);
    }
  }
  void reserved(const char*) { bad_reserved_ = bad_reserved_ || word() != 0; }
  void block(const char*, uint32_t words) { next_ += words; }

  bool bad_flag() const { return bad_flag_; }
  bool bad_kind() const { return bad_kind_; }
  bool bad_reserved() const { return bad_reserved_; }

 private:
  const uint8_t* at() const { return p_ + 4 * size_t{next_}; }
  uint32_t word() {
    const uint32_t v = load_le32(at());
    ++next_;
    return v;
  }
  const uint8_t* p_;
  uint32_t next_;
  bool bad_flag_ = false;
  bool bad_kind_ = false;
  bool bad_reserved_ = false;
};

// Writes fields as consecutive words from `first`, as WordReader reads
// them: unused slots as -1, reserved words as 0, blocks left alone.
class WordWriter {
 public:
  explicit WordWriter(uint8_t* record, uint32_t first = 0) : p_(record), next_(first) {}
  void u32(const char*, uint32_t v) { word(v); }
  void i32(const char*, int32_t v) { word(static_cast<uint32_t>(v)); }
  void u64(const char*, uint64_t v) {
    store_le64(at(), v);
    next_ += 2;
  }
  void i64(const char*, int64_t v) { u64(nullptr, static_cast<uint64_t>(v)); }
  void flag(const char*, bool v) { word(v ? 1u : 0u); }
  void shape(const char*, const core::TensorShape3& s) {
    for (int32_t v : {s.c, s.h, s.w}) i32(nullptr, v);
  }
  void activation(const char*, const core::ActivationRange& a) {
    i32(nullptr, a.min);
    i32(nullptr, a.max);
  }
  void box(const char*, const core::Box& b) {
    for (int32_t v : {b.c0, b.c1, b.y0, b.y1, b.x0, b.x1}) i32(nullptr, v);
  }
  template <class E>
  void kind(const char*, E v, uint32_t) {
    word(static_cast<uint32_t>(v));
  }
  void slots(const char*, const int32_t (&s)[kImageInputSlots], int32_t count) {
    for (int32_t k = 0; k < kImageInputSlots; ++k) i32(nullptr, k < count ? s[k] : -1);
  }
  void magic(const char*, const uint8_t (&m)[8]) {
    for (size_t k = 0; k < 8; ++k) at()[k] = m[k];
    next_ += 2;
  }
  void regions(const char*, const RegionEntry (&r)[kImageRegionCount]) {
    for (const RegionEntry& e : r) {
      word(e.offset);
      word(e.count);
    }
  }
  void reserved(const char*) { word(0); }
  void block(const char*, uint32_t words) { next_ += words; }

 private:
  uint8_t* at() const { return p_ + 4 * size_t{next_}; }
  void word(uint32_t v) {
    store_le32(at(), v);
    ++next_;
  }
  uint8_t* p_;
  uint32_t next_;
};

}  // namespace image
}  // namespace mcusplit::device
