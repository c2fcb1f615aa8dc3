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

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out) {
  return int8_add(l.params->add, inputs[0], inputs[1], out);
}

}  // namespace

const OpRegistration kAddOp = {
    "Add", 2, false, false, nullptr, check, required, op_util::no_macs, work, kernel_name, invoke,
};

}  // namespace mcusplit::kernels
