// The hot int8 kernels on MobileNetV2-sized shapes, whole tensors on one
// device. items_processed counts multiply-accumulates, so items/s is MAC/s.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/int8_conv.h"
#include "kernels/int8_conv_dispatch.h"
#include "kernels/int8_fully_connected.h"

namespace {

using mcusplit::core::full_box;
using mcusplit::core::TensorShape3;
using mcusplit::kernels::Int8ConvParams;
using mcusplit::kernels::KernelStatus;

std::vector<int8_t> random_int8s(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-127, 127);
  std::vector<int8_t> v(n);
  for (auto& e : v) e = static_cast<int8_t>(dist(gen));
  return v;
}

// A convolution with random weights and plausible requantization, owning
// every buffer its params point to.
struct ConvCase {
  Int8ConvParams p;
  std::vector<int8_t> input, output, weights;
  std::vector<int32_t> bias, multiplier, shift;

  ConvCase(TensorShape3 in, int32_t out_c, int32_t kernel, int32_t stride, int32_t groups) {
    const int32_t pad = kernel / 2;
    p.input = in;
    p.output = {out_c, (in.h + 2 * pad - kernel) / stride + 1,
                (in.w + 2 * pad - kernel) / stride + 1};
    p.kernel_h = p.kernel_w = kernel;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = pad;
    p.groups = groups;
    p.input_zero_point = -3;
    p.output_zero_point = 5;
    input = random_int8s(static_cast<size_t>(in.volume()), 1);
    output.resize(static_cast<size_t>(p.output.volume()));
    weights = random_int8s(static_cast<size_t>(out_c) * kernel * kernel * (in.c / groups), 2);
    bias.assign(static_cast<size_t>(out_c), 100);
    multiplier.assign(static_cast<size_t>(out_c), 1 << 30);
    shift.assign(static_cast<size_t>(out_c), -10);
    p.weights = weights.data();
    p.bias = bias.data();
    p.requant = {multiplier.data(), shift.data()};
    p.weights_c0 = 0;
    p.weights_c1 = out_c;
  }

  int64_t macs() const {
    return int64_t{p.output.volume()} * p.kernel_h * p.kernel_w * (p.input.c / p.groups);
  }
};

template <typename Kernel, typename ScratchBytes>
void run_conv(benchmark::State& state, ConvCase& c, Kernel kernel, ScratchBytes scratch_bytes) {
  const mcusplit::kernels::InputTile in{c.input.data(), full_box(c.p.input)};
  const mcusplit::kernels::OutputTile out{c.output.data(), full_box(c.p.output)};
  // The kernel's stated scratch, allocated once outside the timed loop.
  const int32_t bytes = scratch_bytes(c.p, out.box);
  std::vector<int32_t> words(static_cast<size_t>(bytes + 3) / 4);
  const mcusplit::kernels::Scratch scratch{reinterpret_cast<int8_t*>(words.data()), bytes};
  for (auto _ : state) {
    if (kernel(c.p, in, out, scratch) != KernelStatus::Ok) {
      state.SkipWithError("kernel failed");
      break;
    }
    benchmark::DoNotOptimize(c.output.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * c.macs());
}

void BM_Conv1x1_28x28x32to192(benchmark::State& state) {
  ConvCase c({32, 28, 28}, 192, 1, 1, 1);
  run_conv(state, c, mcusplit::kernels::int8_conv_dispatch,
           mcusplit::kernels::int8_conv_dispatch_scratch_bytes);
}
void BM_Conv1x1_28x28x32to192_General(benchmark::State& state) {
  ConvCase c({32, 28, 28}, 192, 1, 1, 1);
  run_conv(state, c, mcusplit::kernels::int8_conv, mcusplit::kernels::int8_conv_scratch_bytes);
}
void BM_Depthwise3x3_28x28x192(benchmark::State& state) {
  ConvCase c({192, 28, 28}, 192, 3, 1, 192);
  run_conv(state, c, mcusplit::kernels::int8_conv_dispatch,
           mcusplit::kernels::int8_conv_dispatch_scratch_bytes);
}
void BM_Depthwise3x3_28x28x192_General(benchmark::State& state) {
  ConvCase c({192, 28, 28}, 192, 3, 1, 192);
  run_conv(state, c, mcusplit::kernels::int8_conv, mcusplit::kernels::int8_conv_scratch_bytes);
}
void BM_Conv3x3s2_64x64x3to32(benchmark::State& state) {
  ConvCase c({3, 64, 64}, 32, 3, 2, 1);
  run_conv(state, c, mcusplit::kernels::int8_conv_dispatch,
           mcusplit::kernels::int8_conv_dispatch_scratch_bytes);
}
// MobileNetV2's first layer: 224x224x3 -> 112x112x32.
void BM_Conv3x3s2_224x224x3to32(benchmark::State& state) {
  ConvCase c({3, 224, 224}, 32, 3, 2, 1);
  run_conv(state, c, mcusplit::kernels::int8_conv_dispatch,
           mcusplit::kernels::int8_conv_dispatch_scratch_bytes);
}

void BM_FullyConnected_1280to1000(benchmark::State& state) {
  constexpr int32_t kIn = 1280;
  constexpr int32_t kOut = 1000;
  const auto input = random_int8s(kIn, 3);
  const auto weights = random_int8s(size_t{kIn} * kOut, 4);
  const std::vector<int32_t> bias(kOut, 100), multiplier(kOut, 1 << 30), shift(kOut, -10);
  std::vector<int8_t> output(kOut);
  mcusplit::kernels::Int8FullyConnectedParams p;
  p.input_size = kIn;
  p.output_size = kOut;
  p.input_zero_point = -3;
  p.weights = weights.data();
  p.bias = bias.data();
  p.requant = {multiplier.data(), shift.data()};
  p.weights_n0 = 0;
  p.weights_n1 = kOut;
  for (auto _ : state) {
    if (mcusplit::kernels::int8_fully_connected(p, input.data(), 0, kOut, output.data(), {}) !=
        KernelStatus::Ok) {
      state.SkipWithError("kernel failed");
      break;
    }
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * int64_t{kIn} * kOut);
}

}  // namespace

BENCHMARK(BM_Conv1x1_28x28x32to192);
BENCHMARK(BM_Conv1x1_28x28x32to192_General);
BENCHMARK(BM_Depthwise3x3_28x28x192);
BENCHMARK(BM_Depthwise3x3_28x28x192_General);
BENCHMARK(BM_Conv3x3s2_64x64x3to32);
BENCHMARK(BM_Conv3x3s2_224x224x3to32);
BENCHMARK(BM_FullyConnected_1280to1000);

BENCHMARK_MAIN();
