#include "host/device_image_writer.h"

#include <algorithm>
#include <cstring>
#include <iterator>
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

// A constant array's reference: its offset into the data area and its
// element count (0 and 0 if absent).
void write_array_ref(uint8_t* record, uint32_t word, const ArrayPlacement& a) {
  device::store_le32(record + 4 * size_t{word}, a.count == 0 ? 0 : a.offset);
  device::store_le32(record + 4 * size_t{word + 1}, a.count);
}

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

  using Region = device::image::RegionEntry;
  const Region& region(ImageRegion r) const { return regions_[static_cast<size_t>(r)]; }

  void write_header() {
    device::image::Header h;
    std::memcpy(h.magic, device::kImageMagic, sizeof(h.magic));
    h.version = device::kImageFormatVersion;
    h.image_bytes = static_cast<uint32_t>(image_bytes_);
    h.plan_hash = plan_hash_;
    h.max_payload_bytes = max_payload_;
    std::copy(std::begin(regions_), std::end(regions_), std::begin(h.regions));
    device::image::WordWriter fields(bytes_.data());
    device::image::visit_header(h, p_, fields);  // the CRC comes last
    if (!name_.empty()) {
      std::memcpy(bytes_.data() + region(ImageRegion::Name).offset, name_.data(), name_.size());
    }
  }

  uint8_t* record_at(ImageRegion r, size_t record_bytes, size_t i) {
    return bytes_.data() + region(r).offset + record_bytes * i;
  }

  // Record i of a table, written through its field list.
  template <class T>
  uint8_t* write_record(ImageRegion r, size_t record_bytes, size_t i, const T& record) {
    uint8_t* at = record_at(r, record_bytes, i);
    device::image::WordWriter fields(at);
    visit_fields(record, fields);
    return at;
  }

  void write_tables() {
    for (int32_t i = 0; i < p_.tensor_count; ++i) {
      write_record(ImageRegion::Tensors, device::kImageTensorRecordBytes, static_cast<size_t>(i),
                   p_.tensor_shapes[i]);
    }
    for (int32_t i = 0; i < p_.buffer_count; ++i) {
      write_record(ImageRegion::Buffers, device::kImageBufferRecordBytes, static_cast<size_t>(i),
                   p_.buffers[i]);
    }
    for (int32_t i = 0; i < p_.op_count; ++i) {
      write_record(ImageRegion::Ops, device::kImageOpRecordBytes, static_cast<size_t>(i),
                   p_.ops[i]);
    }
    size_t concat_block = 0;
    for (int32_t i = 0; i < p_.layer_count; ++i) {
      write_layer(p_.layers[i], static_cast<size_t>(i), &concat_block);
    }
  }

  // The record's fixed fields, then its parameter block (device_image.h).
  void write_layer(const DeviceLayer& l, size_t i, size_t* concat_block) {
    namespace image = device::image;
    if (image::param_block_words(l.op) > image::kImageParamWords) {
      throw Error("cannot write a device image: " + layer_label(l, i) + " (" +
                  kernels::op_type_name(l.op) + ") has more parameter words than a layer record");
    }
    uint8_t* record = write_record(ImageRegion::Layers, device::kImageLayerRecordBytes, i, l);
    const uint32_t b = image::kLayerParams;
    image::WordWriter fields(record, b);
    kernels::visit_op_params(l.op, static_cast<const kernels::OpParams&>(l), fields);
    const kernels::OpRegistration& op = kernels::op_registration(l.op);
    if (op.channel_constants != nullptr) {
      const LayerArrays& a = arrays_[i];
      auto word = [&](image::ConstantArray c) { return b + image::constant_ref_word(l.op, c); };
      write_array_ref(record, word(image::ConstantArray::Weights), a.weights);
      write_array_ref(record, word(image::ConstantArray::Bias), a.bias);
      write_array_ref(record, word(image::ConstantArray::Multiplier), a.multiplier);
      write_array_ref(record, word(image::ConstantArray::Shift), a.shift);
    }
    if (op.variadic_inputs) {
      const uint32_t at = b + image::concat_ref_word(l.op);
      device::store_le32(record + 4 * size_t{at + image::kConcatFirst},
                         static_cast<uint32_t>(*concat_block));
      device::store_le32(record + 4 * size_t{at + image::kConcatCount},
                         static_cast<uint32_t>(l.input_count));
      for (int32_t k = 0; k < l.input_count; ++k) {
        write_record(ImageRegion::Concat, device::kImageConcatRecordBytes, (*concat_block)++,
                     l.concat[k]);
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
