// The Concat record: every input is a strided box copy into its place.
#include "kernels/int8_concat.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

const char* check(const OpLayer& l, const OpShapes& s) {
  if (l.concat == nullptr) return "concat layer without parameters";
  // The inputs must tile the output: every output byte written once (the
  // kernel checks each input lands inside the output).
  int64_t volume = 0;
  for (int32_t k = 0; k < l.input_count; ++k) {
    if (!(l.concat[k].input == s.inputs[k]) || !(l.concat[k].output == s.output)) {
      return "params disagree with the tensor shapes";
    }
    if (!input_placed_inside_output(l.concat[k])) return "an input placed outside the output";
    volume += s.inputs[k].volume();
  }
  if (volume != s.output.volume()) return "inputs do not add up to the output";
  return nullptr;
}

Box required(const OpLayer& l, int32_t input, const TensorShape3&, const Box& out_box) {
  if (out_box.empty()) return Box{};
  return required_input_box(l.concat[input], out_box);
}

// A read and a write per value.
int64_t work(const OpLayer&, const Box& out_box) {
  return 2 * int64_t{out_box.volume()};
}

// The most any input's copy states.
int32_t scratch_bytes(const OpLayer& l, const Box& out_box) {
  int32_t bytes = 0;
  for (int32_t k = 0; k < l.input_count; ++k) {
    const int32_t need =
        int8_concat_scratch_bytes(l.concat[k], required_input_box(l.concat[k], out_box));
    bytes = need > bytes ? need : bytes;
  }
  return bytes;
}

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                    Scratch scratch) {
  for (int32_t k = 0; k < l.input_count; ++k) {
    const Box copy = required_input_box(l.concat[k], out.box);
    if (copy.empty()) continue;
    if (inputs[k].data == nullptr) return KernelStatus::InputBoxTooSmall;
    const KernelStatus s = int8_concat(l.concat[k], inputs[k], copy, out, scratch);
    if (s != KernelStatus::Ok) return s;
  }
  return KernelStatus::Ok;
}

}  // namespace

constexpr const char* kConcatKernelNames[] = {"concat", nullptr};

const OpRegistration kConcatOp = {
    .name = "Concat",
    .input_count = 1,
    .variadic_inputs = true,
    .output_aliases_input = false,
    .channel_constants = nullptr,
    .check = check,
    .required_input_box = required,
    .macs = op_util::no_macs,
    .work = work,
    .scratch_bytes = scratch_bytes,
    .kernel_name = [](const OpParams&) { return "concat"; },
    .kernel_names = kConcatKernelNames,
    .invoke = invoke,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

}  // namespace mcusplit::kernels
