// Shared vocabulary of the int8 kernels: status codes, input/output tiles and
// the requantize-and-clamp step. Freestanding.
#pragma once

#include <cstdint>
#include <new>

#include "core/box.h"
#include "core/fixed_point.h"
#include "core/quant_params.h"

namespace mcusplit::kernels {

using core::ActivationRange;
using core::Box;
using core::TensorShape3;

enum class KernelStatus : int32_t {
  Ok = 0,
  InputBoxTooSmall,  // the input tile does not cover required_input_box(...)
  BadParams,         // inconsistent shapes, boxes outside tensors, missing weights, ...
};

// Caller-owned working memory of one kernel call (CMSIS-NN's
// cmsis_nn_context): every kernel states what it needs with its pure
// *_scratch_bytes twin, so a plan can count it in its arena instead of a
// hidden stack frame. data must be 4-byte aligned (kernels carve int32
// arrays from it); it may be null when bytes is 0. A kernel given fewer bytes
// than it states, or a misaligned buffer, returns BadParams before writing.
// The contents are garbage on entry and on return; one buffer can serve
// every kernel call in turn.
struct Scratch {
  int8_t* data = nullptr;
  int32_t bytes = 0;
};

inline constexpr int32_t kScratchAlign = 4;

// n bytes rounded up to the alignment, so regions carved one after another
// all stay 4-byte aligned.
constexpr int32_t scratch_round(int32_t n) {
  return (n + kScratchAlign - 1) & ~(kScratchAlign - 1);
}

// Bytes of `count` T rounded as carve() takes them.
template <typename T>
constexpr int32_t scratch_array_bytes(int32_t count) {
  return scratch_round(count * static_cast<int32_t>(sizeof(T)));
}

inline bool scratch_fits(const Scratch& s, int32_t needed) {
  if (needed <= 0) return true;
  return s.data != nullptr && s.bytes >= needed &&
         (reinterpret_cast<uintptr_t>(s.data) & (kScratchAlign - 1)) == 0;
}

// Hands out consecutive aligned arrays of a scratch buffer the kernel has
// checked with scratch_fits (so no bound check here). Placement new starts
// the arrays' lifetimes (the buffer's bytes are not T objects otherwise);
// for the trivial types used it emits no code.
class ScratchCarver {
 public:
  explicit ScratchCarver(const Scratch& s) : next_(s.data) {}
  template <typename T>
  T* carve(int32_t count) {
    static_assert(alignof(T) <= kScratchAlign, "scratch is only 4-byte aligned");
    T* first = reinterpret_cast<T*>(next_);
    for (int32_t i = 0; i < count; ++i) ::new (static_cast<void*>(first + i)) T;
    next_ += scratch_array_bytes<T>(count);
    return first;
  }

 private:
  int8_t* next_;
};

// An input tile: the part `box` (input tensor coordinates) of a tensor,
// stored densely NHWC over the box (see core::dense_offset).
struct InputTile {
  const int8_t* data = nullptr;
  Box box;
};

// An output tile: element (c, y, x) of `box` (output tensor coordinates) is
// written at data[(y - y0) * row_stride + (x - x0) * pixel_stride + (c - c0)].
// Strides of 0 mean dense (pixel_stride = box.channels(), row_stride =
// box.width() * pixel_stride), so {ptr, box} is a dense tile; larger strides
// let a kernel write straight into a region of a bigger buffer.
struct OutputTile {
  int8_t* data = nullptr;
  Box box;
  int32_t pixel_stride = 0;
  int32_t row_stride = 0;
};

// Strides of an output tile with the dense defaults resolved; ok is false if
// explicit strides would make pixels or rows overlap.
struct ResolvedStrides {
  int32_t pixel = 0;
  int32_t row = 0;
  bool ok = false;
};

inline ResolvedStrides resolve_strides(const OutputTile& t) {
  ResolvedStrides s;
  s.pixel = t.pixel_stride != 0 ? t.pixel_stride : t.box.channels();
  s.row = t.row_stride != 0 ? t.row_stride : t.box.width() * s.pixel;
  s.ok = s.pixel >= t.box.channels() && s.row >= t.box.width() * s.pixel;
  return s;
}

inline int8_t clamp_to_int8(int32_t v, const ActivationRange& act) {
  if (v < act.min) v = act.min;
  if (v > act.max) v = act.max;
  return static_cast<int8_t>(v);
}

// One channel's multiplier with its shift decoded: the decode is a third of
// the output stage's Cortex-M7 instructions, so kernels that requantize many
// outputs per channel decode a block of channels once (OutputStage::decode).
struct ChannelRequant {
  int32_t multiplier = 0;
  int32_t left = 0;   // shift > 0: applied before the multiply
  int32_t right = 0;  // shift <= 0: rounding shift after it, in [0, 31]
  int32_t mask = 0;   // 2^right - 1
  int32_t half = 0;   // mask >> 1
};

inline ChannelRequant decode_requant(int32_t multiplier, int32_t shift) {
  ChannelRequant q;
  q.multiplier = multiplier;
  q.left = shift > 0 ? shift : 0;
  q.right = shift > 0 ? 0 : -shift;
  q.mask = static_cast<int32_t>((int64_t{1} << q.right) - 1);
  q.half = q.mask >> 1;
  return q;
}

// core::multiply_by_quantized_multiplier(acc, multiplier, shift), the same
// integers (test_int8_requantize.cpp) in about half the instructions: the
// rounding doubling high multiply as one 64-bit multiply-accumulate and
// floor shift, floor((x * m + 2^30) / 2^31) being exactly its round half up,
// then its rounding divide by 2^right (halves away from zero).
inline int32_t scale_acc(int32_t acc, const ChannelRequant& q) {
  const int64_t x = static_cast<int32_t>(static_cast<uint32_t>(acc) << q.left);
  int64_t high = (x * q.multiplier + (int64_t{1} << 30)) >> 31;
  if (high > INT32_MAX) high = INT32_MAX;  // only x = multiplier = INT32_MIN
  const auto h = static_cast<int32_t>(high);
  const int32_t threshold = q.half + (h < 0 ? 1 : 0);
  return (h >> q.right) + ((h & q.mask) > threshold ? 1 : 0);
}

// The TFLite output stage: acc -> multiplier/shift -> + zero point -> clamp.
inline int8_t requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_zero_point,
                         const ActivationRange& act) {
  return clamp_to_int8(scale_acc(acc, decode_requant(multiplier, shift)) + output_zero_point, act);
}

// The output stage with the per-layer values held by value: kernels store
// through int8_t pointers, which may alias anything, so values read through a
// params reference would be reloaded after every output store. Copy one into
// a local before the loops.
struct OutputStage {
  const int32_t* multiplier = nullptr;  // indexed by weight slot
  const int32_t* shift = nullptr;
  int32_t zero_point = 0;
  ActivationRange activation;

  int8_t operator()(int32_t acc, int32_t slot) const {
    return requantize(acc, multiplier[slot], shift[slot], zero_point, activation);
  }
  // Channels [first_slot, first_slot + count) decoded into q.
  void decode(int32_t first_slot, int32_t count, ChannelRequant* q) const {
    for (int32_t k = 0; k < count; ++k) {
      q[k] = decode_requant(multiplier[first_slot + k], shift[first_slot + k]);
    }
  }
  int8_t operator()(int32_t acc, const ChannelRequant& q) const {
    return clamp_to_int8(scale_acc(acc, q) + zero_point, activation);
  }
};

inline bool valid_activation(const ActivationRange& act) {
  return -128 <= act.min && act.min <= act.max && act.max <= 127;
}

inline bool valid_zero_point(int32_t zp) {
  return -128 <= zp && zp <= 127;
}

inline bool valid_shape(const TensorShape3& s) {
  return s.c > 0 && s.h > 0 && s.w > 0;
}

// Taps [begin, end) of a kernel axis whose input position origin + k * dilation
// falls inside [0, size); padding taps are skipped, not read.
struct TapRange {
  int32_t begin = 0;
  int32_t end = 0;
};

inline TapRange valid_taps(int32_t origin, int32_t size, int32_t kernel, int32_t dilation) {
  TapRange r;
  r.begin = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
  r.end = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
  if (r.end > kernel) r.end = kernel;
  if (r.begin > r.end) r.begin = r.end;
  return r;
}

// sum_i a[i] * b[i].
inline int32_t dot_s8(const int8_t* a, const int8_t* b, int32_t n) {
  int32_t acc = 0;
  for (int32_t i = 0; i < n; ++i) {
    acc += static_cast<int32_t>(a[i]) * static_cast<int32_t>(b[i]);
  }
  return acc;
}

// sum_i (a[i] + a_offset) * b[i]; the hot loop of every conv-like kernel.
// (a + offset) fits int16 and the products int32, which compilers vectorise.
inline int32_t dot_s8_offset(const int8_t* a, const int8_t* b, int32_t n, int32_t a_offset) {
  int32_t acc = 0;
  for (int32_t i = 0; i < n; ++i) {
    acc += (static_cast<int32_t>(a[i]) + a_offset) * static_cast<int32_t>(b[i]);
  }
  return acc;
}

}  // namespace mcusplit::kernels
