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

std::vector<Box> run_tiles(const Box& box, int32_t tile_h, int32_t tile_w, bool column_major) {
  std::vector<Box> tiles;
  if (box.empty()) return tiles;
  const int32_t th = tile_h > 0 ? tile_h : box.height();
  const int32_t tw = tile_w > 0 ? tile_w : box.width();
  auto add = [&](int32_t y, int32_t x) {
    tiles.push_back(Box{box.c0, box.c1, y, std::min(y + th, box.y1), x, std::min(x + tw, box.x1)});
  };
  for (int32_t outer = column_major ? box.x0 : box.y0; outer < (column_major ? box.x1 : box.y1);
       outer += column_major ? tw : th) {
    for (int32_t inner = column_major ? box.y0 : box.x0; inner < (column_major ? box.y1 : box.x1);
         inner += column_major ? th : tw) {
      column_major ? add(inner, outer) : add(outer, inner);
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

namespace {

// `window` keeps `prev`'s channels and columns and does not move up: the
// rows they share are a box at the top of `window`, the rest one below it.
bool streams_from(const Box& prev, const Box& window) {
  return !prev.empty() && prev.c0 == window.c0 && prev.c1 == window.c1 && prev.x0 == window.x0 &&
         prev.x1 == window.x1 && prev.y0 <= window.y0 && prev.y1 <= window.y1;
}

}  // namespace

std::vector<std::vector<TileLayer>> run_schedule(const quant::QGraph& graph, int first, int last,
                                                 const Box& box, int32_t tile_h, int32_t tile_w,
                                                 bool stream_rows) {
  std::vector<std::vector<TileLayer>> schedule;
  std::vector<Box> previous(static_cast<size_t>(last - first + 1));
  for (const Box& tile : run_tiles(box, tile_h, tile_w, stream_rows)) {
    const std::vector<Box> windows = tile_boxes(graph, first, last, tile);
    std::vector<TileLayer>& ops = schedule.emplace_back();
    for (int j = first; j <= last; ++j) {
      const Box& window = windows[static_cast<size_t>(j - first)];
      if (window.empty()) continue;
      TileLayer t{j, window, Box{}, window};
      Box& prev = previous[static_cast<size_t>(j - first)];
      if (stream_rows && j < last && streams_from(prev, window)) {
        t.copy = core::intersect(prev, window);
        if (!t.copy.empty()) t.compute.y0 = t.copy.y1;
        if (t.compute.y0 >= t.compute.y1) t.compute = Box{};
      }
      prev = window;
      ops.push_back(t);
    }
  }
  return schedule;
}

RunFootprint run_footprint(const quant::QGraph& graph, int first, int last, const Box& box,
                           int32_t tile_h, int32_t tile_w, bool stream_rows) {
  RunFootprint f;
  f.output_bytes = box.volume();
  const auto schedule = run_schedule(graph, first, last, box, tile_h, tile_w, stream_rows);
  f.tiles = static_cast<int64_t>(schedule.size());

  // Replays the run's ops (a Copy then a Compute per tile layer) to find
  // each tile buffer's lifetime, as the plan builder would assign it. The
  // last layer writes the output box, counted apart.
  struct Buffer {
    int64_t bytes = 0;
    int first_op = 0;
    int last_op = 0;
  };
  std::vector<Buffer> buffers;
  std::vector<int64_t> scratch;  // per op
  std::vector<int> current(static_cast<size_t>(last - first + 1), -1);
  auto use = [&](int b, int op) {
    if (b >= 0) buffers[static_cast<size_t>(b)].last_op = op;
  };
  for (const auto& tile : schedule) {
    for (const TileLayer& t : tile) {
      const quant::QLayer& l = graph.layers[static_cast<size_t>(t.layer)];
      int& buffer = current[static_cast<size_t>(t.layer - first)];
      int fresh = -1;
      if (t.layer < last) {
        fresh = static_cast<int>(buffers.size());
        buffers.push_back({t.window.volume(), static_cast<int>(scratch.size()), 0});
        buffers.back().last_op = buffers.back().first_op;
      }
      if (!t.copy.empty()) {
        const int op = static_cast<int>(scratch.size());
        scratch.push_back(0);
        use(buffer, op);
        use(fresh, op);
        f.copied_bytes += t.copy.volume();
        f.work += copy_work(t.copy.volume());
      }
      buffer = fresh;
      if (t.compute.empty()) continue;
      const int op = static_cast<int>(scratch.size());
      scratch.push_back(box_scratch_bytes(l, t.compute));
      use(buffer, op);
      f.macs += box_macs(l, t.compute);
      f.work += box_work(l, t.compute);
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        const int m = run_producer(graph, first, t.layer, l.inputs[k]);
        if (m >= 0 && !required_box(graph, l, static_cast<int>(k), t.compute).empty()) {
          use(current[static_cast<size_t>(m - first)], op);
        }
      }
    }
  }
  std::vector<int64_t> delta(scratch.size() + 1, 0);  // live bytes change at each op
  for (const Buffer& b : buffers) {
    delta[static_cast<size_t>(b.first_op)] += b.bytes;
    delta[static_cast<size_t>(b.last_op) + 1] -= b.bytes;
  }
  int64_t live = 0;
  for (size_t op = 0; op < scratch.size(); ++op) {
    live += delta[op];
    f.tile_peak_bytes = std::max(f.tile_peak_bytes, live + scratch[op]);
  }
  for (const auto& [tensor, box_read] : run_inputs(graph, first, schedule)) {
    f.input_bytes += box_read.volume();
  }
  return f;
}

std::vector<std::pair<int, Box>> run_inputs(const quant::QGraph& graph, int first,
                                            const std::vector<std::vector<TileLayer>>& schedule) {
  std::vector<std::pair<int, Box>> inputs;
  for (const auto& tile : schedule) {
    for (const TileLayer& t : tile) {
      const quant::QLayer& l = graph.layers[static_cast<size_t>(t.layer)];
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        if (run_producer(graph, first, t.layer, l.inputs[k]) >= 0) continue;
        const Box need = required_box(graph, l, static_cast<int>(k), t.compute);
        if (need.empty()) continue;
        auto it = std::find_if(inputs.begin(), inputs.end(),
                               [&](const auto& e) { return e.first == l.inputs[k]; });
        if (it == inputs.end()) {
          inputs.emplace_back(l.inputs[k], need);
        } else {
          it->second = bounding_box(it->second, need);
        }
      }
    }
  }
  return inputs;
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
