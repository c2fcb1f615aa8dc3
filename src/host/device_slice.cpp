#include "host/device_slice.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "common/error.h"

namespace mcusplit::host {

using device::DeviceLayer;
using device::DeviceOp;
using device::DeviceOpKind;
using quant::QLayer;

namespace {

DeviceOpKind op_kind(plan::OpKind k) {
  switch (k) {
    case plan::OpKind::LoadInput:
      return DeviceOpKind::LoadInput;
    case plan::OpKind::Send:
      return DeviceOpKind::Send;
    case plan::OpKind::Receive:
      return DeviceOpKind::Receive;
    case plan::OpKind::Copy:
      return DeviceOpKind::Copy;
    case plan::OpKind::Compute:
      return DeviceOpKind::Compute;
    case plan::OpKind::StoreOutput:
      return DeviceOpKind::StoreOutput;
  }
  throw Error("plan op of an unknown kind");
}

int32_t narrow(size_t n, const char* what) {
  if (n > static_cast<size_t>(INT32_MAX)) throw Error(std::string("too many ") + what);
  return static_cast<int32_t>(n);
}

}  // namespace

plan::PlanFile provision_plan(const plan::Plan& plan, const quant::QGraph& full_graph) {
  return plan::parse_plan(plan::serialize_plan(plan, full_graph),
                          "in-memory plan of '" + plan.model_name + "'");
}

DeviceSlice::DeviceSlice(const plan::PlanFile& file, int participant) {
  const auto& participants = file.plan.participants;
  if (participant < 0 || participant >= static_cast<int>(participants.size())) {
    throw Error("participant " + std::to_string(participant) + " is not in the plan");
  }
  const plan::ParticipantPlan& pp = participants[static_cast<size_t>(participant)];
  name_ = pp.name;
  for (const quant::QTensor& t : file.graph.tensors) shapes_.push_back(t.shape);
  add_buffers(pp);
  add_ops(file, pp, participant);
  bind_program(file, participant);
}

void DeviceSlice::add_buffers(const plan::ParticipantPlan& pp) {
  for (const plan::PlanBuffer& b : pp.buffers) {
    buffers_.push_back(device::DeviceBuffer{b.tensor, b.box, b.offset});
  }
}

void DeviceSlice::add_ops(const plan::PlanFile& file, const plan::ParticipantPlan& pp,
                          int participant) {
  for (const plan::PlanOp& o : pp.ops) {
    DeviceOp op;
    op.kind = op_kind(o.kind);
    op.step = o.step;
    op.layer = o.layer;
    op.peer = o.peer;
    op.tensor = o.tensor;
    op.box = o.box;
    op.src_buffer = o.src_buffer;
    op.dst_buffer = o.dst_buffer;
    op.scratch_offset = o.scratch_offset;
    if (o.scratch_bytes < 0 || o.scratch_bytes > INT32_MAX) {
      throw Error("layer " + std::to_string(o.layer) + ": kernel scratch of " +
                  std::to_string(o.scratch_bytes) + " bytes is out of a device's range");
    }
    op.scratch_bytes = static_cast<int32_t>(o.scratch_bytes);
    if (o.inputs.size() > static_cast<size_t>(device::kMaxLayerInputs)) {
      throw Error("layer " + std::to_string(o.layer) + " has " + std::to_string(o.inputs.size()) +
                  " inputs; a device runs at most " + std::to_string(device::kMaxLayerInputs));
    }
    op.input_count = narrow(o.inputs.size(), "inputs");
    std::copy(o.inputs.begin(), o.inputs.end(), op.inputs);
    if (op.kind == DeviceOpKind::Compute) op.params = add_layer(file, participant, o.layer);
    ops_.push_back(op);
  }
}

// The entry of `layer` in layers_, made on first use: params from the
// skeleton, constants from the participant's slice (bound later, once every
// vector is in place).
int32_t DeviceSlice::add_layer(const plan::PlanFile& file, int participant, int layer) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].layer == layer) return static_cast<int32_t>(i);
  }
  if (layer < 0 || layer >= static_cast<int>(file.graph.layers.size())) {
    throw Error("compute op of layer " + std::to_string(layer) + ", which is not in the graph");
  }
  const QLayer& skeleton = file.graph.layers[static_cast<size_t>(layer)];
  if (skeleton.inputs.size() > static_cast<size_t>(device::kMaxLayerInputs)) {
    throw Error("layer '" + skeleton.name + "' has more inputs than a device runs");
  }
  DeviceLayer l;
  static_cast<kernels::OpParams&>(l) = skeleton;
  l.layer = layer;
  l.op = skeleton.op;
  l.output_tensor = skeleton.output;
  l.input_count = narrow(skeleton.inputs.size(), "inputs");
  std::copy(skeleton.inputs.begin(), skeleton.inputs.end(), l.input_tensors);
  concat_.push_back(skeleton.concat);

  QLayer constants;  // stays empty for layers without constants
  if (skeleton.record().channel_constants != nullptr) {
    const auto& slices = file.constants.at(static_cast<size_t>(participant));
    const auto it = std::find_if(slices.begin(), slices.end(),
                                 [&](const plan::LayerConstants& k) { return k.layer == layer; });
    if (it == slices.end()) {
      throw Error("participant '" + name_ + "' computes layer '" + skeleton.name +
                  "' but holds no weight slice of it");
    }
    constants = plan::sliced_layer(skeleton, *it);
    static_cast<kernels::OpParams&>(l) = constants;  // the slice's channel range
  }
  sliced_.push_back(std::move(constants));
  layers_.push_back(l);
  return static_cast<int32_t>(layers_.size()) - 1;
}

void DeviceSlice::bind_program(const plan::PlanFile& file, int participant) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    DeviceLayer& l = layers_[i];
    const QLayer& k = sliced_[i];
    const kernels::OpRegistration& record = kernels::op_registration(l.op);
    if (const kernels::ChannelConstants* constants = record.channel_constants) {
      constants->bind(
          l, kernels::ConstantArrays{k.weights.data(), k.bias.empty() ? nullptr : k.bias.data(),
                                     k.multiplier.data(), k.shift.data()});
    }
    if (record.variadic_inputs) {
      if (concat_[i].size() != static_cast<size_t>(l.input_count)) {
        throw Error("concat layer " + std::to_string(l.layer) + " has " +
                    std::to_string(concat_[i].size()) + " parameter blocks for " +
                    std::to_string(l.input_count) + " inputs");
      }
      l.concat = concat_[i].data();
    }
  }
  int64_t scratch = 0;
  for (const DeviceOp& op : ops_) {
    if (op.kind == DeviceOpKind::Send || op.kind == DeviceOpKind::Receive) {
      scratch = std::max<int64_t>(scratch, op.box.volume());
    }
  }
  device::DeviceProgram& p = program_;
  p.participant = participant;
  p.participant_count = narrow(file.plan.participants.size(), "participants");
  p.tensor_shapes = shapes_.data();
  p.tensor_count = narrow(shapes_.size(), "tensors");
  p.input_tensor = file.graph.input;
  p.output_tensor = file.graph.output;
  p.buffers = buffers_.data();
  p.buffer_count = narrow(buffers_.size(), "buffers");
  p.ops = ops_.data();
  p.op_count = narrow(ops_.size(), "ops");
  p.layers = layers_.data();
  p.layer_count = narrow(layers_.size(), "layers");
  p.arena_bytes = file.plan.participants[static_cast<size_t>(participant)].arena_bytes;
  p.scratch_bytes = scratch;
}

}  // namespace mcusplit::host
