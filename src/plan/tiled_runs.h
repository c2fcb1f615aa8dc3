// Tiled runs (plan.h, LayerPlan): which layers form a run, the tiles of a
// participant's box of the run's last layer, and the box every layer of the
// run computes for one tile, MCUNetV2's patch-based inference generalised to
// any run of layers and any box.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/box.h"
#include "plan/plan.h"
#include "quant/qgraph.h"

namespace mcusplit::plan {

// The first layer of the run that ends at `last` (`last` itself if the layer
// before it is not Tiled).
int run_first_layer(const std::vector<LayerPlan>& layers, int last);

// True if layer `i` is the last layer of a run with at least one Tiled layer
// or computes its box in more than one tile.
bool is_tiled_run_end(const std::vector<LayerPlan>& layers, int i);

// The layer in [first, before) that produces `tensor`, or -1: inside a run,
// where a layer's input comes from.
int run_producer(const quant::QGraph& graph, int first, int before, int tensor);

// `box` cut into tiles of tile_h x tile_w pixels (0: the whole height or
// width), row-major, or column-major (down each column of tiles) for a run
// whose rows are streamed; every tile has all of the box's channels. The
// last tile of a row or column takes what is left.
std::vector<core::Box> run_tiles(const core::Box& box, int32_t tile_h, int32_t tile_w,
                                 bool column_major = false);

// For one tile of the run [first, last]: the box each layer computes
// (index j - first), from the last layer back: what the run's later layers
// read of its output. Empty boxes compute nothing.
std::vector<core::Box> tile_boxes(const quant::QGraph& graph, int first, int last,
                                  const core::Box& tile);

// What layer `layer` of a run does for one tile: its buffer holds `window`
// (what the run's later layers read of it in this tile); with rows streamed
// it first copies `copy` (the rows it shares with its previous tile's
// window) from that tile's buffer, then computes `compute`, the rest.
// Without streaming `compute` is the whole window (halos recomputed).
struct TileLayer {
  int layer = -1;
  core::Box window;
  core::Box copy;
  core::Box compute;
};

// A participant's run [first, last] over `box`, tile by tile (run_tiles),
// each tile's layers in order, skipping layers with nothing to do. With
// `stream_rows` (tiles down each column of tiles) a Tiled layer whose
// window keeps its channels and columns and moves down copies the rows it
// shares with its previous window instead of recomputing them (halos across
// columns are still recomputed); the last layer's windows never overlap.
std::vector<std::vector<TileLayer>> run_schedule(const quant::QGraph& graph, int first, int last,
                                                 const core::Box& box, int32_t tile_h,
                                                 int32_t tile_w, bool stream_rows);

// The tensors a run's schedule reads from outside the run (produced before
// it), each with the bounding box of what its computes read of it.
std::vector<std::pair<int, core::Box>> run_inputs(
    const quant::QGraph& graph, int first, const std::vector<std::vector<TileLayer>>& schedule);

// Sets every Tiled layer's boxes: per participant the bounding box of what
// its tiles compute of that layer.
void set_tiled_boxes(const quant::QGraph& graph, std::vector<LayerPlan>& layers);

// What computing `box` of layer `last` as the run [first, last] in tiles of
// tile_h x tile_w (rows streamed or not) costs one participant, before a
// plan is built: the bytes of the run's inputs it reads (per tensor the
// bounding box over tiles), of its output box, the most bytes of the run's
// tile buffers and kernel scratch live at any op (streamed windows live on
// into the next tile), and the MACs and work of every op (recomputed halos
// and copied rows included).
struct RunFootprint {
  int64_t input_bytes = 0;
  int64_t output_bytes = 0;
  int64_t tile_peak_bytes = 0;
  int64_t macs = 0;
  int64_t work = 0;
  int64_t tiles = 0;
  int64_t copied_bytes = 0;
  int64_t working_set() const { return input_bytes + output_bytes + tile_peak_bytes; }
};
RunFootprint run_footprint(const quant::QGraph& graph, int first, int last, const core::Box& box,
                           int32_t tile_h, int32_t tile_w, bool stream_rows);

// Why the run [first, last] cannot be tiled (a tensor a Tiled layer produces
// is read after the run or is the graph output, the run is empty), or "".
std::string run_problem(const quant::QGraph& graph, int first, int last);

}  // namespace mcusplit::plan
