#include "plan/fused_bands.h"

#include <algorithm>

#include "plan/cost_model.h"
#include "plan/layer_geometry.h"
#include "plan/plan_builder.h"

namespace mcusplit::plan {

using quant::QGraph;

namespace {

int reader_count(const QGraph& g, int tensor) {
  int n = tensor == g.output ? 1 : 0;
  for (const auto& l : g.layers)
    n += static_cast<int>(std::count(l.inputs.begin(), l.inputs.end(), tensor));
  return n;
}

bool spatial_like(Strategy s) {
  return s == Strategy::Spatial || s == Strategy::Fused;
}

}  // namespace

std::vector<core::Box> fused_boxes(const QGraph& graph, int layer,
                                   const std::vector<core::Box>& reader_boxes) {
  const auto& reader = graph.layers[static_cast<size_t>(layer) + 1];
  const auto& shape =
      graph.tensors[static_cast<size_t>(graph.layers[static_cast<size_t>(layer)].output)].shape;
  std::vector<core::Box> boxes(reader_boxes.size());
  const auto& reader_shape = graph.tensors[static_cast<size_t>(reader.output)].shape;
  for (const core::Box& b : reader_boxes) {
    if (!b.empty() && (b.x0 != 0 || b.x1 != reader_shape.w)) return {};
  }
  int last = -1;
  for (size_t p = 0; p < reader_boxes.size(); ++p) {
    core::Box b = required_box(graph, reader, 0, reader_boxes[p]);
    if (b.empty()) continue;
    b.c0 = 0;
    b.c1 = shape.c;
    b.x0 = 0;
    b.x1 = shape.w;
    b.y0 = last < 0 ? 0 : std::min(b.y0, boxes[static_cast<size_t>(last)].y1);
    boxes[p] = b;
    last = static_cast<int>(p);
  }
  if (last >= 0) boxes[static_cast<size_t>(last)].y1 = shape.h;
  return boxes;
}

Plan build_and_time(const QGraph& graph, const ClusterSpec& cluster,
                    const CoordinatorSpec& coordinator, int64_t max_payload_bytes,
                    std::vector<LayerPlan> layers) {
  Plan plan = build_plan(graph, cluster, coordinator, std::move(layers));
  plan.max_payload_bytes = max_payload_bytes;
  estimate_timing(plan, graph);
  return plan;
}

bool fits(const Plan& plan) {
  for (const ParticipantPlan& p : plan.participants) {
    if (p.coordinator) continue;
    if (p.peak_ram_bytes() > p.ram_bytes || p.weight_bytes > p.flash_bytes) return false;
  }
  return true;
}

void fuse_bands(const QGraph& graph, const ClusterSpec& cluster, const CoordinatorSpec& coordinator,
                int64_t max_payload_bytes, std::vector<LayerPlan>& layers) {
  if (layers.size() < 2) return;
  double best =
      build_and_time(graph, cluster, coordinator, max_payload_bytes, layers).estimated_latency_s;
  for (size_t i = layers.size() - 1; i-- > 0;) {
    const auto& next = graph.layers[i + 1];
    const int tensor = graph.layers[i].output;
    if (layers[i].strategy != Strategy::Spatial || !spatial_like(layers[i + 1].strategy) ||
        next.inputs.size() != 1 || next.inputs[0] != tensor || reader_count(graph, tensor) != 1) {
      continue;
    }
    std::vector<LayerPlan> trial = layers;
    trial[i].strategy = Strategy::Fused;
    trial[i].boxes = fused_boxes(graph, static_cast<int>(i), trial[i + 1].boxes);
    if (trial[i].boxes.empty()) continue;
    const Plan plan = build_and_time(graph, cluster, coordinator, max_payload_bytes, trial);
    if (fits(plan) && plan.estimated_latency_s < best) {
      best = plan.estimated_latency_s;
      layers = std::move(trial);
    }
  }
}

}  // namespace mcusplit::plan
