// The FullyConnected record: Gemm / MatMul with constant weights, split by
// output neuron.
#include "kernels/int8_fully_connected.h"
#include "kernels/op_record_util.h"

namespace mcusplit::kernels {
namespace {

const Int8FullyConnectedParams& fc(const OpLayer& l) {
  return l.params->fc;
}

const char* check(const OpLayer& l, const OpShapes& s) {
  const Int8FullyConnectedParams& p = fc(l);
  // The kernel reads input_size values and writes whole neurons: the tensors
  // must be exactly that big.
  if (s.inputs[0].volume() != p.input_size || !(s.output == TensorShape3{p.output_size, 1, 1})) {
    return "params disagree with the tensor shapes";
  }
  if (p.weights_n0 < 0 || p.weights_n1 <= p.weights_n0 || p.weights_n1 > p.output_size) {
    return "bad weight slice";
  }
  return nullptr;
}

// Every neuron reads the whole input.
Box required(const OpLayer&, int32_t, const TensorShape3& input_shape, const Box& out_box) {
  return out_box.empty() ? Box{} : core::full_box(input_shape);
}

int64_t macs(const OpLayer& l, const Box& out_box) {
  if (out_box.empty()) return 0;
  return int64_t{out_box.channels()} * fc(l).input_size;
}

const char* kernel_name(const OpParams&) {
  return "fully_connected";
}

// The kernel reads the input densely, all input_size values of it: a tile of
// that volume inside the input tensor is the whole input.
int32_t scratch_bytes(const OpLayer& l, const Box& out_box) {
  return int8_fully_connected_scratch_bytes(fc(l), out_box.c0, out_box.c1);
}

KernelStatus invoke(const OpLayer& l, const InputTile* inputs, const OutputTile& out,
                    Scratch scratch) {
  if (!out.box.empty() &&
      (inputs[0].data == nullptr || inputs[0].box.volume() != fc(l).input_size)) {
    return KernelStatus::InputBoxTooSmall;
  }
  return int8_fully_connected(fc(l), inputs[0].data, out.box.c0, out.box.c1, out.data, scratch);
}

ConstantCounts counts(const OpParams& params) {
  const Int8FullyConnectedParams& p = params.fc;
  ConstantCounts n;
  if (p.weights_n0 < 0 || p.weights_n1 <= p.weights_n0 || p.input_size < 1) return n;
  const int64_t rows = int64_t{p.weights_n1} - p.weights_n0;
  if (!op_util::element_count(rows, p.input_size, &n.weights)) return n;
  n.bias = static_cast<uint32_t>(rows);
  n.requant = p.per_tensor_requant ? 1u : static_cast<uint32_t>(rows);
  n.ok = true;
  return n;
}

const ChannelConstants kFullyConnectedConstants = {
    .channels = [](const OpParams& p) { return p.fc.output_size; },
    .slice =
        [](const OpParams& p) {
          return ChannelRange{p.fc.weights_n0, p.fc.weights_n1};
        },
    .set_slice =
        [](OpParams& p, ChannelRange r) {
          p.fc.weights_n0 = r.c0;
          p.fc.weights_n1 = r.c1;
        },
    .counts = counts,
    .per_tensor_requant = [](const OpParams& p) { return p.fc.per_tensor_requant; },
    .bind = [](OpParams& p, const ConstantArrays& a) { op_util::bind_arrays(p.fc, a); },
    .bound = [](const OpParams& p) { return op_util::bound_arrays(p.fc); },
};

}  // namespace

constexpr const char* kFullyConnectedKernelNames[] = {"fully_connected", nullptr};

const OpRegistration kFullyConnectedOp = {
    .name = "FullyConnected",
    .input_count = 1,
    .variadic_inputs = false,
    .output_aliases_input = false,
    .channel_constants = &kFullyConnectedConstants,
    .check = check,
    .required_input_box = required,
    .macs = macs,
    .work = macs,
    .scratch_bytes = scratch_bytes,
    .kernel_name = kernel_name,
    .kernel_names = kFullyConnectedKernelNames,
    .invoke = invoke,
    .in_place_scratch_bytes = nullptr,
    .invoke_in_place = nullptr,
};

}  // namespace mcusplit::kernels
