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

int32_t max_pool_scratch(const OpLayer& l, const Box& out_box) {
  return int8_max_pool_scratch_bytes(l.params->pool, out_box);
}

int32_t average_pool_scratch(const OpLayer& l, const Box& out_box) {
  return int8_average_pool_scratch_bytes(l.params->pool, out_box);
}

KernelStatus max_pool(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                      Scratch scratch) {
  return int8_max_pool(l.params->pool, inputs[0], out, scratch);
}

KernelStatus average_pool(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                          Scratch scratch) {
  return int8_average_pool(l.params->pool, inputs[0], out, scratch);
}

}  // namespace

constexpr const char* kMaxPoolKernelNames[] = {"maxpool", nullptr};

const OpRegistration kMaxPoolOp = {
    .name = "MaxPool",
    .input_count = 1,
    .variadic_inputs = false,
    .output_aliases_input = false,
    .channel_constants = nullptr,
    .check = check,
    .required_input_box = required,
    .macs = op_util::no_macs,
    .work = work,
    .scratch_bytes = max_pool_scratch,
    .kernel_name = [](const OpParams&) { return "maxpool"; },
    .kernel_names = kMaxPoolKernelNames,
    .invoke = max_pool,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

constexpr const char* kAveragePoolKernelNames[] = {"averagepool", nullptr};

const OpRegistration kAveragePoolOp = {
    .name = "AveragePool",
    .input_count = 1,
    .variadic_inputs = false,
    .output_aliases_input = false,
    .channel_constants = nullptr,
    .check = check,
    .required_input_box = required,
    .macs = op_util::no_macs,
    .work = work,
    .scratch_bytes = average_pool_scratch,
    .kernel_name = [](const OpParams&) { return "averagepool"; },
    .kernel_names = kAveragePoolKernelNames,
    .invoke = average_pool,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

}  // namespace mcusplit::kernels
