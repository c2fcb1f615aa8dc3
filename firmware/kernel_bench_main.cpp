// mcusplit_fw_kernel_bench: times the int8 kernels on the emulated core (any
// of the boards, docs/firmware.md "Boards") on a fixed set of realistic layer
// shapes (MobileNetV2-like convolutions, an add, a global average pool, a
// classifier head; Fashion-MNIST-sized convolutions and pools; pad, concat,
// softmax, reshape) with deterministic pseudo-random data, and checks every
// output against a reference written here (no code shared with src/kernels):
// the int8 formula, naively, for every operator but softmax, whose
// fixed-point exponential is checked by what any softmax must give instead
// (a larger input never gets a smaller output; the outputs' probabilities
// sum to 1 within one step per channel).
//
// Each case runs through its operator's record (kernels::op_registration
// (op).invoke: what the device runtime runs) with interrupts masked, so the
// tick difference counts only the kernel: either once on the whole layer, or
// as a split plan's devices run it, one invocation per output box (a few rows,
// a tile, a slice of channels or neurons), each given its input tile (the
// record's required input box, copied out beforehand as a device would hold
// it) and writing into the whole output with the output's strides. The
// assembled output is checked against the whole layer's reference. Under
// `qemu-system-arm -icount shift=7` one guest instruction is 128 ns of
// virtual time, so instructions = round(ticks * (1e9 / CLOCK_HZ) / 128):
// ticks * 40 / 128 at 25 MHz, ticks * 50 / 128 on the AN505's 20 MHz
// (scripts/bench_kernels_m7.sh). A case's ticks are the sum over its
// invocations, each less the ticks of the two clock reads around it
// (measured once on an empty region), so that many small boxes do not count
// the bench's clock as the kernel's per-call cost.
//
// Output: a calibration line (a loop of a known instruction count, to check
// the ticks-to-instructions rule), one semihosting line per case, a summary:
//   kernel-bench: calibration loop_instructions=N ticks=N
//   kernel-bench: NAME kernel=K macs=N work=W outputs=N inputs=N calls=N ticks=N clamped=N/OUTPUTS
//   scratch=BYTES ok|MISMATCH=COUNT kernel-bench: done cases=N mismatches=N max_scratch=BYTES
//   stack_high_water=BYTES
// kernel and work are the record's kernel_name and work (the planner's cost
// units: MACs for conv and fully connected, values read and written for the
// rest), work summed over the case's invocations; outputs the values they
// computed (each once: the whole output), inputs the input values they read
// (per call and per input, the volume of the record's required_input_box;
// a halo or every input channel counted again by each call that reads it),
// calls the invocations; the cost model fits instructions = a * work +
// b * outputs + c * calls + d * inputs per kernel over these cases, so each
// kernel's cases vary work per output (input channels, kernel sizes,
// padding), outputs per call (whole layers, rows, tiles) and inputs per
// output (channel slices, which the packed DSP kernels pay for per input
// value read whatever number of output channels a call computes).
// macs counts real taps (not padding), 0 for operators without MACs.
// scratch is the most any invocation's record stated (scratch_bytes), given
// from the arena; stack_high_water is then the kernels' own frames.
// Exit code 0 when every output matches, kExitError otherwise.
#include <cstdint>

#include "board.h"
#include "device/frame_codec.h"
#include "device/text.h"
#include "kernels/op_registry.h"

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

// A case's data seed, from its layer's name (FNV-1a): the same data on every
// run whatever cases come before it, and for a layer run whole and split.
uint32_t seed_of(const char* name) {
  uint32_t h = 2166136261u;
  for (; *name != '\0'; ++name) h = (h ^ static_cast<uint8_t>(*name)) * 16777619u;
  return h;
}

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

// How a case cuts its output into the boxes it invokes one at a time, as the
// devices of a split plan each compute a share: a box of `rows` x `cols` x
// `channels` (the last ones smaller where the extent does not divide); 0 is
// the whole extent, so Split{} is the whole layer in one call.
struct Split {
  int32_t rows = 0;
  int32_t cols = 0;
  int32_t channels = 0;
};

constexpr Split kWhole{};
constexpr Split rows_of(int32_t rows) {
  return Split{rows, 0, 0};
}
constexpr Split tiles_of(int32_t side) {
  return Split{side, side, 0};
}
constexpr Split channels_of(int32_t channels) {
  return Split{0, 0, channels};
}
constexpr Split channels_rows_of(int32_t channels, int32_t rows) {
  return Split{rows, 0, channels};
}

template <class Visit>
void for_each_box(const core::TensorShape3& shape, const Split& split, Visit&& visit) {
  const int32_t rows = split.rows > 0 ? split.rows : shape.h;
  const int32_t cols = split.cols > 0 ? split.cols : shape.w;
  const int32_t channels = split.channels > 0 ? split.channels : shape.c;
  for (int32_t y0 = 0; y0 < shape.h; y0 += rows) {
    for (int32_t x0 = 0; x0 < shape.w; x0 += cols) {
      for (int32_t c0 = 0; c0 < shape.c; c0 += channels) {
        visit(core::Box{c0, core::min_i32(c0 + channels, shape.c), y0,
                        core::min_i32(y0 + rows, shape.h), x0, core::min_i32(x0 + cols, shape.w)});
      }
    }
  }
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
  Split split = kWhole;
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

// The ticks of the two clock reads around an empty timed region, taken off
// every invocation's count (set once in main, before any case).
uint64_t clock_read_ticks = 0;

void measure_clock_read_ticks() {
  clock_read_ticks = masked_ticks([] {});
}

// A case's input tensors, whole, in the operator's input order.
constexpr int32_t kMaxCaseInputs = 2;
struct CaseInputs {
  const int8_t* data[kMaxCaseInputs] = {};
  core::TensorShape3 shape[kMaxCaseInputs] = {};
  int32_t count = 0;
};

CaseInputs one_input(const int8_t* data, const core::TensorShape3& shape) {
  CaseInputs in;
  in.data[0] = data;
  in.shape[0] = shape;
  in.count = 1;
  return in;
}

CaseInputs two_inputs(const int8_t* a, const core::TensorShape3& a_shape, const int8_t* b,
                      const core::TensorShape3& b_shape) {
  CaseInputs in = one_input(a, a_shape);
  in.data[1] = b;
  in.shape[1] = b_shape;
  in.count = 2;
  return in;
}

// `box` of an NHWC tensor, densely: the tile a device holds of its input.
void copy_box(const int8_t* tensor, const core::TensorShape3& shape, const core::Box& box,
              int8_t* dense) {
  for (int32_t y = box.y0; y < box.y1; ++y) {
    for (int32_t x = box.x0; x < box.x1; ++x) {
      const int8_t* pixel = tensor + (y * shape.w + x) * shape.c;
      for (int32_t c = box.c0; c < box.c1; ++c) *dense++ = pixel[c];
    }
  }
}

// What a case's invocations add up to.
struct Invoked {
  const char* kernel = nullptr;
  Split split;
  int64_t work = 0;
  int64_t outputs = 0;
  int64_t inputs = 0;  // input values the calls read (their required input boxes)
  int64_t pixels = 0;  // output positions (rows x columns of each box)
  uint32_t calls = 0;
  int32_t scratch_bytes = 0;  // the most one invocation stated
  uint64_t ticks = 0;
};

// One case through its operator's record, as the device runtime invokes it
// (device/layer_compute.cpp): per output box, each input as a tile holding
// the box the record says it reads (the whole tensor where that is all of
// it, else a dense copy made before the timed region), the output written in
// place in the whole output tensor through its strides.
[[gnu::noinline]] Invoked invoke_split(const k::OpLayer& layer, const CaseInputs& in,
                                       int8_t* output, const core::TensorShape3& out_shape,
                                       const Split& split, Scratch& scratch) {
  const k::OpRegistration& record = k::op_registration(layer.op);
  Invoked r;
  r.kernel = record.kernel_name(*layer.params);
  r.split = split;
  // Sizes first: the input copies and the kernel scratch are taken from the
  // arena once per case, as big as the largest box needs.
  int32_t staging_volume[kMaxCaseInputs] = {};
  for_each_box(out_shape, split, [&](const core::Box& box) {
    const int32_t bytes = record.scratch_bytes(layer, box);
    if (bytes > r.scratch_bytes) r.scratch_bytes = bytes;
    for (int32_t i = 0; i < in.count; ++i) {
      const core::Box need = record.required_input_box(layer, i, in.shape[i], box);
      if (need != core::full_box(in.shape[i]) && need.volume() > staging_volume[i]) {
        staging_volume[i] = need.volume();
      }
    }
  });
  int8_t* staging[kMaxCaseInputs] = {};
  for (int32_t i = 0; i < in.count; ++i) {
    if (staging_volume[i] > 0) staging[i] = scratch.take<int8_t>(staging_volume[i]);
  }
  const k::Scratch kernel_scratch{scratch.take<int8_t>(r.scratch_bytes), r.scratch_bytes};

  const core::Box whole_output = core::full_box(out_shape);
  for_each_box(out_shape, split, [&](const core::Box& box) {
    k::InputTile tiles[kMaxCaseInputs];
    for (int32_t i = 0; i < in.count; ++i) {
      const core::Box need = record.required_input_box(layer, i, in.shape[i], box);
      if (need.empty()) continue;  // this box reads nothing of input i
      r.inputs += need.volume();
      if (need == core::full_box(in.shape[i])) {
        tiles[i] = k::InputTile{in.data[i], need};
      } else {
        copy_box(in.data[i], in.shape[i], need, staging[i]);
        tiles[i] = k::InputTile{staging[i], need};
      }
    }
    const k::OutputTile out{output + core::dense_offset(whole_output, box.c0, box.y0, box.x0), box,
                            out_shape.c, out_shape.w * out_shape.c};
    k::KernelStatus status = k::KernelStatus::Ok;
    const uint64_t ticks =
        masked_ticks([&] { status = record.invoke(layer, tiles, out, kernel_scratch); });
    if (status != k::KernelStatus::Ok) fw::fail("kernel-bench: a case was refused by its kernel");
    r.ticks += ticks > clock_read_ticks ? ticks - clock_read_ticks : 0;
    r.work += record.work(layer, box);
    r.outputs += box.volume();
    r.pixels += int64_t{box.height()} * box.width();
    ++r.calls;
  });
  return r;
}

// The bench's functions are kept out of line ([[gnu::noinline]]): inlined
// into main or into each other their frames (a line of text, a layer's
// parameters) would all sit on the stack at once, under the kernels' frames,
// and the stack budget (STACK_BYTES) is what the bench checks the kernels in.

// Values no kernel writes: a box the split missed keeps them and mismatches
// its reference (with high probability), instead of a previous case's bytes.
void fill_unwritten(Rng& rng, int8_t* output, int32_t n) {
  for (int32_t i = 0; i < n; ++i) output[i] = rng.s8();
}

// A split case is named after its layer (whose name seeds its data, so the
// whole and the split runs compute the same values) and its boxes:
// _rows4, _tiles4x4, _by16 (channels or neurons a call), _by8_rows7 (a
// channel slice of a few rows).
template <size_t N>
void add_split_suffix(mcusplit::device::Text<N>& line, const Split& split) {
  if (split.channels > 0) line.add("_by").dec(static_cast<uint32_t>(split.channels));
  if (split.rows > 0 && split.cols > 0) {
    line.add("_tiles")
        .dec(static_cast<uint32_t>(split.rows))
        .add("x")
        .dec(static_cast<uint32_t>(split.cols));
  } else if (split.rows > 0) {
    line.add("_rows").dec(static_cast<uint32_t>(split.rows));
  } else if (split.cols > 0) {
    line.add("_cols").dec(static_cast<uint32_t>(split.cols));
  }
}

[[gnu::noinline]] void report(const char* name, const Invoked& run, uint64_t macs,
                              const Check& check, Totals& t) {
  const uint32_t mismatches = check.mismatches;
  const int32_t scratch_bytes = run.scratch_bytes;
  mcusplit::device::Text<240> line;
  line.add("kernel-bench: ").add(name);
  add_split_suffix(line, run.split);
  line.add(" kernel=").add(run.kernel);
  line.add(" macs=").dec(macs).add(" work=").dec(static_cast<uint64_t>(run.work));
  line.add(" outputs=").dec(static_cast<uint64_t>(run.outputs));
  line.add(" inputs=").dec(static_cast<uint64_t>(run.inputs));
  line.add(" pixels=").dec(static_cast<uint64_t>(run.pixels)).add(" calls=").dec(run.calls);
  line.add(" ticks=").dec(run.ticks);
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
[[gnu::noinline]] void calibrate() {
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

[[gnu::noinline]] void run_conv(const ConvCase& c, Scratch& scratch, Totals& totals) {
  const uint32_t seed = seed_of(c.name);
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
  fill_unwritten(rng, output, out_shape.volume());

  // Straight into the operator's parameters: OpParams is a union of every
  // operator's (392 bytes), and a second copy of the conv's would be stack.
  k::OpParams params;
  k::Int8ConvParams& p = params.conv;
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
  const Invoked run = invoke_split(k::OpLayer{k::OpType::Conv, &params}, one_input(input, c.input),
                                   output, out_shape, c.split, scratch);

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
  report(c.name, run, macs, check, totals);
}

struct FullyConnectedCase {
  const char* name;
  int32_t in_size;
  int32_t out_size;
  int32_t in_zp;
  int32_t out_zp;
  Split split = kWhole;  // neurons per invocation: a device computes a slice
};

[[gnu::noinline]] void run_fully_connected(const FullyConnectedCase& spec, Scratch& scratch,
                                           Totals& totals) {
  const char* name = spec.name;
  const int32_t in_size = spec.in_size;
  const int32_t out_size = spec.out_size;
  const int32_t in_zp = spec.in_zp;
  const int32_t out_zp = spec.out_zp;
  const Split split = spec.split;
  const uint32_t seed = seed_of(name);
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
  fill_unwritten(rng, output, out_size);

  k::OpParams params;
  k::Int8FullyConnectedParams& p = params.fc;
  p.input_size = in_size;
  p.output_size = out_size;
  p.input_zero_point = in_zp;
  p.output_zero_point = out_zp;
  p.weights = weights;
  p.bias = bias;
  p.requant = core::PerChannelRequant{mult, shift};
  p.weights_n0 = 0;
  p.weights_n1 = out_size;

  p.activation = kFull;
  const Invoked run = invoke_split(k::OpLayer{k::OpType::FullyConnected, &params},
                                   one_input(input, core::TensorShape3{in_size, 1, 1}), output,
                                   core::TensorShape3{out_size, 1, 1}, split, scratch);

  Check check;
  for (int32_t n = 0; n < out_size; ++n) {
    int64_t acc = bias[n];
    for (int32_t i = 0; i < in_size; ++i) {
      acc += static_cast<int64_t>(input[i] - in_zp) * weights[n * in_size + i];
    }
    check.add(output[n], reference_requantize(acc, mult[n], shift[n], out_zp, -128, 127), kFull);
  }
  report(name, run, static_cast<uint64_t>(in_size) * static_cast<uint64_t>(out_size), check,
         totals);
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

// The cost model's cases: per kernel, layers whose work per output differs
// (input channels, kernel size, padding) and the same layers cut into the
// boxes split plans give devices (rows of a 28x28 layer over 8 devices, 4x4
// tiles, single rows), so that work, outputs and calls separate. Shapes from
// MobileNetV2 0.35 at 96 and 1.0 at 224 (the channels, at the spatial sizes
// an arena holds) and the Fashion-MNIST model (models/fashion_mnist_mbv2.onnx,
// "fmnist_": 28x28x1 in, 16 channels at 28x28, 64 expanded, 24 at 14x14).
const ConvCase kSplitConvCases[] = {
    // Fashion-MNIST's first conv: 3x3 pad 1, 1 -> 16, ReLU6; whole, 4-row
    // boxes (28 rows over 8 devices), 4x4 tiles.
    {"fmnist_conv3x3_28x28x1_to16", {1, 28, 28}, 16, 3, 1, 1, false, -128, -128, kFull},
    {"fmnist_conv3x3_28x28x1_to16", {1, 28, 28}, 16, 3, 1, 1, false, -128, -128, kFull, rows_of(4)},
    {"fmnist_conv3x3_28x28x1_to16",
     {1, 28, 28},
     16,
     3,
     1,
     1,
     false,
     -128,
     -128,
     kFull,
     tiles_of(4)},
    // 8 input channels, no padding (every tap real); whole and single rows.
    {"conv3x3_s1_24x24x8_to16_nopad", {8, 24, 24}, 16, 3, 1, 0, false, -3, 5, kFull},
    {"conv3x3_s1_24x24x8_to16_nopad", {8, 24, 24}, 16, 3, 1, 0, false, -3, 5, kFull, rows_of(1)},
    // The MobileNetV2 stem as 8x8 output tiles.
    {"conv3x3_s2_96x96x3_to16", {3, 96, 96}, 16, 3, 2, 1, false, -1, -128, kFull, tiles_of(8)},
    // Pointwise: Fashion-MNIST's expansion 16 -> 64 at 28x28 and projection
    // 64 -> 24 at 14x14; MobileNetV2's 8 -> 48, 144 -> 24, 576 -> 96.
    {"fmnist_pw1x1_28x28_16_to64", {16, 28, 28}, 64, 1, 1, 0, false, -128, -128, kFull},
    {"fmnist_pw1x1_28x28_16_to64", {16, 28, 28}, 64, 1, 1, 0, false, -128, -128, kFull, rows_of(4)},
    {"fmnist_pw1x1_28x28_16_to64",
     {16, 28, 28},
     64,
     1,
     1,
     0,
     false,
     -128,
     -128,
     kFull,
     tiles_of(4)},
    {"fmnist_pw1x1_14x14_64_to24", {64, 14, 14}, 24, 1, 1, 0, false, -128, 2, kFull},
    {"fmnist_pw1x1_14x14_64_to24", {64, 14, 14}, 24, 1, 1, 0, false, -128, 2, kFull, rows_of(1)},
    {"pw1x1_24x24_8_to48", {8, 24, 24}, 48, 1, 1, 0, false, 4, -128, kFull},
    {"pw1x1_12x12_144_to24", {144, 12, 12}, 24, 1, 1, 0, false, -128, -6, kFull},
    {"pw1x1_12x12_144_to24", {144, 12, 12}, 24, 1, 1, 0, false, -128, -6, kFull, tiles_of(4)},
    {"pw1x1_6x6_576_to96", {576, 6, 6}, 96, 1, 1, 0, false, -128, 1, kFull},
    // Depthwise: Fashion-MNIST's 3x3 on 28x28x16 (whole, rows, tiles) and
    // stride 2 on 28x28x64; MobileNetV2's 576 channels at 6x6; a 5x5
    // (MnasNet, MobileNetV3), the only other work per output a depthwise has.
    {"fmnist_dw3x3_s1_28x28x16", {16, 28, 28}, 16, 3, 1, 1, true, -128, -128, kFull},
    {"fmnist_dw3x3_s1_28x28x16", {16, 28, 28}, 16, 3, 1, 1, true, -128, -128, kFull, rows_of(4)},
    {"fmnist_dw3x3_s1_28x28x16", {16, 28, 28}, 16, 3, 1, 1, true, -128, -128, kFull, tiles_of(4)},
    {"fmnist_dw3x3_s2_28x28x64", {64, 28, 28}, 64, 3, 2, 1, true, -128, -128, kFull},
    {"fmnist_dw3x3_s2_28x28x64", {64, 28, 28}, 64, 3, 2, 1, true, -128, -128, kFull, rows_of(1)},
    {"dw3x3_s1_6x6x576", {576, 6, 6}, 576, 3, 1, 1, true, -128, 0, kFull},
    {"dw5x5_s1_12x12x96", {96, 12, 12}, 96, 5, 1, 2, true, -128, -9, kFull},
    {"dw5x5_s1_12x12x96", {96, 12, 12}, 96, 5, 1, 2, true, -128, -9, kFull, tiles_of(4)},
    // Channel slices over the whole plane, as split plans give the DSP
    // cores: a call computes a few output channels but (conv, pointwise)
    // reads every input channel of its pixels, so the input a case reads
    // (inputs=) grows with its calls while work and outputs stay. Pointwise
    // also as channel slices of 7 rows (inputs per call between the two).
    {"conv3x3_s1_24x24x8_to16_nopad",
     {8, 24, 24},
     16,
     3,
     1,
     0,
     false,
     -3,
     5,
     kFull,
     channels_of(4)},
    {"fmnist_pw1x1_28x28_16_to64",
     {16, 28, 28},
     64,
     1,
     1,
     0,
     false,
     -128,
     -128,
     kFull,
     channels_of(8)},
    {"fmnist_pw1x1_28x28_16_to64",
     {16, 28, 28},
     64,
     1,
     1,
     0,
     false,
     -128,
     -128,
     kFull,
     channels_of(16)},
    {"fmnist_pw1x1_28x28_16_to64",
     {16, 28, 28},
     64,
     1,
     1,
     0,
     false,
     -128,
     -128,
     kFull,
     channels_rows_of(8, 7)},
    {"fmnist_pw1x1_14x14_64_to24",
     {64, 14, 14},
     24,
     1,
     1,
     0,
     false,
     -128,
     2,
     kFull,
     channels_of(8)},
    {"pw1x1_12x12_144_to24", {144, 12, 12}, 24, 1, 1, 0, false, -128, -6, kFull, channels_of(8)},
    {"pw1x1_24x24_96_to24", {96, 24, 24}, 24, 1, 1, 0, false, -128, 7, kFull, channels_of(8)},
    {"fmnist_dw3x3_s1_28x28x16",
     {16, 28, 28},
     16,
     3,
     1,
     1,
     true,
     -128,
     -128,
     kFull,
     channels_of(8)},
    {"fmnist_dw3x3_s2_28x28x64",
     {64, 28, 28},
     64,
     3,
     2,
     1,
     true,
     -128,
     -128,
     kFull,
     channels_of(16)},
    // Narrow channel slices, as a balanced plan gives each of 8 devices a
    // pair of 16 channels or one group of 4: a call's cost per output
    // position (its loops over pixels, each pixel's input packed) is then
    // spread over few outputs (pixels= separates it from outputs=).
    {"fmnist_pw1x1_28x28_16_to64",
     {16, 28, 28},
     64,
     1,
     1,
     0,
     false,
     -128,
     -128,
     kFull,
     channels_of(2)},
    {"pw1x1_24x24_8_to48", {8, 24, 24}, 48, 1, 1, 0, false, 4, -128, kFull, channels_of(2)},
    {"pw1x1_6x6_576_to96", {576, 6, 6}, 96, 1, 1, 0, false, -128, 1, kFull, channels_of(2)},
    {"conv3x3_s2_96x96x3_to16", {3, 96, 96}, 16, 3, 2, 1, false, -1, -128, kFull, channels_of(2)},
    {"fmnist_dw3x3_s1_28x28x16",
     {16, 28, 28},
     16,
     3,
     1,
     1,
     true,
     -128,
     -128,
     kFull,
     channels_of(4)},
    {"dw3x3_s1_6x6x576", {576, 6, 6}, 576, 3, 1, 1, true, -128, 0, kFull, channels_of(4)},
};

// --- The operators without MACs, each against its own naive formula.

int32_t at(const int8_t* data, const core::TensorShape3& s, int32_t c, int32_t y, int32_t x) {
  return data[(y * s.w + x) * s.c + c];
}

// TFLite's int8 Add: both inputs rescaled to a common scale after a left
// shift, summed, rescaled to the output.
struct AddCase {
  const char* name;
  core::TensorShape3 shape;
  Split split = kWhole;
};

[[gnu::noinline]] void run_add(const AddCase& spec, Scratch& scratch, Totals& totals) {
  const char* name = spec.name;
  const core::TensorShape3 shape = spec.shape;
  const Split split = spec.split;
  const uint32_t seed = seed_of(name);
  scratch.reset();
  Rng rng(seed);
  const int32_t n = shape.volume();
  int8_t* a = scratch.take<int8_t>(n);
  int8_t* b = scratch.take<int8_t>(n);
  int8_t* output = scratch.take<int8_t>(n);
  fill(rng, a, n);
  fill(rng, b, n);
  fill_unwritten(rng, output, n);
  k::OpParams params;
  k::Int8AddParams& p = params.add;
  // Scales 0.05 and 0.08 into 0.1 (zero points 3, -7, -2), as
  // make_int8_add_params derives them.
  p.shape = shape;
  p.input1_offset = -3;
  p.input2_offset = 7;
  p.output_offset = -2;
  p.input1_multiplier = 1342177280;  // 0.3125 = 0.625 * 2^-1
  p.input1_shift = -1;
  p.input2_multiplier = 1073741824;  // 0.5
  p.input2_shift = 0;
  p.output_multiplier = 1717986918;  // 1.6 * 2^-20 = 0.8 * 2^-19
  p.output_shift = -19;
  p.left_shift = 20;
  p.activation = core::ActivationRange{-2, 127};
  const Invoked run = invoke_split(k::OpLayer{k::OpType::Add, &params},
                                   two_inputs(a, shape, b, shape), output, shape, split, scratch);
  constexpr int32_t kWide = INT32_MAX;
  Check check;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t s1 = reference_requantize((a[i] + p.input1_offset) * (1 << p.left_shift),
                                            p.input1_multiplier, p.input1_shift, 0, -kWide, kWide);
    const int32_t s2 = reference_requantize((b[i] + p.input2_offset) * (1 << p.left_shift),
                                            p.input2_multiplier, p.input2_shift, 0, -kWide, kWide);
    check.add(output[i],
              reference_requantize(int64_t{s1} + s2, p.output_multiplier, p.output_shift,
                                   p.output_offset, p.activation.min, p.activation.max),
              p.activation);
  }
  report(name, run, 0, check, totals);
}

// Max and average pools: a window's real cells only (padding never counts),
// the average rounded half away from zero.
struct PoolCase {
  const char* name;
  bool max;  // else average
  core::TensorShape3 in_shape;
  int32_t kernel;  // square, as the stride and the top/left padding
  int32_t stride;
  int32_t pad;
  Split split = kWhole;
};

[[gnu::noinline]] void run_pool(const PoolCase& spec, Scratch& scratch, Totals& totals) {
  const char* name = spec.name;
  const bool max = spec.max;
  const core::TensorShape3 in_shape = spec.in_shape;
  const int32_t kernel = spec.kernel;
  const int32_t stride = spec.stride;
  const int32_t pad = spec.pad;
  const Split split = spec.split;
  const uint32_t seed = seed_of(name);
  scratch.reset();
  Rng rng(seed);
  const int32_t oh = (in_shape.h + 2 * pad - kernel) / stride + 1;
  const int32_t ow = (in_shape.w + 2 * pad - kernel) / stride + 1;
  const core::TensorShape3 out_shape{in_shape.c, oh, ow};
  int8_t* input = scratch.take<int8_t>(in_shape.volume());
  int8_t* output = scratch.take<int8_t>(out_shape.volume());
  fill(rng, input, in_shape.volume());
  fill_unwritten(rng, output, out_shape.volume());
  k::OpParams params;
  k::Int8PoolParams& p = params.pool;
  p.input = in_shape;
  p.output = out_shape;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = pad;
  p.activation = core::ActivationRange{-100, 127};
  const Invoked run =
      invoke_split(k::OpLayer{max ? k::OpType::MaxPool : k::OpType::AveragePool, &params},
                   one_input(input, in_shape), output, out_shape, split, scratch);
  Check check;
  for (int32_t y = 0; y < oh; ++y) {
    for (int32_t x = 0; x < ow; ++x) {
      for (int32_t c = 0; c < in_shape.c; ++c) {
        int32_t best = -129;
        int32_t sum = 0;
        int32_t count = 0;
        for (int32_t ky = 0; ky < kernel; ++ky) {
          for (int32_t kx = 0; kx < kernel; ++kx) {
            const int32_t iy = y * stride - pad + ky;
            const int32_t ix = x * stride - pad + kx;
            if (iy < 0 || iy >= in_shape.h || ix < 0 || ix >= in_shape.w) continue;
            const int32_t v = at(input, in_shape, c, iy, ix);
            if (v > best) best = v;
            sum += v;
            ++count;
          }
        }
        int32_t expected = best;
        if (!max) expected = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        if (expected < p.activation.min) expected = p.activation.min;
        if (expected > p.activation.max) expected = p.activation.max;
        check.add(at(output, out_shape, c, y, x), expected, p.activation);
      }
    }
  }
  report(name, run, 0, check, totals);
}

// TFLM's int8 Mean over height and width: the sum less the zero points,
// rescaled, divided by the count rounding half away from zero.
struct GlobalAveragePoolCase {
  const char* name;
  core::TensorShape3 in_shape;
  Split split = kWhole;  // channels per invocation: the output is one pixel
};

[[gnu::noinline]] void run_global_average_pool(const GlobalAveragePoolCase& spec, Scratch& scratch,
                                               Totals& totals) {
  const char* name = spec.name;
  const core::TensorShape3 in_shape = spec.in_shape;
  const Split split = spec.split;
  const uint32_t seed = seed_of(name);
  scratch.reset();
  Rng rng(seed);
  const core::TensorShape3 out_shape{in_shape.c, 1, 1};
  int8_t* input = scratch.take<int8_t>(in_shape.volume());
  int8_t* output = scratch.take<int8_t>(in_shape.c);
  fill(rng, input, in_shape.volume());
  fill_unwritten(rng, output, in_shape.c);
  k::OpParams params;
  k::Int8GlobalAveragePoolParams& p = params.global_pool;
  p.input = in_shape;
  p.input_zero_point = -5;
  p.output_zero_point = 4;
  p.multiplier = 1518500250;  // in_scale / out_scale = 1.414 = 0.707 * 2^1
  p.shift = 1;
  p.activation = kFull;
  const Invoked run = invoke_split(k::OpLayer{k::OpType::GlobalAveragePool, &params},
                                   one_input(input, in_shape), output, out_shape, split, scratch);
  const int32_t count = in_shape.h * in_shape.w;
  Check check;
  for (int32_t c = 0; c < in_shape.c; ++c) {
    int64_t sum = 0;
    for (int32_t y = 0; y < in_shape.h; ++y) {
      for (int32_t x = 0; x < in_shape.w; ++x) sum += at(input, in_shape, c, y, x);
    }
    constexpr int32_t kWide = INT32_MAX;
    int32_t v = reference_requantize(sum - int64_t{count} * p.input_zero_point, p.multiplier,
                                     p.shift, 0, -kWide, kWide);
    v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
    int32_t expected = v + p.output_zero_point;
    if (expected < -128) expected = -128;
    if (expected > 127) expected = 127;
    check.add(output[c], expected, kFull);
  }
  report(name, run, 0, check, totals);
}

// A constant border: the input where it lands, the value elsewhere.
struct PadCase {
  const char* name;
  core::TensorShape3 in_shape;
  core::TensorShape3 out_shape;
  int32_t pad_top;
  int32_t pad_left;
  Split split = kWhole;
};

[[gnu::noinline]] void run_pad(const PadCase& spec, Scratch& scratch, Totals& totals) {
  const char* name = spec.name;
  const core::TensorShape3 in_shape = spec.in_shape;
  const core::TensorShape3 out_shape = spec.out_shape;
  const int32_t pad_top = spec.pad_top;
  const int32_t pad_left = spec.pad_left;
  const Split split = spec.split;
  const uint32_t seed = seed_of(name);
  scratch.reset();
  Rng rng(seed);
  int8_t* input = scratch.take<int8_t>(in_shape.volume());
  int8_t* output = scratch.take<int8_t>(out_shape.volume());
  fill(rng, input, in_shape.volume());
  fill_unwritten(rng, output, out_shape.volume());
  k::OpParams params;
  k::Int8PadParams& p = params.pad;
  p.input = in_shape;
  p.output = out_shape;
  p.pad_top = pad_top;
  p.pad_left = pad_left;
  p.value = -128;
  const Invoked run = invoke_split(k::OpLayer{k::OpType::Pad, &params}, one_input(input, in_shape),
                                   output, out_shape, split, scratch);
  Check check;
  for (int32_t y = 0; y < out_shape.h; ++y) {
    for (int32_t x = 0; x < out_shape.w; ++x) {
      for (int32_t c = 0; c < out_shape.c; ++c) {
        const int32_t iy = y - pad_top;
        const int32_t ix = x - pad_left;
        const bool inside = iy >= 0 && iy < in_shape.h && ix >= 0 && ix < in_shape.w;
        check.add(at(output, out_shape, c, y, x), inside ? at(input, in_shape, c, iy, ix) : p.value,
                  kFull);
      }
    }
  }
  report(name, run, 0, check, totals);
}

// Two inputs along channels: the first copied, the second rescaled to the
// output's quantization (zero point 6 to -4, scale 0.75).
struct ConcatCase {
  const char* name;
  int32_t h;
  int32_t w;
  int32_t c1;  // the first input's channels, copied
  int32_t c2;  // the second's, rescaled
  Split split = kWhole;
};

[[gnu::noinline]] void run_concat(const ConcatCase& spec, Scratch& scratch, Totals& totals) {
  const char* name = spec.name;
  const int32_t h = spec.h;
  const int32_t w = spec.w;
  const int32_t c1 = spec.c1;
  const int32_t c2 = spec.c2;
  const Split split = spec.split;
  const uint32_t seed = seed_of(name);
  scratch.reset();
  Rng rng(seed);
  const core::TensorShape3 s1{c1, h, w};
  const core::TensorShape3 s2{c2, h, w};
  const core::TensorShape3 out_shape{c1 + c2, h, w};
  int8_t* a = scratch.take<int8_t>(s1.volume());
  int8_t* b = scratch.take<int8_t>(s2.volume());
  int8_t* output = scratch.take<int8_t>(out_shape.volume());
  fill(rng, a, s1.volume());
  fill(rng, b, s2.volume());
  fill_unwritten(rng, output, out_shape.volume());
  k::Int8ConcatParams blocks[2];
  blocks[0].input = s1;
  blocks[0].output = out_shape;
  blocks[1].input = s2;
  blocks[1].output = out_shape;
  blocks[1].offset_c = c1;
  blocks[1].input_zero_point = 6;
  blocks[1].output_zero_point = -4;
  blocks[1].multiplier = 1610612736;  // 0.75
  blocks[1].shift = 0;
  k::OpParams params;
  const Invoked run = invoke_split(k::OpLayer{k::OpType::Concat, &params, blocks, 2},
                                   two_inputs(a, s1, b, s2), output, out_shape, split, scratch);
  Check check;
  for (int32_t y = 0; y < h; ++y) {
    for (int32_t x = 0; x < w; ++x) {
      for (int32_t c = 0; c < c1 + c2; ++c) {
        const int32_t expected =
            c < c1 ? at(a, s1, c, y, x)
                   : reference_requantize(at(b, s2, c - c1, y, x) - blocks[1].input_zero_point,
                                          blocks[1].multiplier, blocks[1].shift,
                                          blocks[1].output_zero_point, -128, 127);
        check.add(at(output, out_shape, c, y, x), expected, kFull);
      }
    }
  }
  report(name, run, 0, check, totals);
}

// The bytes as they are, in another shape.
struct ReshapeCase {
  const char* name;
  core::TensorShape3 in_shape;
  core::TensorShape3 out_shape;
  Split split = kWhole;
};

[[gnu::noinline]] void run_reshape(const ReshapeCase& spec, Scratch& scratch, Totals& totals) {
  const char* name = spec.name;
  const core::TensorShape3 in_shape = spec.in_shape;
  const core::TensorShape3 out_shape = spec.out_shape;
  const Split split = spec.split;
  const uint32_t seed = seed_of(name);
  scratch.reset();
  Rng rng(seed);
  int8_t* input = scratch.take<int8_t>(in_shape.volume());
  int8_t* output = scratch.take<int8_t>(out_shape.volume());
  fill(rng, input, in_shape.volume());
  fill_unwritten(rng, output, out_shape.volume());
  k::OpParams params;
  params.reshape.input = in_shape;
  params.reshape.output = out_shape;
  const Invoked run = invoke_split(k::OpLayer{k::OpType::Reshape, &params},
                                   one_input(input, in_shape), output, out_shape, split, scratch);
  Check check;
  for (int32_t i = 0; i < out_shape.volume(); ++i) check.add(output[i], input[i], kFull);
  report(name, run, 0, check, totals);
}

// Softmax over channels, per pixel, input scale 1/16 (beta 1): TFLite's
// fixed-point exponential is not rewritten here; every output is checked
// instead for what a softmax must give: within a pixel larger inputs never
// get smaller outputs, and the probabilities ((q + 128) / 256) sum to 1
// within one step per channel.
struct SoftmaxCase {
  const char* name;
  core::TensorShape3 shape;  // softmax over c, per pixel
  Split split = kWhole;
};

[[gnu::noinline]] void run_softmax(const SoftmaxCase& spec, Scratch& scratch, Totals& totals) {
  const char* name = spec.name;
  const core::TensorShape3 shape = spec.shape;
  const Split split = spec.split;
  const uint32_t seed = seed_of(name);
  scratch.reset();
  Rng rng(seed);
  const int32_t channels = shape.c;
  const int32_t pixels = shape.h * shape.w;
  int8_t* input = scratch.take<int8_t>(shape.volume());
  int8_t* output = scratch.take<int8_t>(shape.volume());
  fill(rng, input, shape.volume());
  fill_unwritten(rng, output, shape.volume());
  k::OpParams params;
  k::Int8SoftmaxParams& p = params.softmax;
  p.shape = shape;
  p.input_multiplier = 1073741824;  // beta * scale * 2^26 = 2^22 = 0.5 * 2^23
  p.input_left_shift = 23;
  p.diff_min = -248;  // TFLite's input radius for 5 integer bits at that shift
  const Invoked run = invoke_split(k::OpLayer{k::OpType::Softmax, &params}, one_input(input, shape),
                                   output, shape, split, scratch);
  Check check;
  for (int32_t pixel = 0; pixel < pixels; ++pixel) {
    const int8_t* in = input + pixel * channels;
    const int8_t* out = output + pixel * channels;
    int32_t sum = 0;
    for (int32_t i = 0; i < channels; ++i) {
      sum += out[i] + 128;
      bool monotone = true;
      for (int32_t j = 0; j < channels; ++j) {
        if (in[j] < in[i] && out[j] > out[i]) monotone = false;
      }
      check.add(out[i], out[i], kFull);  // counts the outputs and clamps
      if (!monotone) ++check.mismatches;
    }
    const int32_t off = sum > 256 ? sum - 256 : 256 - sum;
    if (off > channels) ++check.mismatches;
  }
  report(name, run, 0, check, totals);
}

// Every operator's cases: the whole layers first (a MobileNetV2 residual add
// and head, Fashion-MNIST-sized pools, a converter's PAD before a strided
// conv, a channel concat, a flatten, the classifier's softmax), then the
// cost model's (kSplitConvCases says why): each kernel's work per output
// varied, and layers run whole and as a split plan's boxes.
constexpr FullyConnectedCase kFullyConnectedCases[] = {
    {"fc_1280_to10", 1280, 10, -128, 12},
    {"fc_256_to64", 256, 64, 3, -7},
    // 64..1280 inputs; Fashion-MNIST's head over 5 devices (2 neurons
    // each); the 1280 head one neuron a call; 8 slices of 8.
    {"fmnist_fc_128_to10", 128, 10, -128, 3},
    {"fmnist_fc_128_to10", 128, 10, -128, 3, channels_of(2)},
    {"fc_64_to256", 64, 256, 5, -2},
    {"fc_1280_to10", 1280, 10, -128, 12, channels_of(1)},
    {"fc_512_to64", 512, 64, -128, 0, channels_of(8)},
};

// Add's work per output is fixed (two reads, a write): calls are what varies.
constexpr AddCase kAddCases[] = {
    {"add_24x24x24", {24, 24, 24}},
    {"fmnist_add_28x28x16", {16, 28, 28}},
    {"fmnist_add_28x28x16", {16, 28, 28}, rows_of(4)},
    {"fmnist_add_28x28x16", {16, 28, 28}, tiles_of(4)},
    {"fmnist_add_7x7x32", {32, 7, 7}},
    {"fmnist_add_28x28x16", {16, 28, 28}, channels_of(8)},
};

// Windows of 2x2, 3x3, 5x5 and 7x7 (work per output), whole, in rows, in tiles.
constexpr PoolCase kPoolCases[] = {
    {"maxpool2x2_s2_28x28x8", true, {8, 28, 28}, 2, 2, 0},
    {"maxpool3x3_s2_24x24x16", true, {16, 24, 24}, 3, 2, 1},
    {"avgpool2x2_s2_28x28x8", false, {8, 28, 28}, 2, 2, 0},
    {"avgpool3x3_s1_14x14x16", false, {16, 14, 14}, 3, 1, 1},
    {"maxpool2x2_s2_28x28x8", true, {8, 28, 28}, 2, 2, 0, rows_of(1)},
    {"maxpool3x3_s2_24x24x16", true, {16, 24, 24}, 3, 2, 1, tiles_of(4)},
    {"maxpool5x5_s1_12x12x32", true, {32, 12, 12}, 5, 1, 2},
    {"avgpool2x2_s2_28x28x8", false, {8, 28, 28}, 2, 2, 0, rows_of(1)},
    {"avgpool3x3_s1_14x14x16", false, {16, 14, 14}, 3, 1, 1, tiles_of(4)},
    {"avgpool7x7_7x7x128", false, {128, 7, 7}, 7, 1, 0},
};

// 9, 49 and 144 pixels per output; channel slices.
constexpr GlobalAveragePoolCase kGlobalAveragePoolCases[] = {
    {"gap_3x3x1280", {1280, 3, 3}},      {"gap_7x7x64", {64, 7, 7}},
    {"fmnist_gap_7x7x128", {128, 7, 7}}, {"fmnist_gap_7x7x128", {128, 7, 7}, channels_of(16)},
    {"gap_12x12x96", {96, 12, 12}},      {"gap_3x3x1280", {1280, 3, 3}, channels_of(160)},
};

// The border's share of the output varies work per output: a 1-pixel
// border on Fashion-MNIST's 28x28x16 whole, in rows and tiles; the
// bottom/right pixel before a stride-2 conv.
constexpr PadCase kPadCases[] = {
    {"pad_24x24x16_to25x25", {16, 24, 24}, {16, 25, 25}, 0, 0},
    {"pad_28x28x1_to32x32", {1, 28, 28}, {1, 32, 32}, 2, 2},
    {"pad_28x28x16_to30x30", {16, 28, 28}, {16, 30, 30}, 1, 1},
    {"pad_28x28x16_to30x30", {16, 28, 28}, {16, 30, 30}, 1, 1, rows_of(4)},
    {"pad_28x28x16_to30x30", {16, 28, 28}, {16, 30, 30}, 1, 1, tiles_of(6)},
    {"pad_14x14x64_to15x15", {64, 14, 14}, {64, 15, 15}, 0, 0},
};

// Fixed work per output: rows, tiles, wide and narrow channels.
constexpr ConcatCase kConcatCases[] = {
    {"concat_12x12_16+24", 12, 12, 16, 24},
    {"concat_12x12_16+24", 12, 12, 16, 24, rows_of(1)},
    {"concat_7x7_64+64", 7, 7, 64, 64},
    {"concat_28x28_8+8", 28, 28, 8, 8},
    {"concat_28x28_8+8", 28, 28, 8, 8, tiles_of(4)},
};

// Fixed work per output: flattens whole and in slices, as the devices of a
// split head each flatten their part (Fashion-MNIST's 1x1x128).
constexpr ReshapeCase kReshapeCases[] = {
    {"reshape_3x3x64_to576", {64, 3, 3}, {576, 1, 1}},
    {"reshape_3x3x64_to576", {64, 3, 3}, {576, 1, 1}, channels_of(72)},
    {"reshape_7x7x128_to6272", {128, 7, 7}, {6272, 1, 1}},
    {"fmnist_flatten_128", {128, 1, 1}, {128, 1, 1}},
    {"fmnist_flatten_128", {128, 1, 1}, {128, 1, 1}, channels_of(16)},
};

// Fixed work per output: 10-, 100- and 1000-class heads; a per-pixel
// softmax over 10 channels on 12x12, whole, in rows and in 4x4 tiles.
constexpr SoftmaxCase kSoftmaxCases[] = {
    {"softmax_10", {10, 1, 1}},
    {"softmax_1000", {1000, 1, 1}},
    {"softmax_100", {100, 1, 1}},
    {"softmax_12x12x10", {10, 12, 12}},
    {"softmax_12x12x10", {10, 12, 12}, rows_of(1)},
    {"softmax_12x12x10", {10, 12, 12}, tiles_of(4)},
};

// What authenticating a frame costs (docs/protocol.md, "Authentication"):
// encoding a full frame (the default max payload) with and without its tag,
// the device's own HMAC-SHA256. Not a kernel: calibrate skips the line.
[[gnu::noinline]] void measure_frame_tag(Scratch& scratch) {
  scratch.reset();
  const uint32_t payload_bytes = mcusplit::device::kDefaultMaxPayload;
  uint8_t* payload = scratch.take<uint8_t>(static_cast<int32_t>(payload_bytes));
  const size_t frame_bytes = mcusplit::device::frame_bytes_for(payload_bytes, true);
  uint8_t* frame = scratch.take<uint8_t>(static_cast<int32_t>(frame_bytes));
  for (uint32_t i = 0; i < payload_bytes; ++i) payload[i] = static_cast<uint8_t>(i * 31 + 7);
  uint8_t key[mcusplit::device::kClusterKeyBytes];
  for (size_t i = 0; i < sizeof key; ++i) key[i] = static_cast<uint8_t>(i * 13 + 1);
  mcusplit::device::FrameHeader h;
  h.type = mcusplit::device::MessageType::Ping;
  h.source = 1;
  h.destination = 0;
  h.message_bytes = payload_bytes;
  h.payload_bytes = payload_bytes;
  const mcusplit::device::FrameAuth auth{key, 0x0123456789abcdefull, nullptr};
  size_t plain = 0;
  size_t tagged = 0;
  const uint64_t plain_ticks = masked_ticks([&] {
    plain = mcusplit::device::encode_frame(h, payload, frame, frame_bytes);
  });
  const uint64_t tagged_ticks = masked_ticks([&] {
    tagged = mcusplit::device::encode_frame(h, payload, frame, frame_bytes, {}, &auth);
  });
  mcusplit::device::Text<160> line;
  line.add("kernel-bench: frame_tag frame_bytes=").dec(static_cast<uint32_t>(tagged));
  line.add(" untagged_bytes=").dec(static_cast<uint32_t>(plain));
  line.add(" ticks_untagged=").dec(plain_ticks - clock_read_ticks);
  line.add(" ticks_tagged=").dec(tagged_ticks - clock_read_ticks).add("\n");
  fw::semihosting::write0(line.c_str());
}

}  // namespace

int main() {
  fw::board_init();
  fw::semihosting::write0("kernel-bench: start\n");
  calibrate();
  measure_clock_read_ticks();
  Scratch scratch;
  Totals totals;
  // The cases come from tables (a loop per operator): calls with their
  // shapes inline would each keep their arguments in main's frame.
  for (const ConvCase& c : kConvCases) run_conv(c, scratch, totals);
  for (const ConvCase& c : kSplitConvCases) run_conv(c, scratch, totals);
  for (const FullyConnectedCase& c : kFullyConnectedCases) run_fully_connected(c, scratch, totals);
  for (const AddCase& c : kAddCases) run_add(c, scratch, totals);
  for (const PoolCase& c : kPoolCases) run_pool(c, scratch, totals);
  for (const GlobalAveragePoolCase& c : kGlobalAveragePoolCases) {
    run_global_average_pool(c, scratch, totals);
  }
  for (const PadCase& c : kPadCases) run_pad(c, scratch, totals);
  for (const ConcatCase& c : kConcatCases) run_concat(c, scratch, totals);
  for (const ReshapeCase& c : kReshapeCases) run_reshape(c, scratch, totals);
  for (const SoftmaxCase& c : kSoftmaxCases) run_softmax(c, scratch, totals);
  measure_frame_tag(scratch);

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
