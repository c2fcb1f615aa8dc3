#include "host/failure_message.h"

#include <fmt/format.h>

namespace mcusplit::host {

namespace {

using device::DeviceOp;
using device::DeviceOpKind;
using device::RuntimeFailure;
using device::RuntimeStatus;
using device::TransportStatus;

const char* kernel_status_text(kernels::KernelStatus s) {
  switch (s) {
    case kernels::KernelStatus::Ok:
      return "ok";
    case kernels::KernelStatus::InputBoxTooSmall:
      return "input box too small";
    case kernels::KernelStatus::BadParams:
      return "bad parameters";
  }
  return "unknown status";
}

class Describer {
 public:
  // Indices out of range (a corrupt program) are named as numbers.
  Describer(const plan::PlanFile& file, const device::DeviceProgram& program)
      : file_(file), program_(program) {}

  std::string participant(int p) const {
    if (p < 0 || p >= static_cast<int>(file_.plan.participants.size())) {
      return fmt::format("participant {}", p);
    }
    return fmt::format("'{}'", file_.plan.participants[static_cast<size_t>(p)].name);
  }

  std::string tensor(int t) const {
    if (t < 0 || t >= static_cast<int>(file_.graph.tensors.size())) {
      return fmt::format("tensor {}", t);
    }
    return fmt::format("tensor '{}'", file_.graph.tensors[static_cast<size_t>(t)].name);
  }

  std::string layer(int l) const {
    if (l < 0 || l >= layer_count()) return fmt::format("layer {}", l);
    const quant::QLayer& q = file_.graph.layers[static_cast<size_t>(l)];
    return fmt::format("layer '{}' ({})", q.name, quant::op_type_name(q.op));
  }

  int layer_count() const { return static_cast<int>(file_.graph.layers.size()); }

  // The layer whose output is the graph's output, or -1.
  int output_layer() const {
    for (int l = layer_count() - 1; l >= 0; --l) {
      if (file_.graph.layers[static_cast<size_t>(l)].output == file_.graph.output) return l;
    }
    return -1;
  }

  std::string op(int32_t index) const {
    if (index < 0 || index >= program_.op_count) return "set-up";
    const DeviceOp& o = program_.ops[index];
    std::string what;
    switch (o.kind) {
      case DeviceOpKind::Send:
        what = fmt::format("send of {} {} to {}", tensor(o.tensor), box_text(o.box),
                           participant(o.peer));
        break;
      case DeviceOpKind::Receive:
        what = fmt::format("receive of {} {} from {}", tensor(o.tensor), box_text(o.box),
                           participant(o.peer));
        break;
      case DeviceOpKind::Compute:
        what = fmt::format("compute of {} box {}", layer(o.layer), box_text(o.box));
        break;
      default:
        what = fmt::format("{} of {} {}", device::device_op_kind_name(o.kind), tensor(o.tensor),
                           box_text(o.box));
    }
    if (o.kind == DeviceOpKind::Compute)
      return fmt::format("op {} ({}, step {})", index, what, o.step);
    // Name the layer whose step the op belongs to: where the run was.
    // The output collection waits on the layer that produces the output.
    const std::string at =
        o.step < layer_count()
            ? fmt::format("step {} of {}", o.step, layer(o.step))
            : fmt::format("step {}, the output collection of {}", o.step, layer(output_layer()));
    return fmt::format("op {} ({}, {})", index, what, at);
  }

  std::string cause(const RuntimeFailure& f, std::chrono::milliseconds timeout) const {
    switch (f.status) {
      case RuntimeStatus::TransportFailed:
        if (f.transport == TransportStatus::Timeout) {
          return fmt::format("nothing arrived within {} ms", timeout.count());
        }
        return fmt::format("{}: {}", f.detail, device::transport_status_name(f.transport));
      case RuntimeStatus::ReceiveMismatch:
        return fmt::format("got {} {} ({} bytes) from {} for {} instead", tensor(f.received.tensor),
                           box_text(f.received.box), f.received.payload_bytes,
                           participant(f.received.source), participant(f.received.destination));
      case RuntimeStatus::KernelFailed:
        return fmt::format("{}: {}", f.detail, kernel_status_text(f.kernel));
      case RuntimeStatus::BadProgram:
        return f.index >= 0 ? fmt::format("{} (entry {})", f.detail, f.index) : f.detail;
      default:
        return f.detail;
    }
  }

 private:
  const plan::PlanFile& file_;
  const device::DeviceProgram& program_;
};

}  // namespace

std::string box_text(const core::Box& b) {
  return fmt::format("[{}, {}) x [{}, {}) x [{}, {})", b.c0, b.c1, b.y0, b.y1, b.x0, b.x1);
}

std::string describe_op(const plan::PlanFile& file, const device::DeviceProgram& program,
                        int32_t op_index) {
  return Describer(file, program).op(op_index);
}

std::string failure_message(const plan::PlanFile& file, const device::DeviceProgram& program,
                            const RuntimeFailure& failure,
                            std::chrono::milliseconds receive_timeout) {
  const Describer d(file, program);
  return fmt::format("{} failed at {}: {}: {}", d.participant(program.participant),
                     d.op(failure.op_index), device::runtime_status_name(failure.status),
                     d.cause(failure, receive_timeout));
}

}  // namespace mcusplit::host
