// The MaxPool and AveragePool records: one parameter block, two kernels.
#include "kernels/int8_pool.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

const char* check(const OpLayer& l, const OpShapes& s) {
  const Int8PoolParams& p = l.params->pool;
  if (!(p.input == s.inputs[0]) || !(p.output == s.output) || p.input.c != p.output.c) {
    return "params disagree with the tensor shapes";
  }
  if (!op_util::positive_window(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w)) {
    return "bad window";
  }
  return nullptr;
}

Box required(const OpLayer& l, int32_t, const TensorShape3&, const Box& out_box) {
  return required_input_box(l.params->pool, out_box);
}

// A window's reads and the write, per output value.
int64_t work(const OpLayer& l, const Box& out_box) {
  const Int8PoolParams& p = l.params->pool;
  return int64_t{out_box.volume()} * (int64_t{p.kernel_h} * p.kernel_w + 1);
}

KernelStatus max_pool(const OpLayer& l, const InputTile* inputs, const OutputTile& out) {
  return int8_max_pool(l.params->pool, inputs[0], out);
}

KernelStatus average_pool(const OpLayer& l, const InputTile* inputs, const OutputTile& out) {
  return int8_average_pool(l.params->pool, inputs[0], out);
}

}  // namespace

const OpRegistration kMaxPoolOp = {
    "MaxPool", 1,
    false,     false,
    nullptr,   check,
    required,  op_util::no_macs,
    work,      [](const OpParams&) { return "maxpool"; },
    max_pool,
};

const OpRegistration kAveragePoolOp = {
    "AveragePool", 1,
    false,         false,
    nullptr,       check,
    required,      op_util::no_macs,
    work,          [](const OpParams&) { return "averagepool"; },
    average_pool,
};

}  // namespace mcusplit::kernels
