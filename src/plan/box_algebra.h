// Set operations on boxes for the planner: what part of a needed region is
// still missing after some holder's box is taken out.
#pragma once

#include <vector>

#include "core/box.h"

namespace mcusplit::plan {

// The smallest box holding both (an empty box contributes nothing).
core::Box bounding_box(const core::Box& a, const core::Box& b);

// a minus b as at most six disjoint boxes (none if b covers a).
std::vector<core::Box> subtract(const core::Box& a, const core::Box& b);

// Every box of `boxes` minus b.
std::vector<core::Box> subtract_all(const std::vector<core::Box>& boxes, const core::Box& b);

}  // namespace mcusplit::plan
