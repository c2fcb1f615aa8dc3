#include "model/zoo_mobilenetv2.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"

namespace mcusplit::model {
namespace {

constexpr int64_t kRoundNearest = 8;  // torchvision's round_nearest
constexpr int64_t kFirstChannels = 32;
constexpr int64_t kLastChannels = 1280;
constexpr float kBatchNormEpsilon = 1e-5f;
constexpr float kBatchNormMomentum = 0.9f;  // what PyTorch writes for momentum=0.1

struct BlockSetting {
  int64_t expand_ratio, channels, repeats, stride;  // t, c, n, s
};
constexpr std::array<BlockSetting, 7> kBlockSettings{{
    {1, 16, 1, 1},
    {6, 24, 2, 2},
    {6, 32, 3, 2},
    {6, 64, 4, 2},
    {6, 96, 3, 1},
    {6, 160, 3, 2},
    {6, 320, 1, 1},
}};

// splitmix64: tiny, fast, and fully specified, so a seed gives the same
// weights on every platform and library version (std:: distributions do not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed ^ 0x6d6f62696c656e32ull) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // In [0, 1), from the top 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Box-Muller; one value per call keeps the stream simple.
  double normal(double mean, double stddev) {
    const double u1 = 1.0 - uniform();  // (0, 1], so log() is finite
    const double u2 = uniform();
    const double pi = 3.14159265358979323846;
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * pi * u2);
  }

 private:
  uint64_t state_;
};

// The width as Python would see it when typed: 0.35f becomes 0.35, not
// 0.3499999940..., so channel rounding matches torchvision exactly.
double width_as_decimal(float width) {
  std::array<char, 32> text{};
  auto written = std::to_chars(text.data(), text.data() + text.size(), width);
  double value = width;
  std::from_chars(text.data(), written.ptr, value);
  return value;
}

// "features.2.conv.1.0" -> "/features/features.2/conv/conv.1/conv.1.0", the
// scope PyTorch's exporter gives nodes of that module.
std::string node_scope(const std::string& module_path) {
  std::string scope, current;
  size_t start = 0;
  while (start <= module_path.size()) {
    size_t dot = module_path.find('.', start);
    if (dot == std::string::npos) dot = module_path.size();
    const std::string part = module_path.substr(start, dot - start);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    current = numeric && !current.empty() ? current + "." + part : part;
    scope += "/" + current;
    start = dot + 1;
  }
  return scope;
}

void add_ints_attribute(onnx::NodeProto& node, const std::string& name,
                        const std::vector<int64_t>& values) {
  onnx::AttributeProto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) attr->add_ints(v);
}

void add_int_attribute(onnx::NodeProto& node, const std::string& name, int64_t value) {
  onnx::AttributeProto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::INT);
  attr->set_i(value);
}

void add_float_attribute(onnx::NodeProto& node, const std::string& name, float value) {
  onnx::AttributeProto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::FLOAT);
  attr->set_f(value);
}

void set_tensor_type(onnx::ValueInfoProto& info, const std::string& name,
                     const std::vector<int64_t>& dims) {
  info.set_name(name);
  onnx::TypeProto_Tensor* type = info.mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) type->mutable_shape()->add_dim()->set_dim_value(d);
}

// Appends nodes and seeded initializers to a GraphProto, in the order
// torchvision's forward() visits the modules (which fixes the weight stream).
class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& graph, uint64_t seed) : graph_(graph), rng_(seed) {
    add_initializer(kClipMin, {}, {0.0f});
    add_initializer(kClipMax, {}, {6.0f});
  }

  std::string conv(const std::string& module, const std::string& input, int64_t in_channels,
                   int64_t out_channels, int64_t kernel, int64_t stride, int64_t group,
                   double gain) {
    const int64_t fan_in = in_channels / group * kernel * kernel;
    const double stddev = gain * std::sqrt(2.0 / static_cast<double>(fan_in));
    const std::string weight = module + ".weight";
    add_initializer(weight, {out_channels, in_channels / group, kernel, kernel},
                    normal_values(out_channels * fan_in, 0.0, stddev));
    onnx::NodeProto& node = add_node("Conv", module, {input, weight});
    const int64_t pad = (kernel - 1) / 2;
    add_ints_attribute(node, "dilations", {1, 1});
    add_int_attribute(node, "group", group);
    add_ints_attribute(node, "kernel_shape", {kernel, kernel});
    add_ints_attribute(node, "pads", {pad, pad, pad, pad});
    add_ints_attribute(node, "strides", {stride, stride});
    return node.output(0);
  }

  // Non-trivial statistics so that folding BN into the conv is really tested.
  std::string batch_norm(const std::string& module, const std::string& input, int64_t channels) {
    const std::string names[4] = {module + ".weight", module + ".bias", module + ".running_mean",
                                  module + ".running_var"};
    add_initializer(names[0], {channels}, uniform_values(channels, 0.5, 1.5));
    add_initializer(names[1], {channels}, normal_values(channels, 0.0, 0.1));
    add_initializer(names[2], {channels}, normal_values(channels, 0.0, 0.1));
    add_initializer(names[3], {channels}, uniform_values(channels, 0.5, 2.0));
    onnx::NodeProto& node =
        add_node("BatchNormalization", module, {input, names[0], names[1], names[2], names[3]});
    add_float_attribute(node, "epsilon", kBatchNormEpsilon);
    add_float_attribute(node, "momentum", kBatchNormMomentum);
    return node.output(0);
  }

  // nn.ReLU6, which opset >= 11 exports as Clip with min/max inputs.
  std::string relu6(const std::string& module, const std::string& input) {
    return add_node("Clip", module, {input, kClipMin, kClipMax}).output(0);
  }

  std::string add(const std::string& module, const std::string& a, const std::string& b) {
    return add_node("Add", module, {a, b}).output(0);
  }

  std::string global_average_pool(const std::string& input) {
    return add_node("GlobalAveragePool", "", {input}).output(0);
  }

  std::string flatten(const std::string& input) {
    onnx::NodeProto& node = add_node("Flatten", "", {input});
    add_int_attribute(node, "axis", 1);
    return node.output(0);
  }

  // nn.Linear: y = x W^T + b.
  void gemm(const std::string& module, const std::string& input, int64_t in_features,
            int64_t out_features, const std::string& output) {
    const std::string weight = module + ".weight", bias = module + ".bias";
    const double stddev = 1.0 / std::sqrt(static_cast<double>(in_features));
    add_initializer(weight, {out_features, in_features},
                    normal_values(out_features * in_features, 0.0, stddev));
    add_initializer(bias, {out_features}, normal_values(out_features, 0.0, 0.01));
    onnx::NodeProto& node = add_node("Gemm", module, {input, weight, bias});
    add_float_attribute(node, "alpha", 1.0f);
    add_float_attribute(node, "beta", 1.0f);
    add_int_attribute(node, "transB", 1);
    node.set_output(0, output);
  }

 private:
  static constexpr const char* kClipMin = "clip_min";
  static constexpr const char* kClipMax = "clip_max";

  onnx::NodeProto& add_node(const std::string& op, const std::string& module,
                            const std::vector<std::string>& inputs) {
    onnx::NodeProto* node = graph_.add_node();
    const std::string name = (module.empty() ? "" : node_scope(module)) + "/" + op;
    node->set_name(name);
    node->set_op_type(op);
    for (const std::string& input : inputs) node->add_input(input);
    node->add_output(name + "_output_0");
    return *node;
  }

  // Raw little-endian floats, as PyTorch stores initializers.
  void add_initializer(const std::string& name, const std::vector<int64_t>& dims,
                       const std::vector<float>& values) {
    static_assert(std::endian::native == std::endian::little, "raw_data is little-endian");
    onnx::TensorProto* tensor = graph_.add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) tensor->add_dims(d);
    std::string raw(values.size() * sizeof(float), '\0');
    std::memcpy(raw.data(), values.data(), raw.size());
    tensor->set_raw_data(std::move(raw));
  }

  std::vector<float> normal_values(int64_t count, double mean, double stddev) {
    std::vector<float> values(static_cast<size_t>(count));
    for (float& v : values) v = static_cast<float>(rng_.normal(mean, stddev));
    return values;
  }

  std::vector<float> uniform_values(int64_t count, double lo, double hi) {
    std::vector<float> values(static_cast<size_t>(count));
    for (float& v : values) v = static_cast<float>(rng_.uniform(lo, hi));
    return values;
  }

  onnx::GraphProto& graph_;
  Rng rng_;
};

// Gains on the Kaiming scale, tuned by running the float model: ReLU6 outputs
// then average about 1 with some saturation at 6 (so folding and int8 clamps
// are exercised), and the damped linear projections keep the residual sums
// bounded over the 10 skip connections. Logits come out with std about 1.5.
constexpr double kActivatedConvGain = 1.25;
constexpr double kProjectionGain = 0.6;

// torchvision's InvertedResidual; returns its output tensor.
std::string inverted_residual(GraphBuilder& builder, const std::string& module,
                              const std::string& input, int64_t in_channels, int64_t out_channels,
                              int64_t stride, int64_t expand_ratio) {
  const int64_t hidden = in_channels * expand_ratio;
  const std::string conv = module + ".conv";
  int index = 0;  // position inside the block's nn.Sequential
  auto next = [&](const std::string& suffix = "") {
    return conv + "." + std::to_string(index) + suffix;
  };
  std::string x = input;
  if (expand_ratio != 1) {
    x = builder.conv(next(".0"), x, in_channels, hidden, 1, 1, 1, kActivatedConvGain);
    x = builder.batch_norm(next(".1"), x, hidden);
    x = builder.relu6(next(".2"), x);
    ++index;
  }
  x = builder.conv(next(".0"), x, hidden, hidden, 3, stride, hidden, kActivatedConvGain);
  x = builder.batch_norm(next(".1"), x, hidden);
  x = builder.relu6(next(".2"), x);
  ++index;
  x = builder.conv(next(), x, hidden, out_channels, 1, 1, 1, kProjectionGain);
  ++index;
  x = builder.batch_norm(next(), x, out_channels);
  if (stride == 1 && in_channels == out_channels) x = builder.add(module, input, x);
  return x;
}

}  // namespace

void validate_mobilenetv2_options(const MobileNetV2Options& options) {
  if (!(options.width > 0.0f && options.width <= 4.0f)) {
    throw Error("mobilenetv2: width must be in (0, 4], got " + std::to_string(options.width));
  }
  if (options.resolution < 32 || options.resolution > 2048) {
    throw Error("mobilenetv2: resolution must be in [32, 2048], got " +
                std::to_string(options.resolution));
  }
  if (options.classes < 1 || options.classes > 100000) {
    throw Error("mobilenetv2: classes must be in [1, 100000], got " +
                std::to_string(options.classes));
  }
}

int64_t make_divisible(double value, int64_t divisor) {
  const auto d = static_cast<double>(divisor);
  // Python: max(divisor, int(v + divisor / 2) // divisor * divisor)
  int64_t rounded = static_cast<int64_t>(value + d / 2.0) / divisor * divisor;
  rounded = std::max(divisor, rounded);
  if (static_cast<double>(rounded) < 0.9 * value) rounded += divisor;
  return rounded;
}

onnx::ModelProto make_mobilenetv2(const MobileNetV2Options& options) {
  validate_mobilenetv2_options(options);
  const double width = width_as_decimal(options.width);

  onnx::ModelProto model;
  model.set_ir_version(7);  // what PyTorch writes with opset 13
  model.set_producer_name("mcusplit");
  model.set_producer_version("zoo");
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  model.set_doc_string("torchvision MobileNetV2, width " + std::to_string(width) + ", resolution " +
                       std::to_string(options.resolution) + ", seed " +
                       std::to_string(options.seed) + "; random weights, not trained");

  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("main_graph");
  set_tensor_type(*graph.add_input(), "input", {1, 3, options.resolution, options.resolution});
  set_tensor_type(*graph.add_output(), "output", {1, options.classes});

  GraphBuilder builder(graph, options.seed);
  int64_t channels = make_divisible(kFirstChannels * width, kRoundNearest);
  std::string x = builder.conv("features.0.0", "input", 3, channels, 3, 2, 1, kActivatedConvGain);
  x = builder.batch_norm("features.0.1", x, channels);
  x = builder.relu6("features.0.2", x);

  int feature = 1;
  for (const BlockSetting& s : kBlockSettings) {
    const int64_t out_channels =
        make_divisible(static_cast<double>(s.channels) * width, kRoundNearest);
    for (int64_t i = 0; i < s.repeats; ++i) {
      x = inverted_residual(builder, "features." + std::to_string(feature++), x, channels,
                            out_channels, i == 0 ? s.stride : 1, s.expand_ratio);
      channels = out_channels;
    }
  }

  const int64_t last_channels =
      make_divisible(static_cast<double>(kLastChannels) * std::max(1.0, width), kRoundNearest);
  const std::string last = "features." + std::to_string(feature);
  x = builder.conv(last + ".0", x, channels, last_channels, 1, 1, 1, kActivatedConvGain);
  x = builder.batch_norm(last + ".1", x, last_channels);
  x = builder.relu6(last + ".2", x);

  x = builder.global_average_pool(x);
  x = builder.flatten(x);
  // classifier.0 is Dropout, absent from an eval-mode export.
  builder.gemm("classifier.1", x, last_channels, options.classes, "output");
  return model;
}

}  // namespace mcusplit::model
