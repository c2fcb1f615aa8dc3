#include "plan/checker_geometry.h"

#include <algorithm>
#include <cstddef>

namespace mcusplit::plan::checker {
namespace {

using core::Box;
using core::TensorShape3;
using quant::OpType;
using quant::QLayer;

std::vector<int32_t> range(int32_t begin, int32_t end) {
  std::vector<int32_t> v;
  for (int32_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

// Input positions along one axis that the windows of outputs [o0, o1) read:
// o * stride - pad + k * dilation for every tap k, keeping those inside
// [0, size) (the rest is padding, which reads nothing). Marked one by one so
// strides larger than the window leave their gaps.
std::vector<int32_t> window_axis(int32_t o0, int32_t o1, int32_t stride, int32_t pad,
                                 int32_t kernel, int32_t dilation, int32_t size) {
  std::vector<char> used(static_cast<size_t>(size), 0);
  for (int32_t o = o0; o < o1; ++o) {
    for (int32_t k = 0; k < kernel; ++k) {
      const int64_t i = int64_t{o} * stride - pad + int64_t{k} * dilation;
      if (i >= 0 && i < size) used[static_cast<size_t>(i)] = 1;
    }
  }
  std::vector<int32_t> v;
  for (int32_t i = 0; i < size; ++i) {
    if (used[static_cast<size_t>(i)] != 0) v.push_back(i);
  }
  return v;
}

InputNeed grid(std::vector<int32_t> cs, std::vector<int32_t> ys, std::vector<int32_t> xs) {
  InputNeed n;
  if (cs.empty() || ys.empty() || xs.empty()) return n;  // reads nothing
  n.cs = std::move(cs);
  n.ys = std::move(ys);
  n.xs = std::move(xs);
  return n;
}

InputNeed whole(const TensorShape3& s) {
  return grid(range(0, s.c), range(0, s.h), range(0, s.w));
}

InputNeed conv_need(const kernels::Int8ConvParams& p, const Box& o) {
  // Output channel oc belongs to group oc / (Cout / groups), which reads that
  // group's Cin / groups input channels.
  const int32_t out_per_group = p.output.c / p.groups;
  const int32_t in_per_group = p.input.c / p.groups;
  const int32_t first_group = o.c0 / out_per_group;
  const int32_t last_group = (o.c1 - 1) / out_per_group;
  return grid(range(first_group * in_per_group, (last_group + 1) * in_per_group),
              window_axis(o.y0, o.y1, p.stride_h, p.pad_top, p.kernel_h, p.dilation_h, p.input.h),
              window_axis(o.x0, o.x1, p.stride_w, p.pad_left, p.kernel_w, p.dilation_w, p.input.w));
}

InputNeed pool_need(const kernels::Int8PoolParams& p, const Box& o) {
  return grid(range(o.c0, o.c1),
              window_axis(o.y0, o.y1, p.stride_h, p.pad_top, p.kernel_h, 1, p.input.h),
              window_axis(o.x0, o.x1, p.stride_w, p.pad_left, p.kernel_w, 1, p.input.w));
}

InputNeed concat_need(const kernels::Int8ConcatParams& p, const Box& o) {
  // The input's element (c, y, x) lands at (c + offset_c, y + offset_y, x + offset_x).
  const Box shifted{o.c0 - p.offset_c, o.c1 - p.offset_c, o.y0 - p.offset_y,
                    o.y1 - p.offset_y, o.x0 - p.offset_x, o.x1 - p.offset_x};
  const Box in = core::intersect(shifted, core::full_box(p.input));
  if (in.empty()) return InputNeed{};
  return grid(range(in.c0, in.c1), range(in.y0, in.y1), range(in.x0, in.x1));
}

bool positive_window(int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t pt, int32_t pl) {
  return kh > 0 && kw > 0 && sh > 0 && sw > 0 && pt >= 0 && pl >= 0;
}

size_t expected_inputs(const QLayer& l) {
  if (l.op == OpType::Add) return 2;
  if (l.op == OpType::Concat) return std::max<size_t>(l.concat.size(), 1);
  return 1;
}

}  // namespace

std::string layer_geometry_problem(const quant::QGraph& g, const QLayer& l) {
  const auto valid = [&](int t) { return t >= 0 && static_cast<size_t>(t) < g.tensors.size(); };
  if (!valid(l.output)) return "output tensor index out of range";
  if (l.inputs.size() != expected_inputs(l)) return "wrong number of inputs";
  for (int t : l.inputs) {
    if (!valid(t)) return "input tensor index out of range";
  }
  const auto shape = [&](int t) { return g.tensors[static_cast<size_t>(t)].shape; };
  const TensorShape3 in = shape(l.inputs[0]);
  const TensorShape3 out = shape(l.output);
  switch (l.op) {
    case OpType::Conv: {
      const auto& p = l.conv;
      if (!(p.input == in && p.output == out)) return "conv params disagree with the tensors";
      if (!positive_window(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left) ||
          p.dilation_h <= 0 || p.dilation_w <= 0) {
        return "bad conv window";
      }
      if (p.groups <= 0 || in.c % p.groups != 0 || out.c % p.groups != 0) return "bad groups";
      return "";
    }
    case OpType::FullyConnected:
      if (l.fc.input_size != in.volume() || l.fc.output_size != out.volume() || out.h != 1 ||
          out.w != 1) {
        return "fully connected params disagree with the tensors";
      }
      return "";
    case OpType::Add:
      if (!(shape(l.inputs[1]) == out && in == out)) return "add inputs differ from the output";
      return "";
    case OpType::MaxPool:
    case OpType::AveragePool: {
      const auto& p = l.pool;
      if (!(p.input == in && p.output == out && in.c == out.c)) {
        return "pool params disagree with the tensors";
      }
      if (!positive_window(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left)) {
        return "bad pool window";
      }
      return "";
    }
    case OpType::GlobalAveragePool:
      if (!(l.global_pool.input == in && out == TensorShape3{in.c, 1, 1})) {
        return "global pool params disagree with the tensors";
      }
      return "";
    case OpType::Concat:
      for (size_t i = 0; i < l.inputs.size(); ++i) {
        const auto& p = l.concat[i];
        if (!(p.input == shape(l.inputs[i]) && p.output == out)) {
          return "concat params disagree with the tensors";
        }
        if (p.offset_c < 0 || p.offset_y < 0 || p.offset_x < 0 || p.offset_c + p.input.c > out.c ||
            p.offset_y + p.input.h > out.h || p.offset_x + p.input.w > out.w) {
          return "a concat input does not land inside the output";
        }
      }
      return "";
    case OpType::Reshape:
      if (in.volume() != out.volume()) return "reshape changes the element count";
      return "";
    case OpType::Softmax:
      if (!(l.softmax.shape == in && out == in)) return "softmax params disagree with the tensors";
      return "";
    case OpType::Pad: {
      const auto& p = l.pad;
      if (!(p.input == in && p.output == out)) return "pad params disagree with the tensors";
      if (p.pad_c < 0 || p.pad_top < 0 || p.pad_left < 0 || in.c + p.pad_c > out.c ||
          in.h + p.pad_top > out.h || in.w + p.pad_left > out.w) {
        return "the padded input does not lie inside the output";
      }
      return "";
    }
  }
  return "unknown operator";
}

std::vector<InputNeed> needed_inputs(const quant::QGraph& g, const QLayer& l, const Box& o) {
  std::vector<InputNeed> needs;
  if (o.empty()) {
    needs.resize(l.inputs.size());
    return needs;
  }
  const auto shape = [&](int t) { return g.tensors[static_cast<size_t>(t)].shape; };
  switch (l.op) {
    case OpType::Conv:
      needs.push_back(conv_need(l.conv, o));
      break;
    case OpType::FullyConnected:  // every neuron reads all K inputs
      needs.push_back(whole(shape(l.inputs[0])));
      break;
    case OpType::Add:  // elementwise
      needs.push_back(grid(range(o.c0, o.c1), range(o.y0, o.y1), range(o.x0, o.x1)));
      needs.push_back(needs.front());
      break;
    case OpType::MaxPool:
    case OpType::AveragePool:
      needs.push_back(pool_need(l.pool, o));
      break;
    case OpType::GlobalAveragePool: {
      const TensorShape3 in = shape(l.inputs[0]);
      needs.push_back(grid(range(o.c0, o.c1), range(0, in.h), range(0, in.w)));
      break;
    }
    case OpType::Concat:
      for (const auto& p : l.concat) needs.push_back(concat_need(p, o));
      break;
    case OpType::Softmax:  // every channel of the output box's pixels
      needs.push_back(grid(range(0, shape(l.inputs[0]).c), range(o.y0, o.y1), range(o.x0, o.x1)));
      break;
    case OpType::Pad: {
      // Output (c, y, x) copies input (c - pad_c, y - pad_top, x - pad_left)
      // where that exists; the rest is the fill value and reads nothing.
      const auto& p = l.pad;
      const TensorShape3 in = shape(l.inputs[0]);
      const auto clipped = [](int32_t lo, int32_t hi, int32_t shift, int32_t size) {
        return range(std::max(lo - shift, 0), std::min(hi - shift, size));
      };
      InputNeed n = grid(clipped(o.c0, o.c1, p.pad_c, in.c), clipped(o.y0, o.y1, p.pad_top, in.h),
                         clipped(o.x0, o.x1, p.pad_left, in.w));
      needs.push_back(n);
      break;
    }
    case OpType::Reshape: {
      InputNeed n;
      n.flat = true;
      n.out_box = o;
      needs.push_back(n);
      break;
    }
  }
  return needs;
}

Coord reshape_source(const TensorShape3& in, const TensorShape3& out, int32_t oc, int32_t oy,
                     int32_t ox) {
  const int64_t n = (int64_t{oy} * out.w + ox) * out.c + oc;
  Coord c;
  c.c = static_cast<int32_t>(n % in.c);
  c.x = static_cast<int32_t>((n / in.c) % in.w);
  c.y = static_cast<int32_t>(n / (int64_t{in.c} * in.w));
  return c;
}

Box need_bounds(const InputNeed& need, const TensorShape3& in, const TensorShape3& out) {
  if (!need.flat) {
    if (need.empty()) return Box{};
    return Box{need.cs.front(),    need.cs.back() + 1, need.ys.front(),
               need.ys.back() + 1, need.xs.front(),    need.xs.back() + 1};
  }
  const Box& o = need.out_box;
  if (o.empty()) return Box{};
  Box b{in.c, 0, in.h, 0, in.w, 0};
  for (int32_t y = o.y0; y < o.y1; ++y) {
    for (int32_t x = o.x0; x < o.x1; ++x) {
      for (int32_t c = o.c0; c < o.c1; ++c) {
        const Coord s = reshape_source(in, out, c, y, x);
        b.c0 = std::min(b.c0, s.c);
        b.c1 = std::max(b.c1, s.c + 1);
        b.y0 = std::min(b.y0, s.y);
        b.y1 = std::max(b.y1, s.y + 1);
        b.x0 = std::min(b.x0, s.x);
        b.x1 = std::max(b.x1, s.x + 1);
      }
    }
  }
  return b;
}

}  // namespace mcusplit::plan::checker
