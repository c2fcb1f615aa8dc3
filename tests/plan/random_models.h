// Random small int8 CNNs and random clusters for planner tests: the same seed
// always gives the same graph or cluster. Graphs mix plain, strided,
// dilated, depthwise and grouped convolutions, residual Adds, branches
// joined by Concat, pools, and global-pool / flatten / fully connected heads;
// they pass quant::validate_qgraph. Clusters have 1..16 devices from the
// built-in profiles with random RAM (and sometimes flash) budgets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/device_runtime_ram.h"
#include "plan/cluster.h"
#include "plan/device_namer.h"
#include "plan/device_profiles.h"
#include "quant/qgraph.h"
#include "quant/qgraph_builder.h"

namespace mcusplit::plan::testing {

namespace random_models_detail {

class CnnGenerator {
 public:
  explicit CnnGenerator(uint32_t seed) : rng_(seed), b_(seed ^ 0x9e3779b9u) {}

  quant::QGraph build() {
    const int32_t h = uniform(8, 40);
    const int32_t w = chance(3) ? uniform(8, 40) : h;  // mostly square
    const core::TensorShape3 in{uniform(1, 16), h, w};
    const int input = track(b_.input(in), in);
    int t = input;
    const int blocks = uniform(1, 6);
    for (int i = 0; i < blocks; ++i) t = block(t);
    if (t == input) t = random_conv(t);  // every block fell through: at least one layer
    t = head(t);
    quant::QGraph g = b_.finish(t);
    finish(g);
    return g;
  }

 private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int one_in) { return uniform(1, one_in) == 1; }
  template <typename T>
  T pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(uniform(0, static_cast<int>(v.size()) - 1))];
  }

  core::TensorShape3 shape(int t) const { return shapes_.at(static_cast<size_t>(t)); }
  int track(int t, const core::TensorShape3& s) {
    shapes_.resize(std::max(shapes_.size(), static_cast<size_t>(t) + 1));
    shapes_[static_cast<size_t>(t)] = s;
    return t;
  }
  static int32_t out_dim(int32_t in, int kernel, int stride, int pad) {
    return (in + 2 * pad - kernel) / stride + 1;
  }

  // Conv that keeps track of the output shape (the builder does not expose it).
  int conv(int in, int out_c, int kernel, int stride, int pad, int groups, bool relu) {
    const core::TensorShape3 s = shape(in);
    const int t = b_.conv(in, out_c, kernel, stride, pad, groups, relu);
    return track(t, core::TensorShape3{out_c, out_dim(s.h, kernel, stride, pad),
                                       out_dim(s.w, kernel, stride, pad)});
  }

  // A random convolution: 1x1, 3x3 or 5x5 (never larger than the input with
  // padding), stride 1 or 2, normal, depthwise (with a depth multiplier) or
  // grouped; sometimes dilated.
  int random_conv(int in) {
    const core::TensorShape3 s = shape(in);
    const int32_t small = std::min(s.h, s.w);
    int kernel = pick<int>({1, 1, 3, 3, 3, 5});
    if (kernel == 5 && small < 5) kernel = 3;
    int pad = kernel / 2;
    if (kernel > 1 && chance(4)) pad = 0;  // "valid" convolution
    if (pad == 0 && small < kernel) pad = kernel / 2;
    const int stride = small >= 4 && chance(3) ? 2 : 1;
    const bool relu = !chance(3);
    const int kind = uniform(0, 5);
    if (kind == 0) {  // depthwise, depth multiplier 1 or 2
      return conv(in, s.c * (chance(4) ? 2 : 1), kernel, stride, pad, s.c, relu);
    }
    if (kind == 1) {  // grouped: a divisor of the input channels
      std::vector<int> divisors;
      for (int g = 2; g <= s.c; ++g) {
        if (s.c % g == 0) divisors.push_back(g);
      }
      if (!divisors.empty()) {
        const int groups = pick(divisors);
        return conv(in, groups * uniform(1, std::max(1, 24 / groups)), kernel, stride, pad, groups,
                    relu);
      }
    }
    if (kind == 2 && kernel == 3 && stride == 1 && pad == 1 && small >= 5) {
      // Dilation 2 with padding 2 keeps the size of a padded 3x3; the layer is
      // patched after the builder made it as a plain 3x3.
      const int t = conv(in, uniform(1, 24), 3, 1, 1, 1, relu);
      dilated_.push_back(t);
      return t;
    }
    return conv(in, uniform(1, 24), kernel, stride, pad, 1, relu);
  }

  // A 1x1 conv then a depthwise 3x3 (stride 1) added back onto the input.
  int residual(int in) {
    const core::TensorShape3 s = shape(in);
    int t = conv(in, uniform(1, 24), 1, 1, 0, 1, true);
    t = conv(t, shape(t).c, 3, 1, 1, shape(t).c, true);
    t = conv(t, s.c, 1, 1, 0, 1, false);
    return track(b_.add(in, t, chance(2)), s);
  }

  // Two or three same-size branches (convs, a pool, or the input itself) concatenated.
  int branches(int in) {
    const core::TensorShape3 s = shape(in);
    std::vector<int> outs;
    const int n = uniform(2, 3);
    bool identity = false;
    for (int i = 0; i < n; ++i) {
      const int kind = uniform(0, 3);
      if (kind == 0 && s.h >= 3 && s.w >= 3) {
        outs.push_back(track(b_.pool(quant::OpType::MaxPool, in, 3, 1, 1), s));
      } else if (kind == 1 && i > 0 && !identity) {
        identity = true;
        outs.push_back(in);
      } else {
        const int kernel = pick<int>({1, 3});
        outs.push_back(conv(in, uniform(1, 12), kernel, 1, kernel / 2, 1, true));
      }
    }
    core::TensorShape3 os = s;
    os.c = 0;
    for (int t : outs) os.c += shape(t).c;
    return track(b_.concat(outs), os);
  }

  int pool(int in) {
    const core::TensorShape3 s = shape(in);
    const auto op = chance(2) ? quant::OpType::MaxPool : quant::OpType::AveragePool;
    int kernel = 2;
    int stride = 2;
    int pad = 0;
    if (chance(2)) {  // 3x3 with padding 1: windows straddle the border
      kernel = 3;
      stride = pick<int>({1, 2});
      pad = 1;
    }
    if (std::min(s.h, s.w) < kernel) return in;
    return track(b_.pool(op, in, kernel, stride, pad),
                 core::TensorShape3{s.c, out_dim(s.h, kernel, stride, pad),
                                    out_dim(s.w, kernel, stride, pad)});
  }

  int block(int in) {
    switch (uniform(0, 5)) {
      case 0:
        return residual(in);
      case 1:
        return branches(in);
      case 2:
        return pool(in);
      default: {
        int t = in;
        const int n = uniform(1, 3);
        for (int i = 0; i < n; ++i) t = random_conv(t);
        return t;
      }
    }
  }

  int head(int in) {
    const core::TensorShape3 s = shape(in);
    switch (uniform(0, 3)) {
      case 0:  // end on a feature map
        return in;
      case 1: {  // global average pool, maybe flattened, then fully connected
        int t = track(b_.global_average_pool(in), core::TensorShape3{s.c, 1, 1});
        if (chance(2)) t = track(b_.reshape(t, shape(t)), shape(t));
        return fc(t, uniform(2, 16));
      }
      case 2: {  // global average pool alone
        return track(b_.global_average_pool(in), core::TensorShape3{s.c, 1, 1});
      }
      default: {  // pool down, flatten the map (NHWC order), one or two fully connected layers
        int t = in;
        while (shape(t).volume() > 600 && std::min(shape(t).h, shape(t).w) >= 2) {
          t = track(b_.pool(quant::OpType::MaxPool, t, 2, 2, 0),
                    core::TensorShape3{shape(t).c, shape(t).h / 2, shape(t).w / 2});
        }
        const core::TensorShape3 flat{shape(t).volume(), 1, 1};
        t = track(b_.reshape(t, flat), flat);
        if (chance(2)) t = fc(t, uniform(4, 32));
        return fc(t, uniform(2, 10));
      }
    }
  }

  int fc(int in, int outputs) {
    return track(b_.fully_connected(in, outputs), core::TensorShape3{outputs, 1, 1});
  }

  // What the builder leaves out but the quantizer sets: the weight slice of
  // the graph layers (all channels), and the dilated convolutions' patch.
  void finish(quant::QGraph& g) const {
    for (quant::QLayer& l : g.layers) {
      if (l.op == quant::OpType::Conv) {
        l.conv.weights_c0 = 0;
        l.conv.weights_c1 = l.conv.output.c;
        if (std::find(dilated_.begin(), dilated_.end(), l.output) != dilated_.end()) {
          l.conv.dilation_h = l.conv.dilation_w = 2;
          l.conv.pad_top = l.conv.pad_left = 2;
        }
      } else if (l.op == quant::OpType::FullyConnected) {
        l.fc.weights_n0 = 0;
        l.fc.weights_n1 = l.fc.output_size;
      }
    }
    g.source_model = "random_cnn";
  }

  std::mt19937 rng_;
  mcusplit::testing::QGraphBuilder b_;
  std::vector<core::TensorShape3> shapes_;
  std::vector<int> dilated_;
};

}  // namespace random_models_detail

// A random small int8 CNN (input 8..40 pixels, 1..16 channels, up to a few
// dozen layers), deterministic per seed.
inline quant::QGraph random_cnn(uint32_t seed) {
  return random_models_detail::CnnGenerator(seed).build();
}

// A random cluster of 1..16 devices (mostly small ones), all of one built-in
// profile or a mix, with random RAM budgets (whole RAM: the runtime's share
// plus 8 KiB to 512 KiB for the arena, at most the profile's RAM),
// sometimes a small flash budget, and a random topology. Passes
// validate_cluster.
inline ClusterSpec random_cluster(uint32_t seed) {
  std::mt19937 rng(seed);
  const auto uniform = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  const std::span<const DeviceProfile> profiles = device_profiles();
  const auto random_profile = [&]() -> const DeviceProfile& {
    return profiles[static_cast<size_t>(uniform(0, static_cast<int>(profiles.size()) - 1))];
  };
  const auto random_ram = [&](const DeviceProfile& p) -> int64_t {
    static constexpr int64_t kKiB[] = {8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512};
    if (uniform(0, 3) == 0) return p.ram_bytes;
    return std::min(p.ram_bytes, core::kDeviceRuntimeRamBytes + kKiB[uniform(0, 11)] * 1024);
  };

  ClusterSpec c;
  const Topology topologies[] = {Topology::Switched, Topology::Star, Topology::Bus};
  c.topology = topologies[uniform(0, 2)];
  const int count = uniform(0, 2) == 0 ? uniform(1, 16) : uniform(1, 5);
  const bool homogeneous = uniform(0, 1) == 0;
  const DeviceProfile& common = random_profile();
  const int64_t common_ram = random_ram(common);
  const bool small_flash = uniform(0, 7) == 0;
  DeviceNamer namer;
  for (int i = 0; i < count; ++i) {
    const DeviceProfile& p = homogeneous ? common : random_profile();
    DeviceSpec d = device_from_profile(p, namer.next(p.name));
    d.ram_bytes = homogeneous ? common_ram : random_ram(p);
    if (small_flash) d.flash_bytes = int64_t{uniform(4, 64)} * 1024;
    c.devices.push_back(d);
  }
  return c;
}

}  // namespace mcusplit::plan::testing
