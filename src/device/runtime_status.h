// Status codes of the device runtime. Freestanding: no exceptions, every
// failure is a value the caller inspects.
#pragma once

#include <cstdint>

namespace mcusplit::device {

enum class RuntimeStatus : int32_t {
  Ok = 0,
  ArenaTooSmall,    // the caller's arena is smaller than the program's arena_bytes
  ScratchTooSmall,  // the payload scratch is smaller than the program's largest message
  BadProgram,       // an inconsistent program (index out of range, box outside its buffer, ...)
  BadArgument,      // run(): missing or wrongly sized graph input/output buffer
  KernelFailed,     // a kernel returned a non-Ok status
  TransportFailed,  // send or receive returned a non-Ok transport status
  ReceiveMismatch,  // a received message is not the one the Receive op expects
};

inline const char* runtime_status_name(RuntimeStatus s) {
  switch (s) {
    case RuntimeStatus::Ok:
      return "ok";
    case RuntimeStatus::ArenaTooSmall:
      return "arena too small";
    case RuntimeStatus::ScratchTooSmall:
      return "payload scratch too small";
    case RuntimeStatus::BadProgram:
      return "bad program";
    case RuntimeStatus::BadArgument:
      return "bad argument";
    case RuntimeStatus::KernelFailed:
      return "kernel failed";
    case RuntimeStatus::TransportFailed:
      return "transport failed";
    case RuntimeStatus::ReceiveMismatch:
      return "unexpected message";
  }
  return "unknown status";
}

}  // namespace mcusplit::device
