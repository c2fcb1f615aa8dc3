// Structural checks of a DeviceProgram before anything runs: every index in
// range, every buffer inside the arena and its tensor, every op box inside
// the buffers it touches, every Compute op consistent with its layer. A
// program that passes cannot make the runtime read or write outside the
// arena or the scratch (the kernels check their own parameters and input
// coverage). Freestanding.
#pragma once

#include <cstdint>

#include "device/device_program.h"
#include "device/runtime_status.h"

namespace mcusplit::device {

struct ProgramProblem {
  RuntimeStatus status = RuntimeStatus::Ok;  // Ok or BadProgram
  const char* what = "";                     // static text, e.g. "op box outside its source buffer"
  int32_t op_index = -1;                     // the offending op, if the problem is an op's
  int32_t index = -1;                        // the offending buffer or layer entry, otherwise
};

ProgramProblem check_program(const DeviceProgram& program);

}  // namespace mcusplit::device
