// The plan checker's own receptive fields: which input elements a layer reads
// to compute an output box, derived from the layer's parameters with
// arithmetic of its own (not the kernels' required_input_box, nor the
// planner's geometry), window by window.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/box.h"
#include "quant/qgraph.h"

namespace mcusplit::plan::checker {

// The elements one layer input must supply: every (c, y, x) with c in cs, y in
// ys and x in xs (ascending; any list empty means nothing is read), or, for
// Reshape (`flat`), output element n reads input element n in NHWC order.
struct InputNeed {
  std::vector<int32_t> cs;
  std::vector<int32_t> ys;
  std::vector<int32_t> xs;
  bool flat = false;
  core::Box out_box;  // flat: the output box whose elements are mapped

  bool empty() const { return !flat && (cs.empty() || ys.empty() || xs.empty()); }
};

// "" if the layer's parameters agree with its tensors well enough for the
// geometry below (positive windows, groups that divide, one params block per
// concat input, ...); otherwise what is wrong.
std::string layer_geometry_problem(const quant::QGraph& g, const quant::QLayer& l);

// One InputNeed per layer input, for an output box inside the output tensor.
// The layer must pass layer_geometry_problem.
std::vector<InputNeed> needed_inputs(const quant::QGraph& g, const quant::QLayer& l,
                                     const core::Box& out_box);

// The input element (c, y, x) that flat output element (oc, oy, ox) reads.
struct Coord {
  int32_t c = 0;
  int32_t y = 0;
  int32_t x = 0;
};
Coord reshape_source(const core::TensorShape3& in, const core::TensorShape3& out, int32_t oc,
                     int32_t oy, int32_t ox);

// The smallest box holding every element of `need` (empty if it is empty).
core::Box need_bounds(const InputNeed& need, const core::TensorShape3& in,
                      const core::TensorShape3& out);

}  // namespace mcusplit::plan::checker
