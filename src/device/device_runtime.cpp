#include "device/device_runtime.h"

#include <cstdint>
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
  } else if (reinterpret_cast<uintptr_t>(arena_) % 4 != 0) {
    // Kernel scratch lives in the arena at 4-byte aligned offsets.
    setup_failure_.status = RuntimeStatus::BadArgument;
    setup_failure_.detail = "the arena does not start 4-byte aligned";
  } else if (program.participant_count > kMaxParticipants) {
    setup_failure_.status = RuntimeStatus::BadProgram;
    setup_failure_.detail = "more participants than the runtime supports (kMaxParticipants)";
  } else if (transport_ != nullptr && transport_->max_payload() <= 0) {
    setup_failure_.status = RuntimeStatus::BadArgument;
    setup_failure_.detail = "the transport's max payload is not positive";
  } else if (transport_ != nullptr &&
             ((scratch_ == nullptr && program.scratch_bytes > 0) ||
              scratch_capacity_ < frame_buffer_bytes(program, transport_->max_payload()))) {
    setup_failure_.status = RuntimeStatus::ScratchTooSmall;
    setup_failure_.detail = "the frame buffer is smaller than one frame's payload";
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
  for (int32_t p = 0; p < program_.participant_count; ++p) {
    credit_[p] = 0;
    received_[p] = 0;
    next_receive_[p] = next_receive_from(p, -1);
  }
  granted_end_ = 0;
  for (int32_t i = 0; i < program_.op_count; ++i) {
    const DeviceOp& op = program_.ops[i];
    if (i >= granted_end_) {
      const RuntimeStatus granted = grant_step(i);
      if (granted != RuntimeStatus::Ok) {
        failure_.op_index = i;
        return granted;
      }
    }
    if (observer != nullptr) observer->op_begin(i, op);
    const RuntimeStatus status = op.kind == DeviceOpKind::Receive ? receive(i, op) : run_op(op);
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
      break;  // run() calls receive() with the op's index
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

int32_t DeviceRuntime::next_receive_from(int32_t peer, int32_t after) const {
  for (int32_t i = after + 1; i < program_.op_count; ++i) {
    const DeviceOp& op = program_.ops[i];
    if (op.kind == DeviceOpKind::Receive && op.peer == peer) return i;
  }
  return program_.op_count;
}

RuntimeStatus DeviceRuntime::grant_step(int32_t first) {
  // Credit for a step is granted on entering it, before any of its ops (so
  // before this participant's own sends can block): its buffers are live
  // and every op of earlier steps that used the same arena bytes is done.
  const int32_t step = program_.ops[first].step;
  int32_t end = first;
  while (end < program_.op_count && program_.ops[end].step == step) ++end;
  granted_end_ = end;
  for (int32_t peer = 0; peer < program_.participant_count; ++peer) {
    int64_t bytes = 0;
    for (int32_t i = first; i < end; ++i) {
      const DeviceOp& op = program_.ops[i];
      if (op.kind == DeviceOpKind::Receive && op.peer == peer) bytes += op.box.volume();
    }
    if (bytes == 0) continue;
    while (!transport_->ready_to_send()) {
      const RuntimeStatus waited = handle_event();
      if (waited != RuntimeStatus::Ok) return waited;
    }
    const TransportStatus s = transport_->grant_credit(peer, bytes);
    if (s != TransportStatus::Ok) {
      failure_.transport = s;
      return fail(RuntimeStatus::TransportFailed, "granting credit failed");
    }
    ++stats_.credit_grants;
  }
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::handle_event() {
  LinkEvent event;
  const int32_t capacity = static_cast<int32_t>(scratch_capacity_ < transport_->max_payload()
                                                    ? scratch_capacity_
                                                    : transport_->max_payload());
  const TransportStatus s = transport_->poll(&event, scratch_, capacity);
  if (s != TransportStatus::Ok) {
    failure_.transport = s;
    return fail(RuntimeStatus::TransportFailed, "waiting for the link failed");
  }
  if (event.kind == LinkEventKind::Progress) return RuntimeStatus::Ok;
  if (event.kind == LinkEventKind::Credit) {
    if (event.peer < 0 || event.peer >= program_.participant_count || event.credit_bytes < 0) {
      return fail(RuntimeStatus::ReceiveMismatch, "credit from an unknown participant");
    }
    credit_[event.peer] += event.credit_bytes;
    return RuntimeStatus::Ok;
  }
  return accept_chunk(event.chunk);
}

RuntimeStatus DeviceRuntime::accept_chunk(const ChunkHeader& chunk) {
  // Per source, chunks arrive in plan order: they belong to that source's
  // oldest incomplete Receive op, which must already have been granted.
  const int32_t source = chunk.source;
  if (source < 0 || source >= program_.participant_count ||
      chunk.destination != program_.participant) {
    failure_.received = chunk;
    return fail(RuntimeStatus::ReceiveMismatch, "a chunk names the wrong participants");
  }
  const int32_t k = next_receive_[source];
  if (k >= granted_end_) {
    failure_.received = chunk;
    return fail(RuntimeStatus::ReceiveMismatch, "data arrived without credit for it");
  }
  const DeviceOp& op = program_.ops[k];
  const int64_t volume = op.box.volume();
  if (chunk.tensor != op.tensor || !(chunk.box == op.box) || chunk.message_bytes != volume ||
      chunk.chunk_offset != received_[source] || chunk.payload_bytes <= 0 ||
      chunk.payload_bytes > volume - received_[source]) {
    failure_.received = chunk;
    return fail(RuntimeStatus::ReceiveMismatch, "the message is not the box the op expects");
  }
  const DeviceBuffer& dst = program_.buffers[op.dst_buffer];
  scatter_range(scratch_, buffer_data(op.dst_buffer), dst.box, op.box, chunk.chunk_offset,
                chunk.payload_bytes);
  received_[source] += chunk.payload_bytes;
  stats_.bytes_received += chunk.payload_bytes;
  ++stats_.frames_received;
  if (received_[source] == volume) {
    note_written(op.dst_buffer, op.box);
    ++stats_.messages_received;
    received_[source] = 0;
    next_receive_[source] = next_receive_from(source, k);
  }
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::send(const DeviceOp& op) {
  const DeviceBuffer& src = program_.buffers[op.src_buffer];
  const int64_t volume = op.box.volume();
  const int64_t max_chunk =
      scratch_capacity_ < transport_->max_payload() ? scratch_capacity_ : transport_->max_payload();
  ChunkHeader header;
  header.source = program_.participant;
  header.destination = op.peer;
  header.tensor = op.tensor;
  header.box = op.box;
  header.message_bytes = volume;
  for (int64_t offset = 0; offset < volume;) {
    // Never past the receiver's credit, nor into a link that cannot take the
    // frame now; meanwhile keep taking what arrives.
    while (credit_[op.peer] == 0 || !transport_->ready_to_send()) {
      const RuntimeStatus s = handle_event();
      if (s != RuntimeStatus::Ok) return s;
    }
    int64_t chunk = volume - offset;
    if (chunk > max_chunk) chunk = max_chunk;
    if (chunk > credit_[op.peer]) chunk = credit_[op.peer];
    gather_range(buffer_data(op.src_buffer), src.box, op.box, offset, chunk, scratch_);
    header.chunk_offset = offset;
    header.payload_bytes = static_cast<int32_t>(chunk);
    const TransportStatus s = transport_->send_chunk(header, scratch_);
    if (s != TransportStatus::Ok) {
      failure_.transport = s;
      return fail(RuntimeStatus::TransportFailed, "send failed");
    }
    credit_[op.peer] -= chunk;
    offset += chunk;
    stats_.bytes_sent += chunk;
    ++stats_.frames_sent;
  }
  ++stats_.messages_sent;
  return RuntimeStatus::Ok;
}

RuntimeStatus DeviceRuntime::receive(int32_t op_index, const DeviceOp& op) {
  // Chunks from one source complete its Receive ops in order, so this op is
  // done once that source's oldest incomplete receive lies beyond it.
  while (next_receive_[op.peer] <= op_index) {
    const RuntimeStatus s = handle_event();
    if (s != RuntimeStatus::Ok) return s;
  }
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
  const kernels::KernelStatus s =
      run_compute(program_, op, arena_, {arena_ + op.scratch_offset, op.scratch_bytes});
  if (s != kernels::KernelStatus::Ok) {
    failure_.kernel = s;
    return fail(RuntimeStatus::KernelFailed, "the layer's kernel failed");
  }
  // The kernel had the whole scratch to write.
  if (op.scratch_bytes > 0 && op.scratch_offset + op.scratch_bytes > stats_.high_water_bytes) {
    stats_.high_water_bytes = op.scratch_offset + op.scratch_bytes;
  }
  note_written(op.dst_buffer, op.box);
  return RuntimeStatus::Ok;
}

}  // namespace mcusplit::device
