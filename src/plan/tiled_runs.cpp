#include "plan/tiled_runs.h"

#include <algorithm>

#include "plan/box_algebra.h"
#include "plan/layer_geometry.h"

namespace mcusplit::plan {

using core::Box;

int run_first_layer(const std::vector<LayerPlan>& layers, int last) {
  int first = last;
  while (first > 0 && layers[static_cast<size_t>(first) - 1].strategy == Strategy::Tiled) --first;
  return first;
}

bool is_tiled_run_end(const std::vector<LayerPlan>& layers, int i) {
  const LayerPlan& lp = layers[static_cast<size_t>(i)];
  if (lp.strategy == Strategy::Tiled) return false;
  return run_first_layer(layers, i) < i || lp.tile_h > 0 || lp.tile_w > 0;
}

int run_producer(const quant::QGraph& graph, int first, int before, int tensor) {
  for (int m = first; m < before; ++m) {
    if (graph.layers[static_cast<size_t>(m)].output == tensor) return m;
  }
  return -1;
}

std::vector<Box> run_tiles(const Box& box, int32_t tile_h, int32_t tile_w) {
  std::vector<Box> tiles;
  if (box.empty()) return tiles;
  const int32_t th = tile_h > 0 ? tile_h : box.height();
  const int32_t tw = tile_w > 0 ? tile_w : box.width();
  for (int32_t y = box.y0; y < box.y1; y += th) {
    for (int32_t x = box.x0; x < box.x1; x += tw) {
      tiles.push_back(
          Box{box.c0, box.c1, y, std::min(y + th, box.y1), x, std::min(x + tw, box.x1)});
    }
  }
  return tiles;
}

std::vector<Box> tile_boxes(const quant::QGraph& graph, int first, int last, const Box& tile) {
  std::vector<Box> boxes(static_cast<size_t>(last - first + 1));
  boxes.back() = tile;
  for (int j = last; j > first; --j) {
    const quant::QLayer& reader = graph.layers[static_cast<size_t>(j)];
    const Box& out = boxes[static_cast<size_t>(j - first)];
    if (out.empty()) continue;
    for (size_t k = 0; k < reader.inputs.size(); ++k) {
      const int i = run_producer(graph, first, j, reader.inputs[k]);
      if (i < 0) continue;
      Box& b = boxes[static_cast<size_t>(i - first)];
      b = bounding_box(b, required_box(graph, reader, static_cast<int>(k), out));
    }
  }
  return boxes;
}

void set_tiled_boxes(const quant::QGraph& graph, std::vector<LayerPlan>& layers) {
  for (int last = 0; last < static_cast<int>(layers.size()); ++last) {
    if (!is_tiled_run_end(layers, last)) continue;
    const int first = run_first_layer(layers, last);
    const LayerPlan& end = layers[static_cast<size_t>(last)];
    for (int j = first; j < last; ++j) {
      layers[static_cast<size_t>(j)].boxes.assign(end.boxes.size(), Box{});
    }
    for (size_t p = 0; p < end.boxes.size(); ++p) {
      for (const Box& tile : run_tiles(end.boxes[p], end.tile_h, end.tile_w)) {
        const std::vector<Box> boxes = tile_boxes(graph, first, last, tile);
        for (int j = first; j < last; ++j) {
          Box& b = layers[static_cast<size_t>(j)].boxes[p];
          b = bounding_box(b, boxes[static_cast<size_t>(j - first)]);
        }
      }
    }
  }
}

RunFootprint run_footprint(const quant::QGraph& graph, int first, int last, const Box& box,
                           int32_t tile_h, int32_t tile_w) {
  RunFootprint f;
  f.output_bytes = box.volume();
  const size_t n = static_cast<size_t>(last - first + 1);
  std::vector<std::pair<int, Box>> inputs;  // tensor, bounding box over tiles
  for (const Box& tile : run_tiles(box, tile_h, tile_w)) {
    ++f.tiles;
    const std::vector<Box> boxes = tile_boxes(graph, first, last, tile);
    // The last op of the tile that reads each layer's tile buffer.
    std::vector<size_t> last_read(n, 0);
    for (size_t j = 0; j < n; ++j) {
      const quant::QLayer& l = graph.layers[static_cast<size_t>(first) + j];
      if (boxes[j].empty()) continue;
      f.macs += box_macs(l, boxes[j]);
      f.work += box_work(l, boxes[j]);
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        const Box need = required_box(graph, l, static_cast<int>(k), boxes[j]);
        if (need.empty()) continue;
        const int m = run_producer(graph, first, first + static_cast<int>(j), l.inputs[k]);
        if (m >= 0) {
          last_read[static_cast<size_t>(m - first)] = j;
          continue;
        }
        auto it = std::find_if(inputs.begin(), inputs.end(),
                               [&](const auto& e) { return e.first == l.inputs[k]; });
        if (it == inputs.end()) {
          inputs.emplace_back(l.inputs[k], need);
        } else {
          it->second = bounding_box(it->second, need);
        }
      }
    }
    for (size_t j = 0; j < n; ++j) {
      if (boxes[j].empty()) continue;
      int64_t live = box_scratch_bytes(graph.layers[static_cast<size_t>(first) + j], boxes[j]);
      for (size_t m = 0; m < j; ++m) {
        if (!boxes[m].empty() && last_read[m] >= j) live += boxes[m].volume();
      }
      if (j + 1 < n) live += boxes[j].volume();  // the last layer writes the output box
      f.tile_peak_bytes = std::max(f.tile_peak_bytes, live);
    }
  }
  for (const auto& e : inputs) f.input_bytes += e.second.volume();
  return f;
}

std::string run_problem(const quant::QGraph& graph, int first, int last) {
  if (first < 0 || first > last || last >= static_cast<int>(graph.layers.size())) {
    return "the run's layers are out of range";
  }
  for (int i = first; i < last; ++i) {
    const int t = graph.layers[static_cast<size_t>(i)].output;
    const std::string& name = graph.layers[static_cast<size_t>(i)].name;
    if (t == graph.output) return "layer '" + name + "' inside the run produces the graph output";
    for (size_t j = static_cast<size_t>(last) + 1; j < graph.layers.size(); ++j) {
      const auto& in = graph.layers[j].inputs;
      if (std::find(in.begin(), in.end(), t) != in.end()) {
        return "layer '" + name + "' inside the run is read by layer '" + graph.layers[j].name +
               "' after it";
      }
    }
  }
  return "";
}

}  // namespace mcusplit::plan
