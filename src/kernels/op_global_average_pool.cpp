// The GlobalAveragePool record (also ReduceMean over height and width).
#include "kernels/int8_global_average_pool.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

const Int8GlobalAveragePoolParams& gap(const OpLayer& l) {
  return l.params->global_pool;
}

const char* check(const OpLayer& l, const OpShapes& s) {
  const TensorShape3& in = s.inputs[0];
  if (!(gap(l).input == in) || !(s.output == TensorShape3{in.c, 1, 1})) {
    return "params disagree with the tensor shapes";
  }
  return nullptr;
}

Box required(const OpLayer& l, int32_t, const TensorShape3&, const Box& out_box) {
  return required_input_box(gap(l), out_box);
}

// Every input value of the box's channels, and the writes.
int64_t work(const OpLayer& l, const Box& out_box) {
  if (out_box.empty()) return 0;
  return int64_t{required_input_box(gap(l), out_box).volume()} + out_box.volume();
}

int32_t scratch_bytes(const OpLayer& l, const Box& out_box) {
  return int8_global_average_pool_scratch_bytes(gap(l), out_box);
}

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                    Scratch scratch) {
  return int8_global_average_pool(gap(l), inputs[0], out, scratch);
}

}  // namespace

constexpr const char* kGlobalAveragePoolKernelNames[] = {"globalaveragepool", nullptr};

const OpRegistration kGlobalAveragePoolOp = {
    .name = "GlobalAveragePool",
    .input_count = 1,
    .variadic_inputs = false,
    .output_aliases_input = false,
    .channel_constants = nullptr,
    .check = check,
    .required_input_box = required,
    .macs = op_util::no_macs,
    .work = work,
    .scratch_bytes = scratch_bytes,
    .kernel_name = [](const OpParams&) { return "globalaveragepool"; },
    .kernel_names = kGlobalAveragePoolKernelNames,
    .invoke = invoke,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

}  // namespace mcusplit::kernels
