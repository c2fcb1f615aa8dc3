// What the export tests share: the checks every exported file must pass
// (a verified flatbuffer with TFLite's conventions), the round trip (import
// the file again: the same layers, constants and bits), and random CNNs made
// expressible in TFLite.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "quant/int8_executor.h"
#include "quant/qgraph.h"
#include "tflite/tflite_export.h"
#include "tflite/tflite_import.h"
#include "tflite/tflite_model.h"
#include "tflite/tflite_operators.h"

namespace mcusplit::tflite::testing {

// The builtin operator names of the file's operators, in order.
inline std::vector<std::string> operator_names(const std::string& bytes) {
  const TfliteModel m(bytes, "exported.tflite");
  std::vector<std::string> names;
  for (const fb::Operator* op : *m.graph().operators()) {
    names.push_back(builtin_operator_name(m.builtin_code(*op)));
  }
  return names;
}

// The file's operators the importer does not convert (yet); empty: the file
// round-trips now.
inline std::set<std::string> not_importable(const std::string& bytes) {
  const std::vector<std::string> supported = supported_operators();
  std::set<std::string> missing;
  for (const std::string& name : operator_names(bytes)) {
    if (std::find(supported.begin(), supported.end(), name) == supported.end()) {
      missing.insert(name);
    }
  }
  return missing;
}

// What TFLite requires of the file beyond the verifier (which TfliteModel
// runs): buffer 0 empty, both operator code fields, the graph's input and
// output, every graph tensor int8 with its own scale and zero point.
inline void expect_valid_export(const std::string& bytes, const quant::QGraph& g) {
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(4, 4), "TFL3");
  const TfliteModel m(bytes, "exported.tflite");
  EXPECT_EQ(m.model().version(), 3u);
  const fb::Buffer* sentinel = m.model().buffers()->Get(0);
  EXPECT_TRUE(sentinel->data() == nullptr || sentinel->data()->size() == 0);
  for (const fb::OperatorCode* code : *m.model().operator_codes()) {
    EXPECT_EQ(code->deprecated_builtin_code(), std::min(code->builtin_code(), 127));
    EXPECT_GE(code->version(), 1);
  }
  ASSERT_EQ(m.graph().inputs()->size(), 1u);
  ASSERT_EQ(m.graph().outputs()->size(), 1u);
  EXPECT_EQ(m.graph().inputs()->Get(0), g.input);
  EXPECT_EQ(m.graph().outputs()->Get(0), g.output);
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const fb::Tensor& ft = m.tensor(static_cast<int32_t>(t));
    EXPECT_EQ(ft.type(), fb::TensorType::INT8);
    EXPECT_FALSE(m.is_constant(static_cast<int32_t>(t)));
    ASSERT_NE(ft.quantization(), nullptr);
    EXPECT_EQ(ft.quantization()->scale()->Get(0), g.tensors[t].quant.scale);
    EXPECT_EQ(ft.quantization()->zero_point()->Get(0), g.tensors[t].quant.zero_point);
  }
}

// Layer by layer, the same operator, parameters, constants and tensors
// (shape and quantization); tensor indices and layer names may differ. One
// difference is TFLite's: a max pool with explicit padding is written as a
// PADV2 of -128 and a VALID MAX_POOL_2D, which the importer reads back as a
// Pad layer and a max pool of the padded map (same window and clamp).
inline void expect_same_layers(const quant::QGraph& a, const quant::QGraph& b) {
  const auto same_tensor = [&](int ta, int tb) {
    const quant::QTensor& x = a.tensors[static_cast<size_t>(ta)];
    const quant::QTensor& y = b.tensors[static_cast<size_t>(tb)];
    return x.shape == y.shape && x.quant == y.quant;
  };
  EXPECT_TRUE(same_tensor(a.input, b.input));
  EXPECT_TRUE(same_tensor(a.output, b.output));
  size_t j = 0;
  for (size_t i = 0; i < a.layers.size(); ++i, ++j) {
    const quant::QLayer& x = a.layers[i];
    const std::string label = "layer " + std::to_string(i) + " '" + x.name + "'";
    ASSERT_LT(j, b.layers.size()) << label;
    if (x.op == quant::OpType::MaxPool && b.layers[j].op == quant::OpType::Pad) {
      const kernels::Int8PadParams& pad = b.layers[j].pad;
      EXPECT_EQ(pad.value, -128) << label;
      EXPECT_EQ(pad.pad_top, x.pool.pad_top) << label;
      EXPECT_EQ(pad.pad_left, x.pool.pad_left) << label;
      EXPECT_TRUE(same_tensor(x.inputs[0], b.layers[j].inputs[0])) << label;
      ++j;
      ASSERT_LT(j, b.layers.size()) << label;
      const quant::QLayer& y = b.layers[j];
      ASSERT_EQ(y.op, quant::OpType::MaxPool) << label;
      EXPECT_EQ(y.pool.kernel_h, x.pool.kernel_h) << label;
      EXPECT_EQ(y.pool.kernel_w, x.pool.kernel_w) << label;
      EXPECT_EQ(y.pool.stride_h, x.pool.stride_h) << label;
      EXPECT_EQ(y.pool.stride_w, x.pool.stride_w) << label;
      EXPECT_EQ(y.pool.pad_top + y.pool.pad_left, 0) << label;
      EXPECT_EQ(y.pool.activation, x.pool.activation) << label;
      EXPECT_TRUE(same_tensor(x.output, y.output)) << label;
      continue;
    }
    const quant::QLayer& y = b.layers[j];
    ASSERT_EQ(x.op, y.op) << label;
    EXPECT_TRUE(static_cast<const kernels::OpParams&>(x) ==
                static_cast<const kernels::OpParams&>(y))
        << label;
    EXPECT_EQ(x.weights, y.weights) << label;
    EXPECT_EQ(x.bias, y.bias) << label;
    EXPECT_EQ(x.multiplier, y.multiplier) << label;
    EXPECT_EQ(x.shift, y.shift) << label;
    EXPECT_EQ(x.concat, y.concat) << label;
    ASSERT_EQ(x.inputs.size(), y.inputs.size()) << label;
    for (size_t k = 0; k < x.inputs.size(); ++k) {
      EXPECT_TRUE(same_tensor(x.inputs[k], y.inputs[k])) << label << " input " << k;
    }
    EXPECT_TRUE(same_tensor(x.output, y.output)) << label;
  }
  EXPECT_EQ(j, b.layers.size());
}

inline std::vector<int8_t> random_input(const quant::QGraph& g, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int8_t> v(static_cast<size_t>(g.tensors[static_cast<size_t>(g.input)].bytes()));
  for (auto& x : v) x = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(gen));
  return v;
}

// The file imported back: the same layers, and the same output bits as `g`
// on each input; the graph read back exports and reads back to itself again
// (a Pad layer included).
inline void expect_round_trip(const quant::QGraph& g, const std::string& bytes,
                              const std::vector<std::vector<int8_t>>& inputs) {
  const quant::QGraph back = import_tflite(bytes, "exported.tflite");
  expect_same_layers(g, back);
  quant::Int8Executor original(g);
  quant::Int8Executor reimported(back);
  for (const std::vector<int8_t>& input : inputs) {
    EXPECT_EQ(original.run(input), reimported.run(input));
  }
  expect_same_layers(back, import_tflite(export_tflite(back), "again.tflite"));
}

}  // namespace mcusplit::tflite::testing
