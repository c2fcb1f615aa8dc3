// Offline memory planning over a generic list of buffers, TFLite-Micro style:
// each buffer has a size and a lifetime [first_use, last_use] in steps (layer
// indices); two buffers may share bytes only if their lifetimes are disjoint.
// Knows nothing about graphs, so the single-device arena plan (arena_plan.h)
// and the per-device distributed planner (scratch, halos, receive buffers)
// feed it the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcusplit::quant {

struct BufferRequest {
  std::string name;  // for error messages and reports
  int64_t bytes = 0;
  int first_use = 0;  // inclusive step indices
  int last_use = 0;
};

// Offsets parallel to the request list; arena_bytes = max(offset + bytes).
struct BufferLayout {
  std::vector<int64_t> offsets;
  int64_t arena_bytes = 0;
};

inline bool lifetimes_overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

class MemoryPlanner {
 public:
  virtual ~MemoryPlanner() = default;
  // Throws mcusplit::Error on a malformed request (negative size, last < first).
  virtual BufferLayout plan(const std::vector<BufferRequest>& buffers) const = 0;
  // Every offset is a multiple of this.
  virtual int64_t alignment() const = 0;
};

// TFLM's GreedyMemoryPlanner idea: place buffers largest first (ties: earlier
// first_use, then request order, so plans are deterministic); each goes at
// the lowest aligned offset where it fits between the buffers already placed
// whose lifetimes overlap its own. Largest-first fragments an arena of many
// short-lived tile buffers, so two more orders are tried (earliest first_use
// first, then largest; longest lifetime first, then largest) and the
// smallest arena kept (ties: the earlier order).
//
// Offsets are aligned to `alignment` bytes (default 16: what TFLM uses, and
// enough for any SIMD load on Cortex-M/host); sizes are not padded, so the
// arena ends exactly at the end of the highest buffer.
class GreedyMemoryPlanner : public MemoryPlanner {
 public:
  explicit GreedyMemoryPlanner(int64_t alignment = 16);
  BufferLayout plan(const std::vector<BufferRequest>& buffers) const override;
  int64_t alignment() const override { return alignment_; }

 private:
  int64_t alignment_;
};

// Every buffer at its own offset, no reuse: a baseline for reports and tests.
class LinearMemoryPlanner : public MemoryPlanner {
 public:
  explicit LinearMemoryPlanner(int64_t alignment = 16);
  BufferLayout plan(const std::vector<BufferRequest>& buffers) const override;
  int64_t alignment() const override { return alignment_; }

 private:
  int64_t alignment_;
};

// The largest sum of bytes of buffers live at one step: a lower bound on any
// layout's arena_bytes (ignoring alignment).
int64_t peak_live_bytes(const std::vector<BufferRequest>& buffers);

// Empty if the layout is valid: one offset per buffer, none negative, every
// buffer inside arena_bytes, and no two buffers with overlapping lifetimes
// sharing a byte. Otherwise a message naming the first offending pair.
std::string find_layout_error(const std::vector<BufferRequest>& buffers,
                              const BufferLayout& layout);

}  // namespace mcusplit::quant
