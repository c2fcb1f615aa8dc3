#include "device/device_image.h"

#include <bit>

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
      kernels::Int8ConcatParams c;
      c.input = w.shape(kCatInput);
      c.output = w.shape(kCatOutput);
      c.offset_c = w.i(kCatOffsetC);
      c.offset_y = w.i(kCatOffsetY);
      c.offset_x = w.i(kCatOffsetX);
      c.input_zero_point = w.i(kCatInputZeroPoint);
      c.output_zero_point = w.i(kCatOutputZeroPoint);
      c.multiplier = w.i(kCatMultiplier);
      c.shift = w.i(kCatShift);
      s_.concat[i] = c;
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

  ImageStatus read_conv(const Words& w, DeviceLayer& l, int32_t i) {
    const uint32_t b = kLayerParams;
    kernels::Int8ConvParams& c = l.conv;
    c.input = w.shape(b + kConvInput);
    c.output = w.shape(b + kConvOutput);
    c.kernel_h = w.i(b + kConvKernelH);
    c.kernel_w = w.i(b + kConvKernelW);
    c.stride_h = w.i(b + kConvStrideH);
    c.stride_w = w.i(b + kConvStrideW);
    c.dilation_h = w.i(b + kConvDilationH);
    c.dilation_w = w.i(b + kConvDilationW);
    c.pad_top = w.i(b + kConvPadTop);
    c.pad_left = w.i(b + kConvPadLeft);
    c.groups = w.i(b + kConvGroups);
    c.input_zero_point = w.i(b + kConvInputZeroPoint);
    c.output_zero_point = w.i(b + kConvOutputZeroPoint);
    c.activation = w.activation(b + kConvActivation);
    c.weights_c0 = w.i(b + kConvWeightsC0);
    c.weights_c1 = w.i(b + kConvWeightsC1);
    const ConstantCounts n = conv_constant_counts(c);
    if (!n.ok) {
      return fail(ImageStatus::BadConstants, "conv parameters do not size its constants", i);
    }
    ImageStatus st = constant(w, b + kConvWeights, n.weights, false, &c.weights, i);
    if (st == ImageStatus::Ok) st = constant(w, b + kConvBias, n.bias, true, &c.bias, i);
    if (st == ImageStatus::Ok) {
      st = constant(w, b + kConvMultiplier, n.requant, false, &c.requant.multiplier, i);
    }
    if (st == ImageStatus::Ok) {
      st = constant(w, b + kConvShift, n.requant, false, &c.requant.shift, i);
    }
    return st;
  }

  ImageStatus read_fc(const Words& w, DeviceLayer& l, int32_t i) {
    const uint32_t b = kLayerParams;
    kernels::Int8FullyConnectedParams& f = l.fc;
    f.input_size = w.i(b + kFcInputSize);
    f.output_size = w.i(b + kFcOutputSize);
    f.input_zero_point = w.i(b + kFcInputZeroPoint);
    f.output_zero_point = w.i(b + kFcOutputZeroPoint);
    f.activation = w.activation(b + kFcActivation);
    const uint32_t per_tensor = w.u(b + kFcPerTensorRequant);
    if (per_tensor > 1) return fail(ImageStatus::BadField, "per-tensor flag neither 0 nor 1", i);
    f.per_tensor_requant = per_tensor == 1;
    f.weights_n0 = w.i(b + kFcWeightsN0);
    f.weights_n1 = w.i(b + kFcWeightsN1);
    const ConstantCounts n = fc_constant_counts(f);
    if (!n.ok) {
      return fail(ImageStatus::BadConstants, "fully connected parameters do not size its constants",
                  i);
    }
    ImageStatus st = constant(w, b + kFcWeights, n.weights, false, &f.weights, i);
    if (st == ImageStatus::Ok) st = constant(w, b + kFcBias, n.bias, true, &f.bias, i);
    if (st == ImageStatus::Ok) {
      st = constant(w, b + kFcMultiplier, n.requant, false, &f.requant.multiplier, i);
    }
    if (st == ImageStatus::Ok) {
      st = constant(w, b + kFcShift, n.requant, false, &f.requant.shift, i);
    }
    return st;
  }

  void read_add(const Words& w, DeviceLayer& l) {
    const uint32_t b = kLayerParams;
    kernels::Int8AddParams& a = l.add;
    a.shape = w.shape(b + kAddShape);
    a.input1_offset = w.i(b + kAddInput1Offset);
    a.input2_offset = w.i(b + kAddInput2Offset);
    a.output_offset = w.i(b + kAddOutputOffset);
    a.input1_multiplier = w.i(b + kAddInput1Multiplier);
    a.input1_shift = w.i(b + kAddInput1Shift);
    a.input2_multiplier = w.i(b + kAddInput2Multiplier);
    a.input2_shift = w.i(b + kAddInput2Shift);
    a.output_multiplier = w.i(b + kAddOutputMultiplier);
    a.output_shift = w.i(b + kAddOutputShift);
    a.left_shift = w.i(b + kAddLeftShift);
    a.activation = w.activation(b + kAddActivation);
  }

  void read_pool(const Words& w, DeviceLayer& l) {
    const uint32_t b = kLayerParams;
    kernels::Int8PoolParams& p = l.pool;
    p.input = w.shape(b + kPoolInput);
    p.output = w.shape(b + kPoolOutput);
    p.kernel_h = w.i(b + kPoolKernelH);
    p.kernel_w = w.i(b + kPoolKernelW);
    p.stride_h = w.i(b + kPoolStrideH);
    p.stride_w = w.i(b + kPoolStrideW);
    p.pad_top = w.i(b + kPoolPadTop);
    p.pad_left = w.i(b + kPoolPadLeft);
    p.activation = w.activation(b + kPoolActivation);
  }

  void read_global_pool(const Words& w, DeviceLayer& l) {
    const uint32_t b = kLayerParams;
    kernels::Int8GlobalAveragePoolParams& g = l.global_pool;
    g.input = w.shape(b + kGapInput);
    g.input_zero_point = w.i(b + kGapInputZeroPoint);
    g.output_zero_point = w.i(b + kGapOutputZeroPoint);
    g.multiplier = w.i(b + kGapMultiplier);
    g.shift = w.i(b + kGapShift);
    g.activation = w.activation(b + kGapActivation);
  }

  ImageStatus read_concat_ref(const Words& w, DeviceLayer& l, int32_t i) {
    const uint32_t first = w.u(kLayerParams + kConcatFirst);
    const uint32_t count = w.u(kLayerParams + kConcatCount);
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
      if (kind > static_cast<uint32_t>(LayerKind::Reshape)) {
        return fail(ImageStatus::BadKind, "layer entry of an unknown kind", i);
      }
      l.kind = static_cast<LayerKind>(kind);
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
      uint32_t used = 0;
      switch (l.kind) {
        case LayerKind::Conv:
          st = read_conv(w, l, i);
          used = kConvWords;
          break;
        case LayerKind::FullyConnected:
          st = read_fc(w, l, i);
          used = kFcWords;
          break;
        case LayerKind::Add:
          read_add(w, l);
          used = kAddWords;
          break;
        case LayerKind::MaxPool:
        case LayerKind::AveragePool:
          read_pool(w, l);
          used = kPoolWords;
          break;
        case LayerKind::GlobalAveragePool:
          read_global_pool(w, l);
          used = kGapWords;
          break;
        case LayerKind::Concat:
          st = read_concat_ref(w, l, i);
          used = kConcatRefWords;
          break;
        case LayerKind::Reshape:
          l.reshape_input = w.shape(kLayerParams + kReshapeInput);
          l.reshape_output = w.shape(kLayerParams + kReshapeOutput);
          used = kReshapeWords;
          break;
      }
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

// rows * taps_per_row as a u32 element count; false on overflow.
bool element_count(int64_t rows, int64_t taps, uint32_t* out) {
  if (rows <= 0 || taps <= 0 || rows > kU32Max || taps > kU32Max) return false;
  const uint64_t n = static_cast<uint64_t>(rows) * static_cast<uint64_t>(taps);
  if (n > kU32Max) return false;
  *out = static_cast<uint32_t>(n);
  return true;
}

}  // namespace

ConstantCounts conv_constant_counts(const kernels::Int8ConvParams& p) {
  ConstantCounts n;
  if (p.weights_c0 < 0 || p.weights_c1 <= p.weights_c0 || p.kernel_h < 1 || p.kernel_w < 1 ||
      p.groups < 1 || p.input.c < 1 || p.input.c % p.groups != 0) {
    return n;
  }
  const int64_t rows = int64_t{p.weights_c1} - p.weights_c0;
  // Each factor is below 2^31: kernel_h * kernel_w < 2^62, and the product
  // with the group's channels is only formed once that is below 2^32.
  const int64_t window = int64_t{p.kernel_h} * p.kernel_w;
  if (window > kU32Max) return n;
  if (!element_count(rows, window * (p.input.c / p.groups), &n.weights)) return n;
  n.bias = static_cast<uint32_t>(rows);
  n.requant = static_cast<uint32_t>(rows);
  n.ok = true;
  return n;
}

ConstantCounts fc_constant_counts(const kernels::Int8FullyConnectedParams& p) {
  ConstantCounts n;
  if (p.weights_n0 < 0 || p.weights_n1 <= p.weights_n0 || p.input_size < 1) return n;
  const int64_t rows = int64_t{p.weights_n1} - p.weights_n0;
  if (!element_count(rows, p.input_size, &n.weights)) return n;
  n.bias = static_cast<uint32_t>(rows);
  n.requant = p.per_tensor_requant ? 1u : static_cast<uint32_t>(rows);
  n.ok = true;
  return n;
}

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
