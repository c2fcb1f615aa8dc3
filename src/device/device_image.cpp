#include "device/device_image.h"

#include <bit>

#include "device/crc32.h"
#include "device/protocol.h"

namespace mcusplit::device {

// Constant arrays are used in place, as the kernels' int32_t pointers.
static_assert(std::endian::native == std::endian::little,
              "the device image references little-endian int32 arrays in place");

namespace {

using namespace image;  // NOLINT(google-build-using-namespace): the field lists and word indices

constexpr int32_t kNone = -1;

// Word `w` of a record at p; callers have checked that it lies inside the
// image.
uint32_t word_at(const uint8_t* p, uint32_t w) {
  return load_le32(p + 4 * size_t{w});
}

using Region = RegionEntry;

class Parser {
 public:
  Parser(const uint8_t* image, const ImageStorageView& storage, ParsedImage* out)
      : image_(image), s_(storage), out_(out) {}

  ImageStatus run(size_t size) {
    ImageStatus st = check_header(size);
    if (st == ImageStatus::Ok) st = read_regions();
    if (st == ImageStatus::Ok) st = check_scalars();
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

  // ---- header ----

  // Reads the whole header (the program's scalars straight into the
  // program), then checks it.
  ImageStatus check_header(size_t size) {
    if (size < kImageHeaderBytes) return fail(ImageStatus::Truncated, "shorter than the header");
    WordReader fields(image_);
    visit_header(header_, program_, fields);
    for (size_t i = 0; i < sizeof(kImageMagic); ++i) {
      if (header_.magic[i] != kImageMagic[i]) {
        return fail(ImageStatus::BadMagic, "not a device image");
      }
    }
    if (header_.version != kImageFormatVersion) {
      return fail(ImageStatus::BadVersion, "format version other than 1");
    }
    const uint32_t image_bytes = header_.image_bytes;
    if (image_bytes < kImageHeaderBytes) {
      return fail(ImageStatus::BadLength, "image length shorter than the header");
    }
    if (image_bytes > size)
      return fail(ImageStatus::Truncated, "fewer bytes than the image length");
    if (header_.crc != device_image_crc(image_, image_bytes)) {
      return fail(ImageStatus::BadCrc, "CRC-32 mismatch");
    }
    if (fields.bad_reserved()) return fail(ImageStatus::BadField, "reserved header word not 0");
    image_bytes_ = image_bytes;
    return ImageStatus::Ok;
  }

  // A region of `count` records of `record_bytes` (1 for byte regions) must
  // start 4-byte aligned after the header and end inside the image.
  ImageStatus region(ImageRegion r, uint64_t record_bytes, Region* out) {
    *out = header_.regions[static_cast<size_t>(r)];
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
    const uint32_t count = header_.regions[static_cast<size_t>(r)].count;
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

  ImageStatus check_scalars() {
    const DeviceProgram& p = program_;
    const uint32_t max_payload = header_.max_payload_bytes;
    if (max_payload == 0 || max_payload > kMaxPayloadLimit) {
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

  // Record i of a table, read through its field list.
  template <class T>
  WordReader read_record(const Region& r, size_t record_bytes, uint32_t i, T& out) const {
    WordReader fields(record(r, record_bytes, i));
    visit_fields(out, fields);
    return fields;
  }

  ImageStatus read_tensors() {
    for (uint32_t i = 0; i < tensors_.count; ++i) {
      read_record(tensors_, kImageTensorRecordBytes, i, s_.tensor_shapes[i]);
    }
    return ImageStatus::Ok;
  }

  ImageStatus read_buffers() {
    for (uint32_t i = 0; i < buffers_.count; ++i) {
      DeviceBuffer& b = s_.buffers[i];
      read_record(buffers_, kImageBufferRecordBytes, i, b);
      if (!in_range(b.tensor, static_cast<int32_t>(tensors_.count))) {
        return fail(ImageStatus::BadIndex, "buffer of a tensor out of range",
                    static_cast<int32_t>(i));
      }
    }
    return ImageStatus::Ok;
  }

  ImageStatus read_concat_blocks() {
    for (uint32_t i = 0; i < concat_.count; ++i) {
      read_record(concat_, kImageConcatRecordBytes, i, s_.concat[i]);
    }
    return ImageStatus::Ok;
  }

  // One constant array of a parameter block: `count` elements of
  // `element_bytes` at a byte offset into the data area. `optional`: an
  // absent array (count 0, offset 0) gives nullptr.
  template <typename T>
  ImageStatus constant(const uint8_t* rec, uint32_t word, uint32_t expected, bool optional,
                       const T** out, int32_t layer) {
    const uint32_t offset = word_at(rec, word);
    const uint32_t count = word_at(rec, word + 1);
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
  ImageStatus unused_words_zero(const uint8_t* rec, uint32_t from, int32_t layer) {
    for (uint32_t k = from; k < kImageParamWords; ++k) {
      if (word_at(rec, kLayerParams + k) != 0) {
        return fail(ImageStatus::BadField, "unused parameter word not 0", layer);
      }
    }
    return ImageStatus::Ok;
  }

  // The four array references of an operator with channel constants,
  // sized by its parameters and bound into them.
  ImageStatus read_constants(const uint8_t* rec, DeviceLayer& l, int32_t i) {
    const kernels::ChannelConstants& constants = *kernels::op_registration(l.op).channel_constants;
    const kernels::ConstantCounts n = constants.counts(l);
    if (!n.ok) return fail(ImageStatus::BadConstants, "parameters do not size the constants", i);
    auto word = [&](ConstantArray a) { return kLayerParams + constant_ref_word(l.op, a); };
    kernels::ConstantArrays arrays;
    ImageStatus st =
        constant(rec, word(ConstantArray::Weights), n.weights, false, &arrays.weights, i);
    if (st == ImageStatus::Ok) {
      st = constant(rec, word(ConstantArray::Bias), n.bias, true, &arrays.bias, i);
    }
    if (st == ImageStatus::Ok) {
      st = constant(rec, word(ConstantArray::Multiplier), n.requant, false, &arrays.multiplier, i);
    }
    if (st == ImageStatus::Ok) {
      st = constant(rec, word(ConstantArray::Shift), n.requant, false, &arrays.shift, i);
    }
    if (st == ImageStatus::Ok) constants.bind(l, arrays);
    return st;
  }

  ImageStatus read_concat_ref(const uint8_t* rec, DeviceLayer& l, int32_t i) {
    const uint32_t at = kLayerParams + concat_ref_word(l.op);
    const uint32_t first = word_at(rec, at + kConcatFirst);
    const uint32_t count = word_at(rec, at + kConcatCount);
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
  ImageStatus check_inputs(const int32_t* slots, int32_t count, int32_t n, bool allow_none,
                           int32_t record) {
    if (count < 0 || count > kImageInputSlots) {
      return fail(ImageStatus::BadField, "input count out of range", record);
    }
    for (int32_t k = 0; k < kImageInputSlots; ++k) {
      const int32_t v = slots[k];
      if (k >= count) {
        if (v != kNone) return fail(ImageStatus::BadField, "unused input slot not -1", record);
      } else if (!(allow_none ? none_or_in_range(v, n) : in_range(v, n))) {
        return fail(ImageStatus::BadIndex, "input index out of range", record);
      }
    }
    return ImageStatus::Ok;
  }

  ImageStatus read_layers() {
    for (uint32_t u = 0; u < layers_.count; ++u) {
      const int32_t i = static_cast<int32_t>(u);
      DeviceLayer& l = s_.layers[u];
      l = DeviceLayer{};
      if (read_record(layers_, kImageLayerRecordBytes, u, l).bad_kind()) {
        return fail(ImageStatus::BadKind, "layer entry of an unknown kind", i);
      }
      const int32_t tensors = static_cast<int32_t>(tensors_.count);
      if (l.layer < 0) return fail(ImageStatus::BadIndex, "negative graph layer index", i);
      if (!in_range(l.output_tensor, tensors)) {
        return fail(ImageStatus::BadIndex, "layer entry output tensor out of range", i);
      }
      if (l.input_count < 1) return fail(ImageStatus::BadField, "layer entry without inputs", i);
      ImageStatus st = check_inputs(l.input_tensors, l.input_count, tensors, false, i);
      if (st != ImageStatus::Ok) return st;
      const uint8_t* rec = record(layers_, kImageLayerRecordBytes, u);
      WordReader fields(rec, kLayerParams);
      kernels::visit_op_params(l.op, static_cast<kernels::OpParams&>(l), fields);
      if (fields.bad_flag()) return fail(ImageStatus::BadField, "flag neither 0 nor 1", i);
      const kernels::OpRegistration& record = kernels::op_registration(l.op);
      if (record.channel_constants != nullptr) st = read_constants(rec, l, i);
      if (st == ImageStatus::Ok && record.variadic_inputs) st = read_concat_ref(rec, l, i);
      const uint32_t used = param_block_words(l.op);
      if (st == ImageStatus::Ok) st = unused_words_zero(rec, used, i);
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
      DeviceOp& op = s_.ops[u];
      op = DeviceOp{};
      if (read_record(ops_, kImageOpRecordBytes, u, op).bad_kind()) {
        return fail(ImageStatus::BadKind, "op of an unknown kind", i);
      }
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
      const ImageStatus st = check_inputs(op.inputs, op.input_count, buffers, true, i);
      if (st != ImageStatus::Ok) return st;
      // check_program checks the kernel scratch against the arena and the kernel.
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
    out_->plan_hash = header_.plan_hash;
    out_->max_payload_bytes = header_.max_payload_bytes;
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
  Header header_;
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
  return finder.word();
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
