// libFuzzer target for the device image parser (docs/device_image.md). For
// every input:
// - parse an exact-size, 4-byte aligned heap copy of it: the parser must
//   never read outside the input (ASan), and a failure must leave a default
//   program and a named status;
// - parse a copy whose magic, version and image length are forced and whose
//   CRC is recomputed, so that the checks behind the CRC (regions, counts,
//   records, indices, constants, check_program) are reached by random bytes;
// - whenever an image parses Ok: the program passes check_program, every
//   table points into the storage and every constant array into the image;
//   the host writer accepts the parsed program, and its image parses back to
//   a program the writer turns into the very same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "device/device_image.h"
#include "device/program_check.h"
#include "device/protocol.h"
#include "host/device_image_writer.h"
#include "kernels/op_registry.h"

namespace {

using namespace mcusplit::device;

void check(bool ok) {
  if (!ok) std::abort();
}

// Storage for every parse: large, so static rather than per execution.
DeviceImageStorage g_storage;
DeviceImageStorage g_storage_again;

template <typename T>
bool inside(const T* p, size_t count, const uint8_t* begin, size_t size) {
  const auto b = reinterpret_cast<uintptr_t>(begin);
  const auto at = reinterpret_cast<uintptr_t>(p);
  return p != nullptr && at >= b && at - b <= size && count * sizeof(T) <= size - (at - b) &&
         at % alignof(T) == 0;
}

template <typename T>
bool constant_inside(const T* p, uint32_t count, bool optional, const uint8_t* image, size_t size) {
  if (p == nullptr) return optional;
  return inside(p, count, image, size);
}

void check_parsed(const ParsedImage& out, const uint8_t* image, size_t size,
                  const DeviceImageStorage& storage) {
  const DeviceProgram& p = out.program;
  check(check_program(p).status == RuntimeStatus::Ok);
  check(out.image_bytes <= size && out.participant == p.participant);
  check(out.max_payload_bytes >= 1 && out.max_payload_bytes <= kMaxPayloadLimit);
  check(inside(out.device_name, out.device_name_bytes, image, size));
  check(p.tensor_count == 0 || p.tensor_shapes == storage.tensor_shapes);
  check(p.op_count == 0 || p.ops == storage.ops);
  for (int32_t i = 0; i < p.layer_count; ++i) {
    const DeviceLayer& l = p.layers[i];
    // Every operator with constants, through its record (kernels/op_registry.h).
    if (const auto* constants = mcusplit::kernels::op_registration(l.op).channel_constants) {
      const mcusplit::kernels::ConstantCounts n = constants->counts(l);
      const mcusplit::kernels::ConstantArrays a = constants->bound(l);
      check(n.ok);
      check(constant_inside(a.weights, n.weights, false, image, size));
      check(constant_inside(a.bias, n.bias, true, image, size));
      check(constant_inside(a.multiplier, n.requant, false, image, size));
      check(constant_inside(a.shift, n.requant, false, image, size));
    } else if (l.op == OpType::Concat) {
      check(l.concat >= storage.concat &&
            l.concat + l.input_count <= storage.concat + DeviceImageStorage::kConcatBlocks);
    }
  }
}

void round_trip(const ParsedImage& out) {
  const std::string_view name(out.device_name, out.device_name_bytes);
  std::vector<uint8_t> again;
  try {
    again =
        mcusplit::host::write_device_image(out.program, out.plan_hash, out.max_payload_bytes, name);
  } catch (const mcusplit::Error&) {
    std::abort();  // the writer refused a program the parser accepted
  }
  ParsedImage reparsed;
  check(parse_device_image(again.data(), again.size(), &g_storage_again, &reparsed) ==
        ImageStatus::Ok);
  check(reparsed.plan_hash == out.plan_hash && reparsed.image_bytes == again.size());
  const std::vector<uint8_t> third = mcusplit::host::write_device_image(
      reparsed.program, reparsed.plan_hash, reparsed.max_payload_bytes,
      std::string_view(reparsed.device_name, reparsed.device_name_bytes));
  check(third == again);
}

void parse_one(const std::vector<uint8_t>& bytes) {
  ParsedImage out;
  const ImageStatus st = parse_device_image(bytes.data(), bytes.size(), &g_storage, &out);
  check(device_image_status_name(st)[0] != '\0');
  if (st != ImageStatus::Ok) {
    check(out.program.op_count == 0 && out.program.ops == nullptr);
    return;
  }
  check_parsed(out, bytes.data(), bytes.size(), g_storage);
  round_trip(out);
}

// Magic, version and length forced, CRC recomputed.
std::vector<uint8_t> reseal(const uint8_t* data, size_t size) {
  std::vector<uint8_t> b(data, data + size);
  if (size < kImageHeaderBytes) return b;
  std::memcpy(b.data() + kImageOffMagic, kImageMagic, sizeof(kImageMagic));
  store_le32(b.data() + kImageOffVersion, kImageFormatVersion);
  const uint32_t length = size > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(size);
  store_le32(b.data() + kImageOffImageBytes, length);
  store_le32(b.data() + kImageOffCrc, device_image_crc(b.data(), length));
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // std::vector's storage comes from operator new: aligned for any int32.
  parse_one(std::vector<uint8_t>(data, data + size));
  parse_one(reseal(data, size));
  return 0;
}
