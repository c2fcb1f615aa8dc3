// Provisioning on the host: the DeviceProgram of one participant built from a
// plan file, with the storage it points into (buffers, ops, bound layer
// params and the participant's weight slices) owned here. Building from a
// parsed PlanFile means the runtime sees exactly what a device would be
// flashed with, not the planner's in-memory graph.
#pragma once

#include <string>
#include <vector>

#include "device/device_program.h"
#include "plan/plan.h"
#include "plan/plan_file.h"
#include "quant/qgraph.h"

namespace mcusplit::host {

// serialize_plan + parse_plan: the plan file a cluster would be provisioned
// with, parsed back. Throws mcusplit::Error if the plan does not serialize.
plan::PlanFile provision_plan(const plan::Plan& plan, const quant::QGraph& full_graph);

class DeviceSlice {
 public:
  // Throws mcusplit::Error if participant `p` computes a layer it holds no
  // weight slice for, a layer has more than device::kMaxLayerInputs inputs,
  // or an index is out of range.
  DeviceSlice(const plan::PlanFile& file, int participant);

  // The program points into this object's vectors, whose storage a move
  // keeps; a copy would not.
  DeviceSlice(const DeviceSlice&) = delete;
  DeviceSlice& operator=(const DeviceSlice&) = delete;
  DeviceSlice(DeviceSlice&&) = default;
  DeviceSlice& operator=(DeviceSlice&&) = default;

  const device::DeviceProgram& program() const { return program_; }
  const std::string& name() const { return name_; }

 private:
  void add_buffers(const plan::ParticipantPlan& pp);
  void add_ops(const plan::PlanFile& file, const plan::ParticipantPlan& pp, int participant);
  int32_t add_layer(const plan::PlanFile& file, int participant, int layer);
  void bind_program(const plan::PlanFile& file, int participant);

  std::string name_;
  std::vector<core::TensorShape3> shapes_;
  std::vector<device::DeviceBuffer> buffers_;
  std::vector<device::DeviceOp> ops_;
  std::vector<device::DeviceLayer> layers_;
  // Per layers_ entry: its concat params and its sliced constants.
  std::vector<std::vector<kernels::Int8ConcatParams>> concat_;
  std::vector<quant::QLayer> sliced_;
  device::DeviceProgram program_;
};

}  // namespace mcusplit::host
