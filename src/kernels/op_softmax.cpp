// The Softmax record: TFLite's int8 softmax over channels, per pixel.
#include "kernels/int8_softmax.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

const Int8SoftmaxParams& softmax(const OpLayer& l) {
  return l.params->softmax;
}

const char* check(const OpLayer& l, const OpShapes& s) {
  if (!(softmax(l).shape == s.inputs[0]) || !(softmax(l).shape == s.output)) {
    return "params disagree with the tensor shapes";
  }
  if (softmax(l).input_multiplier <= 0 || softmax(l).input_left_shift < 0 ||
      softmax(l).input_left_shift > 31 || softmax(l).diff_min > 0) {
    return "bad input scaling";
  }
  return nullptr;
}

Box required(const OpLayer& l, int32_t, const TensorShape3&, const Box& out_box) {
  return required_input_box(softmax(l), out_box);
}

// Each output reads its pixel's channels twice (max and sum, then its own
// exp): counted as the reads of the pixel and the write.
int64_t work(const OpLayer& l, const Box& out_box) {
  if (out_box.empty()) return 0;
  return int64_t{required_input_box(softmax(l), out_box).volume()} * 2 + out_box.volume();
}

int32_t scratch_bytes(const OpLayer& l, const Box& out_box) {
  return int8_softmax_scratch_bytes(softmax(l), out_box);
}

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                    Scratch scratch) {
  return int8_softmax(softmax(l), inputs[0], out, scratch);
}

}  // namespace

constexpr const char* kSoftmaxKernelNames[] = {"softmax", nullptr};

const OpRegistration kSoftmaxOp = {
    .name = "Softmax",
    .input_count = 1,
    .variadic_inputs = false,
    .output_aliases_input = false,
    .channel_constants = nullptr,
    .check = check,
    .required_input_box = required,
    .macs = op_util::no_macs,
    .work = work,
    .scratch_bytes = scratch_bytes,
    .kernel_name = [](const OpParams&) { return "softmax"; },
    .kernel_names = kSoftmaxKernelNames,
    .invoke = invoke,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

}  // namespace mcusplit::kernels
