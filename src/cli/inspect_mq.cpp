#include "cli/inspect_mq.h"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/mq_model.h"
#include "quant/arena_plan.h"
#include "quant/mq_format.h"

namespace mcusplit::cli {
namespace {

struct MqLayerRow {
  std::string name, op;
  model::Dims output_shape;
  int64_t macs = 0;
  int64_t weight_bytes = 0;  // weights, bias and requantization arrays (flash)
  int64_t io_bytes = 0;      // distinct int8 inputs + output
};

struct MqStats {
  std::vector<MqLayerRow> layers;
  int64_t macs = 0;
  int64_t flash_bytes = 0;
  int64_t peak_io_bytes = 0;
  int64_t arena_bytes = 0;
};

MqStats compute_mq_stats(const quant::QGraph& g) {
  MqStats s;
  for (const quant::QLayer& l : g.layers) {
    MqLayerRow row;
    row.name = l.name;
    row.op = quant::op_type_name(l.op);
    const quant::QTensor& out = g.tensors[static_cast<size_t>(l.output)];
    row.output_shape = onnx_dims(out.shape);
    row.macs = quant::layer_macs(g, l);
    row.weight_bytes = l.constant_bytes();
    row.io_bytes = out.bytes();
    for (int t : std::set<int>(l.inputs.begin(), l.inputs.end())) {
      row.io_bytes += g.tensors[static_cast<size_t>(t)].bytes();
    }
    s.macs += row.macs;
    s.flash_bytes += row.weight_bytes;
    s.peak_io_bytes = std::max(s.peak_io_bytes, row.io_bytes);
    s.layers.push_back(std::move(row));
  }
  s.arena_bytes = quant::plan_arena(g).arena_bytes();
  return s;
}

void print_table(const MqStats& s) {
  size_t name_width = 5;
  for (const auto& l : s.layers) name_width = std::max(name_width, l.name.size());
  fmt::print("{:<{}} {:<18} {:<20} {:>13} {:>12} {:>11}\n", "layer", name_width, "op", "output",
             "MACs", "weight B", "io int8 B");
  for (const auto& l : s.layers) {
    fmt::print("{:<{}} {:<18} {:<20} {:>13} {:>12} {:>11}\n", l.name, name_width, l.op,
               model::dims_to_string(l.output_shape), l.macs, l.weight_bytes, l.io_bytes);
  }
  fmt::print("\nlayers: {}\n", s.layers.size());
  fmt::print("MACs: {}\n", s.macs);
  fmt::print("flash (weights, bias, requantization): {} bytes\n", s.flash_bytes);
  fmt::print("peak layer input+output (int8): {} bytes\n", s.peak_io_bytes);
  fmt::print("arena (one device, planned): {} bytes\n", s.arena_bytes);
}

nlohmann::json to_json(const MqStats& s) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : s.layers) {
    layers.push_back({{"name", l.name},
                      {"op", l.op},
                      {"output_shape", l.output_shape},
                      {"macs", l.macs},
                      {"weight_bytes", l.weight_bytes},
                      {"io_bytes_int8", l.io_bytes}});
  }
  return {{"layers", layers},
          {"macs", s.macs},
          {"flash_bytes", s.flash_bytes},
          {"peak_layer_io_bytes_int8", s.peak_io_bytes},
          {"arena_bytes", s.arena_bytes}};
}

}  // namespace

void inspect_mq(const std::string& path, bool json) {
  const MqStats stats = compute_mq_stats(read_int8_model(path));
  if (json) {
    fmt::print("{}\n", to_json(stats).dump(2));
  } else {
    print_table(stats);
  }
}

}  // namespace mcusplit::cli
