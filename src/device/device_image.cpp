#include "device/device_image.h"

#include <bit>
#include <cstring>

#include "device/crc32.h"
#include "device/protocol.h"

namespace mcusplit::device {

// Constant arrays are used in place, as the kernels' int32_t pointers.
static_assert(std::endian::native == std::endian::little,
              "the device image references little-endian int32 arrays in place");

namespace {

using namespace image;  // NOLINT(google-build-using-namespace): the record word indices
using core::ActivationRange;
using core::Box;
using core::TensorShape3;

constexpr uint32_t kU32Max = 0xFFFFFFFFu;
constexpr int32_t kNone = -1;

// One record: little-endian 32-bit words at p. Callers have checked that the
// whole record lies inside the image.
class Words {
 public:
  explicit Words(const uint8_t* p) : p_(p) {}
  uint32_t u(uint32_t w) const { return load_le32(p_ + 4 * static_cast<size_t>(w)); }
  // Two's complement: C++20 defines the u32 -> i32 conversion as modular.
  int32_t i(uint32_t w) const { return static_cast<int32_t>(u(w)); }
  int64_t i64(uint32_t w) const {
    return static_cast<int64_t>(load_le64(p_ + 4 * static_cast<size_t>(w)));
  }
  TensorShape3 shape(uint32_t w) const { return TensorShape3{i(w), i(w + 1), i(w + 2)}; }
  Box box(uint32_t w) const { return Box{i(w), i(w + 1), i(w + 2), i(w + 3), i(w + 4), i(w + 5)}; }
  ActivationRange activation(uint32_t w) const { return ActivationRange{i(w), i(w + 1)}; }

 private:
  const uint8_t* p_;
};

// Reads a field list (kernels/op_params.h) as consecutive words from
// `first`; a flag word other than 0 or 1 is noted.
class FieldWords {
 public:
  FieldWords(const Words& w, uint32_t first) : w_(w), next_(first) {}
  void i32(const char*, int32_t& v) { v = w_.i(next_++); }
  void flag(const char*, bool& v) {
    const uint32_t u = w_.u(next_++);
    bad_flag_ = bad_flag_ || u > 1;
    v = u == 1;
  }
  void shape(const char*, TensorShape3& s) {
    s = w_.shape(next_);
    next_ += 3;
  }
  void activation(const char*, ActivationRange& a) {
    a = w_.activation(next_);
    next_ += 2;
  }
  bool bad_flag() const { return bad_flag_; }

 private:
  const Words& w_;
  uint32_t next_;
  bool bad_flag_ = false;
};

// Finds the word where a named field starts: the word count of the fields
// before it.
class FieldFinder {
 public:
  explicit FieldFinder(const char* name) : name_(name) {}
  template <class T>
  void i32(const char* n, T& v) {
    note(n);
    words_.i32(n, v);
  }
  template <class T>
  void flag(const char* n, T& v) {
    note(n);
    words_.flag(n, v);
  }
  template <class T>
  void shape(const char* n, T& v) {
    note(n);
    words_.shape(n, v);
  }
  template <class T>
  void activation(const char* n, T& v) {
    note(n);
    words_.activation(n, v);
  }
  int32_t found() const { return found_; }

 private:
  void note(const char* n) {
    if (found_ < 0 && std::strcmp(n, name_) == 0) found_ = static_cast<int32_t>(words_.words);
  }
  const char* name_;
  kernels::FieldWordCounter words_;
  int32_t found_ = -1;
};

struct Region {
  uint32_t offset = 0;
  uint32_t count = 0;
};

class Parser {
 public:
  Parser(const uint8_t* image, const ImageStorageView& storage, ParsedImage* out)
      : image_(image), s_(storage), out_(out) {}

  ImageStatus run(size_t size) {
    ImageStatus st = check_header(size);
    if (st == ImageStatus::Ok) st = read_regions();
    if (st == ImageStatus::Ok) st = read_scalars();
    if (st == ImageStatus::Ok) st = read_tensors();
    if (st == ImageStatus::Ok) st = read_buffers();
    if (st == ImageStatus::Ok) st = read_concat_blocks();
    if (st == ImageStatus::Ok) st = read_layers();
    if (st == ImageStatus::Ok) st = read_ops();
    if (st == ImageStatus::Ok) st = check();
    return st;
  }

 private:
  ImageStatus fail(ImageStatus status, const char* detail, int32_t index = -1) {
    out_->detail = detail;
    out_->index = index;
    return status;
  }

  Words header() const { return Words(image_); }

  // ---- header ----

  ImageStatus check_header(size_t size) {
    if (size < kImageHeaderBytes) return fail(ImageStatus::Truncated, "shorter than the header");
    for (size_t i = 0; i < sizeof(kImageMagic); ++i) {
      if (image_[kImageOffMagic + i] != kImageMagic[i]) {
        return fail(ImageStatus::BadMagic, "not a device image");
      }
    }
    if (load_le32(image_ + kImageOffVersion) != kImageFormatVersion) {
      return fail(ImageStatus::BadVersion, "format version other than 1");
    }
    const uint32_t image_bytes = load_le32(image_ + kImageOffImageBytes);
    if (image_bytes < kImageHeaderBytes) {
      return fail(ImageStatus::BadLength, "image length shorter than the header");
    }
    if (image_bytes > size)
      return fail(ImageStatus::Truncated, "fewer bytes than the image length");
    if (load_le32(image_ + kImageOffCrc) != device_image_crc(image_, image_bytes)) {
      return fail(ImageStatus::BadCrc, "CRC-32 mismatch");
    }
    if (load_le32(image_ + kImageOffReserved0) != 0 ||
        load_le32(image_ + kImageOffReserved1) != 0) {
      return fail(ImageStatus::BadField, "reserved header word not 0");
    }
    image_bytes_ = image_bytes;
    return ImageStatus::Ok;
  }

  // A region of `count` records of `record_bytes` (1 for byte regions) must
  // start 4-byte aligned after the header and end inside the image.
  ImageStatus region(ImageRegion r, uint64_t record_bytes, Region* out) {
    const size_t field = image_region_offset_field(r);
    out->offset = load_le32(image_ + field);
    out->count = load_le32(image_ + field + 4);
    if (out->offset % kImageAlignment != 0) return fail(ImageStatus::Misaligned, "region offset");
    const uint64_t end = uint64_t{out->offset} + uint64_t{out->count} * record_bytes;
    if (out->offset < kImageHeaderBytes || end > image_bytes_) {
      return fail(ImageStatus::BadRegion, "region outside the image");
    }
    return ImageStatus::Ok;
  }

  // A table region: its count within the storage's capacity first, so a
  // huge count reports TooMany... rather than a region past the end.
  ImageStatus table(ImageRegion r, uint64_t record_bytes, int32_t capacity, ImageStatus too_many,
                    Region* out) {
    const size_t field = image_region_offset_field(r);
    const uint32_t count = load_le32(image_ + field + 4);
    if (count > static_cast<uint32_t>(capacity)) return fail(too_many, "more records than storage");
    return region(r, record_bytes, out);
  }

  ImageStatus read_regions() {
    ImageStatus st = region(ImageRegion::Name, 1, &name_);
    if (st == ImageStatus::Ok) {
      st = table(ImageRegion::Tensors, kImageTensorRecordBytes, s_.tensor_capacity,
                 ImageStatus::TooManyTensors, &tensors_);
    }
    if (st == ImageStatus::Ok) {
      st = table(ImageRegion::Buffers, kImageBufferRecordBytes, s_.buffer_capacity,
                 ImageStatus::TooManyBuffers, &buffers_);
    }
    if (st == ImageStatus::Ok) {
      st = table(ImageRegion::Ops, kImageOpRecordBytes, s_.op_capacity, ImageStatus::TooManyOps,
                 &ops_);
    }
    if (st == ImageStatus::Ok) {
      st = table(ImageRegion::Layers, kImageLayerRecordBytes, s_.layer_capacity,
                 ImageStatus::TooManyLayers, &layers_);
    }
    if (st == ImageStatus::Ok) {
      st = table(ImageRegion::Concat, kImageConcatRecordBytes, s_.concat_capacity,
                 ImageStatus::TooManyConcatBlocks, &concat_);
    }
    if (st == ImageStatus::Ok) st = region(ImageRegion::Data, 1, &data_);
    return st;
  }

  ImageStatus read_scalars() {
    const Words h = header();
    DeviceProgram& p = program_;
    p.participant = h.i(kImageOffParticipant / 4);
    p.participant_count = h.i(kImageOffParticipantCount / 4);
    p.input_tensor = h.i(kImageOffInputTensor / 4);
    p.output_tensor = h.i(kImageOffOutputTensor / 4);
    p.arena_bytes = h.i64(kImageOffArenaBytes / 4);
    p.scratch_bytes = h.i64(kImageOffScratchBytes / 4);
    max_payload_ = h.u(kImageOffMaxPayload / 4);
    if (max_payload_ == 0 || max_payload_ > kMaxPayloadLimit) {
      return fail(ImageStatus::BadField, "max payload bytes out of range");
    }
    if (p.participant_count < 1) return fail(ImageStatus::BadField, "no participants");
    if (p.participant < 0 || p.participant >= p.participant_count) {
      return fail(ImageStatus::BadIndex, "participant index out of range");
    }
    const int32_t tensors = static_cast<int32_t>(tensors_.count);
    if (!in_range(p.input_tensor, tensors) || !in_range(p.output_tensor, tensors)) {
      return fail(ImageStatus::BadIndex, "graph input or output tensor out of range");
    }
    return ImageStatus::Ok;
  }

  static bool in_range(int32_t i, int32_t n) { return 0 <= i && i < n; }
  static bool none_or_in_range(int32_t i, int32_t n) { return i == kNone || in_range(i, n); }

  const uint8_t* record(const Region& r, size_t record_bytes, uint32_t i) const {
    return image_ + r.offset + record_bytes * i;
  }

  // ---- tables ----

  ImageStatus read_tensors() {
    for (uint32_t i = 0; i < tensors_.count; ++i) {
      s_.tensor_shapes[i] = Words(record(tensors_, kImageTensorRecordBytes, i)).shape(0);
    }
    return ImageStatus::Ok;
  }

  ImageStatus read_buffers() {
    for (uint32_t i = 0; i < buffers_.count; ++i) {
      const Words w(record(buffers_, kImageBufferRecordBytes, i));
      DeviceBuffer b;
      b.tensor = w.i(kBufTensor);
      b.box = w.box(kBufBox);
      b.offset = w.i64(kBufOffset);
      if (!in_range(b.tensor, static_cast<int32_t>(tensors_.count))) {
        return fail(ImageStatus::BadIndex, "buffer of a tensor out of range",
                    static_cast<int32_t>(i));
      }
      s_.buffers[i] = b;
    }
    return ImageStatus::Ok;
  }

  ImageStatus read_concat_blocks() {
    for (uint32_t i = 0; i < concat_.count; ++i) {
      const Words w(record(concat_, kImageConcatRecordBytes, i));
      FieldWords fields(w, 0);
      kernels::visit_fields(s_.concat[i], fields);
    }
    return ImageStatus::Ok;
  }

  // One constant array of a parameter block: `count` elements of
  // `element_bytes` at a byte offset into the data area. `optional`: an
  // absent array (count 0, offset 0) gives nullptr.
  template <typename T>
  ImageStatus constant(const Words& w, uint32_t word, uint32_t expected, bool optional,
                       const T** out, int32_t layer) {
    const uint32_t offset = w.u(word);
    const uint32_t count = w.u(word + 1);
    *out = nullptr;
    if (optional && count == 0) {
      if (offset != 0) return fail(ImageStatus::BadField, "absent array with an offset", layer);
      return ImageStatus::Ok;
    }
    if (count != expected) {
      return fail(ImageStatus::BadConstants, "constant array size does not match the parameters",
                  layer);
    }
    if (offset % alignof(T) != 0) {
      return fail(ImageStatus::Misaligned, "constant array not aligned", layer);
    }
    if (offset > data_.count || uint64_t{count} * sizeof(T) > data_.count - offset) {
      return fail(ImageStatus::BadRegion, "constant array outside the data area", layer);
    }
    // The image is 4-byte aligned and so is every int32 array's offset from
    // it: the kernels read the constants in place.
    *out = reinterpret_cast<const T*>(image_ + data_.offset + offset);
    return ImageStatus::Ok;
  }

  // Words [from, kImageParamWords) of a parameter block must be 0.
  ImageStatus unused_words_zero(const Words& w, uint32_t from, int32_t layer) {
    for (uint32_t k = from; k < kImageParamWords; ++k) {
      if (w.u(kLayerParams + k) != 0) {
        return fail(ImageStatus::BadField, "unused parameter word not 0", layer);
      }
    }
    return ImageStatus::Ok;
  }

  // The four array references of an operator with channel constants,
  // sized by its parameters and bound into them.
  ImageStatus read_constants(const Words& w, DeviceLayer& l, int32_t i) {
    const kernels::ChannelConstants& constants = *kernels::op_registration(l.op).channel_constants;
    const kernels::ConstantCounts n = constants.counts(l);
    if (!n.ok) return fail(ImageStatus::BadConstants, "parameters do not size the constants", i);
    auto word = [&](ConstantArray a) { return kLayerParams + constant_ref_word(l.op, a); };
    kernels::ConstantArrays arrays;
    ImageStatus st =
        constant(w, word(ConstantArray::Weights), n.weights, false, &arrays.weights, i);
    if (st == ImageStatus::Ok) {
      st = constant(w, word(ConstantArray::Bias), n.bias, true, &arrays.bias, i);
    }
    if (st == ImageStatus::Ok) {
      st = constant(w, word(ConstantArray::Multiplier), n.requant, false, &arrays.multiplier, i);
    }
    if (st == ImageStatus::Ok) {
      st = constant(w, word(ConstantArray::Shift), n.requant, false, &arrays.shift, i);
    }
    if (st == ImageStatus::Ok) constants.bind(l, arrays);
    return st;
  }

  ImageStatus read_concat_ref(const Words& w, DeviceLayer& l, int32_t i) {
    const uint32_t at = kLayerParams + concat_ref_word(l.op);
    const uint32_t first = w.u(at + kConcatFirst);
    const uint32_t count = w.u(at + kConcatCount);
    if (count != static_cast<uint32_t>(l.input_count)) {
      return fail(ImageStatus::BadField, "concat blocks other than one per input", i);
    }
    if (first > concat_.count || count > concat_.count - first) {
      return fail(ImageStatus::BadIndex, "concat blocks out of range", i);
    }
    l.concat = s_.concat + first;
    return ImageStatus::Ok;
  }

  // Input slots [0, count) hold indices below `n` (or -1 if `allow_none`),
  // the others -1; `count` itself is in [0, kImageInputSlots].
  ImageStatus read_inputs(const Words& w, uint32_t first_word, int32_t count, int32_t n,
                          bool allow_none, int32_t* slots, int32_t record) {
    if (count < 0 || count > kImageInputSlots) {
      return fail(ImageStatus::BadField, "input count out of range", record);
    }
    for (int32_t k = 0; k < kImageInputSlots; ++k) {
      const int32_t v = w.i(first_word + static_cast<uint32_t>(k));
      if (k >= count) {
        if (v != kNone) return fail(ImageStatus::BadField, "unused input slot not -1", record);
      } else if (!(allow_none ? none_or_in_range(v, n) : in_range(v, n))) {
        return fail(ImageStatus::BadIndex, "input index out of range", record);
      }
      slots[k] = v;
    }
    return ImageStatus::Ok;
  }

  ImageStatus read_layers() {
    for (uint32_t u = 0; u < layers_.count; ++u) {
      const int32_t i = static_cast<int32_t>(u);
      const Words w(record(layers_, kImageLayerRecordBytes, u));
      DeviceLayer& l = s_.layers[u];
      l = DeviceLayer{};
      const uint32_t kind = w.u(kLayerKind);
      if (!kernels::valid_op_type(kind)) {
        return fail(ImageStatus::BadKind, "layer entry of an unknown kind", i);
      }
      l.op = static_cast<OpType>(kind);
      l.layer = w.i(kLayerLayer);
      l.output_tensor = w.i(kLayerOutputTensor);
      l.input_count = w.i(kLayerInputCount);
      const int32_t tensors = static_cast<int32_t>(tensors_.count);
      if (l.layer < 0) return fail(ImageStatus::BadIndex, "negative graph layer index", i);
      if (!in_range(l.output_tensor, tensors)) {
        return fail(ImageStatus::BadIndex, "layer entry output tensor out of range", i);
      }
      if (l.input_count < 1) return fail(ImageStatus::BadField, "layer entry without inputs", i);
      ImageStatus st =
          read_inputs(w, kLayerInputs, l.input_count, tensors, false, l.input_tensors, i);
      if (st != ImageStatus::Ok) return st;
      FieldWords fields(w, kLayerParams);
      kernels::visit_op_params(l.op, static_cast<kernels::OpParams&>(l), fields);
      if (fields.bad_flag()) return fail(ImageStatus::BadField, "flag neither 0 nor 1", i);
      const kernels::OpRegistration& record = kernels::op_registration(l.op);
      if (record.channel_constants != nullptr) st = read_constants(w, l, i);
      if (st == ImageStatus::Ok && record.variadic_inputs) st = read_concat_ref(w, l, i);
      const uint32_t used = param_block_words(l.op);
      if (st == ImageStatus::Ok) st = unused_words_zero(w, used, i);
      if (st != ImageStatus::Ok) return st;
    }
    return ImageStatus::Ok;
  }

  ImageStatus read_ops() {
    const int32_t tensors = static_cast<int32_t>(tensors_.count);
    const int32_t buffers = static_cast<int32_t>(buffers_.count);
    const int32_t layers = static_cast<int32_t>(layers_.count);
    for (uint32_t u = 0; u < ops_.count; ++u) {
      const int32_t i = static_cast<int32_t>(u);
      const Words w(record(ops_, kImageOpRecordBytes, u));
      DeviceOp& op = s_.ops[u];
      op = DeviceOp{};
      const uint32_t kind = w.u(kOpKind);
      if (kind > static_cast<uint32_t>(DeviceOpKind::StoreOutput)) {
        return fail(ImageStatus::BadKind, "op of an unknown kind", i);
      }
      op.kind = static_cast<DeviceOpKind>(kind);
      op.step = w.i(kOpStep);
      op.layer = w.i(kOpLayer);
      op.params = w.i(kOpParams);
      op.peer = w.i(kOpPeer);
      op.tensor = w.i(kOpTensor);
      op.box = w.box(kOpBox);
      op.src_buffer = w.i(kOpSrcBuffer);
      op.dst_buffer = w.i(kOpDstBuffer);
      op.input_count = w.i(kOpInputCount);
      const bool compute = op.kind == DeviceOpKind::Compute;
      if (compute ? !in_range(op.params, layers) : op.params != kNone) {
        return fail(ImageStatus::BadIndex, "op layer entry out of range", i);
      }
      if (!in_range(op.tensor, tensors)) return fail(ImageStatus::BadIndex, "op tensor", i);
      if (!none_or_in_range(op.src_buffer, buffers) || !none_or_in_range(op.dst_buffer, buffers)) {
        return fail(ImageStatus::BadIndex, "op buffer out of range", i);
      }
      if (!none_or_in_range(op.peer, program_.participant_count)) {
        return fail(ImageStatus::BadIndex, "op peer out of range", i);
      }
      if (!compute && op.input_count != 0) {
        return fail(ImageStatus::BadField, "inputs on an op other than compute", i);
      }
      const ImageStatus st = read_inputs(w, kOpInputs, op.input_count, buffers, true, op.inputs, i);
      if (st != ImageStatus::Ok) return st;
      // check_program checks the scratch against the arena and the kernel.
      op.scratch_offset = w.i64(kOpScratchOffset);
      op.scratch_bytes = w.i(kOpScratchBytes);
    }
    return ImageStatus::Ok;
  }

  // ---- the whole program ----

  ImageStatus check() {
    DeviceProgram& p = program_;
    p.tensor_shapes = s_.tensor_shapes;
    p.tensor_count = static_cast<int32_t>(tensors_.count);
    p.buffers = s_.buffers;
    p.buffer_count = static_cast<int32_t>(buffers_.count);
    p.ops = s_.ops;
    p.op_count = static_cast<int32_t>(ops_.count);
    p.layers = s_.layers;
    p.layer_count = static_cast<int32_t>(layers_.count);
    const ProgramProblem problem = check_program(p);
    if (problem.status != RuntimeStatus::Ok) {
      out_->problem = problem;
      return fail(ImageStatus::BadProgram, problem.what,
                  problem.op_index >= 0 ? problem.op_index : problem.index);
    }
    out_->program = p;
    out_->plan_hash = load_le64(image_ + kImageOffPlanHash);
    out_->max_payload_bytes = max_payload_;
    out_->device_name = reinterpret_cast<const char*>(image_ + name_.offset);
    out_->device_name_bytes = name_.count;
    out_->participant = p.participant;
    out_->image_bytes = image_bytes_;
    return ImageStatus::Ok;
  }

  const uint8_t* image_;
  ImageStorageView s_;
  ParsedImage* out_;
  uint32_t image_bytes_ = 0;
  uint32_t max_payload_ = 0;
  Region name_, tensors_, buffers_, ops_, layers_, concat_, data_;
  DeviceProgram program_;
};

bool storage_ok(const ImageStorageView& s) {
  auto table_ok = [](const void* p, int32_t capacity) {
    return capacity >= 0 && (capacity == 0 || p != nullptr);
  };
  return table_ok(s.tensor_shapes, s.tensor_capacity) && table_ok(s.buffers, s.buffer_capacity) &&
         table_ok(s.ops, s.op_capacity) && table_ok(s.layers, s.layer_capacity) &&
         table_ok(s.concat, s.concat_capacity);
}

}  // namespace

namespace image {

uint32_t param_field_words(OpType op) {
  kernels::FieldWordCounter counter;
  const kernels::OpParams params;
  kernels::visit_op_params(op, params, counter);
  return counter.words;
}

int32_t param_field_word(OpType op, const char* name) {
  FieldFinder finder(name);
  const kernels::OpParams params;
  kernels::visit_op_params(op, params, finder);
  return finder.found();
}

uint32_t constant_ref_word(OpType op, ConstantArray array) {
  return param_field_words(op) + kArrayRefWords * static_cast<uint32_t>(array);
}

uint32_t concat_ref_word(OpType op) {
  const bool constants = kernels::op_registration(op).channel_constants != nullptr;
  return param_field_words(op) + (constants ? kConstantRefWords : 0);
}

uint32_t param_block_words(OpType op) {
  const kernels::OpRegistration& record = kernels::op_registration(op);
  return concat_ref_word(op) + (record.variadic_inputs ? kConcatRefWords : 0);
}

}  // namespace image

const char* device_image_status_name(ImageStatus s) {
  switch (s) {
    case ImageStatus::Ok:
      return "ok";
    case ImageStatus::BadArgument:
      return "bad argument";
    case ImageStatus::Misaligned:
      return "misaligned";
    case ImageStatus::Truncated:
      return "truncated";
    case ImageStatus::BadMagic:
      return "bad magic";
    case ImageStatus::BadVersion:
      return "unsupported version";
    case ImageStatus::BadLength:
      return "bad length";
    case ImageStatus::BadCrc:
      return "CRC mismatch";
    case ImageStatus::BadRegion:
      return "region out of bounds";
    case ImageStatus::BadField:
      return "bad field";
    case ImageStatus::BadKind:
      return "unknown kind";
    case ImageStatus::TooManyTensors:
      return "too many tensors";
    case ImageStatus::TooManyBuffers:
      return "too many buffers";
    case ImageStatus::TooManyOps:
      return "too many ops";
    case ImageStatus::TooManyLayers:
      return "too many layers";
    case ImageStatus::TooManyConcatBlocks:
      return "too many concat blocks";
    case ImageStatus::BadIndex:
      return "index out of range";
    case ImageStatus::BadConstants:
      return "constant arrays of the wrong size";
    case ImageStatus::BadProgram:
      return "inconsistent program";
  }
  return "unknown status";
}

uint32_t device_image_crc(const uint8_t* image, size_t image_bytes) {
  if (image_bytes < kImageOffCrc + 4) return crc32(image, image_bytes);
  const uint32_t head = crc32(image, kImageOffCrc);
  return crc32_update(head, image + kImageOffCrc + 4, image_bytes - kImageOffCrc - 4);
}

ImageStatus parse_device_image(const uint8_t* image, size_t size, const ImageStorageView& storage,
                               ParsedImage* out) {
  if (out == nullptr) return ImageStatus::BadArgument;
  *out = ParsedImage{};
  if (!storage_ok(storage)) {
    out->detail = "storage with a null table";
    return ImageStatus::BadArgument;
  }
  if (image == nullptr && size != 0) {
    out->detail = "null image";
    return ImageStatus::BadArgument;
  }
  if (reinterpret_cast<uintptr_t>(image) % kImageAlignment != 0) {
    out->detail = "image start not 4-byte aligned";
    return ImageStatus::Misaligned;
  }
  const ImageStatus st = Parser(image, storage, out).run(size);
  if (st != ImageStatus::Ok) out->program = DeviceProgram{};
  return st;
}

}  // namespace mcusplit::device
