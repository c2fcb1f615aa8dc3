// Whether a device takes the plan it was given: the checks of its parsed
// device image against what the device has (arena RAM, frame buffer), and of
// the coordinator's greeting against the image (participant, coordinator,
// plan hash). Every device runs these: the firmware when greeted, a worker
// when provisioned. A refusal is an Error frame (BadProvision) whose text
// refusal_text() words. Freestanding.
#pragma once

#include <cstdint>

#include "device/device_image.h"
#include "device/text.h"

namespace mcusplit::device {

using Reason = Text<320>;

// What a device can hold. Zero: no limit.
struct DeviceCapacity {
  int64_t arena_bytes = 0;
  uint32_t max_payload = 0;
  const char* holder = "device";  // "this <holder> has ..."
  const char* setting = "";       // what sets arena_bytes, e.g. "--ram"
};

// The device's name for messages: "device 'NAME'", or "device (participant
// P)" while it has no image name.
void add_device_name(Reason& t, const char* name, int32_t participant);

// Appends the parser's verdict on an image that did not parse.
void add_image_problem(Reason& t, ImageStatus status, const ParsedImage& image);

// True if a device with `capacity` can run the parsed image; else `why` says
// what does not fit.
bool image_fits(const ParsedImage& image, const DeviceCapacity& capacity, Reason* why);

// True if the coordinator's frame (from `source` to `destination`, stamped
// `plan_hash`, 0: any) addresses the participant the image is for.
bool greeting_matches(const ParsedImage& image, uint16_t source, uint16_t destination,
                      uint64_t plan_hash, Reason* why);

// "<device name> refused the plan: <why>".
void refusal_text(const char* name, int32_t participant, const Reason& why, Reason* out);

}  // namespace mcusplit::device
