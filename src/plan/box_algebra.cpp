#include "plan/box_algebra.h"

#include <algorithm>

namespace mcusplit::plan {

using core::Box;

Box bounding_box(const Box& a, const Box& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return Box{std::min(a.c0, b.c0), std::max(a.c1, b.c1), std::min(a.y0, b.y0),
             std::max(a.y1, b.y1), std::min(a.x0, b.x0), std::max(a.x1, b.x1)};
}

std::vector<Box> subtract(const Box& a, const Box& b) {
  if (a.empty()) return {};
  const Box cut = core::intersect(a, b);
  if (cut.empty()) return {a};
  // Slice off whole rows above and below the cut, then columns, then channels.
  std::vector<Box> out;
  Box rest = a;
  if (rest.y0 < cut.y0) out.push_back(Box{rest.c0, rest.c1, rest.y0, cut.y0, rest.x0, rest.x1});
  if (cut.y1 < rest.y1) out.push_back(Box{rest.c0, rest.c1, cut.y1, rest.y1, rest.x0, rest.x1});
  rest.y0 = cut.y0;
  rest.y1 = cut.y1;
  if (rest.x0 < cut.x0) out.push_back(Box{rest.c0, rest.c1, rest.y0, rest.y1, rest.x0, cut.x0});
  if (cut.x1 < rest.x1) out.push_back(Box{rest.c0, rest.c1, rest.y0, rest.y1, cut.x1, rest.x1});
  rest.x0 = cut.x0;
  rest.x1 = cut.x1;
  if (rest.c0 < cut.c0) out.push_back(Box{rest.c0, cut.c0, rest.y0, rest.y1, rest.x0, rest.x1});
  if (cut.c1 < rest.c1) out.push_back(Box{cut.c1, rest.c1, rest.y0, rest.y1, rest.x0, rest.x1});
  return out;
}

std::vector<Box> subtract_all(const std::vector<Box>& boxes, const Box& b) {
  std::vector<Box> out;
  for (const Box& a : boxes) {
    for (const Box& piece : subtract(a, b)) out.push_back(piece);
  }
  return out;
}

}  // namespace mcusplit::plan
