// Packed 16-bit arithmetic for the int8 kernels: two int16 lanes in a
// uint32_t (lane 0 = bits 0..15), as the Cortex-M DSP extension's SXTB16,
// SADD16, SMLAD and SMLABB/SMLATT compute them. With __ARM_FEATURE_DSP these
// are the instructions (ACLE); elsewhere portable code that gives the same
// integers, so the packed kernels (the *_packed entry points) run and are
// tested on the host too. The only place with DSP intrinsics.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

namespace mcusplit::kernels::packed {

// Four int8 from any address (LDR permits unaligned access on Cortex-M7;
// memcpy keeps it legal C++ and compiles to one LDR).
inline uint32_t load_s8x4(const int8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline void store_s8x4(int8_t* p, uint32_t v) {
  std::memcpy(p, &v, sizeof(v));
}

inline int32_t lane0(uint32_t v) {
  return static_cast<int16_t>(static_cast<uint16_t>(v));
}

inline int32_t lane1(uint32_t v) {
  return static_cast<int16_t>(static_cast<uint16_t>(v >> 16));
}

inline uint32_t pack_lanes(int32_t lo, int32_t hi) {
  return (static_cast<uint32_t>(lo) & 0xffffu) | (static_cast<uint32_t>(hi) << 16);
}

// Wrapping int32 addition (what the instructions do; no signed overflow UB).
inline int32_t add_wrap(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

#if defined(__ARM_FEATURE_DSP)

// Bytes 0 and 2, sign-extended to lanes 0 and 1.
inline uint32_t sxtb16(uint32_t x) {
  return static_cast<uint32_t>(__sxtb16(x));
}

// Bytes 1 and 3 (SXTB16 with its rotate; GCC does not fuse a separate ROR).
inline uint32_t sxtb16_odd(uint32_t x) {
  uint32_t r;
  asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

// Lane-wise a + b, each lane wrapping.
inline uint32_t sadd16(uint32_t a, uint32_t b) {
  return static_cast<uint32_t>(__sadd16(static_cast<int16x2_t>(a), static_cast<int16x2_t>(b)));
}

// acc + a0 * b0 + a1 * b1.
inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad(static_cast<int16x2_t>(a), static_cast<int16x2_t>(b), acc);
}

// acc + a0 * b0 and acc + a1 * b1.
inline int32_t smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return __smlabb(static_cast<int32_t>(a), static_cast<int32_t>(b), acc);
}

inline int32_t smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return __smlatt(static_cast<int32_t>(a), static_cast<int32_t>(b), acc);
}

#else

inline uint32_t sxtb16(uint32_t x) {
  return pack_lanes(static_cast<int8_t>(x & 0xffu), static_cast<int8_t>((x >> 16) & 0xffu));
}

inline uint32_t sxtb16_odd(uint32_t x) {
  return pack_lanes(static_cast<int8_t>((x >> 8) & 0xffu), static_cast<int8_t>(x >> 24));
}

inline uint32_t sadd16(uint32_t a, uint32_t b) {
  return pack_lanes(lane0(a) + lane0(b), lane1(a) + lane1(b));
}

inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
  return add_wrap(add_wrap(acc, lane0(a) * lane0(b)), lane1(a) * lane1(b));
}

inline int32_t smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return add_wrap(acc, lane0(a) * lane0(b));
}

inline int32_t smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return add_wrap(acc, lane1(a) * lane1(b));
}

#endif

// Both lanes set to v (an int16 value).
inline uint32_t splat16(int32_t v) {
  return pack_lanes(v, v);
}

}  // namespace mcusplit::kernels::packed
