#include "device/layer_compute.h"

#include "device/box_copy.h"
#include "kernels/int8_add.h"
#include "kernels/int8_concat.h"
#include "kernels/int8_conv_dispatch.h"
#include "kernels/int8_fully_connected.h"
#include "kernels/int8_global_average_pool.h"
#include "kernels/int8_pool.h"

namespace mcusplit::device {

namespace {

using kernels::InputTile;
using kernels::KernelStatus;
using kernels::OutputTile;

class ComputeOp {
 public:
  ComputeOp(const DeviceProgram& p, const DeviceOp& op, int8_t* arena, kernels::Scratch scratch)
      : p_(p), op_(op), layer_(p.layers[op.params]), arena_(arena), scratch_(scratch) {}

  KernelStatus run() const {
    switch (layer_.kind) {
      case LayerKind::Conv:
        return kernels::int8_conv_dispatch(layer_.conv, input(0), output(), scratch_);
      case LayerKind::FullyConnected:
        return fully_connected();
      case LayerKind::Add:
        return kernels::int8_add(layer_.add, input(0), input(1), output(), scratch_);
      case LayerKind::MaxPool:
        return kernels::int8_max_pool(layer_.pool, input(0), output(), scratch_);
      case LayerKind::AveragePool:
        return kernels::int8_average_pool(layer_.pool, input(0), output(), scratch_);
      case LayerKind::GlobalAveragePool:
        return kernels::int8_global_average_pool(layer_.global_pool, input(0), output(), scratch_);
      case LayerKind::Concat:
        return concat();
      case LayerKind::Reshape:
        return reshape();
    }
    return KernelStatus::BadParams;
  }

 private:
  const DeviceBuffer& buffer(int32_t b) const { return p_.buffers[b]; }
  int8_t* data(int32_t b) const { return arena_ + buffer(b).offset; }

  // The whole buffer holding input k: the kernels index it by its box.
  InputTile input(int32_t k) const {
    const int32_t b = op_.inputs[k];
    if (b < 0) return InputTile{};  // the kernel reports the missing input
    return InputTile{data(b), buffer(b).box};
  }

  // The op box inside the dst buffer: strides of the buffer's box.
  OutputTile output() const {
    const DeviceBuffer& dst = buffer(op_.dst_buffer);
    const core::Box& box = op_.box;
    return OutputTile{data(op_.dst_buffer) + core::dense_offset(dst.box, box.c0, box.y0, box.x0),
                      box, dst.box.channels(), dst.box.width() * dst.box.channels()};
  }

  KernelStatus fully_connected() const {
    // Neurons [c0, c1) land contiguously: the output tensor is {N, 1, 1}.
    const OutputTile out = output();
    return kernels::int8_fully_connected(layer_.fc, input(0).data, op_.box.c0, op_.box.c1, out.data,
                                         scratch_);
  }

  KernelStatus concat() const {
    const OutputTile out = output();
    for (int32_t k = 0; k < layer_.input_count; ++k) {
      const kernels::Int8ConcatParams& params = layer_.concat[k];
      const core::Box copy = kernels::required_input_box(params, op_.box);
      if (copy.empty()) continue;
      if (op_.inputs[k] < 0) return KernelStatus::InputBoxTooSmall;
      const KernelStatus s = kernels::int8_concat(params, input(k), copy, out, scratch_);
      if (s != KernelStatus::Ok) return s;
    }
    return KernelStatus::Ok;
  }

  KernelStatus reshape() const {
    const int32_t b = op_.inputs[0];
    const core::Box needed =
        reshape_input_box(layer_.reshape_input, layer_.reshape_output, op_.box);
    if (b < 0 || !core::contains(buffer(b).box, needed)) return KernelStatus::InputBoxTooSmall;
    reshape_copy(layer_.reshape_input, data(b), buffer(b).box, layer_.reshape_output,
                 data(op_.dst_buffer), buffer(op_.dst_buffer).box, op_.box);
    return KernelStatus::Ok;
  }

  const DeviceProgram& p_;
  const DeviceOp& op_;
  const DeviceLayer& layer_;
  int8_t* arena_;
  kernels::Scratch scratch_;
};

}  // namespace

KernelStatus run_compute(const DeviceProgram& program, const DeviceOp& op, int8_t* arena,
                         kernels::Scratch scratch) {
  return ComputeOp(program, op, arena, scratch).run();
}

}  // namespace mcusplit::device
