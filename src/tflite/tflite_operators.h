// TFLite's builtin operator codes (the public schema's BuiltinOperator enum)
// that the importer names: the ones it converts, and a name for every code
// so that an unsupported one is reported by name.
#pragma once

#include <cstdint>
#include <string>

namespace mcusplit::tflite {

enum BuiltinOperator : int32_t {
  kAdd = 0,
  kAveragePool2D = 1,
  kConcatenation = 2,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDequantize = 6,
  kFullyConnected = 9,
  kMaxPool2D = 17,
  kReshape = 22,
  kSoftmax = 25,
  kPad = 34,
  kTranspose = 39,
  kMean = 40,
  kSqueeze = 43,
  kPadV2 = 60,
  kQuantize = 114,
};

// "CONV_2D", ...; "BUILTIN_OPERATOR_<code>" for a code past the known list.
std::string builtin_operator_name(int32_t code);

}  // namespace mcusplit::tflite
