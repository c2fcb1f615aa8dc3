// The Reshape record: a flat-order copy (on one device, an alias).
#include "kernels/int8_reshape.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

const char* check(const OpLayer& l, const OpShapes& s) {
  const ReshapeParams& p = l.params->reshape;
  if (!(p.input == s.inputs[0]) || !(p.output == s.output)) {
    return "params disagree with the tensor shapes";
  }
  if (p.input.volume() != p.output.volume()) return "element count changes";
  return nullptr;
}

Box required(const OpLayer& l, int32_t, const TensorShape3&, const Box& out_box) {
  return required_input_box(l.params->reshape, out_box);
}

int64_t work(const OpLayer&, const Box& out_box) {
  return 2 * int64_t{out_box.volume()};
}

// A copy: no scratch.
KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out, Scratch) {
  return int8_reshape(l.params->reshape, inputs[0], out);
}

}  // namespace

constexpr const char* kReshapeKernelNames[] = {"reshape", nullptr};

const OpRegistration kReshapeOp = {
    .name = "Reshape",
    .input_count = 1,
    .variadic_inputs = false,
    .output_aliases_input = true,
    .channel_constants = nullptr,
    .check = check,
    .required_input_box = required,
    .macs = op_util::no_macs,
    .work = work,
    .scratch_bytes = [](const OpLayer&, const Box&) { return int32_t{0}; },
    .kernel_name = [](const OpParams&) { return "reshape"; },
    .kernel_names = kReshapeKernelNames,
    .invoke = invoke,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

}  // namespace mcusplit::kernels
