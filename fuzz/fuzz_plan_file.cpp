// libFuzzer target for the plan file reader (plan/plan_file,
// docs/plan_format.md). For every input:
// - parse it as is, and a copy whose header is resealed (magic, version,
//   payload length and FNV-1a hash made right), so that random bytes reach
//   the payload reader and the plan checks behind the hash;
// - a parse either gives a plan or throws mcusplit::Error; anything else (a
//   crash, an out-of-bounds read under ASan, another exception) is a bug;
// - whenever bytes parse: the header hash is the payload's, every weight
//   slice binds to its layer (sliced_layer, as the runtime does), and,
//   where the slices determine the full graph's constants (they agree where
//   they overlap), serialize_plan of the plan over that graph writes the
//   very same bytes: the format has one encoding per plan.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "kernels/op_registry.h"
#include "plan/plan_file.h"

namespace {

using namespace mcusplit::plan;
using mcusplit::quant::QGraph;
using mcusplit::quant::QLayer;

void check(bool ok) {
  if (!ok) std::abort();
}

void store_le(std::string& b, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
}

// Magic, version and payload length forced, hash recomputed (offsets:
// docs/plan_format.md, "Header").
std::string reseal(std::string b) {
  if (b.size() < kPlanHeaderBytes) return b;
  std::memcpy(b.data(), kPlanMagic, sizeof kPlanMagic);
  store_le(b, 8, kPlanFormatVersion, 4);
  store_le(b, 12, b.size() - kPlanHeaderBytes, 8);
  store_le(b, 20, fnv1a64(b.data() + kPlanHeaderBytes, b.size() - kPlanHeaderBytes), 8);
  return b;
}

// Rebuilding a layer's whole constants costs its weight count in memory:
// layers claiming more than this are left out of the round trip.
constexpr uint32_t kMaxRebuiltWeights = 1u << 20;

// One layer's constants being rebuilt, with which elements a slice set.
struct Rebuilt {
  bool started = false;
  std::vector<char> weight_set, bias_set, multiplier_set, shift_set;
};

// dst[at] = v, unless an earlier slice put another value there.
template <typename T>
bool put(std::vector<T>& dst, std::vector<char>& set, size_t at, T v) {
  if (set[at] && dst[at] != v) return false;
  dst[at] = v;
  set[at] = 1;
  return true;
}

bool add_slice(const LayerConstants& k, QLayer& l, Rebuilt& r) {
  const mcusplit::kernels::ChannelConstants& cc = *l.record().channel_constants;
  const mcusplit::kernels::ChannelRange held = cc.slice(l);
  const mcusplit::kernels::ConstantCounts n = cc.counts(l);
  const auto channels = static_cast<size_t>(held.c1 - held.c0);
  if (n.weights > kMaxRebuiltWeights) return false;
  const bool has_bias = !k.bias.empty();
  if (!r.started) {
    r.started = true;
    l.weights.assign(n.weights, 0);
    l.bias.assign(has_bias ? channels : 0, 0);
    l.multiplier.assign(n.requant, 0);
    l.shift.assign(n.requant, 0);
    r.weight_set.assign(n.weights, 0);
    r.bias_set.assign(l.bias.size(), 0);
    r.multiplier_set.assign(n.requant, 0);
    r.shift_set.assign(n.requant, 0);
  }
  if (has_bias != !l.bias.empty()) return false;  // one slice has a bias, another none
  const size_t row = n.weights / channels;
  const auto first = static_cast<size_t>(k.c0 - held.c0);
  for (size_t i = 0; i < k.weights.size(); ++i) {
    if (!put(l.weights, r.weight_set, first * row + i, k.weights[i])) return false;
  }
  for (size_t i = 0; i < k.bias.size(); ++i) {
    if (!put(l.bias, r.bias_set, first + i, k.bias[i])) return false;
  }
  const size_t requant_first = n.requant == 1 ? 0 : first;  // per-tensor: one pair
  for (size_t i = 0; i < k.multiplier.size(); ++i) {
    if (!put(l.multiplier, r.multiplier_set, requant_first + i, k.multiplier[i])) return false;
    if (!put(l.shift, r.shift_set, requant_first + i, k.shift[i])) return false;
  }
  return true;
}

// The graph the file was written from, as far as the file determines it:
// the skeleton with every sliced layer's constants laid where its slices
// say (channels no slice holds are 0). False if the slices disagree.
bool rebuild_full_graph(const PlanFile& f, QGraph& full) {
  full = f.graph;
  std::vector<Rebuilt> rebuilt(full.layers.size());
  for (const std::vector<LayerConstants>& participant : f.constants) {
    for (const LayerConstants& k : participant) {
      const auto layer = static_cast<size_t>(k.layer);
      if (!add_slice(k, full.layers[layer], rebuilt[layer])) return false;
    }
  }
  return true;
}

void parse_one(const std::string& bytes) {
  PlanFile f;
  try {
    f = parse_plan(bytes, "fuzz.plan");
  } catch (const mcusplit::Error&) {
    return;  // refused with a message: fine
  }
  check(f.hash == fnv1a64(bytes.data() + kPlanHeaderBytes, bytes.size() - kPlanHeaderBytes));
  check(f.constants.size() == f.plan.participants.size());
  for (size_t p = 0; p < f.constants.size(); ++p) {
    check(f.constants[p].size() == f.plan.participants[p].weights.size());
    for (const LayerConstants& k : f.constants[p]) {
      try {
        const QLayer l = sliced_layer(f.graph.layers[static_cast<size_t>(k.layer)], k);
        check(l.weights == k.weights && l.multiplier == k.multiplier);
      } catch (const mcusplit::Error&) {
        std::abort();  // the reader accepted a slice the runtime cannot bind
      }
    }
  }
  QGraph full;
  if (!rebuild_full_graph(f, full)) return;
  std::string again;
  try {
    again = serialize_plan(f.plan, full);
  } catch (const mcusplit::Error&) {
    std::abort();  // the writer refused a plan the reader accepted
  }
  check(again == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  parse_one(bytes);
  parse_one(reseal(bytes));
  return 0;
}
