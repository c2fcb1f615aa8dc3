#include "device/device_runtime.h"

#include <cstring>

#include "device/box_copy.h"
#include "device/layer_compute.h"
#include "device/program_check.h"

namespace mcusplit::device {

using core::Box;

DeviceRuntime::DeviceRuntime(const DeviceProgram& program, int8_t* arena, int64_t arena_capacity,
                             int8_t* scratch, int64_t scratch_capacity, Transport* transport)
    : program_(program),
      arena_(arena),
      arena_capacity_(arena_capacity),
      scratch_(scratch),
      scratch_capacity_(scratch_capacity),
      transport_(transport) {
  const ProgramProblem problem = check_program(program);
  if (problem.status != RuntimeStatus::Ok) {
    setup_failure_.status = problem.status;
    setup_failure_.detail = problem.what;
    setup_failure_.op_index = problem.op_index;
    setup_failure_.index = problem.index;
  } else if ((arena_ == nullptr && program.arena_bytes > 0) ||
             arena_capacity_ < program.arena_bytes) {
    setup_failure_.status = RuntimeStatus::ArenaTooSmall;
    setup_failure_.detail = "the arena is smaller than the program's arena_bytes";
  } else if ((scratch_ == nullptr && program.scratch_bytes > 0) ||
             scratch_capacity_ < program.scratch_bytes) {
    setup_failure_.status = RuntimeStatus::ScratchTooSmall;
    setup_failure_.detail = "the scratch is smaller than the program's largest message";
  } else if (transport_ == nullptr) {
    // Only a program without transfers (nothing to talk to) runs without one.
    for (int32_t i = 0; i < program.op_count; ++i) {
      const DeviceOpKind k = program.ops[i].kind;
      if (k == DeviceOpKind::Send || k == DeviceOpKind::Receive) {
        setup_failure_.status = RuntimeStatus::BadArgument;
        setup_failure_.detail = "a program with transfers needs a transport";
        break;
      }
    }
  }
  setup_status_ = setup_failure_.status;
  failure_ = setup_failure_;
}

RuntimeStatus DeviceRuntime::run(const int8_t* input, int64_t input_bytes, int8_t* output,
                                 int64_t output_bytes, OpObserver* observer) {
  stats_ = RuntimeStats{};
  failure_ = setup_failure_;
  if (setup_status_ != RuntimeStatus::Ok) return setup_status_;
  input_ = input;
  input_bytes_ = input_bytes;
  output_ = output;
  output_bytes_ = output_bytes;
  for (int32_t i = 0; i < program_.op_count; ++i) {
    const DeviceOp& op = program_.ops[i];
    if (observer != nullptr) observer->op_begin(i, op);
    const RuntimeStatus status = run_op(op);
    if (observer != nullptr) observer->op_end(i, op, status);
    if (status != RuntimeStatus::Ok) {
      failure_.op_index = i;
      return status;
    }
    ++stats_.ops_done;
  }
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::run_op(const DeviceOp& op) {
  switch (op.kind) {
    case DeviceOpKind::LoadInput:
      return load_input(op);
    case DeviceOpKind::Send:
      return send(op);
    case DeviceOpKind::Receive:
      return receive(op);
    case DeviceOpKind::Copy:
      return copy(op);
    case DeviceOpKind::Compute:
      return compute(op);
    case DeviceOpKind::StoreOutput:
      return store_output(op);
  }
  return fail(RuntimeStatus::BadProgram, "op of an unknown kind");
}

int8_t* DeviceRuntime::buffer_data(int32_t buffer) const {
  return arena_ + program_.buffers[buffer].offset;
}

void DeviceRuntime::note_written(int32_t buffer, const Box& box) {
  const DeviceBuffer& b = program_.buffers[buffer];
  if (box.empty()) return;
  const int64_t end = b.offset + dense_end(b.box, box);
  if (end > stats_.high_water_bytes) stats_.high_water_bytes = end;
}

RuntimeStatus DeviceRuntime::fail(RuntimeStatus status, const char* detail) {
  failure_.status = status;
  failure_.detail = detail;
  return status;
}

RuntimeStatus DeviceRuntime::load_input(const DeviceOp& op) {
  const core::TensorShape3& shape = program_.tensor_shapes[op.tensor];
  if (input_ == nullptr || input_bytes_ != shape.volume()) {
    return fail(RuntimeStatus::BadArgument, "the graph input is missing or of the wrong size");
  }
  const DeviceBuffer& dst = program_.buffers[op.dst_buffer];
  copy_box(input_, core::full_box(shape), buffer_data(op.dst_buffer), dst.box, op.box);
  note_written(op.dst_buffer, op.box);
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::store_output(const DeviceOp& op) {
  const core::TensorShape3& shape = program_.tensor_shapes[op.tensor];
  if (output_ == nullptr || output_bytes_ != shape.volume()) {
    return fail(RuntimeStatus::BadArgument, "the graph output is missing or of the wrong size");
  }
  const DeviceBuffer& src = program_.buffers[op.src_buffer];
  copy_box(buffer_data(op.src_buffer), src.box, output_, core::full_box(shape), op.box);
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::send(const DeviceOp& op) {
  // Gather the box densely; the transport may split it into frames.
  const DeviceBuffer& src = program_.buffers[op.src_buffer];
  copy_box(buffer_data(op.src_buffer), src.box, scratch_, op.box, op.box);
  MessageHeader header;
  header.source = program_.participant;
  header.destination = op.peer;
  header.tensor = op.tensor;
  header.box = op.box;
  header.payload_bytes = op.box.volume();
  const TransportStatus s = transport_->send(header, scratch_);
  if (s != TransportStatus::Ok) {
    failure_.transport = s;
    return fail(RuntimeStatus::TransportFailed, "send failed");
  }
  stats_.bytes_sent += header.payload_bytes;
  ++stats_.messages_sent;
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::receive(const DeviceOp& op) {
  MessageHeader header;
  const TransportStatus s = transport_->receive(op.peer, &header, scratch_, scratch_capacity_);
  if (s != TransportStatus::Ok) {
    failure_.transport = s;
    return fail(RuntimeStatus::TransportFailed, "receive failed");
  }
  ++stats_.messages_received;
  stats_.bytes_received += header.payload_bytes;
  // Per (source, destination) pair messages come in plan order, so the next
  // one must be exactly this op's box; anything else means the participants
  // run different plans or a message was lost.
  if (header.source != op.peer || header.destination != program_.participant ||
      header.tensor != op.tensor || !(header.box == op.box) ||
      header.payload_bytes != op.box.volume()) {
    failure_.received = header;
    return fail(RuntimeStatus::ReceiveMismatch, "the message is not the box the op expects");
  }
  const DeviceBuffer& dst = program_.buffers[op.dst_buffer];
  copy_box(scratch_, op.box, buffer_data(op.dst_buffer), dst.box, op.box);
  note_written(op.dst_buffer, op.box);
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::copy(const DeviceOp& op) {
  const DeviceBuffer& src = program_.buffers[op.src_buffer];
  const DeviceBuffer& dst = program_.buffers[op.dst_buffer];
  copy_box(buffer_data(op.src_buffer), src.box, buffer_data(op.dst_buffer), dst.box, op.box);
  note_written(op.dst_buffer, op.box);
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::compute(const DeviceOp& op) {
  const kernels::KernelStatus s = run_compute(program_, op, arena_);
  if (s != kernels::KernelStatus::Ok) {
    failure_.kernel = s;
    return fail(RuntimeStatus::KernelFailed, "the layer's kernel failed");
  }
  note_written(op.dst_buffer, op.box);
  return RuntimeStatus::Ok;
}

}  // namespace mcusplit::device
