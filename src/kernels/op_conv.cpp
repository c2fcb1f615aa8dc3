// The Conv record: normal, depthwise and grouped convolution.
#include "kernels/int8_conv_dispatch.h"
#include "kernels/int8_depthwise_conv_in_place.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

using op_util::element_count;

const Int8ConvParams& conv(const OpLayer& l) {
  return l.params->conv;
}

const char* check(const OpLayer& l, const OpShapes& s) {
  const Int8ConvParams& p = conv(l);
  if (!(p.input == s.inputs[0]) || !(p.output == s.output)) {
    return "params disagree with the tensor shapes";
  }
  if (p.groups <= 0 || p.input.c % p.groups != 0 || p.output.c % p.groups != 0) {
    return "bad groups";
  }
  if (!op_util::positive_window(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w) ||
      p.dilation_h <= 0 || p.dilation_w <= 0) {
    return "bad window";
  }
  if (p.weights_c0 < 0 || p.weights_c1 <= p.weights_c0 || p.weights_c1 > p.output.c) {
    return "bad weight slice";
  }
  return nullptr;
}

Box required(const OpLayer& l, int32_t, const TensorShape3&, const Box& out_box) {
  return required_input_box(conv(l), out_box);
}

int64_t macs(const OpLayer& l, const Box& out_box) {
  if (out_box.empty()) return 0;
  const Int8ConvParams& p = conv(l);
  return int64_t{out_box.volume()} * p.kernel_h * p.kernel_w * (p.input.c / p.groups);
}

const char* kernel_name(const OpParams& p) {
  switch (select_conv_variant(p.conv)) {
    case ConvVariant::Pointwise:
      return "pointwise";
    case ConvVariant::Depthwise:
      return "depthwise";
    case ConvVariant::General:
      break;
  }
  return "conv";
}

int32_t scratch_bytes(const OpLayer& l, const Box& out_box) {
  return int8_conv_dispatch_scratch_bytes(conv(l), out_box);
}

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                    Scratch scratch) {
  return int8_conv_dispatch(conv(l), inputs[0], out, scratch);
}

int32_t in_place_scratch_bytes(const OpLayer& l, const Box& out_box) {
  return int8_depthwise_conv_in_place_scratch_bytes(conv(l), out_box);
}

KernelStatus invoke_in_place(const OpLayer& l, const InputTile& input, const OutputTile& out,
                             Scratch scratch) {
  return int8_depthwise_conv_in_place(conv(l), input, out, scratch);
}

ConstantCounts counts(const OpParams& params) {
  const Int8ConvParams& p = params.conv;
  ConstantCounts n;
  if (p.weights_c0 < 0 || p.weights_c1 <= p.weights_c0 || p.kernel_h < 1 || p.kernel_w < 1 ||
      p.groups < 1 || p.input.c < 1 || p.input.c % p.groups != 0) {
    return n;
  }
  const int64_t rows = int64_t{p.weights_c1} - p.weights_c0;
  // Each factor is below 2^31: kernel_h * kernel_w < 2^62, and the product
  // with the group's channels is only formed once that is below 2^32.
  const int64_t window = int64_t{p.kernel_h} * p.kernel_w;
  if (window > op_util::kU32Max) return n;
  if (!element_count(rows, window * (p.input.c / p.groups), &n.weights)) return n;
  n.bias = static_cast<uint32_t>(rows);
  n.requant = static_cast<uint32_t>(rows);
  n.ok = true;
  return n;
}

const ChannelConstants kConvConstants = {
    .channels = [](const OpParams& p) { return p.conv.output.c; },
    .slice =
        [](const OpParams& p) {
          return ChannelRange{p.conv.weights_c0, p.conv.weights_c1};
        },
    .set_slice =
        [](OpParams& p, ChannelRange r) {
          p.conv.weights_c0 = r.c0;
          p.conv.weights_c1 = r.c1;
        },
    .counts = counts,
    .per_tensor_requant = [](const OpParams&) { return false; },
    .bind = [](OpParams& p, const ConstantArrays& a) { op_util::bind_arrays(p.conv, a); },
    .bound = [](const OpParams& p) { return op_util::bound_arrays(p.conv); },
};

}  // namespace

constexpr const char* kConvKernelNames[] = {"conv", "pointwise", "depthwise", nullptr};

const OpRegistration kConvOp = {
    .name = "Conv",
    .input_count = 1,
    .variadic_inputs = false,
    .output_aliases_input = false,
    .channel_constants = &kConvConstants,
    .check = check,
    .required_input_box = required,
    .macs = macs,
    .work = macs,
    .scratch_bytes = scratch_bytes,
    .kernel_name = kernel_name,
    .kernel_names = kConvKernelNames,
    .invoke = invoke,
    .in_place_scratch_bytes = in_place_scratch_bytes,
    .invoke_in_place = invoke_in_place,
};

}  // namespace mcusplit::kernels
