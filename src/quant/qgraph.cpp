#include "quant/qgraph.h"

#include <algorithm>
#include <cmath>

#include "quant/layout.h"

namespace mcusplit::quant {

int64_t layer_macs(const QGraph& g, const QLayer& l) {
  return l.record().macs(l.view(), core::full_box(g.tensors[static_cast<size_t>(l.output)].shape));
}

int64_t QLayer::constant_bytes() const {
  return static_cast<int64_t>(weights.size() +
                              4 * (bias.size() + multiplier.size() + shift.size()));
}

std::vector<int8_t> quantize_input(const QGraph& g, const std::vector<float>& nchw) {
  const QTensor& t = g.tensors[static_cast<size_t>(g.input)];
  const auto [c, h, w] = t.shape;
  std::vector<int8_t> q(static_cast<size_t>(t.bytes()));
  for (int32_t ci = 0; ci < c; ++ci) {
    for (int32_t y = 0; y < h; ++y) {
      for (int32_t x = 0; x < w; ++x) {
        const float v = nchw[(static_cast<size_t>(ci) * h + y) * w + x];
        const long r = std::lround(v / t.quant.scale) + t.quant.zero_point;
        q[(static_cast<size_t>(y) * w + x) * c + ci] =
            static_cast<int8_t>(std::clamp(r, -128L, 127L));
      }
    }
  }
  return q;
}

std::vector<float> dequantize_output(const QGraph& g, const std::vector<int8_t>& nhwc) {
  const QTensor& t = g.tensors[static_cast<size_t>(g.output)];
  const std::vector<int8_t> nchw = nhwc_to_nchw(t.shape, nhwc);
  std::vector<float> out(nchw.size());
  for (size_t i = 0; i < nchw.size(); ++i) {
    out[i] = t.quant.scale * static_cast<float>(nchw[i] - t.quant.zero_point);
  }
  return out;
}

}  // namespace mcusplit::quant
