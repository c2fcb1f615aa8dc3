#include "device/plan_acceptance.h"

#include "device/device_runtime.h"

namespace mcusplit::device {

namespace {

void add_hash(Reason& t, uint64_t hash) {
  t.hex(static_cast<uint32_t>(hash >> 32)).hex(static_cast<uint32_t>(hash));
}

}  // namespace

void add_device_name(Reason& t, const char* name, int32_t participant) {
  if (name != nullptr && name[0] != '\0') {
    t.add("device '").add(name).add("'");
  } else {
    t.add("device (participant ").dec(static_cast<uint32_t>(participant)).add(")");
  }
}

void add_image_problem(Reason& t, ImageStatus status, const ParsedImage& image) {
  t.add("its device image is unusable: ").add(device_image_status_name(status));
  t.add(" (").add(image.detail);
  if (status == ImageStatus::BadProgram) t.add(": ").add(image.problem.what);
  t.add(")");
}

bool image_fits(const ParsedImage& image, const DeviceCapacity& capacity, Reason* why) {
  const DeviceProgram& program = image.program;
  if (capacity.arena_bytes > 0 && program.arena_bytes > capacity.arena_bytes) {
    why->add("its arena needs ").dec(static_cast<uint64_t>(program.arena_bytes));
    why->add(" bytes, this ").add(capacity.holder).add(" has ");
    why->dec(static_cast<uint64_t>(capacity.arena_bytes));
    if (capacity.setting[0] != '\0') why->add(" (").add(capacity.setting).add(")");
    return false;
  }
  if (capacity.max_payload > 0 && image.max_payload_bytes > capacity.max_payload) {
    why->add("its frames carry up to ").dec(image.max_payload_bytes);
    why->add(" payload bytes, this ").add(capacity.holder).add("'s frame buffer holds ");
    why->dec(capacity.max_payload);
    return false;
  }
  if (program.participant_count > kMaxParticipants) {
    why->add("its plan has ").dec(static_cast<uint32_t>(program.participant_count));
    why->add(" participants, a device supports ").dec(static_cast<uint32_t>(kMaxParticipants));
    return false;
  }
  if (program.coordinator()) {
    why->add("its image is the coordinator's program, not a device's");
    return false;
  }
  return true;
}

bool greeting_matches(const ParsedImage& image, uint16_t source, uint16_t destination,
                      uint64_t plan_hash, Reason* why) {
  const DeviceProgram& program = image.program;
  const auto coordinator = static_cast<uint32_t>(program.participant_count - 1);
  if (destination != program.participant) {
    why->add("the coordinator addressed participant ").dec(destination);
    why->add(" but its image is participant ").dec(static_cast<uint32_t>(program.participant));
    return false;
  }
  if (source != coordinator) {
    why->add("the greeting came from participant ").dec(source);
    why->add(" but its plan's coordinator is participant ").dec(coordinator);
    return false;
  }
  if (plan_hash != 0 && plan_hash != image.plan_hash) {
    why->add("its device image is for plan ");
    add_hash(*why, image.plan_hash);
    why->add(" but the coordinator runs plan ");
    add_hash(*why, plan_hash);
    return false;
  }
  return true;
}

void refusal_text(const char* name, int32_t participant, const Reason& why, Reason* out) {
  add_device_name(*out, name, participant);
  out->add(" refused the plan: ").add(why.c_str());
}

}  // namespace mcusplit::device
