#include "kernels/int8_conv_dispatch.h"

#include "kernels/int8_conv_1x1.h"
#include "kernels/int8_depthwise_conv.h"

namespace mcusplit::kernels {

ConvVariant select_conv_variant(const Int8ConvParams& p) {
  if (is_pointwise_conv(p)) return ConvVariant::Pointwise;
  // groups == 1 with one input channel is a plain conv; the general kernel's
  // contiguous window rows serve it better.
  if (p.groups > 1 && is_depthwise_conv(p)) return ConvVariant::Depthwise;
  return ConvVariant::General;
}

int32_t int8_conv_dispatch_scratch_bytes(const Int8ConvParams& p, const Box& out_box) {
  switch (select_conv_variant(p)) {
    case ConvVariant::Pointwise:
      return int8_conv_1x1_scratch_bytes(p, out_box);
    case ConvVariant::Depthwise:
      return int8_depthwise_conv_scratch_bytes(p, out_box);
    case ConvVariant::General:
      break;
  }
  return int8_conv_scratch_bytes(p, out_box);
}

KernelStatus int8_conv_dispatch(const Int8ConvParams& p, const InputTile& in, const OutputTile& out,
                                Scratch scratch) {
  switch (select_conv_variant(p)) {
    case ConvVariant::Pointwise:
      return int8_conv_1x1(p, in, out, scratch);
    case ConvVariant::Depthwise:
      return int8_depthwise_conv(p, in, out, scratch);
    case ConvVariant::General:
      break;
  }
  return int8_conv(p, in, out, scratch);
}

}  // namespace mcusplit::kernels
