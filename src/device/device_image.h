// The device image (docs/device_image.md): one participant's DeviceProgram
// as a compact little-endian binary, so that a device is provisioned with
// exactly its own slice of a plan and firmware can use it straight from
// flash. A 128-byte header (magic "MCUSPLDI", format version, image length,
// CRC-32, plan hash, program scalars, a table of regions) precedes
// fixed-size records (tensor shapes, buffers, ops, layer entries, concat
// blocks) and a data area holding the participant's weight, bias,
// multiplier and shift slices.
//
// parse_device_image fills caller-provided fixed-capacity storage and points
// the program's constant arrays into the image itself (no copy), so the
// image must stay where it is while the program runs, and start at a 4-byte
// aligned address (int32 arrays are 4-byte aligned relative to the start).
// Freestanding: no heap, no exceptions; the parser never reads outside
// [image, image + size) and rejects every malformed image with a status.
// The writer is host code: host/device_image_writer.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "device/device_program.h"
#include "device/image_records.h"
#include "device/program_check.h"
#include "kernels/op_registry.h"

namespace mcusplit::device {

// ---- the byte layout (docs/device_image.md has the tables) ----
// Every size and word index below follows from the field lists of
// device/image_records.h.

inline constexpr uint8_t kImageMagic[8] = {'M', 'C', 'U', 'S', 'P', 'L', 'D', 'I'};
inline constexpr uint32_t kImageFormatVersion = 2;
inline constexpr size_t kImageHeaderBytes = size_t{4} * image::header_words();
// Alignment of the image start, of every region and of every int32 array.
inline constexpr size_t kImageAlignment = 4;

// Header fields, byte offsets (those tests and tools poke at).
inline constexpr size_t kImageOffMagic = image::header_byte("magic");
inline constexpr size_t kImageOffVersion = image::header_byte("format version");
inline constexpr size_t kImageOffImageBytes = image::header_byte("image length");
// CRC-32 of every image byte except these four.
inline constexpr size_t kImageOffCrc = image::header_byte("CRC");
inline constexpr size_t kImageOffPlanHash = image::header_byte("plan hash");
inline constexpr size_t kImageOffArenaBytes = image::header_byte("arena bytes");
inline constexpr size_t kImageOffMaxPayload = image::header_byte("max payload");
inline constexpr size_t kImageOffParticipant = image::header_byte("participant");
inline constexpr size_t kImageOffParticipantCount = image::header_byte("participant count");
inline constexpr size_t kImageOffInputTensor = image::header_byte("input tensor");
inline constexpr size_t kImageOffOutputTensor = image::header_byte("output tensor");
inline constexpr size_t kImageOffRegions = image::header_byte("region table");
inline constexpr size_t kImageOffReserved0 = image::header_byte("reserved");
inline constexpr size_t kImageOffReserved1 = image::header_byte("reserved", 1);

constexpr size_t image_region_offset_field(ImageRegion r) {
  return kImageOffRegions + 8 * static_cast<size_t>(r);
}

// Record sizes.
inline constexpr size_t kImageTensorRecordBytes = 4 * image::record_words<core::TensorShape3>();
inline constexpr size_t kImageBufferRecordBytes = 4 * image::record_words<DeviceBuffer>();
inline constexpr size_t kImageOpRecordBytes = 4 * image::record_words<DeviceOp>();
inline constexpr size_t kImageLayerRecordBytes = 4 * image::record_words<DeviceLayer>();
inline constexpr size_t kImageConcatRecordBytes =
    4 * image::record_words<kernels::Int8ConcatParams>();

// Word indices of record fields (those tests and tools poke at), in their
// own namespace (short names).
namespace image {

inline constexpr uint32_t kBufTensor = field_word<DeviceBuffer>("tensor");
inline constexpr uint32_t kBufBox = field_word<DeviceBuffer>("box");
inline constexpr uint32_t kBufOffset = field_word<DeviceBuffer>("offset");

inline constexpr uint32_t kOpKind = field_word<DeviceOp>("kind");
inline constexpr uint32_t kOpStep = field_word<DeviceOp>("step");
inline constexpr uint32_t kOpParams = field_word<DeviceOp>("params");
inline constexpr uint32_t kOpPeer = field_word<DeviceOp>("peer");
inline constexpr uint32_t kOpTensor = field_word<DeviceOp>("tensor");
inline constexpr uint32_t kOpBox = field_word<DeviceOp>("box");
inline constexpr uint32_t kOpSrcBuffer = field_word<DeviceOp>("src_buffer");
inline constexpr uint32_t kOpDstBuffer = field_word<DeviceOp>("dst_buffer");
inline constexpr uint32_t kOpInputCount = field_word<DeviceOp>("input_count");
inline constexpr uint32_t kOpInputs = field_word<DeviceOp>("inputs");
inline constexpr uint32_t kOpScratchOffset = field_word<DeviceOp>("scratch_offset");
inline constexpr uint32_t kOpScratchBytes = field_word<DeviceOp>("scratch_bytes");

inline constexpr uint32_t kLayerLayer = field_word<DeviceLayer>("layer");
inline constexpr uint32_t kLayerKind = field_word<DeviceLayer>("kind");
inline constexpr uint32_t kLayerOutputTensor = field_word<DeviceLayer>("output_tensor");
inline constexpr uint32_t kLayerInputCount = field_word<DeviceLayer>("input_count");
inline constexpr uint32_t kLayerInputs = field_word<DeviceLayer>("input_tensors");
inline constexpr uint32_t kLayerParams = field_word<DeviceLayer>("params");

// The parameter block (kImageParamWords words) is generated from the
// operator's field list (kernels/op_params.h), so this header holds no
// per-operator offsets:
//   1. the fields of the operator's parameter struct, one word per i32 and
//      flag (0 or 1), three per shape (c, h, w), two per activation (min,
//      max), in field-list order (none for Concat);
//   2. for an operator with channel constants (Conv, FullyConnected), four
//      array references, weights, bias, multiplier, shift: two words each,
//      byte offset from the data area's start and element count (0 and 0
//      for an absent bias);
//   3. for Concat, its blocks: records [first, first + count) of the Concat
//      region, count == input_count;
// then zero words up to kImageParamWords.
enum class ConstantArray : uint32_t { Weights, Bias, Multiplier, Shift };
inline constexpr uint32_t kArrayRefWords = 2;
inline constexpr uint32_t kConstantRefWords = 4 * kArrayRefWords;
inline constexpr uint32_t kConcatFirst = 0;  // within the concat reference
inline constexpr uint32_t kConcatCount = 1;
inline constexpr uint32_t kConcatRefWords = 2;

// Words of part 1 for `op`.
uint32_t param_field_words(OpType op);
// The block word where field `name` of op's field list starts, or -1.
int32_t param_field_word(OpType op, const char* name);
// The block word of one array reference (operators with channel constants).
uint32_t constant_ref_word(OpType op, ConstantArray array);
// The block word of the concat reference (Concat).
uint32_t concat_ref_word(OpType op);
// Words parts 1 to 3 use: the rest of the block must be 0.
uint32_t param_block_words(OpType op);

}  // namespace image

// ---- parsing ----

enum class ImageStatus : uint8_t {
  Ok = 0,
  BadArgument,  // null output or storage (or a table of it), or a null image with a size
  Misaligned,   // the image start, a region or an int32 array not 4-byte aligned
  Truncated,    // fewer bytes than the header or than the header's image length
  BadMagic,     // not "MCUSPLDI"
  BadVersion,   // a format version this parser does not read
  BadLength,    // an image length shorter than the header
  BadCrc,       // CRC-32 mismatch
  BadRegion,    // a region or constant array outside the image or the data area
  BadField,     // a reserved word not 0, an unused input slot not -1, a count or flag out of range
  BadKind,      // an op or layer kind this parser does not know
  TooManyTensors,
  TooManyBuffers,
  TooManyOps,
  TooManyLayers,
  TooManyConcatBlocks,
  BadIndex,      // an index out of range (participant, tensor, buffer, layer entry, peer, block)
  BadConstants,  // constant arrays of other sizes than the layer's parameters need
  BadProgram,    // check_program refused the program (ParsedImage::problem says why)
};

const char* device_image_status_name(ImageStatus s);

// Where parse_device_image puts the tables; capacity = elements available.
struct ImageStorageView {
  core::TensorShape3* tensor_shapes = nullptr;
  int32_t tensor_capacity = 0;
  DeviceBuffer* buffers = nullptr;
  int32_t buffer_capacity = 0;
  DeviceOp* ops = nullptr;
  int32_t op_capacity = 0;
  DeviceLayer* layers = nullptr;
  int32_t layer_capacity = 0;
  kernels::Int8ConcatParams* concat = nullptr;
  int32_t concat_capacity = 0;
};

// Fixed-capacity storage for one parsed program, e.g. a static object in
// firmware. Capacities are elements of each table.
template <int32_t Tensors, int32_t Buffers, int32_t Ops, int32_t Layers, int32_t ConcatBlocks>
struct BasicDeviceImageStorage {
  static_assert(Tensors > 0 && Buffers > 0 && Ops > 0 && Layers > 0 && ConcatBlocks > 0);
  static constexpr int32_t kTensors = Tensors;
  static constexpr int32_t kBuffers = Buffers;
  static constexpr int32_t kOps = Ops;
  static constexpr int32_t kLayers = Layers;
  static constexpr int32_t kConcatBlocks = ConcatBlocks;

  core::TensorShape3 tensor_shapes[Tensors];
  DeviceBuffer buffers[Buffers];
  DeviceOp ops[Ops];
  DeviceLayer layers[Layers];
  kernels::Int8ConcatParams concat[ConcatBlocks];

  ImageStorageView view() {
    return ImageStorageView{tensor_shapes, Tensors, buffers, Buffers, ops,
                            Ops,           layers,  Layers,  concat,  ConcatBlocks};
  }
};

// Default capacities: about twice the largest counts any participant needs
// across MobileNetV2-1.0 at 224 planned on 1..16 devices (auto and paper;
// 66 tensors, 99 buffers, 826 ops, 65 layer entries) and the random CNNs of
// the tests (9 concat blocks); docs/device_image.md has the measurements.
// Tiled runs give every tile of every layer inside a run a buffer of its
// own: 1024 buffers (a tiled MobileNetV2 at 224 on 8 devices needs about 460);
// the tiling pass keeps every device's program within these capacities.
// 252,160 bytes on a Cortex-M7; firmware with less RAM instantiates
// BasicDeviceImageStorage with its own capacities.
inline constexpr int32_t kMaxImageTensors = 128;
inline constexpr int32_t kMaxImageBuffers = 1024;
inline constexpr int32_t kMaxImageOps = 2048;
inline constexpr int32_t kMaxImageLayers = 128;
inline constexpr int32_t kMaxImageConcatBlocks = 64;

using DeviceImageStorage = BasicDeviceImageStorage<kMaxImageTensors, kMaxImageBuffers, kMaxImageOps,
                                                   kMaxImageLayers, kMaxImageConcatBlocks>;

struct ParsedImage {
  // Points into the storage (tables) and into the image (constants).
  DeviceProgram program;
  uint64_t plan_hash = 0;
  uint32_t max_payload_bytes = 0;
  const char* device_name = nullptr;  // device_name_bytes bytes in the image, not NUL-terminated
  uint32_t device_name_bytes = 0;
  int32_t participant = -1;  // == program.participant
  uint32_t image_bytes = 0;  // the image's length (the input may hold more bytes after it)

  // On failure: static text naming the check, the offending record's index
  // in its table (-1 for the header), and check_program's finding for
  // BadProgram.
  const char* detail = "";
  int32_t index = -1;
  ProgramProblem problem;
};

// Parses the image in [image, image + size) into `storage` and `out`. On
// anything but Ok, `out` holds only the failure fields and a default
// program. The image must start 4-byte aligned (Misaligned otherwise) and
// outlive the program; bytes after the header's image length are ignored
// (an image in a larger flash region). Checks, in order: header (length,
// magic, version, CRC), regions, capacities, every record (kinds, reserved
// words, indices, constant array bounds, alignment and sizes), then
// check_program.
ImageStatus parse_device_image(const uint8_t* image, size_t size, const ImageStorageView& storage,
                               ParsedImage* out);

template <int32_t T, int32_t B, int32_t O, int32_t L, int32_t C>
ImageStatus parse_device_image(const uint8_t* image, size_t size,
                               BasicDeviceImageStorage<T, B, O, L, C>* storage, ParsedImage* out) {
  if (storage == nullptr) {
    if (out != nullptr) {
      *out = ParsedImage{};
      out->detail = "no storage";
    }
    return ImageStatus::BadArgument;
  }
  return parse_device_image(image, size, storage->view(), out);
}

// CRC-32 (device/crc32.h) of an image of image_bytes bytes: every byte except
// the CRC field. The writer stores it; the parser compares.
uint32_t device_image_crc(const uint8_t* image, size_t image_bytes);

}  // namespace mcusplit::device
