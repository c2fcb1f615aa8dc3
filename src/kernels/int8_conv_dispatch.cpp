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

KernelStatus int8_conv_dispatch(const Int8ConvParams& p, const InputTile& in,
                                const OutputTile& out) {
  switch (select_conv_variant(p)) {
    case ConvVariant::Pointwise:
      return int8_conv_1x1(p, in, out);
    case ConvVariant::Depthwise:
      return int8_depthwise_conv(p, in, out);
    case ConvVariant::General:
      break;
  }
  return int8_conv(p, in, out);
}

}  // namespace mcusplit::kernels
