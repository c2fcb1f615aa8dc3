#include "plan/partition.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>

#include "kernels/int8_conv.h"
#include "kernels/int8_depthwise_conv.h"

namespace mcusplit::plan {

std::vector<int32_t> apportion(int32_t units, const std::vector<double>& weights,
                               std::vector<double>* carry, double work_per_unit,
                               double max_carry_units, Rounding rounding) {
  const size_t n = weights.size();
  std::vector<int32_t> counts(n, 0);
  double total = 0;
  for (double w : weights) total += std::max(0.0, w);
  if (units <= 0 || total <= 0) return counts;

  std::vector<double> ideal(n, 0);
  int32_t given = 0;
  for (size_t i = 0; i < n; ++i) {
    if (weights[i] <= 0) continue;
    ideal[i] = units * weights[i] / total +
               (carry != nullptr
                    ? std::clamp((*carry)[i] / work_per_unit, -max_carry_units, max_carry_units)
                    : 0.0);
    counts[i] = static_cast<int32_t>(std::clamp(std::floor(ideal[i]), 0.0, double(units)));
    given += counts[i];
  }
  // Too many (a large carry): take back from the most over-served.
  while (given > units) {
    size_t worst = n;
    for (size_t i = 0; i < n; ++i) {
      if (counts[i] > 0 && (worst == n || ideal[i] - counts[i] < ideal[worst] - counts[worst])) {
        worst = i;
      }
    }
    --counts[worst];
    --given;
  }
  // Too few: give to the largest remainders.
  while (given < units) {
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (weights[i] > 0 && (best == n || ideal[i] - counts[i] > ideal[best] - counts[best])) {
        best = i;
      }
    }
    ++counts[best];
    ++given;
  }
  // The carry records rounding only, not the makespan moves below: a device
  // kept out of a split for speed owes nothing later.
  if (carry != nullptr) {
    for (size_t i = 0; i < n; ++i) {
      if (weights[i] > 0) (*carry)[i] += (units * weights[i] / total - counts[i]) * work_per_unit;
    }
  }
  // Then the slowest finisher hands units to whoever would finish earliest
  // with one more, while that shortens the split's makespan: a slow device
  // whose single unit would take longer than the others' whole shares gets
  // none (the carry remembers it).
  while (rounding == Rounding::Shortest) {
    size_t slow = n;
    size_t fast = n;
    for (size_t i = 0; i < n; ++i) {
      if (weights[i] <= 0) continue;
      if (counts[i] > 0 && (slow == n || counts[i] / weights[i] > counts[slow] / weights[slow])) {
        slow = i;
      }
      if (fast == n || (counts[i] + 1) / weights[i] < (counts[fast] + 1) / weights[fast]) fast = i;
    }
    if (slow == n || fast == slow ||
        (counts[fast] + 1) / weights[fast] >= counts[slow] / weights[slow] * (1 - 1e-12)) {
      break;
    }
    --counts[slow];
    ++counts[fast];
  }
  return counts;
}

int32_t strategy_units(Strategy strategy, const core::TensorShape3& shape) {
  switch (strategy) {
    case Strategy::Spatial:
    case Strategy::Fused:
    case Strategy::Tiled:
      return shape.h;
    case Strategy::Channel:
      return shape.c;
    case Strategy::Single:
      return 1;
  }
  return 1;
}

std::vector<core::Box> strategy_boxes(Strategy strategy, const core::TensorShape3& shape,
                                      const std::vector<int32_t>& counts, int single) {
  std::vector<core::Box> boxes(counts.size());
  if (strategy == Strategy::Single) {
    boxes[static_cast<size_t>(single)] = core::full_box(shape);
    return boxes;
  }
  int32_t at = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] <= 0) continue;
    core::Box b = core::full_box(shape);
    if (strategy == Strategy::Channel) {
      b.c0 = at;
      b.c1 = at + counts[i];
    } else {
      b.y0 = at;
      b.y1 = at + counts[i];
    }
    at += counts[i];
    boxes[i] = b;
  }
  return boxes;
}

namespace {

// Spatial boxes from per-participant pixel counts (see divide_output).
std::vector<core::Box> spatial_boxes(const core::TensorShape3& shape,
                                     const std::vector<int32_t>& pixels) {
  const size_t n = pixels.size();
  // Groups of consecutive participants that share one band.
  std::vector<std::vector<size_t>> groups;
  std::vector<double> group_rows;
  bool open = false;
  for (size_t i = 0; i < n; ++i) {
    if (pixels[i] <= 0) continue;
    const bool whole_rows = pixels[i] >= shape.w;
    if (whole_rows || !open) {
      groups.push_back({});
      group_rows.push_back(0);
    }
    groups.back().push_back(i);
    group_rows.back() += static_cast<double>(pixels[i]) / shape.w;
    open = !whole_rows && group_rows.back() < 1.0;
  }
  const std::vector<int32_t> rows = apportion(shape.h, group_rows);
  std::vector<core::Box> boxes(n);
  int32_t y = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (rows[g] <= 0) continue;
    std::vector<double> share;
    for (size_t i : groups[g]) share.push_back(pixels[i]);
    const std::vector<int32_t> columns = apportion(shape.w, share);
    int32_t x = 0;
    for (size_t k = 0; k < groups[g].size(); ++k) {
      if (columns[k] <= 0) continue;
      boxes[groups[g][k]] = core::Box{0, shape.c, y, y + rows[g], x, x + columns[k]};
      x += columns[k];
    }
    y += rows[g];
  }
  return boxes;
}

// Devices with fewer than this many channel units' worth of a layer, and at
// most half as fast as the fastest, share one channel band split by pixels:
// whole channels would round such a share by a third or more (an rp2040
// beside teensy41s has one and a half of 96 channels' worth).
constexpr double kPoolBelowUnits = 4;

// Channel boxes (see divide_output): `groups` units of `group` channels.
std::vector<core::Box> channel_boxes(const core::TensorShape3& shape,
                                     const std::vector<double>& weights, std::vector<double>* carry,
                                     double work, int32_t group, Rounding rounding) {
  const size_t n = weights.size();
  const int32_t groups = (shape.c + group - 1) / group;
  const double per_group = std::max(work, 1.0) / shape.c * group;
  double total = 0;
  double fastest = 0;
  for (double w : weights) {
    total += std::max(0.0, w);
    fastest = std::max(fastest, w);
  }
  // The pool: slow devices with small shares (none in a fully connected
  // layer, which has no pixels to split).
  std::vector<bool> pooled(n, false);
  size_t pool_slot = n;
  double pool_weight = 0;
  for (size_t i = 0; i < n && total > 0 && shape.h * shape.w > 1; ++i) {
    if (weights[i] <= 0 || groups * weights[i] / total >= kPoolBelowUnits ||
        weights[i] * 2 > fastest) {
      continue;
    }
    pooled[i] = true;
    pool_weight += weights[i];
  }
  // A pool of less than that is rounded as coarsely: the devices with the
  // smallest shares join it until it is not (all of them: a pixel split).
  while (pool_weight > 0 && groups * pool_weight / total < kPoolBelowUnits) {
    size_t smallest = n;
    for (size_t i = 0; i < n; ++i) {
      if (weights[i] > 0 && !pooled[i] && (smallest == n || weights[i] < weights[smallest])) {
        smallest = i;
      }
    }
    if (smallest == n) break;
    pooled[smallest] = true;
    pool_weight += weights[smallest];
  }
  for (size_t i = 0; i < n && pool_slot == n; ++i) {
    if (pooled[i]) pool_slot = i;
  }
  // Whole units for the others and for the pool as one participant in the
  // first member's place; the pool's carry is its members' sum.
  std::vector<double> slot_weights = weights;
  std::vector<double> slot_carry = carry != nullptr ? *carry : std::vector<double>(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (!pooled[i] || i == pool_slot) continue;
    slot_weights[i] = 0;
    slot_carry[pool_slot] += slot_carry[i];
    slot_carry[i] = 0;
  }
  if (pool_slot < n) slot_weights[pool_slot] = pool_weight;
  const double pool_carry_before = pool_slot < n ? slot_carry[pool_slot] : 0;
  std::vector<int32_t> channels = apportion(
      groups, slot_weights, carry != nullptr ? &slot_carry : nullptr, per_group, 1, rounding);
  for (int32_t& c : channels) c *= group;
  // The last group may be short: the participant that ends the split holds it.
  for (size_t i = n; i-- > 0;) {
    if (channels[i] > 0) {
      channels[i] -= groups * group - shape.c;
      break;
    }
  }
  const std::vector<core::Box> split = strategy_boxes(Strategy::Channel, shape, channels, 0);
  if (carry != nullptr) {
    for (size_t i = 0; i < n; ++i) {
      if (!pooled[i]) (*carry)[i] = slot_carry[i];
    }
    // The pool's rounding, shared by weight.
    if (pool_slot < n) {
      const double pool_delta = slot_carry[pool_slot] - pool_carry_before;
      for (size_t i = 0; i < n; ++i) {
        if (pooled[i]) (*carry)[i] += pool_delta * weights[i] / pool_weight;
      }
    }
  }
  if (pool_slot == n || split[pool_slot].empty()) return split;
  // The pool's band split by pixels among its members, as a spatial split
  // with the band's work.
  const core::Box band = split[pool_slot];
  const int32_t pixels_in_band = shape.h * shape.w;
  const double per_pixel = std::max(work, 1.0) / shape.c * band.channels() / pixels_in_band;
  std::vector<double> member_weights(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (pooled[i]) member_weights[i] = weights[i];
  }
  const std::vector<int32_t> pixels =
      apportion(pixels_in_band, member_weights, carry, per_pixel, shape.w, rounding);
  std::vector<core::Box> boxes = spatial_boxes(shape, pixels);
  for (size_t i = 0; i < n; ++i) {
    if (!pooled[i]) {
      boxes[i] = split[i];
    } else if (!boxes[i].empty()) {
      if (carry != nullptr) {
        (*carry)[i] += (pixels[i] - boxes[i].height() * boxes[i].width()) * per_pixel;
      }
      boxes[i].c0 = band.c0;
      boxes[i].c1 = band.c1;
    }
  }
  return boxes;
}

}  // namespace

int32_t channel_group_of(const quant::QLayer& layer) {
  const std::string_view kernel = layer.record().kernel_name(layer);
  if (kernel == "depthwise") return kernels::kDepthwiseChannelGroup;
  if (kernel == "conv" || kernel == "pointwise") return kernels::kConvChannelGroup;
  return 1;
}

namespace {

// divide_output without the exact settling of Rounding::Shares.
std::vector<core::Box> split_boxes(Strategy strategy, const core::TensorShape3& shape,
                                   const std::vector<double>& weights, int single,
                                   std::vector<double>* carry, double work, int32_t channel_group,
                                   Rounding rounding) {
  if (strategy == Strategy::Single || strategy == Strategy::Fused) {
    return strategy_boxes(Strategy::Single, shape, std::vector<int32_t>(weights.size(), 0), single);
  }
  if (strategy == Strategy::Channel) {
    return channel_boxes(shape, weights, carry, work, std::max(1, channel_group), rounding);
  }
  const int32_t units = shape.h * shape.w;
  const double per_unit = std::max(work, 1.0) / units;
  // A row's worth of pixels may be made up per split, like one unit of the
  // other strategies.
  const std::vector<int32_t> pixels = apportion(units, weights, carry, per_unit, shape.w, rounding);
  std::vector<core::Box> boxes = spatial_boxes(shape, pixels);
  // The carry was charged for `pixels`; settle the rounding into boxes (a
  // participant left without a box was left out for speed, and owes nothing).
  if (carry != nullptr) {
    for (size_t i = 0; i < boxes.size(); ++i) {
      if (boxes[i].empty()) continue;
      (*carry)[i] += (pixels[i] - boxes[i].height() * boxes[i].width()) * per_unit;
    }
  }
  return boxes;
}

}  // namespace

std::vector<core::Box> divide_output(Strategy strategy, const core::TensorShape3& shape,
                                     const std::vector<double>& weights, int single,
                                     std::vector<double>* carry, double work, int32_t channel_group,
                                     Rounding rounding) {
  if (carry == nullptr || rounding == Rounding::Shortest) {
    return split_boxes(strategy, shape, weights, single, carry, work, channel_group, rounding);
  }
  // Every participant is owed its share whatever the boxes came to (bands,
  // rows and groups round in several places), so settle from the boxes.
  const std::vector<double> owed = *carry;
  std::vector<core::Box> boxes =
      split_boxes(strategy, shape, weights, single, carry, work, channel_group, rounding);
  double total = 0;
  for (double w : weights) total += std::max(0.0, w);
  const double per_value = std::max(work, 1.0) / static_cast<double>(shape.volume());
  for (size_t i = 0; i < boxes.size() && total > 0; ++i) {
    if (weights[i] <= 0) continue;
    (*carry)[i] = owed[i] + std::max(work, 1.0) * weights[i] / total -
                  static_cast<double>(boxes[i].volume()) * per_value;
  }
  return boxes;
}

}  // namespace mcusplit::plan
