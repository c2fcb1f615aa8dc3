#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "int8_reference.h"
#include "int8_test_util.h"
#include "kernels/int8_conv.h"
#include "kernels/int8_conv_1x1.h"
#include "kernels/int8_conv_dispatch.h"
#include "kernels/int8_depthwise_conv.h"
#include "kernels/int8_depthwise_conv_in_place.h"

namespace mcusplit::kernels {
namespace {

using testing::GuardedScratch;
using testing::Rng;
using KernelFn = KernelStatus (*)(const Int8ConvParams&, const InputTile&, const OutputTile&,
                                  Scratch);
using ScratchBytesFn = int32_t (*)(const Int8ConvParams&, const Box&);

// A kernel variant with its *_scratch_bytes twin. Called like a kernel
// without a scratch argument, it runs with exactly the stated scratch and
// checks the bytes after it stayed untouched.
struct Kernel {
  KernelFn run;
  ScratchBytesFn bytes;
  const char* name;

  KernelStatus operator()(const Int8ConvParams& p, const InputTile& in,
                          const OutputTile& out) const {
    GuardedScratch scratch(bytes(p, out.box));
    const KernelStatus status = run(p, in, out, scratch.scratch());
    EXPECT_TRUE(scratch.guard_intact()) << name;
    return status;
  }
};

#define MCUSPLIT_KERNEL(k)     \
  Kernel {                     \
    &k, &k##_scratch_bytes, #k \
  }

const Kernel kConv = MCUSPLIT_KERNEL(int8_conv);
const Kernel kConvDispatch = MCUSPLIT_KERNEL(int8_conv_dispatch);
const Kernel kConvPlain = MCUSPLIT_KERNEL(int8_conv_plain);
const Kernel kConvPacked = MCUSPLIT_KERNEL(int8_conv_packed);
const Kernel kDepthwise = MCUSPLIT_KERNEL(int8_depthwise_conv);
const Kernel kDepthwisePlain = MCUSPLIT_KERNEL(int8_depthwise_conv_plain);
const Kernel kDepthwisePacked = MCUSPLIT_KERNEL(int8_depthwise_conv_packed);
const Kernel kPointwise = MCUSPLIT_KERNEL(int8_conv_1x1);
const Kernel kPointwisePacked = MCUSPLIT_KERNEL(int8_conv_1x1_packed);

// Given one byte less than it states, a kernel refuses (BadParams) without
// writing past that scratch; states of 0 have nothing to take away.
void expect_refuses_short_scratch(const Kernel& kernel, const Int8ConvParams& p,
                                  const InputTile& in, const OutputTile& out) {
  const int32_t stated = kernel.bytes(p, out.box);
  if (stated == 0) return;
  GuardedScratch scratch(stated - 1);
  EXPECT_EQ(kernel.run(p, in, out, scratch.scratch()), KernelStatus::BadParams) << kernel.name;
  EXPECT_TRUE(scratch.guard_intact()) << kernel.name;
}

enum class Mode { General, Grouped, Depthwise, Pointwise };

int effective(int k, int d) {
  return (k - 1) * d + 1;
}

// A random convolution of the given kind; weights etc. for all channels.
reference::ConvSpec random_conv(Rng& rng, Mode mode) {
  for (;;) {
    reference::ConvSpec s;
    s.in.h = rng.uniform(1, 11);
    s.in.w = rng.uniform(1, 11);
    switch (mode) {
      case Mode::General:
        s.in.c = rng.chance(0.2) ? rng.uniform(20, 40) : rng.uniform(1, 9);
        s.out.c = rng.uniform(1, 13);
        break;
      case Mode::Grouped: {
        s.groups = rng.uniform(2, 4);
        s.in.c = s.groups * rng.uniform(1, 4);
        s.out.c = s.groups * rng.uniform(1, 3);
        break;
      }
      case Mode::Depthwise:
        s.in.c = rng.uniform(1, 13);
        s.groups = s.in.c;
        s.out.c = s.in.c * rng.uniform(1, 3);
        break;
      case Mode::Pointwise:
        s.in.c = rng.chance(0.3) ? rng.uniform(30, 80) : rng.uniform(1, 17);
        s.out.c = rng.chance(0.3) ? rng.uniform(33, 70) : rng.uniform(1, 13);
        break;
    }
    int pad_bottom = 0, pad_right = 0;
    if (mode != Mode::Pointwise) {
      s.kh = rng.uniform(1, 5);
      s.kw = rng.uniform(1, 5);
      s.sh = rng.chance(0.1) ? 3 : rng.uniform(1, 2);
      s.sw = rng.chance(0.1) ? 3 : rng.uniform(1, 2);
      if (rng.chance(0.2)) s.dh = 2;
      if (rng.chance(0.2)) s.dw = 2;
      // Mostly ordinary pads, sometimes so large a window is all padding.
      const int extra = rng.chance(0.1) ? 1 : 0;
      s.pad_top = rng.uniform(0, effective(s.kh, s.dh) - 1 + extra);
      pad_bottom = rng.uniform(0, effective(s.kh, s.dh) - 1 + extra);
      s.pad_left = rng.uniform(0, effective(s.kw, s.dw) - 1 + extra);
      pad_right = rng.uniform(0, effective(s.kw, s.dw) - 1 + extra);
    }
    s.out.h = (s.in.h + s.pad_top + pad_bottom - effective(s.kh, s.dh)) / s.sh + 1;
    s.out.w = (s.in.w + s.pad_left + pad_right - effective(s.kw, s.dw)) / s.sw + 1;
    if (s.in.h + s.pad_top + pad_bottom < effective(s.kh, s.dh) || s.out.h < 1) continue;
    if (s.in.w + s.pad_left + pad_right < effective(s.kw, s.dw) || s.out.w < 1) continue;

    s.in_zp = rng.uniform(-128, 127);
    s.out_zp = rng.uniform(-128, 127);
    if (rng.chance(0.3)) {
      s.act_min = rng.uniform(-128, 0);
      s.act_max = rng.uniform(s.act_min, 127);
    }
    const int taps = s.kh * s.kw * (s.in.c / s.groups);
    s.weights = rng.int8s(static_cast<size_t>(s.out.c) * taps, -127, 127);
    const int bias_range = std::min(30000, 1500 * taps);
    if (!rng.chance(0.15))
      s.bias = rng.int32s(static_cast<size_t>(s.out.c), -bias_range, bias_range);
    s.mult.resize(static_cast<size_t>(s.out.c));
    s.shift.resize(static_cast<size_t>(s.out.c));
    // Accumulators grow like sqrt(taps) * 128 * 73; aim the scale at +-100.
    const int typical = -6 - (taps > 16 ? 2 : 0) - (taps > 200 ? 2 : 0);
    for (int oc = 0; oc < s.out.c; ++oc) rng.requant(s.mult[oc], s.shift[oc], typical - 3, typical);
    return s;
  }
}

// Owns the weight slice a device would hold and the params pointing at it.
struct ConvCall {
  Int8ConvParams params;
  std::vector<int8_t> weights;
  std::vector<int32_t> bias, mult, shift;

  ConvCall(const reference::ConvSpec& s, int wc0, int wc1) {
    const int taps = s.kh * s.kw * (s.in.c / s.groups);
    weights.assign(s.weights.begin() + wc0 * taps, s.weights.begin() + wc1 * taps);
    if (!s.bias.empty()) bias.assign(s.bias.begin() + wc0, s.bias.begin() + wc1);
    mult.assign(s.mult.begin() + wc0, s.mult.begin() + wc1);
    shift.assign(s.shift.begin() + wc0, s.shift.begin() + wc1);
    Int8ConvParams& p = params;
    p.input = testing::to_core(s.in);
    p.output = testing::to_core(s.out);
    p.kernel_h = s.kh;
    p.kernel_w = s.kw;
    p.stride_h = s.sh;
    p.stride_w = s.sw;
    p.dilation_h = s.dh;
    p.dilation_w = s.dw;
    p.pad_top = s.pad_top;
    p.pad_left = s.pad_left;
    p.groups = s.groups;
    p.input_zero_point = s.in_zp;
    p.output_zero_point = s.out_zp;
    p.activation = {s.act_min, s.act_max};
    p.weights = weights.data();
    p.bias = bias.empty() ? nullptr : bias.data();
    p.requant = {mult.data(), shift.data()};
    p.weights_c0 = wc0;
    p.weights_c1 = wc1;
  }
};

// The tightest input box, found by visiting every tap of every output.
Box touched_input_box(const reference::ConvSpec& s, const Box& out) {
  Box b{1 << 30, -1, 1 << 30, -1, 1 << 30, -1};
  bool any = false;
  const int ipg = s.in.c / s.groups, opg = s.out.c / s.groups;
  for (int oy = out.y0; oy < out.y1; ++oy) {
    for (int ox = out.x0; ox < out.x1; ++ox) {
      for (int ky = 0; ky < s.kh; ++ky) {
        for (int kx = 0; kx < s.kw; ++kx) {
          const int iy = oy * s.sh - s.pad_top + ky * s.dh;
          const int ix = ox * s.sw - s.pad_left + kx * s.dw;
          if (iy < 0 || iy >= s.in.h || ix < 0 || ix >= s.in.w) continue;
          any = true;
          b.y0 = std::min(b.y0, iy);
          b.y1 = std::max(b.y1, iy + 1);
          b.x0 = std::min(b.x0, ix);
          b.x1 = std::max(b.x1, ix + 1);
        }
      }
    }
  }
  if (!any) return Box{};
  b.c0 = out.c0 / opg * ipg;
  b.c1 = ((out.c1 - 1) / opg + 1) * ipg;
  return b;
}

// Every variant, both formulations: the plain loops and the packed (SMLAD)
// kernels the Cortex-M7 runs, here on emulated instructions.
std::vector<Kernel> kernels_for(Mode mode) {
  std::vector<Kernel> k = {kConv, kConvDispatch, kConvPlain, kConvPacked};
  if (mode == Mode::Depthwise) k.insert(k.end(), {kDepthwise, kDepthwisePlain, kDepthwisePacked});
  if (mode == Mode::Pointwise) k.insert(k.end(), {kPointwise, kPointwisePacked});
  return k;
}

void run_random_cases(Mode mode, uint32_t seed, int cases) {
  Rng rng(seed);
  int64_t values = 0, unclamped = 0;
  for (int i = 0; i < cases; ++i) {
    const reference::ConvSpec s = random_conv(rng, mode);
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(s.in.size()));
    const std::vector<int8_t> expected = reference::conv(s, input);
    for (int8_t v : expected) {
      ++values;
      unclamped += v > s.act_min && v < s.act_max ? 1 : 0;
    }
    const TensorShape3 out_shape = testing::to_core(s.out);
    for (int trial = 0; trial < 3; ++trial) {
      const Box out_box =
          trial == 0 ? core::full_box(out_shape) : testing::random_box(rng, out_shape);
      const int wc0 = rng.chance(0.5) ? out_box.c0 : rng.uniform(0, out_box.c0);
      const int wc1 = rng.chance(0.5) ? out_box.c1 : rng.uniform(out_box.c1, s.out.c);
      const ConvCall call(s, wc0, wc1);
      const Box required = required_input_box(call.params, out_box);
      SCOPED_TRACE("case " + std::to_string(i) + " out " + testing::describe(out_box) + " in " +
                   std::to_string(s.in.c) + "x" + std::to_string(s.in.h) + "x" +
                   std::to_string(s.in.w) + " k" + std::to_string(s.kh) + "x" +
                   std::to_string(s.kw) + " s" + std::to_string(s.sh) + "," + std::to_string(s.sw) +
                   " d" + std::to_string(s.dh) + "," + std::to_string(s.dw) + " g" +
                   std::to_string(s.groups));
      ASSERT_EQ(required, touched_input_box(s, out_box));
      const Box in_box =
          trial == 2 ? testing::grow_box(rng, required, testing::to_core(s.in)) : required;
      const std::vector<int8_t> in_data = testing::extract(input, s.in, in_box);
      for (const Kernel& kernel : kernels_for(mode)) {
        testing::OutputBuffer out(rng, out_box);
        const InputTile in_tile{in_data.data(), in_box};
        const OutputTile out_tile{out.data.data(), out_box, out.pixel_stride, out.row_stride};
        ASSERT_EQ(kernel(call.params, in_tile, out_tile), KernelStatus::Ok) << kernel.name;
        testing::expect_matches(expected, s.out, out);
        expect_refuses_short_scratch(kernel, call.params, in_tile, out_tile);
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
  // The random scales keep most results off the clamp, so rounding is tested.
  EXPECT_GT(unclamped * 5, values * 2);
}

// In place (int8_depthwise_conv_in_place.h): the output written over the
// input's own bytes, from its first byte, equals the reference; with boxes
// of other channels, too little scratch or a multiplier above 1 it refuses.
void run_in_place_cases(uint32_t seed, int cases) {
  Rng rng(seed);
  int ran = 0;
  for (int i = 0; i < cases; ++i) {
    reference::ConvSpec s = random_conv(rng, Mode::Depthwise);
    const ConvCall call(s, 0, s.out.c);
    const Box in_box = core::full_box(testing::to_core(s.in));
    const Box out_box = core::full_box(testing::to_core(s.out));
    const int32_t need = int8_depthwise_conv_in_place_scratch_bytes(call.params, out_box);
    if (s.out.c != s.in.c || s.groups < 2) {  // a multiplier above 1, or a plain conv
      EXPECT_EQ(need, 0);
      continue;
    }
    if (out_box.volume() > in_box.volume()) continue;  // the output outgrows the input
    ++ran;
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(s.in.size()));
    const std::vector<int8_t> expected = reference::conv(s, input);
    std::vector<int8_t> bytes = input;  // input and output share these
    GuardedScratch scratch(need);
    ASSERT_EQ(int8_depthwise_conv_in_place(call.params, InputTile{bytes.data(), in_box},
                                           OutputTile{bytes.data(), out_box}, scratch.scratch()),
              KernelStatus::Ok)
        << "case " << i;
    EXPECT_TRUE(scratch.guard_intact());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), bytes.begin())) << "case " << i;
    GuardedScratch short_scratch(need - 1);
    EXPECT_EQ(int8_depthwise_conv_in_place(call.params, InputTile{bytes.data(), in_box},
                                           OutputTile{bytes.data(), out_box},
                                           short_scratch.scratch()),
              KernelStatus::BadParams);
    if (s.in.c > 1) {
      // Output channels other than the input's would land on live inputs.
      const Box fewer{out_box.c0, out_box.c1 - 1, out_box.y0, out_box.y1, out_box.x0, out_box.x1};
      EXPECT_EQ(int8_depthwise_conv_in_place(call.params, InputTile{bytes.data(), in_box},
                                             OutputTile{bytes.data() + 1, fewer, s.in.c},
                                             scratch.scratch()),
                KernelStatus::BadParams);
    }
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(ran, cases / 5);
}

class Int8ConvRandom : public ::testing::TestWithParam<uint32_t> {};

TEST_P(Int8ConvRandom, DepthwiseInPlaceMatchesReference) {
  run_in_place_cases(GetParam(), 200);
}

TEST_P(Int8ConvRandom, GeneralMatchesReference) {
  run_random_cases(Mode::General, GetParam(), 100);
}
TEST_P(Int8ConvRandom, GroupedMatchesReference) {
  run_random_cases(Mode::Grouped, GetParam(), 100);
}
TEST_P(Int8ConvRandom, DepthwiseMatchesReference) {
  run_random_cases(Mode::Depthwise, GetParam(), 100);
}
TEST_P(Int8ConvRandom, PointwiseMatchesReference) {
  run_random_cases(Mode::Pointwise, GetParam(), 100);
}

INSTANTIATE_TEST_SUITE_P(Seeds, Int8ConvRandom, ::testing::Range<uint32_t>(1, 11));

// Shapes of MobileNetV2 at reduced resolution, whole tensors and row bands.
TEST(Int8Conv, MobileNetLikeLayersMatchReference) {
  Rng rng(99);
  struct Layer {
    int cin, h, w, cout, k, stride, groups;
  };
  const Layer layers[] = {{3, 33, 33, 32, 3, 2, 1},
                          {32, 17, 17, 32, 3, 1, 32},
                          {32, 17, 17, 16, 1, 1, 1},
                          {16, 17, 17, 96, 1, 1, 1},
                          {96, 17, 17, 96, 3, 2, 96},
                          {160, 4, 4, 960, 1, 1, 1},
                          // Deeper than one expanded column chunk (256), odd
                          // pixel and channel counts; a 7x7 filter.
                          {300, 5, 3, 9, 1, 1, 1},
                          {8, 9, 9, 7, 7, 1, 1}};
  for (const Layer& l : layers) {
    reference::ConvSpec s;
    s.in = {l.cin, l.h, l.w};
    s.kh = s.kw = l.k;
    s.sh = s.sw = l.stride;
    s.pad_top = s.pad_left = l.k / 2;
    s.groups = l.groups;
    s.out = {l.cout, (l.h + 2 * (l.k / 2) - l.k) / l.stride + 1,
             (l.w + 2 * (l.k / 2) - l.k) / l.stride + 1};
    s.in_zp = -3;
    s.out_zp = 5;
    s.act_min = -128 + 0;
    s.act_max = 127;
    const int taps = l.k * l.k * (l.cin / l.groups);
    s.weights = rng.int8s(static_cast<size_t>(l.cout) * taps, -127, 127);
    s.bias = rng.int32s(static_cast<size_t>(l.cout), -5000, 5000);
    s.mult.resize(static_cast<size_t>(l.cout));
    s.shift.resize(static_cast<size_t>(l.cout));
    for (int oc = 0; oc < l.cout; ++oc) rng.requant(s.mult[oc], s.shift[oc], -12, -9);
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(s.in.size()));
    const std::vector<int8_t> expected = reference::conv(s, input);
    const ConvCall call(s, 0, l.cout);
    // Three row bands, as a spatial split would compute them.
    for (int band = 0; band < 3; ++band) {
      const Box out_box{0, s.out.c, s.out.h * band / 3, s.out.h * (band + 1) / 3, 0, s.out.w};
      if (out_box.empty()) continue;
      const Box in_box = required_input_box(call.params, out_box);
      const std::vector<int8_t> in_data = testing::extract(input, s.in, in_box);
      const Mode mode = l.groups > 1 ? Mode::Depthwise : l.k == 1 ? Mode::Pointwise : Mode::General;
      for (const Kernel& kernel : kernels_for(mode)) {
        testing::OutputBuffer out(rng, out_box, false);
        ASSERT_EQ(kernel(call.params, {in_data.data(), in_box}, {out.data.data(), out_box}),
                  KernelStatus::Ok)
            << kernel.name;
        testing::expect_matches(expected, s.out, out);
        expect_refuses_short_scratch(kernel, call.params, {in_data.data(), in_box},
                                     {out.data.data(), out_box});
      }
    }
  }
}

TEST(Int8Conv, SelectsVariant) {
  Int8ConvParams p;
  p.input = {8, 5, 5};
  p.output = {8, 5, 5};
  EXPECT_EQ(select_conv_variant(p), ConvVariant::Pointwise);
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = 1;
  EXPECT_EQ(select_conv_variant(p), ConvVariant::General);
  p.groups = 8;
  EXPECT_EQ(select_conv_variant(p), ConvVariant::Depthwise);
  p.groups = 2;
  EXPECT_EQ(select_conv_variant(p), ConvVariant::General);
}

class Int8ConvStatus : public ::testing::Test {
 protected:
  void SetUp() override {
    Rng rng(5);
    spec_.in = {4, 6, 6};
    spec_.out = {6, 6, 6};
    spec_.kh = spec_.kw = 3;
    spec_.pad_top = spec_.pad_left = 1;
    spec_.weights = rng.int8s(6 * 9 * 4, -127, 127);
    spec_.mult.assign(6, 1 << 30);
    spec_.shift.assign(6, -8);
    input_ = rng.int8s(static_cast<size_t>(spec_.in.size()));
  }
  reference::ConvSpec spec_;
  std::vector<int8_t> input_;
};

TEST_F(Int8ConvStatus, TooSmallInputBoxIsRefusedByEveryVariant) {
  const ConvCall call(spec_, 0, 6);
  const Box out_box{0, 6, 2, 4, 1, 5};
  const Box required = required_input_box(call.params, out_box);
  EXPECT_EQ(required, (Box{0, 4, 1, 5, 0, 6}));
  std::vector<int8_t> out(static_cast<size_t>(out_box.volume()));
  for (int side = 0; side < 6; ++side) {
    Box small = required;
    int32_t* edges[] = {&small.c0, &small.c1, &small.y0, &small.y1, &small.x0, &small.x1};
    *edges[side] += side % 2 == 0 ? 1 : -1;
    const std::vector<int8_t> in = testing::extract(input_, spec_.in, small);
    for (const Kernel& kernel : {kConv, kConvPlain, kConvPacked}) {
      EXPECT_EQ(kernel(call.params, {in.data(), small}, {out.data(), out_box}),
                KernelStatus::InputBoxTooSmall)
          << side;
    }
  }
  // The same for the depthwise and 1x1 variants.
  reference::ConvSpec dw = spec_;
  dw.groups = 4;
  dw.out.c = 4;
  const ConvCall dw_call(dw, 0, 4);
  const Box dw_out{1, 3, 0, 6, 0, 6};
  EXPECT_EQ(required_input_box(dw_call.params, dw_out), (Box{1, 3, 0, 6, 0, 6}));
  const Box dw_small{1, 3, 0, 6, 0, 5};
  const std::vector<int8_t> dw_in = testing::extract(input_, spec_.in, dw_small);
  for (const Kernel& kernel : {kDepthwise, kDepthwisePlain, kDepthwisePacked}) {
    EXPECT_EQ(kernel(dw_call.params, {dw_in.data(), dw_small}, {out.data(), dw_out}),
              KernelStatus::InputBoxTooSmall);
  }
  reference::ConvSpec pw = spec_;
  pw.kh = pw.kw = 1;
  pw.pad_top = pw.pad_left = 0;
  const ConvCall pw_call(pw, 0, 6);
  const Box pw_small{0, 3, 0, 6, 0, 6};
  const std::vector<int8_t> pw_in = testing::extract(input_, spec_.in, pw_small);
  for (const Kernel& kernel : {kPointwise, kPointwisePacked}) {
    EXPECT_EQ(kernel(pw_call.params, {pw_in.data(), pw_small}, {out.data(), {0, 6, 0, 1, 0, 1}}),
              KernelStatus::InputBoxTooSmall);
  }
}

TEST_F(Int8ConvStatus, ChannelsOutsideTheWeightSliceAreBadParams) {
  const ConvCall call(spec_, 2, 4);
  const Box full_in{0, 4, 0, 6, 0, 6};
  std::vector<int8_t> out(6 * 6 * 6);
  EXPECT_EQ(kConv(call.params, {input_.data(), full_in}, {out.data(), {2, 4, 0, 6, 0, 6}}),
            KernelStatus::Ok);
  EXPECT_EQ(kConv(call.params, {input_.data(), full_in}, {out.data(), {1, 4, 0, 6, 0, 6}}),
            KernelStatus::BadParams);
  EXPECT_EQ(kConv(call.params, {input_.data(), full_in}, {out.data(), {2, 5, 0, 6, 0, 6}}),
            KernelStatus::BadParams);
}

TEST_F(Int8ConvStatus, InconsistentParamsAreBadParams) {
  const Box full_in{0, 4, 0, 6, 0, 6};
  const Box out_box{0, 6, 0, 6, 0, 6};
  std::vector<int8_t> out(6 * 6 * 6);
  auto run = [&](auto&& edit, const Kernel& kernel = kConv) {
    ConvCall call(spec_, 0, 6);
    edit(call.params);
    return kernel(call.params, {input_.data(), full_in}, {out.data(), out_box});
  };
  EXPECT_EQ(run([](Int8ConvParams&) {}), KernelStatus::Ok);
  EXPECT_EQ(run([](Int8ConvParams& p) { p.groups = 3; }), KernelStatus::BadParams);
  EXPECT_EQ(run([](Int8ConvParams& p) { p.stride_h = 0; }), KernelStatus::BadParams);
  EXPECT_EQ(run([](Int8ConvParams& p) { p.input_zero_point = 128; }), KernelStatus::BadParams);
  EXPECT_EQ(run([](Int8ConvParams& p) { p.activation = {10, 5}; }), KernelStatus::BadParams);
  EXPECT_EQ(run([](Int8ConvParams& p) { p.weights = nullptr; }), KernelStatus::BadParams);
  EXPECT_EQ(run([](Int8ConvParams& p) { p.output.h = 5; }), KernelStatus::BadParams);
  for (const Kernel& kernel :
       {kDepthwise, kDepthwisePlain, kDepthwisePacked, kPointwise, kPointwisePacked}) {
    EXPECT_EQ(run([](Int8ConvParams&) {}, kernel), KernelStatus::BadParams);
  }
  EXPECT_EQ(run([](Int8ConvParams& p) { p.weights = nullptr; }, kConvPacked),
            KernelStatus::BadParams);
  // Overlapping explicit output strides.
  ConvCall call(spec_, 0, 6);
  EXPECT_EQ(kConv(call.params, {input_.data(), full_in}, {out.data(), out_box, 5, 0}),
            KernelStatus::BadParams);
}

// Params for scratch sizing only: the pointers must be set, never read.
Int8ConvParams sized_params(int32_t cin, int32_t cout, int32_t k, int32_t groups, int32_t hw = 8) {
  static const int8_t weight = 0;
  static const int32_t word = 0;
  Int8ConvParams p;
  p.input = {cin, hw, hw};
  p.output = {cout, hw, hw};
  p.kernel_h = p.kernel_w = k;
  p.pad_top = p.pad_left = k / 2;
  p.groups = groups;
  p.weights = &weight;
  p.requant = {&word, &word};
  p.weights_c0 = 0;
  p.weights_c1 = cout;
  return p;
}

// The documented formulas (int8_conv.h, int8_conv_1x1.h,
// int8_depthwise_conv.h) on known layers.
TEST(Int8ConvScratch, StatesTheDocumentedBytes) {
  const Box box16{0, 16, 0, 8, 0, 8};
  // 3x3x3 -> 16: columns 2 * 15 words, 16 biases and requants, window 28,
  // 16 filters padded to 28 taps.
  EXPECT_EQ(int8_conv_packed_scratch_bytes(sized_params(3, 16, 3, 1), box16),
            120 + 64 + 320 + 28 + 448);
  // 1x1x511 (the packed conv's largest):
  // columns 2 * 257 words, 32 channels, window 512, 2 padded filters of 512.
  EXPECT_EQ(int8_conv_packed_scratch_bytes(sized_params(511, 64, 1, 1), {0, 64, 0, 8, 0, 8}),
            2056 + 128 + 640 + 512 + 1024);
  // Over 512 taps the plain kernel runs: nothing.
  EXPECT_EQ(int8_conv_packed_scratch_bytes(sized_params(513, 64, 1, 1), {0, 64, 0, 8, 0, 8}), 0);
  EXPECT_EQ(int8_conv_plain_scratch_bytes(sized_params(3, 16, 3, 1), box16), 0);
  // Grouped: blocks stop at the group's 4 channels.
  EXPECT_EQ(int8_conv_packed_scratch_bytes(sized_params(8, 16, 3, 4), box16), 80 + 16 + 80 + 20);
  // 1x1 96 -> 24: columns 2 * 48 words, 2 * 24 accumulators, 24 requants.
  const Box box24{0, 24, 0, 8, 0, 8};
  EXPECT_EQ(int8_conv_1x1_packed_scratch_bytes(sized_params(96, 24, 1, 1), box24), 384 + 192 + 480);
  // 511 channels end in a chunk of 255: 129 words, more than a whole chunk's 128.
  EXPECT_EQ(int8_conv_1x1_packed_scratch_bytes(sized_params(511, 64, 1, 1), {0, 64, 0, 8, 0, 8}),
            1032 + 256 + 640);
  // Depthwise 3x3 over 96 channels: blocks of 64.
  EXPECT_EQ(
      int8_depthwise_conv_packed_scratch_bytes(sized_params(96, 96, 3, 96), {0, 96, 0, 8, 0, 8}),
      576 + 256 + 256 + 1280);
  // 5x5 over a box of 10 channels: 250 weight bytes rounded to 252.
  EXPECT_EQ(
      int8_depthwise_conv_packed_scratch_bytes(sized_params(64, 64, 5, 64), {3, 13, 0, 8, 0, 8}),
      252 + 40 + 40 + 200);
  // With a depth multiplier the plain kernel runs.
  EXPECT_EQ(int8_depthwise_conv_packed_scratch_bytes(sized_params(8, 16, 3, 8), box16), 0);
  EXPECT_EQ(int8_depthwise_conv_plain_scratch_bytes(sized_params(96, 96, 3, 96), box16), 0);
  // Empty boxes and invalid params state 0.
  EXPECT_EQ(int8_conv_packed_scratch_bytes(sized_params(3, 16, 3, 1), Box{}), 0);
  EXPECT_EQ(int8_conv_packed_scratch_bytes(sized_params(3, 16, 3, 2), box16), 0);
  // The build-selected kernels state the larger need of their two variants
  // on every build (the scalar 1x1 kernel folds offsets of 32 channels at a
  // time: 96 and 128 bytes here, below the packed kernel's).
  EXPECT_EQ(int8_conv_1x1_scratch_bytes(sized_params(96, 24, 1, 1), box24), 384 + 192 + 480);
  EXPECT_EQ(int8_conv_1x1_scratch_bytes(sized_params(96, 64, 1, 1), {0, 64, 0, 8, 0, 8}),
            int8_conv_1x1_packed_scratch_bytes(sized_params(96, 64, 1, 1), {0, 64, 0, 8, 0, 8}));
  EXPECT_EQ(int8_conv_scratch_bytes(sized_params(3, 16, 3, 1), box16), 120 + 64 + 320 + 28 + 448);
  EXPECT_EQ(int8_depthwise_conv_scratch_bytes(sized_params(96, 96, 3, 96), {0, 96, 0, 8, 0, 8}),
            576 + 256 + 256 + 1280);
  // The dispatcher states what the variant it picks states.
  for (const Int8ConvParams& p :
       {sized_params(96, 24, 1, 1), sized_params(24, 24, 3, 24), sized_params(3, 24, 3, 1)}) {
    const int32_t picked = select_conv_variant(p) == ConvVariant::Pointwise
                               ? int8_conv_1x1_scratch_bytes(p, box24)
                           : select_conv_variant(p) == ConvVariant::Depthwise
                               ? int8_depthwise_conv_scratch_bytes(p, box24)
                               : int8_conv_scratch_bytes(p, box24);
    EXPECT_EQ(int8_conv_dispatch_scratch_bytes(p, box24), picked);
  }
}

// A misaligned or missing scratch is refused like a short one.
TEST_F(Int8ConvStatus, MisalignedOrMissingScratchIsBadParams) {
  const ConvCall call(spec_, 0, 6);
  const Box full_in{0, 4, 0, 6, 0, 6};
  const Box out_box{0, 6, 0, 6, 0, 6};
  std::vector<int8_t> out(6 * 6 * 6);
  const int32_t stated = int8_conv_packed_scratch_bytes(call.params, out_box);
  ASSERT_GT(stated, 0);
  std::vector<int32_t> words(static_cast<size_t>(stated / 4 + 2));
  auto* base = reinterpret_cast<int8_t*>(words.data());
  EXPECT_EQ(int8_conv_packed(call.params, {input_.data(), full_in}, {out.data(), out_box},
                             {base, stated}),
            KernelStatus::Ok);
  EXPECT_EQ(int8_conv_packed(call.params, {input_.data(), full_in}, {out.data(), out_box},
                             {base + 1, stated}),
            KernelStatus::BadParams);
  EXPECT_EQ(int8_conv_packed(call.params, {input_.data(), full_in}, {out.data(), out_box},
                             {nullptr, stated}),
            KernelStatus::BadParams);
}

// 511 input channels expand in chunks of 256 and 255 values, the last
// needing one word more than a whole chunk: bit-exact with the stated
// scratch, nothing written past it.
TEST(Int8Conv, PointwiseWithALongLastChunkMatchesReference) {
  Rng rng(511);
  reference::ConvSpec s;
  s.in = {511, 2, 3};
  s.out = {5, 2, 3};
  s.in_zp = 7;
  s.out_zp = -2;
  s.weights = rng.int8s(5 * 511, -127, 127);
  s.bias = rng.int32s(5, -5000, 5000);
  s.mult.resize(5);
  s.shift.resize(5);
  for (int oc = 0; oc < 5; ++oc) rng.requant(s.mult[oc], s.shift[oc], -14, -11);
  const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(s.in.size()));
  const std::vector<int8_t> expected = reference::conv(s, input);
  const ConvCall call(s, 0, 5);
  const Box out_box = core::full_box(testing::to_core(s.out));
  const Box in_box = core::full_box(testing::to_core(s.in));
  for (const Kernel& kernel : kernels_for(Mode::Pointwise)) {
    testing::OutputBuffer out(rng, out_box, false);
    ASSERT_EQ(kernel(call.params, {input.data(), in_box}, {out.data.data(), out_box}),
              KernelStatus::Ok)
        << kernel.name;
    testing::expect_matches(expected, s.out, out);
    expect_refuses_short_scratch(kernel, call.params, {input.data(), in_box},
                                 {out.data.data(), out_box});
  }
}

}  // namespace
}  // namespace mcusplit::kernels
