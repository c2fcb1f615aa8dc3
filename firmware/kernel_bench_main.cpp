// mcusplit_fw_kernel_bench: times the int8 kernels on the emulated Cortex-M7
// on a fixed set of realistic layer shapes (MobileNetV2-like convolutions, a
// classifier head, a Fashion-MNIST-sized conv) with deterministic
// pseudo-random data, and checks every output against a naive reference
// written here from the int8 formula (no code shared with src/kernels).
//
// Each case runs once through the normal entry points (int8_conv_dispatch,
// int8_fully_connected) with interrupts masked, so the tick difference counts
// only the kernel. Under `qemu-system-arm -icount shift=7` one guest
// instruction is 128 ns of virtual time and a tick is 40 ns, so
// instructions = round(ticks * 40 / 128) (scripts/bench_kernels_m7.sh).
//
// Output: a calibration line (a loop of a known instruction count, to check
// the ticks-to-instructions rule), one semihosting line per case, a summary:
//   kernel-bench: calibration loop_instructions=N ticks=N
//   kernel-bench: NAME macs=N ticks=N clamped=N/OUTPUTS scratch=BYTES ok|MISMATCH=COUNT
//   kernel-bench: done cases=N mismatches=N max_scratch=BYTES stack_high_water=BYTES
// scratch is what the kernel stated (*_scratch_bytes) and was given, from the
// arena; stack_high_water is then the kernels' own frames.
// Exit code 0 when every output matches, kExitError otherwise.
#include <cstdint>

#include "board.h"
#include "kernels/int8_conv_dispatch.h"
#include "kernels/int8_fully_connected.h"
#include "device/text.h"

namespace fw = mcusplit::fw;
namespace k = mcusplit::kernels;
namespace core = mcusplit::core;

namespace {

// xorshift32: the same data on every run and every build.
class Rng {
 public:
  explicit Rng(uint32_t seed) : state_(seed != 0 ? seed : 1u) {}
  uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  int8_t s8() { return static_cast<int8_t>(next() >> 24); }
  // Uniform enough in [lo, hi] for test data.
  int32_t range(int32_t lo, int32_t hi) {
    return lo + static_cast<int32_t>(next() % static_cast<uint32_t>(hi - lo + 1));
  }

 private:
  uint32_t state_;
};

// Bump allocation from the board's static arena (the RAM budget already
// counts it), reset before each case.
class Scratch {
 public:
  Scratch() : region_(fw::arena()) {}
  void reset() { used_ = 0; }
  template <typename T>
  T* take(int32_t count) {
    const uint32_t bytes = (static_cast<uint32_t>(count) * sizeof(T) + 15u) & ~15u;
    if (bytes > region_.bytes - used_) fw::fail("kernel-bench: arena too small for a case");
    T* p = reinterpret_cast<T*>(region_.data + used_);
    used_ += bytes;
    return p;
  }

 private:
  fw::MemoryRegion region_;
  uint32_t used_ = 0;
};

// --- Reference: TFLite int8 requantization written out in 64-bit integers.

int64_t wrap_int32(int64_t v) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v)));
}

int32_t reference_requantize(int64_t acc, int32_t multiplier, int32_t shift, int32_t out_zp,
                             int32_t act_min, int32_t act_max) {
  const int left = shift > 0 ? static_cast<int>(shift) : 0;
  const int right = shift > 0 ? 0 : static_cast<int>(-shift);
  const int64_t x = wrap_int32(wrap_int32(acc) * (int64_t{1} << left));
  // Nearest integer to x * multiplier / 2^31, halves toward +infinity
  // (>> on a negative int64 is floor division in C++20).
  int64_t high = (x * multiplier + (int64_t{1} << 30)) >> 31;
  if (x == INT32_MIN && multiplier == INT32_MIN) high = INT32_MAX;
  // Divide by 2^right, halves away from zero.
  if (right > 0) {
    const int64_t magnitude = high < 0 ? -high : high;
    const int64_t q = (magnitude + (int64_t{1} << (right - 1))) >> right;
    high = high < 0 ? -q : q;
  }
  int64_t v = high + out_zp;
  if (v < act_min) v = act_min;
  if (v > act_max) v = act_max;
  return static_cast<int32_t>(v);
}

// --- Cases.

constexpr core::ActivationRange kFull{-128, 127};

struct ConvCase {
  const char* name;
  core::TensorShape3 input;
  int32_t out_channels;
  int32_t kernel;  // square
  int32_t stride;
  int32_t pad;  // top and left; the output dims imply bottom/right
  bool depthwise;
  int32_t input_zero_point;
  int32_t output_zero_point;
  core::ActivationRange activation;
};

struct Totals {
  uint32_t cases = 0;
  uint32_t mismatches = 0;
  int32_t max_scratch = 0;
};

// A shift that puts a typical accumulator (taps uniform int8 products, their
// spread ~ 5500 * sqrt(taps)) around +-40 at the output, so outputs spread
// over the int8 range instead of saturating.
int32_t typical_shift(int32_t taps) {
  uint32_t root = 1;
  while ((root + 1) * (root + 1) <= static_cast<uint32_t>(taps)) ++root;
  const uint32_t target = 5500u * root / 40u;
  int32_t s = 0;
  while ((1u << s) < target) ++s;
  return -s;
}

void fill(Rng& rng, int8_t* data, int32_t n) {
  for (int32_t i = 0; i < n; ++i) data[i] = rng.s8();
}

void fill_requant(Rng& rng, int32_t* bias, int32_t* mult, int32_t* shift, int32_t n, int32_t taps) {
  const int32_t base = typical_shift(taps);
  for (int32_t i = 0; i < n; ++i) {
    bias[i] = rng.range(-20000, 20000);
    mult[i] = static_cast<int32_t>(0x40000000u | (rng.next() >> 2));  // [2^30, 2^31)
    shift[i] = base + rng.range(-1, 1);
  }
}

// The clock ticks `run` takes with interrupts masked: no SysTick handler
// runs inside it, so under -icount the ticks count its instructions only.
template <class Run>
uint64_t masked_ticks(Run&& run) {
  const uint32_t primask = fw::mask_interrupts();
  const uint64_t t0 = fw::clock_ticks();
  run();
  const uint64_t t1 = fw::clock_ticks();
  fw::restore_interrupts(primask);
  return t1 - t0;
}

// clamped: outputs at the activation bounds (few, or the data would not
// exercise the requantization).
struct Check {
  uint32_t outputs = 0;
  uint32_t clamped = 0;
  uint32_t mismatches = 0;
  void add(int32_t got, int32_t expected, const core::ActivationRange& act) {
    ++outputs;
    if (expected == act.min || expected == act.max) ++clamped;
    if (got != expected) ++mismatches;
  }
};

void report(const char* name, uint64_t macs, uint64_t ticks, const Check& check,
            int32_t scratch_bytes, Totals& t) {
  const uint32_t mismatches = check.mismatches;
  mcusplit::device::Text<160> line;
  line.add("kernel-bench: ").add(name).add(" macs=").dec(macs).add(" ticks=").dec(ticks);
  line.add(" clamped=").dec(check.clamped).add("/").dec(check.outputs);
  line.add(" scratch=").dec(static_cast<uint32_t>(scratch_bytes));
  if (scratch_bytes > t.max_scratch) t.max_scratch = scratch_bytes;
  if (mismatches == 0) {
    line.add(" ok\n");
  } else {
    line.add(" MISMATCH=").dec(mismatches).add("\n");
  }
  fw::semihosting::write0(line.c_str());
  ++t.cases;
  t.mismatches += mismatches;
}

// 2 instructions (subs, bne) per iteration: the tick difference should be
// 2 * iterations instructions plus the few of clock_ticks() itself.
void calibrate() {
  constexpr uint32_t kIterations = 100000;
  uint32_t n = kIterations;
  const uint64_t ticks = masked_ticks([&] {
    asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n)::"cc");
  });
  mcusplit::device::Text<96> line;
  line.add("kernel-bench: calibration loop_instructions=").dec(2 * kIterations);
  line.add(" ticks=").dec(ticks).add("\n");
  fw::semihosting::write0(line.c_str());
}

void run_conv(const ConvCase& c, uint32_t seed, Scratch& scratch, Totals& totals) {
  scratch.reset();
  Rng rng(seed);
  const int32_t ic = c.input.c;
  const int32_t oc = c.out_channels;
  const int32_t groups = c.depthwise ? ic : 1;
  const int32_t in_per_group = ic / groups;
  const int32_t out_per_group = oc / groups;
  const int32_t oh = (c.input.h + 2 * c.pad - c.kernel) / c.stride + 1;
  const int32_t ow = (c.input.w + 2 * c.pad - c.kernel) / c.stride + 1;
  const int32_t taps = c.kernel * c.kernel * in_per_group;
  const core::TensorShape3 out_shape{oc, oh, ow};

  int8_t* input = scratch.take<int8_t>(c.input.volume());
  int8_t* output = scratch.take<int8_t>(out_shape.volume());
  int8_t* weights = scratch.take<int8_t>(oc * taps);
  int32_t* bias = scratch.take<int32_t>(oc);
  int32_t* mult = scratch.take<int32_t>(oc);
  int32_t* shift = scratch.take<int32_t>(oc);
  fill(rng, input, c.input.volume());
  fill(rng, weights, oc * taps);
  fill_requant(rng, bias, mult, shift, oc, taps);

  k::Int8ConvParams p;
  p.input = c.input;
  p.output = out_shape;
  p.kernel_h = p.kernel_w = c.kernel;
  p.stride_h = p.stride_w = c.stride;
  p.pad_top = p.pad_left = c.pad;
  p.groups = groups;
  p.input_zero_point = c.input_zero_point;
  p.output_zero_point = c.output_zero_point;
  p.activation = c.activation;
  p.weights = weights;
  p.bias = bias;
  p.requant = core::PerChannelRequant{mult, shift};
  p.weights_c0 = 0;
  p.weights_c1 = oc;
  const k::InputTile in{input, core::full_box(c.input)};
  const k::OutputTile out{output, core::full_box(out_shape)};
  // Exactly what the kernel states, from the arena (16-byte aligned).
  const int32_t scratch_bytes = k::int8_conv_dispatch_scratch_bytes(p, out.box);
  const k::Scratch kernel_scratch{scratch.take<int8_t>(scratch_bytes), scratch_bytes};

  k::KernelStatus status = k::KernelStatus::Ok;
  const uint64_t ticks =
      masked_ticks([&] { status = k::int8_conv_dispatch(p, in, out, kernel_scratch); });
  if (status != k::KernelStatus::Ok) fw::fail("kernel-bench: a conv case was refused");

  // Naive reference, element by element against the kernel's output.
  Check check;
  uint64_t macs = 0;
  for (int32_t y = 0; y < oh; ++y) {
    for (int32_t x = 0; x < ow; ++x) {
      for (int32_t o = 0; o < oc; ++o) {
        const int32_t g = o / out_per_group;
        int64_t acc = bias[o];
        for (int32_t ky = 0; ky < c.kernel; ++ky) {
          const int32_t iy = y * c.stride - c.pad + ky;
          if (iy < 0 || iy >= c.input.h) continue;
          for (int32_t kx = 0; kx < c.kernel; ++kx) {
            const int32_t ix = x * c.stride - c.pad + kx;
            if (ix < 0 || ix >= c.input.w) continue;
            for (int32_t i = 0; i < in_per_group; ++i) {
              const int32_t a = input[(iy * c.input.w + ix) * ic + g * in_per_group + i];
              const int32_t w = weights[((o * c.kernel + ky) * c.kernel + kx) * in_per_group + i];
              acc += static_cast<int64_t>(a - c.input_zero_point) * w;
              ++macs;
            }
          }
        }
        const int32_t expected = reference_requantize(acc, mult[o], shift[o], c.output_zero_point,
                                                      c.activation.min, c.activation.max);
        check.add(output[(y * ow + x) * oc + o], expected, c.activation);
      }
    }
  }
  report(c.name, macs, ticks, check, scratch_bytes, totals);
}

void run_fully_connected(const char* name, int32_t in_size, int32_t out_size, int32_t in_zp,
                         int32_t out_zp, uint32_t seed, Scratch& scratch, Totals& totals) {
  scratch.reset();
  Rng rng(seed);
  int8_t* input = scratch.take<int8_t>(in_size);
  int8_t* output = scratch.take<int8_t>(out_size);
  int8_t* weights = scratch.take<int8_t>(in_size * out_size);
  int32_t* bias = scratch.take<int32_t>(out_size);
  int32_t* mult = scratch.take<int32_t>(out_size);
  int32_t* shift = scratch.take<int32_t>(out_size);
  fill(rng, input, in_size);
  fill(rng, weights, in_size * out_size);
  fill_requant(rng, bias, mult, shift, out_size, in_size);

  k::Int8FullyConnectedParams p;
  p.input_size = in_size;
  p.output_size = out_size;
  p.input_zero_point = in_zp;
  p.output_zero_point = out_zp;
  p.weights = weights;
  p.bias = bias;
  p.requant = core::PerChannelRequant{mult, shift};
  p.weights_n0 = 0;
  p.weights_n1 = out_size;

  const int32_t scratch_bytes = k::int8_fully_connected_scratch_bytes(p, 0, out_size);
  const k::Scratch kernel_scratch{scratch.take<int8_t>(scratch_bytes), scratch_bytes};

  k::KernelStatus status = k::KernelStatus::Ok;
  const uint64_t ticks = masked_ticks(
      [&] { status = k::int8_fully_connected(p, input, 0, out_size, output, kernel_scratch); });
  if (status != k::KernelStatus::Ok) fw::fail("kernel-bench: a fully connected case was refused");

  Check check;
  for (int32_t n = 0; n < out_size; ++n) {
    int64_t acc = bias[n];
    for (int32_t i = 0; i < in_size; ++i) {
      acc += static_cast<int64_t>(input[i] - in_zp) * weights[n * in_size + i];
    }
    check.add(output[n], reference_requantize(acc, mult[n], shift[n], out_zp, -128, 127), kFull);
  }
  report(name, static_cast<uint64_t>(in_size) * static_cast<uint64_t>(out_size), ticks, check,
         scratch_bytes, totals);
}

// ReLU6-style clamps start at the output zero point; the zero points are
// those of typical post-ReLU (-128) and symmetric-ish (small) tensors.

const ConvCase kConvCases[] = {
    // MobileNetV2 layer 0 at 96x96: 3x3 stride 2, 3 -> 16 (general kernel).
    {"conv3x3_s2_96x96x3_to16", {3, 96, 96}, 16, 3, 2, 1, false, -1, -128, {-128, 127}},
    // Depthwise 3x3 on 24x24x96, stride 1 and 2, padding 1.
    {"dw3x3_s1_24x24x96", {96, 24, 24}, 96, 3, 1, 1, true, -128, 3, {3, 127}},
    {"dw3x3_s2_24x24x96", {96, 24, 24}, 96, 3, 2, 1, true, -128, -5, kFull},
    // Pointwise: projection 96 -> 24 and expansion 24 -> 144 on 24x24.
    {"pw1x1_24x24_96_to24", {96, 24, 24}, 24, 1, 1, 0, false, -128, 7, kFull},
    {"pw1x1_24x24_24_to144", {24, 24, 24}, 144, 1, 1, 0, false, 9, -128, {-128, 127}},
    // A Fashion-MNIST-sized first conv: 3x3 pad 1, 1 -> 8 on 28x28.
    {"conv3x3_s1_28x28x1_to8", {1, 28, 28}, 8, 3, 1, 1, false, -128, -20, {-20, 127}},
    // ... and the 5x5 variant, no padding.
    {"conv5x5_s1_28x28x1_to8", {1, 28, 28}, 8, 5, 1, 0, false, -128, 0, kFull},
};

}  // namespace

int main() {
  fw::board_init();
  fw::semihosting::write0("kernel-bench: start\n");
  calibrate();
  Scratch scratch;
  Totals totals;
  uint32_t seed = 0x2545F491u;
  for (const ConvCase& c : kConvCases) run_conv(c, seed++, scratch, totals);
  run_fully_connected("fc_1280_to10", 1280, 10, -128, 12, seed++, scratch, totals);
  run_fully_connected("fc_256_to64", 256, 64, 3, -7, seed++, scratch, totals);

  mcusplit::device::Text<96> line;
  line.add("kernel-bench: done cases=")
      .dec(totals.cases)
      .add(" mismatches=")
      .dec(totals.mismatches)
      .add(" max_scratch=")
      .dec(static_cast<uint32_t>(totals.max_scratch));
  // The kernels' working buffers come from the arena (scratch): the stack
  // holds just their frames. How deep it went.
  line.add(" stack_high_water=").dec(fw::stack_high_water_bytes()).add("\n");
  fw::semihosting::write0(line.c_str());
  return totals.mismatches == 0 ? fw::kExitOk : fw::kExitError;
}
