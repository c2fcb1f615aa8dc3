#include <gtest/gtest.h>

#include <vector>

#include "int8_reference.h"
#include "int8_test_util.h"
#include "kernels/int8_fully_connected.h"

namespace mcusplit::kernels {
namespace {

using testing::Rng;

TEST(Int8FullyConnected, RandomNeuronRangesMatchReference) {
  Rng rng(21);
  for (int i = 0; i < 300; ++i) {
    const int k = rng.chance(0.2) ? rng.uniform(200, 1300) : rng.uniform(1, 70);
    const int n = rng.uniform(1, 40);
    const int in_zp = rng.uniform(-128, 127), out_zp = rng.uniform(-128, 127);
    int act_min = -128, act_max = 127;
    if (rng.chance(0.3)) {
      act_min = rng.uniform(-128, 0);
      act_max = rng.uniform(act_min, 127);
    }
    const std::vector<int8_t> input = rng.int8s(static_cast<size_t>(k));
    const std::vector<int8_t> weights = rng.int8s(static_cast<size_t>(n) * k, -127, 127);
    std::vector<int32_t> bias;
    if (!rng.chance(0.2)) bias = rng.int32s(static_cast<size_t>(n), -50000, 50000);
    std::vector<int32_t> mult(static_cast<size_t>(n)), shift(static_cast<size_t>(n));
    const bool per_tensor = rng.chance(0.3);
    const int typical = k > 200 ? -11 : -8;
    for (int j = 0; j < n; ++j) rng.requant(mult[j], shift[j], typical - 2, typical);
    if (per_tensor) {
      std::fill(mult.begin(), mult.end(), mult[0]);
      std::fill(shift.begin(), shift.end(), shift[0]);
    }
    const std::vector<int8_t> expected = reference::fully_connected(
        input, weights, bias, mult, shift, in_zp, out_zp, act_min, act_max);

    // A device holding weight rows [w0, w1) computes neurons [n0, n1).
    const int n0 = rng.uniform(0, n - 1), n1 = rng.uniform(n0 + 1, n);
    const int w0 = rng.uniform(0, n0), w1 = rng.uniform(n1, n);
    std::vector<int8_t> w_slice(weights.begin() + w0 * k, weights.begin() + w1 * k);
    std::vector<int32_t> b_slice, m_slice, s_slice;
    if (!bias.empty()) b_slice.assign(bias.begin() + w0, bias.begin() + w1);
    if (per_tensor) {
      m_slice = {mult[0]};
      s_slice = {shift[0]};
    } else {
      m_slice.assign(mult.begin() + w0, mult.begin() + w1);
      s_slice.assign(shift.begin() + w0, shift.begin() + w1);
    }
    Int8FullyConnectedParams p;
    p.input_size = k;
    p.output_size = n;
    p.input_zero_point = in_zp;
    p.output_zero_point = out_zp;
    p.activation = {act_min, act_max};
    p.weights = w_slice.data();
    p.bias = bias.empty() ? nullptr : b_slice.data();
    p.requant = {m_slice.data(), s_slice.data()};
    p.per_tensor_requant = per_tensor;
    p.weights_n0 = w0;
    p.weights_n1 = w1;
    std::vector<int8_t> out(static_cast<size_t>(n1 - n0));
    // Fully connected states no scratch and runs with none.
    ASSERT_EQ(int8_fully_connected_scratch_bytes(p, n0, n1), 0);
    testing::GuardedScratch scratch(0);
    ASSERT_EQ(int8_fully_connected(p, input.data(), n0, n1, out.data(), scratch.scratch()),
              KernelStatus::Ok);
    EXPECT_TRUE(scratch.guard_intact());
    ASSERT_EQ(out, std::vector<int8_t>(expected.begin() + n0, expected.begin() + n1))
        << "case " << i << " k=" << k << " n=" << n;
  }
}

TEST(Int8FullyConnected, NeuronsOutsideTheWeightRowsAreBadParams) {
  const std::vector<int8_t> input(4, 1), weights(8, 1);
  const std::vector<int32_t> mult(2, 1 << 30), shift(2, 0);
  Int8FullyConnectedParams p;
  p.input_size = 4;
  p.output_size = 5;
  p.weights = weights.data();
  p.requant = {mult.data(), shift.data()};
  p.weights_n0 = 2;
  p.weights_n1 = 4;
  std::vector<int8_t> out(5);
  EXPECT_EQ(int8_fully_connected(p, input.data(), 2, 4, out.data(), {}), KernelStatus::Ok);
  EXPECT_EQ(out[0], 2);  // 4 * 2^30 / 2^31
  EXPECT_EQ(int8_fully_connected(p, input.data(), 1, 4, out.data(), {}), KernelStatus::BadParams);
  EXPECT_EQ(int8_fully_connected(p, input.data(), 2, 5, out.data(), {}), KernelStatus::BadParams);
  EXPECT_EQ(int8_fully_connected(p, input.data(), 3, 3, out.data(), {}), KernelStatus::Ok);
}

}  // namespace
}  // namespace mcusplit::kernels
