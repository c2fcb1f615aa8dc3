// The Pad record: TFLite's PAD / PADV2, a copy into a larger tensor with the
// rest filled (int8_pad.h).
#include "kernels/int8_pad.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

const Int8PadParams& pad(const OpLayer& l) {
  return l.params->pad;
}

const char* check(const OpLayer& l, const OpShapes& s) {
  if (!(pad(l).input == s.inputs[0]) || !(pad(l).output == s.output)) {
    return "params disagree with the tensor shapes";
  }
  return check_int8_pad_params(pad(l));
}

Box required(const OpLayer& l, int32_t, const TensorShape3&, const Box& out_box) {
  return required_input_box(pad(l), out_box);
}

// One write per output value, one read per copied one.
int64_t work(const OpLayer& l, const Box& out_box) {
  if (out_box.empty()) return 0;
  return int64_t{out_box.volume()} + required_input_box(pad(l), out_box).volume();
}

int32_t scratch_bytes(const OpLayer& l, const Box& out_box) {
  return int8_pad_scratch_bytes(pad(l), out_box);
}

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                    Scratch scratch) {
  return int8_pad(pad(l), inputs[0], out, scratch);
}

}  // namespace

constexpr const char* kPadKernelNames[] = {"pad", nullptr};

const OpRegistration kPadOp = {
    .name = "Pad",
    .input_count = 1,
    .variadic_inputs = false,
    .output_aliases_input = false,
    .channel_constants = nullptr,
    .check = check,
    .required_input_box = required,
    .macs = op_util::no_macs,
    .work = work,
    .scratch_bytes = scratch_bytes,
    .kernel_name = [](const OpParams&) { return "pad"; },
    .kernel_names = kPadKernelNames,
    .invoke = invoke,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

}  // namespace mcusplit::kernels
