// Writing device images (docs/device_image.md, device/device_image.h): one
// participant's DeviceProgram, with only its own constant slices, as the
// compact binary a worker or a microcontroller is provisioned with. Every
// kernel parameter is written field by field as little-endian words (never a
// struct's bytes: the host is 64-bit, the MCU 32-bit), and every constant
// array becomes an (offset, count) pair into the image's data area, aligned
// so that the parser can point the program straight into the image.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "device/device_program.h"
#include "plan/plan_file.h"

namespace mcusplit::host {

// The image of `program` (e.g. DeviceSlice::program()). The writer parses its
// own output back (device::parse_device_image, with storage as large as the
// program) before returning, so it never returns an image the parser
// refuses. Throws mcusplit::Error (exit code 2) if the program fails
// device::check_program, a conv or fully connected entry's parameters do
// not size its constants or a constant pointer is null, max_payload_bytes
// is 0 or above device::kMaxPayloadLimit, a field breaks a rule of the
// format (docs/device_image.md), or the image would reach 4 GiB.
std::vector<uint8_t> write_device_image(const device::DeviceProgram& program, uint64_t plan_hash,
                                        uint32_t max_payload_bytes, std::string_view device_name);

// The image of participant `participant` of a parsed plan file: its
// DeviceSlice, the file's plan hash, the plan's max_payload_bytes and the
// participant's name. Throws mcusplit::Error as DeviceSlice and
// write_device_image do.
std::vector<uint8_t> write_participant_image(const plan::PlanFile& file, int participant);

}  // namespace mcusplit::host
