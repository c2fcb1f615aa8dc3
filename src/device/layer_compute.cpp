#include "device/layer_compute.h"

#include "kernels/op_registry.h"

namespace mcusplit::device {

kernels::KernelStatus run_compute(const DeviceProgram& program, const DeviceOp& op, int8_t* arena,
                                  kernels::Scratch scratch) {
  const DeviceLayer& layer = program.layers[op.params];
  // Each input is the whole buffer holding it (the kernels index it by its
  // box); a missing one stays empty and the kernel reports it.
  kernels::InputTile inputs[kMaxLayerInputs];
  for (int32_t k = 0; k < op.input_count; ++k) {
    const int32_t b = op.inputs[k];
    if (b >= 0)
      inputs[k] = kernels::InputTile{arena + program.buffers[b].offset, program.buffers[b].box};
  }
  // The op box inside the dst buffer: strides of the buffer's box.
  const DeviceBuffer& dst = program.buffers[op.dst_buffer];
  const core::Box& box = op.box;
  const kernels::OutputTile out{
      arena + dst.offset + core::dense_offset(dst.box, box.c0, box.y0, box.x0), box,
      dst.box.channels(), dst.box.width() * dst.box.channels()};
  const kernels::OpRegistration& record = kernels::op_registration(layer.op);
  // A plan puts the output over input 0's bytes only for an op computed in
  // place (check_program verifies it): its in-place variant runs.
  if (op.input_count > 0 && op.inputs[0] >= 0 &&
      buffers_overlap(program.buffers[op.inputs[0]], dst)) {
    if (record.invoke_in_place == nullptr) return kernels::KernelStatus::BadParams;
    return record.invoke_in_place(layer.view(), inputs[0], out, scratch);
  }
  return record.invoke(layer.view(), inputs, out, scratch);
}

bool buffers_overlap(const DeviceBuffer& a, const DeviceBuffer& b) {
  return a.offset < b.offset + b.box.volume() && b.offset < a.offset + a.box.volume();
}

}  // namespace mcusplit::device
