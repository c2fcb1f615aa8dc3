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
#include "device/program_check.h"
#include "kernels/op_registry.h"

namespace mcusplit::device {

// ---- the byte layout (docs/device_image.md has the tables) ----

inline constexpr uint8_t kImageMagic[8] = {'M', 'C', 'U', 'S', 'P', 'L', 'D', 'I'};
inline constexpr uint32_t kImageFormatVersion = 2;
inline constexpr size_t kImageHeaderBytes = 128;
// Alignment of the image start, of every region and of every int32 array.
inline constexpr size_t kImageAlignment = 4;

// Header fields, byte offsets.
inline constexpr size_t kImageOffMagic = 0;
inline constexpr size_t kImageOffVersion = 8;
inline constexpr size_t kImageOffImageBytes = 12;
inline constexpr size_t kImageOffCrc = 16;  // CRC-32 of every image byte except these four
inline constexpr size_t kImageOffReserved0 = 20;
inline constexpr size_t kImageOffPlanHash = 24;
inline constexpr size_t kImageOffArenaBytes = 32;
inline constexpr size_t kImageOffScratchBytes = 40;
inline constexpr size_t kImageOffMaxPayload = 48;
inline constexpr size_t kImageOffParticipant = 52;
inline constexpr size_t kImageOffParticipantCount = 56;
inline constexpr size_t kImageOffInputTensor = 60;
inline constexpr size_t kImageOffOutputTensor = 64;
inline constexpr size_t kImageOffRegions = 68;  // kImageRegionCount x (u32 offset, u32 count)
inline constexpr size_t kImageOffReserved1 = 124;

// The regions, in the order of the header's region table. Offsets count
// bytes from the image start; counts are bytes for Name and Data, records
// for the others.
enum class ImageRegion : uint32_t { Name, Tensors, Buffers, Ops, Layers, Concat, Data };
inline constexpr size_t kImageRegionCount = 7;

constexpr size_t image_region_offset_field(ImageRegion r) {
  return kImageOffRegions + 8 * static_cast<size_t>(r);
}

// Record sizes. Every record is a sequence of little-endian 32-bit words
// (an i64 is two words, low first); the word indices follow.
inline constexpr size_t kImageTensorRecordBytes = 12;  // i32 c, h, w
inline constexpr size_t kImageBufferRecordBytes = 36;
inline constexpr size_t kImageOpRecordBytes = 104;
inline constexpr size_t kImageLayerRecordBytes = 164;
inline constexpr size_t kImageConcatRecordBytes = 52;
// Input slots of an op or layer record: fixed by the format.
inline constexpr int32_t kImageInputSlots = 8;
static_assert(kImageInputSlots == kMaxLayerInputs,
              "DeviceOp/DeviceLayer input arrays changed: bump kImageFormatVersion");

// Word indices of the records and parameter blocks, in their own namespace
// (short names).
namespace image {

// Buffer record words: tensor, box c0 c1 y0 y1 x0 x1, i64 offset.
inline constexpr uint32_t kBufTensor = 0;
inline constexpr uint32_t kBufBox = 1;
inline constexpr uint32_t kBufOffset = 7;

// Op record words.
inline constexpr uint32_t kOpKind = 0;  // DeviceOpKind
inline constexpr uint32_t kOpStep = 1;
inline constexpr uint32_t kOpLayer = 2;
inline constexpr uint32_t kOpParams = 3;
inline constexpr uint32_t kOpPeer = 4;
inline constexpr uint32_t kOpTensor = 5;
inline constexpr uint32_t kOpBox = 6;  // 6 words
inline constexpr uint32_t kOpSrcBuffer = 12;
inline constexpr uint32_t kOpDstBuffer = 13;
inline constexpr uint32_t kOpInputCount = 14;
inline constexpr uint32_t kOpInputs = 15;         // kImageInputSlots words
inline constexpr uint32_t kOpScratchOffset = 23;  // i64
inline constexpr uint32_t kOpScratchBytes = 25;

// Layer record words: a fixed part, then the parameter block.
inline constexpr uint32_t kLayerLayer = 0;
inline constexpr uint32_t kLayerKind = 1;  // kernels::OpType
inline constexpr uint32_t kLayerOutputTensor = 2;
inline constexpr uint32_t kLayerInputCount = 3;
inline constexpr uint32_t kLayerInputs = 4;  // kImageInputSlots words
inline constexpr uint32_t kLayerParams = 12;
inline constexpr uint32_t kImageParamWords = 29;
static_assert(kImageLayerRecordBytes == size_t{4} * (kLayerParams + kImageParamWords));
static_assert(kOpScratchOffset == kOpInputs + kImageInputSlots);
static_assert(kImageOpRecordBytes == size_t{4} * (kOpScratchBytes + 1));

// The parameter block is generated from the operator's field list
// (kernels/op_params.h), so this header holds no per-operator offsets:
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

// Concat record: the Int8ConcatParams field list, as part 1 above.
inline constexpr uint32_t kImageConcatRecordWords = 13;
static_assert(kImageConcatRecordBytes == size_t{4} * kImageConcatRecordWords);

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
// 252,160 bytes on a Cortex-M7; firmware with less RAM instantiates
// BasicDeviceImageStorage with its own capacities.
inline constexpr int32_t kMaxImageTensors = 128;
inline constexpr int32_t kMaxImageBuffers = 256;
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
