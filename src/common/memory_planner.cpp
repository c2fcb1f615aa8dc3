#include "common/memory_planner.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "common/error.h"

namespace mcusplit::quant {
namespace {

void validate_requests(const std::vector<BufferRequest>& buffers) {
  for (const auto& b : buffers) {
    if (b.bytes < 0 || b.last_use < b.first_use) {
      throw Error("memory planner: buffer '" + b.name + "' has size " + std::to_string(b.bytes) +
                  " and lifetime [" + std::to_string(b.first_use) + ", " +
                  std::to_string(b.last_use) + "]");
    }
  }
}

void validate_alignment(int64_t alignment) {
  if (alignment < 1 || (alignment & (alignment - 1)) != 0) {
    throw Error("memory planner: alignment " + std::to_string(alignment) +
                " is not a power of two");
  }
}

int64_t align_up(int64_t v, int64_t alignment) {
  return (v + alignment - 1) / alignment * alignment;
}

}  // namespace

GreedyMemoryPlanner::GreedyMemoryPlanner(int64_t alignment) : alignment_(alignment) {
  validate_alignment(alignment);
}

namespace {

// Places buffers in `order`, each at the first gap among the placed buffers
// whose lifetimes overlap its own.
BufferLayout place_in_order(const std::vector<BufferRequest>& buffers,
                            const std::vector<size_t>& order, int64_t alignment) {
  BufferLayout layout;
  layout.offsets.assign(buffers.size(), -1);
  std::vector<size_t> placed;  // request indices, kept sorted by offset
  for (const size_t i : order) {
    const BufferRequest& b = buffers[i];
    // Walk the time-overlapping buffers in offset order; the first gap that
    // holds b wins, else b goes after the last of them.
    int64_t candidate = 0;
    for (const size_t j : placed) {
      if (!lifetimes_overlap(b, buffers[j])) continue;
      const int64_t start = layout.offsets[j];
      if (candidate + b.bytes <= start) break;
      candidate = std::max(candidate, align_up(start + buffers[j].bytes, alignment));
    }
    layout.offsets[i] = candidate;
    layout.arena_bytes = std::max(layout.arena_bytes, candidate + b.bytes);
    const auto at =
        std::upper_bound(placed.begin(), placed.end(), candidate,
                         [&](int64_t off, size_t j) { return off < layout.offsets[j]; });
    placed.insert(at, i);
  }
  return layout;
}

}  // namespace

BufferLayout GreedyMemoryPlanner::plan(const std::vector<BufferRequest>& buffers) const {
  validate_requests(buffers);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const auto largest = [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first_use < buffers[b].first_use;
  };
  const auto earliest = [&](size_t a, size_t b) {
    if (buffers[a].first_use != buffers[b].first_use) {
      return buffers[a].first_use < buffers[b].first_use;
    }
    return buffers[a].bytes > buffers[b].bytes;
  };
  const auto longest = [&](size_t a, size_t b) {
    const int la = buffers[a].last_use - buffers[a].first_use;
    const int lb = buffers[b].last_use - buffers[b].first_use;
    if (la != lb) return la > lb;
    return largest(a, b);
  };
  std::stable_sort(order.begin(), order.end(), largest);
  BufferLayout best = place_in_order(buffers, order, alignment_);
  for (int pass = 0; pass < 2; ++pass) {
    std::iota(order.begin(), order.end(), size_t{0});
    if (pass == 0) {
      std::stable_sort(order.begin(), order.end(), earliest);
    } else {
      std::stable_sort(order.begin(), order.end(), longest);
    }
    BufferLayout layout = place_in_order(buffers, order, alignment_);
    if (layout.arena_bytes < best.arena_bytes) best = std::move(layout);
  }
  return best;
}

LinearMemoryPlanner::LinearMemoryPlanner(int64_t alignment) : alignment_(alignment) {
  validate_alignment(alignment);
}

BufferLayout LinearMemoryPlanner::plan(const std::vector<BufferRequest>& buffers) const {
  validate_requests(buffers);
  BufferLayout layout;
  int64_t next = 0;
  for (const auto& b : buffers) {
    layout.offsets.push_back(next);
    layout.arena_bytes = next + b.bytes;
    next = align_up(next + b.bytes, alignment_);
  }
  return layout;
}

int64_t peak_live_bytes(const std::vector<BufferRequest>& buffers) {
  // Sweep over steps: +bytes at first_use, -bytes after last_use.
  std::map<int, int64_t> delta;
  for (const auto& b : buffers) {
    delta[b.first_use] += b.bytes;
    delta[b.last_use + 1] -= b.bytes;
  }
  int64_t live = 0;
  int64_t peak = 0;
  for (const auto& [step, d] : delta) {
    live += d;
    peak = std::max(peak, live);
  }
  return peak;
}

std::string find_layout_error(const std::vector<BufferRequest>& buffers,
                              const BufferLayout& layout) {
  if (layout.offsets.size() != buffers.size()) {
    return "layout has " + std::to_string(layout.offsets.size()) + " offsets for " +
           std::to_string(buffers.size()) + " buffers";
  }
  for (size_t i = 0; i < buffers.size(); ++i) {
    const int64_t off = layout.offsets[i];
    if (off < 0 || off + buffers[i].bytes > layout.arena_bytes) {
      return "buffer '" + buffers[i].name + "' at [" + std::to_string(off) + ", " +
             std::to_string(off + buffers[i].bytes) + ") lies outside the arena of " +
             std::to_string(layout.arena_bytes) + " bytes";
    }
  }
  for (size_t i = 0; i < buffers.size(); ++i) {
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const auto& a = buffers[i];
      const auto& b = buffers[j];
      if (a.bytes == 0 || b.bytes == 0 || !lifetimes_overlap(a, b)) continue;
      const int64_t a0 = layout.offsets[i];
      const int64_t b0 = layout.offsets[j];
      if (a0 < b0 + b.bytes && b0 < a0 + a.bytes) {
        return "buffers '" + a.name + "' and '" + b.name +
               "' are live at the same time and share bytes";
      }
    }
  }
  return "";
}

}  // namespace mcusplit::quant
