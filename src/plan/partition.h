// Dividing one layer's output among participants: integer shares of rows or
// channels proportional to weights (device speed, lowered where RAM binds),
// and the boxes each strategy gives every participant.
#pragma once

#include <cstdint>
#include <vector>

#include "core/box.h"
#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// What a split does after rounding shares to whole units: `Shortest` moves
// units off the participant that would finish last while that shortens the
// split (auto: a slow device may get nothing of a small layer); `Shares`
// keeps every participant on its share (paper: every device a share of
// every layer by its speed, rounding carried across layers).
enum class Rounding : uint8_t { Shortest, Shares };

// Splits `units` into integer counts proportional to `weights` (largest
// remainder; ties to the lower index), then, with Rounding::Shortest, moves
// units off the participant that would finish last (count / weight) while
// that shortens the split. `carry` (optional, same
// size) holds each participant's accumulated shortfall of work from earlier splits (one unit here
// is `work_per_unit`) and is updated, so rounding errors do not pile up on the same participant
// across layers. At most `max_carry_units` of it count per split, so a debt is never paid with a
// whole layer. Zero-weight participants get nothing.
std::vector<int32_t> apportion(int32_t units, const std::vector<double>& weights,
                               std::vector<double>* carry = nullptr, double work_per_unit = 1,
                               double max_carry_units = 1, Rounding rounding = Rounding::Shortest);

// Boxes of a `shape` output divided by `strategy` among participants with
// `counts` units each (rows for Spatial, channels for Channel). Single gives
// the whole box to `single`; Fused boxes are not made here (they come from
// the consumer, see optimizer).
std::vector<core::Box> strategy_boxes(Strategy strategy, const core::TensorShape3& shape,
                                      const std::vector<int32_t>& counts, int single);

// Units a strategy divides: rows (Spatial) or channels (Channel).
int32_t strategy_units(Strategy strategy, const core::TensorShape3& shape);

// The boxes of a layer's output (`shape`, `work` units of compute in all)
// under `strategy` with shares proportional to `weights` (carry as in
// apportion). Spatial splits pixels first, then makes boxes: a participant
// with at least a row's worth gets a band of whole rows; neighbours with
// less share one band, split by columns, so a slow device still gets its
// share of a layer with few rows. Fused is not made here (fused_bands.h).
// A channel split gives each participant a multiple of `channel_group`
// channels (the last one the rest): the channels a kernel computes together
// (channel_group_of). Devices at most half as fast as the fastest whose
// share is under a few channel groups share one band of channels, split by
// pixels as a spatial split is (joined by the next smallest shares while the
// band itself would be under a few groups), so that they get their share
// of a layer with few channels.
std::vector<core::Box> divide_output(Strategy strategy, const core::TensorShape3& shape,
                                     const std::vector<double>& weights, int single,
                                     std::vector<double>* carry, double work,
                                     int32_t channel_group = 1,
                                     Rounding rounding = Rounding::Shortest);

// The channels `layer`'s kernel computes together: a depthwise
// convolution's packed group (kernels/int8_depthwise_conv.h), the other
// convolutions' channel pairs (kernels/int8_conv.h), else 1.
int32_t channel_group_of(const quant::QLayer& layer);

}  // namespace mcusplit::plan
