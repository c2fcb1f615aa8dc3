#include "host/device_image_writer.h"

#include <cstring>
#include <string>

#include "common/error.h"
#include "device/device_image.h"
#include "device/program_check.h"
#include "device/protocol.h"
#include "host/device_slice.h"

namespace mcusplit::host {

using device::DeviceLayer;
using device::DeviceOp;
using device::DeviceOpKind;
using device::ImageRegion;

namespace {

constexpr uint64_t kMaxImageBytes = 0xFFFFFFFFu;

uint64_t align_up(uint64_t n) {
  const uint64_t a = device::kImageAlignment;
  return (n + a - 1) / a * a;
}

// A constant array of one layer entry: where it sits in the data area.
struct ArrayPlacement {
  const void* data = nullptr;
  uint32_t count = 0;
  uint32_t element_bytes = 1;
  uint32_t offset = 0;  // bytes from the data area's start
};

// The four constant arrays of a conv or fully connected entry.
struct LayerArrays {
  ArrayPlacement weights, bias, multiplier, shift;
};

// Little-endian words written into a record at `at` in the image.
class RecordWriter {
 public:
  RecordWriter(std::vector<uint8_t>& bytes, uint64_t at) : p_(bytes.data() + at) {}
  void u32(uint32_t word, uint32_t v) { device::store_le32(p_ + 4 * size_t{word}, v); }
  void i32(uint32_t word, int32_t v) { u32(word, static_cast<uint32_t>(v)); }
  void i64(uint32_t word, int64_t v) {
    device::store_le64(p_ + 4 * size_t{word}, static_cast<uint64_t>(v));
  }
  void shape(uint32_t word, const core::TensorShape3& s) {
    i32(word, s.c);
    i32(word + 1, s.h);
    i32(word + 2, s.w);
  }
  void box(uint32_t word, const core::Box& b) {
    const int32_t v[6] = {b.c0, b.c1, b.y0, b.y1, b.x0, b.x1};
    for (uint32_t k = 0; k < 6; ++k) i32(word + k, v[k]);
  }
  void activation(uint32_t word, const core::ActivationRange& a) {
    i32(word, a.min);
    i32(word + 1, a.max);
  }
  void array(uint32_t word, const ArrayPlacement& a) {
    u32(word, a.count == 0 ? 0 : a.offset);
    u32(word + 1, a.count);
  }
  // Input slots: `count` values, then -1 up to the format's slot count.
  void inputs(uint32_t word, const int32_t* values, int32_t count) {
    for (int32_t k = 0; k < device::kImageInputSlots; ++k) {
      i32(word + static_cast<uint32_t>(k), k < count ? values[k] : -1);
    }
  }

 private:
  uint8_t* p_;
};

// Writes a field list (kernels/op_params.h) as consecutive words from
// `first`, as the parser reads it.
class FieldWriter {
 public:
  FieldWriter(RecordWriter& w, uint32_t first) : w_(w), next_(first) {}
  void i32(const char*, int32_t v) { w_.i32(next_++, v); }
  void flag(const char*, bool v) { w_.u32(next_++, v ? 1u : 0u); }
  void shape(const char*, const core::TensorShape3& s) {
    w_.shape(next_, s);
    next_ += 3;
  }
  void activation(const char*, const core::ActivationRange& a) {
    w_.activation(next_, a);
    next_ += 2;
  }

 private:
  RecordWriter& w_;
  uint32_t next_;
};

std::string layer_label(const DeviceLayer& l, size_t entry) {
  return "layer entry " + std::to_string(entry) + " (graph layer " + std::to_string(l.layer) + ")";
}

class ImageWriter {
 public:
  ImageWriter(const device::DeviceProgram& program, uint64_t plan_hash, uint32_t max_payload_bytes,
              std::string_view name)
      : p_(program), plan_hash_(plan_hash), max_payload_(max_payload_bytes), name_(name) {}

  std::vector<uint8_t> write() {
    check();
    place_constants();
    place_regions();
    bytes_.assign(static_cast<size_t>(image_bytes_), 0);
    write_header();
    write_tables();
    write_data();
    device::store_le32(bytes_.data() + device::kImageOffCrc,
                       device::device_image_crc(bytes_.data(), bytes_.size()));
    verify();
    return std::move(bytes_);
  }

 private:
  void check() const {
    const device::ProgramProblem problem = device::check_program(p_);
    if (problem.status != device::RuntimeStatus::Ok) {
      std::string where;
      if (problem.op_index >= 0) where += ", op " + std::to_string(problem.op_index);
      if (problem.index >= 0) where += ", entry " + std::to_string(problem.index);
      throw Error("cannot write a device image of participant " + std::to_string(p_.participant) +
                  ": " + problem.what + where);
    }
    if (max_payload_ == 0 || max_payload_ > device::kMaxPayloadLimit) {
      throw Error("cannot write a device image with a max payload of " +
                  std::to_string(max_payload_) + " bytes (1.." +
                  std::to_string(device::kMaxPayloadLimit) + ")");
    }
  }

  // The data area: every conv and fully connected entry's arrays in entry
  // order (weights, bias, multiplier, shift), each 4-byte aligned.
  void place_constants() {
    arrays_.resize(static_cast<size_t>(p_.layer_count));
    uint64_t at = 0;
    auto place = [&](ArrayPlacement& a, const void* data, uint32_t count, uint32_t element_bytes) {
      a = ArrayPlacement{data, count, element_bytes, 0};
      if (count == 0) return;
      at = align_up(at);
      a.offset = static_cast<uint32_t>(at);
      at += uint64_t{count} * element_bytes;
      if (at > kMaxImageBytes) throw Error("device image of 4 GiB or more");
    };
    for (int32_t i = 0; i < p_.layer_count; ++i) {
      const DeviceLayer& l = p_.layers[i];
      LayerArrays& a = arrays_[static_cast<size_t>(i)];
      const kernels::OpRegistration& record = kernels::op_registration(l.op);
      if (record.variadic_inputs) concat_blocks_ += static_cast<uint64_t>(l.input_count);
      if (record.channel_constants == nullptr) continue;
      const kernels::ConstantCounts n = record.channel_constants->counts(l);
      const kernels::ConstantArrays arrays = record.channel_constants->bound(l);
      if (!n.ok) {
        throw Error("cannot write a device image: " + layer_label(l, static_cast<size_t>(i)) +
                    " has parameters that do not size its constants");
      }
      if (arrays.weights == nullptr || arrays.multiplier == nullptr || arrays.shift == nullptr) {
        throw Error("cannot write a device image: " + layer_label(l, static_cast<size_t>(i)) +
                    " lacks its constants");
      }
      place(a.weights, arrays.weights, n.weights, 1);
      place(a.bias, arrays.bias, arrays.bias == nullptr ? 0 : n.bias, 4);
      place(a.multiplier, arrays.multiplier, n.requant, 4);
      place(a.shift, arrays.shift, n.requant, 4);
    }
    data_bytes_ = align_up(at);
  }

  // Header, name, tables, data: each region 4-byte aligned, in this order.
  void place_regions() {
    uint64_t at = device::kImageHeaderBytes;
    auto next = [&](ImageRegion r, uint64_t count, uint64_t record_bytes) {
      if (count > kMaxImageBytes) throw Error("device image of 4 GiB or more");
      regions_[static_cast<size_t>(r)] = {static_cast<uint32_t>(at), static_cast<uint32_t>(count)};
      at = align_up(at + count * record_bytes);
      if (at > kMaxImageBytes) throw Error("device image of 4 GiB or more");
    };
    next(ImageRegion::Name, name_.size(), 1);
    next(ImageRegion::Tensors, static_cast<uint64_t>(p_.tensor_count),
         device::kImageTensorRecordBytes);
    next(ImageRegion::Buffers, static_cast<uint64_t>(p_.buffer_count),
         device::kImageBufferRecordBytes);
    next(ImageRegion::Ops, static_cast<uint64_t>(p_.op_count), device::kImageOpRecordBytes);
    next(ImageRegion::Layers, static_cast<uint64_t>(p_.layer_count),
         device::kImageLayerRecordBytes);
    next(ImageRegion::Concat, concat_blocks_, device::kImageConcatRecordBytes);
    next(ImageRegion::Data, data_bytes_, 1);
    image_bytes_ = at;
  }

  struct Region {
    uint32_t offset = 0;
    uint32_t count = 0;
  };
  const Region& region(ImageRegion r) const { return regions_[static_cast<size_t>(r)]; }

  void write_header() {
    std::memcpy(bytes_.data() + device::kImageOffMagic, device::kImageMagic,
                sizeof(device::kImageMagic));
    RecordWriter h(bytes_, 0);
    h.u32(device::kImageOffVersion / 4, device::kImageFormatVersion);
    h.u32(device::kImageOffImageBytes / 4, static_cast<uint32_t>(image_bytes_));
    h.i64(device::kImageOffPlanHash / 4, static_cast<int64_t>(plan_hash_));
    h.i64(device::kImageOffArenaBytes / 4, p_.arena_bytes);
    h.i64(device::kImageOffScratchBytes / 4, p_.scratch_bytes);
    h.u32(device::kImageOffMaxPayload / 4, max_payload_);
    h.i32(device::kImageOffParticipant / 4, p_.participant);
    h.i32(device::kImageOffParticipantCount / 4, p_.participant_count);
    h.i32(device::kImageOffInputTensor / 4, p_.input_tensor);
    h.i32(device::kImageOffOutputTensor / 4, p_.output_tensor);
    for (size_t r = 0; r < device::kImageRegionCount; ++r) {
      const uint32_t word =
          static_cast<uint32_t>(device::image_region_offset_field(static_cast<ImageRegion>(r)) / 4);
      h.u32(word, regions_[r].offset);
      h.u32(word + 1, regions_[r].count);
    }
    if (!name_.empty()) {
      std::memcpy(bytes_.data() + region(ImageRegion::Name).offset, name_.data(), name_.size());
    }
  }

  uint64_t record_at(ImageRegion r, size_t record_bytes, size_t i) const {
    return region(r).offset + uint64_t{record_bytes} * i;
  }

  void write_tables() {
    for (int32_t i = 0; i < p_.tensor_count; ++i) {
      RecordWriter(bytes_, record_at(ImageRegion::Tensors, device::kImageTensorRecordBytes,
                                     static_cast<size_t>(i)))
          .shape(0, p_.tensor_shapes[i]);
    }
    for (int32_t i = 0; i < p_.buffer_count; ++i) {
      const device::DeviceBuffer& b = p_.buffers[i];
      RecordWriter w(bytes_, record_at(ImageRegion::Buffers, device::kImageBufferRecordBytes,
                                       static_cast<size_t>(i)));
      w.i32(device::image::kBufTensor, b.tensor);
      w.box(device::image::kBufBox, b.box);
      w.i64(device::image::kBufOffset, b.offset);
    }
    for (int32_t i = 0; i < p_.op_count; ++i) write_op(p_.ops[i], static_cast<size_t>(i));
    size_t concat_block = 0;
    for (int32_t i = 0; i < p_.layer_count; ++i) {
      write_layer(p_.layers[i], static_cast<size_t>(i), &concat_block);
    }
  }

  void write_op(const DeviceOp& op, size_t i) {
    RecordWriter w(bytes_, record_at(ImageRegion::Ops, device::kImageOpRecordBytes, i));
    w.u32(device::image::kOpKind, static_cast<uint32_t>(op.kind));
    w.i32(device::image::kOpStep, op.step);
    w.i32(device::image::kOpLayer, op.layer);
    w.i32(device::image::kOpParams, op.params);
    w.i32(device::image::kOpPeer, op.peer);
    w.i32(device::image::kOpTensor, op.tensor);
    w.box(device::image::kOpBox, op.box);
    w.i32(device::image::kOpSrcBuffer, op.src_buffer);
    w.i32(device::image::kOpDstBuffer, op.dst_buffer);
    w.i32(device::image::kOpInputCount, op.input_count);
    w.inputs(device::image::kOpInputs, op.inputs, op.input_count);
    w.i64(device::image::kOpScratchOffset, op.scratch_offset);
    w.i32(device::image::kOpScratchBytes, op.scratch_bytes);
  }

  void write_layer(const DeviceLayer& l, size_t i, size_t* concat_block) {
    RecordWriter w(bytes_, record_at(ImageRegion::Layers, device::kImageLayerRecordBytes, i));
    w.i32(device::image::kLayerLayer, l.layer);
    w.u32(device::image::kLayerKind, static_cast<uint32_t>(l.op));
    w.i32(device::image::kLayerOutputTensor, l.output_tensor);
    w.i32(device::image::kLayerInputCount, l.input_count);
    w.inputs(device::image::kLayerInputs, l.input_tensors, l.input_count);
    namespace image = device::image;
    const uint32_t b = image::kLayerParams;
    if (image::param_block_words(l.op) > image::kImageParamWords) {
      throw Error("cannot write a device image: " + layer_label(l, i) + " (" +
                  kernels::op_type_name(l.op) + ") has more parameter words than a layer record");
    }
    FieldWriter fields(w, b);
    kernels::visit_op_params(l.op, static_cast<const kernels::OpParams&>(l), fields);
    const kernels::OpRegistration& record = kernels::op_registration(l.op);
    if (record.channel_constants != nullptr) {
      const LayerArrays& a = arrays_[i];
      auto word = [&](image::ConstantArray c) { return b + image::constant_ref_word(l.op, c); };
      w.array(word(image::ConstantArray::Weights), a.weights);
      w.array(word(image::ConstantArray::Bias), a.bias);
      w.array(word(image::ConstantArray::Multiplier), a.multiplier);
      w.array(word(image::ConstantArray::Shift), a.shift);
    }
    if (record.variadic_inputs) {
      const uint32_t at = b + image::concat_ref_word(l.op);
      w.u32(at + image::kConcatFirst, static_cast<uint32_t>(*concat_block));
      w.u32(at + image::kConcatCount, static_cast<uint32_t>(l.input_count));
      for (int32_t k = 0; k < l.input_count; ++k) {
        RecordWriter block(bytes_, record_at(ImageRegion::Concat, device::kImageConcatRecordBytes,
                                             (*concat_block)++));
        FieldWriter block_fields(block, 0);
        kernels::visit_fields(l.concat[k], block_fields);
      }
    }
  }

  // Constant arrays element by element, little-endian whatever the host.
  void write_data() {
    uint8_t* data = bytes_.data() + region(ImageRegion::Data).offset;
    for (const LayerArrays& a : arrays_) {
      for (const ArrayPlacement* p : {&a.weights, &a.bias, &a.multiplier, &a.shift}) {
        if (p->count == 0) continue;
        uint8_t* out = data + p->offset;
        if (p->element_bytes == 1) {
          std::memcpy(out, p->data, p->count);
          continue;
        }
        const int32_t* values = static_cast<const int32_t*>(p->data);
        for (uint32_t k = 0; k < p->count; ++k) {
          device::store_le32(out + 4 * size_t{k}, static_cast<uint32_t>(values[k]));
        }
      }
    }
  }

  // Parses the image back with storage exactly as large as the program.
  void verify() const {
    std::vector<core::TensorShape3> shapes(static_cast<size_t>(p_.tensor_count));
    std::vector<device::DeviceBuffer> buffers(static_cast<size_t>(p_.buffer_count));
    std::vector<DeviceOp> ops(static_cast<size_t>(p_.op_count));
    std::vector<DeviceLayer> layers(static_cast<size_t>(p_.layer_count));
    std::vector<kernels::Int8ConcatParams> concat(static_cast<size_t>(concat_blocks_));
    device::ImageStorageView view{shapes.data(),  p_.tensor_count,
                                  buffers.data(), p_.buffer_count,
                                  ops.data(),     p_.op_count,
                                  layers.data(),  p_.layer_count,
                                  concat.data(),  static_cast<int32_t>(concat_blocks_)};
    device::ParsedImage parsed;
    const device::ImageStatus st =
        device::parse_device_image(bytes_.data(), bytes_.size(), view, &parsed);
    if (st != device::ImageStatus::Ok) {
      throw Error("cannot write a device image of participant " + std::to_string(p_.participant) +
                  ": the program breaks a rule of the format (" +
                  device::device_image_status_name(st) + ": " + parsed.detail +
                  (parsed.index >= 0 ? ", record " + std::to_string(parsed.index) : "") + ")");
    }
  }

  const device::DeviceProgram& p_;
  uint64_t plan_hash_;
  uint32_t max_payload_;
  std::string_view name_;
  std::vector<LayerArrays> arrays_;
  uint64_t concat_blocks_ = 0;
  uint64_t data_bytes_ = 0;
  Region regions_[device::kImageRegionCount];
  uint64_t image_bytes_ = 0;
  std::vector<uint8_t> bytes_;
};

}  // namespace

std::vector<uint8_t> write_device_image(const device::DeviceProgram& program, uint64_t plan_hash,
                                        uint32_t max_payload_bytes, std::string_view device_name) {
  return ImageWriter(program, plan_hash, max_payload_bytes, device_name).write();
}

std::vector<uint8_t> write_participant_image(const plan::PlanFile& file, int participant) {
  const DeviceSlice slice(file, participant);
  const int64_t max_payload = file.plan.max_payload_bytes;
  if (max_payload <= 0 || max_payload > int64_t{device::kMaxPayloadLimit}) {
    throw Error("plan max payload of " + std::to_string(max_payload) +
                " bytes does not fit a device image");
  }
  return write_device_image(slice.program(), file.hash, static_cast<uint32_t>(max_payload),
                            slice.name());
}

}  // namespace mcusplit::host
