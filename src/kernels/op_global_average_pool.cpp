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

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out) {
  return int8_global_average_pool(gap(l), inputs[0], out);
}

}  // namespace

const OpRegistration kGlobalAveragePoolOp = {
    "GlobalAveragePool",
    1,
    false,
    false,
    nullptr,
    check,
    required,
    op_util::no_macs,
    work,
    [](const OpParams&) { return "globalaveragepool"; },
    invoke,
};

}  // namespace mcusplit::kernels
