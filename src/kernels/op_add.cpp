// The Add record: elementwise residual add of two same-shape tensors.
#include "kernels/int8_add.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

const char* check(const OpLayer& l, const OpShapes& s) {
  const TensorShape3& shape = l.params->add.shape;
  if (!(shape == s.output) || !(s.inputs[0] == s.output) || !(s.inputs[1] == s.output)) {
    return "params disagree with the tensor shapes";
  }
  return nullptr;
}

Box required(const OpLayer& l, int32_t, const TensorShape3&, const Box& out_box) {
  return required_input_box(l.params->add, out_box);
}

// Two reads and a write per value.
int64_t work(const OpLayer&, const Box& out_box) {
  return 3 * int64_t{out_box.volume()};
}

const char* kernel_name(const OpParams&) {
  return "add";
}

int32_t scratch_bytes(const OpLayer& l, const Box& out_box) {
  return int8_add_scratch_bytes(l.params->add, out_box);
}

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                    Scratch scratch) {
  return int8_add(l.params->add, inputs[0], inputs[1], out, scratch);
}

}  // namespace

constexpr const char* kAddKernelNames[] = {"add", nullptr};

const OpRegistration kAddOp = {
    .name = "Add",
    .input_count = 2,
    .variadic_inputs = false,
    .output_aliases_input = false,
    .channel_constants = nullptr,
    .check = check,
    .required_input_box = required,
    .macs = op_util::no_macs,
    .work = work,
    .scratch_bytes = scratch_bytes,
    .kernel_name = kernel_name,
    .kernel_names = kAddKernelNames,
    .invoke = invoke,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

}  // namespace mcusplit::kernels
