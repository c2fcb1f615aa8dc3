#include "kernels/int8_add.h"

namespace mcusplit::kernels {

Int8AddParams make_int8_add_params(const TensorShape3& shape, const core::QuantParams& input1,
                                   const core::QuantParams& input2, const core::QuantParams& output,
                                   const ActivationRange& act) {
  Int8AddParams p;
  p.shape = shape;
  p.input1_offset = -input1.zero_point;
  p.input2_offset = -input2.zero_point;
  p.output_offset = output.zero_point;
  p.activation = act;
  const double scale1 = input1.scale;
  const double scale2 = input2.scale;
  const double twice_max_input_scale = 2.0 * (scale1 > scale2 ? scale1 : scale2);
  const auto m1 = core::quantize_multiplier(scale1 / twice_max_input_scale);
  const auto m2 = core::quantize_multiplier(scale2 / twice_max_input_scale);
  const auto mo = core::quantize_multiplier(
      twice_max_input_scale / (static_cast<double>(int64_t{1} << p.left_shift) * output.scale));
  p.input1_multiplier = m1.multiplier;
  p.input1_shift = m1.shift;
  p.input2_multiplier = m2.multiplier;
  p.input2_shift = m2.shift;
  p.output_multiplier = mo.multiplier;
  p.output_shift = mo.shift;
  return p;
}

namespace {

// Below this many output values the two 256-entry rescale tables cost more
// than they save (each entry is one rescale).
constexpr int64_t kAddTableMinElements = 1024;

bool valid_add_params(const Int8AddParams& p) {
  return valid_shape(p.shape) && valid_zero_point(-p.input1_offset) &&
         valid_zero_point(-p.input2_offset) && valid_zero_point(p.output_offset) &&
         valid_activation(p.activation) && p.left_shift >= 0 && p.left_shift <= 23 &&
         p.input1_shift <= 0 && p.input2_shift <= 0;
}

KernelStatus check_input(const TensorShape3& shape, const InputTile& t, const Box& out_box) {
  if (t.box.empty() || !core::contains(t.box, out_box)) return KernelStatus::InputBoxTooSmall;
  if (t.data == nullptr || !core::inside(shape, t.box)) return KernelStatus::BadParams;
  return KernelStatus::Ok;
}

bool use_tables(const Box& out_box) {
  return int64_t{out_box.channels()} * out_box.height() * out_box.width() >= kAddTableMinElements;
}

}  // namespace

int32_t int8_add_scratch_bytes(const Int8AddParams& /*p*/, const Box& out_box) {
  if (out_box.empty() || !use_tables(out_box)) return 0;
  return 2 * scratch_array_bytes<int32_t>(256);
}

KernelStatus int8_add(const Int8AddParams& p, const InputTile& in1, const InputTile& in2,
                      const OutputTile& out, Scratch scratch) {
  if (!valid_add_params(p)) return KernelStatus::BadParams;
  if (out.box.empty()) return KernelStatus::Ok;
  const ResolvedStrides os = resolve_strides(out);
  if (!core::inside(p.shape, out.box) || out.data == nullptr || !os.ok) {
    return KernelStatus::BadParams;
  }
  if (const KernelStatus s1 = check_input(p.shape, in1, out.box); s1 != KernelStatus::Ok) return s1;
  if (const KernelStatus s2 = check_input(p.shape, in2, out.box); s2 != KernelStatus::Ok) return s2;
  if (!scratch_fits(scratch, int8_add_scratch_bytes(p, out.box))) return KernelStatus::BadParams;

  const int32_t channels = out.box.channels();
  const int32_t scale_up = int32_t{1} << p.left_shift;
  // Decoded once, held in locals (the output stores may alias `p`): the
  // three rescales are most of this kernel's instructions.
  const ChannelRequant q1 = decode_requant(p.input1_multiplier, p.input1_shift);
  const ChannelRequant q2 = decode_requant(p.input2_multiplier, p.input2_shift);
  const ChannelRequant qo = decode_requant(p.output_multiplier, p.output_shift);
  const int32_t output_offset = p.output_offset;
  const ActivationRange act = p.activation;
  // An input's rescale depends on its int8 value only: for boxes of more
  // values than the tables hold, look both up (256 values each, 2 KiB of
  // scratch) instead of rescaling every element.
  const bool tables = use_tables(out.box);
  int32_t* table1 = nullptr;
  int32_t* table2 = nullptr;
  if (tables) {
    ScratchCarver carver(scratch);
    table1 = carver.carve<int32_t>(256);
    table2 = carver.carve<int32_t>(256);
    for (int32_t v = -128; v < 128; ++v) {
      table1[v + 128] = scale_acc((v + p.input1_offset) * scale_up, q1);
      table2[v + 128] = scale_acc((v + p.input2_offset) * scale_up, q2);
    }
  }
  const int32_t offset1 = p.input1_offset;
  const int32_t offset2 = p.input2_offset;
  for (int32_t y = out.box.y0; y < out.box.y1; ++y) {
    for (int32_t x = out.box.x0; x < out.box.x1; ++x) {
      const int8_t* a = in1.data + core::dense_offset(in1.box, out.box.c0, y, x);
      const int8_t* b = in2.data + core::dense_offset(in2.box, out.box.c0, y, x);
      int8_t* o = out.data + (y - out.box.y0) * os.row + (x - out.box.x0) * os.pixel;
      if (tables) {
        for (int32_t c = 0; c < channels; ++c) {
          const int32_t sum = scale_acc(table1[a[c] + 128] + table2[b[c] + 128], qo);
          o[c] = clamp_to_int8(sum + output_offset, act);
        }
        continue;
      }
      for (int32_t c = 0; c < channels; ++c) {
        const int32_t scaled1 = scale_acc((a[c] + offset1) * scale_up, q1);
        const int32_t scaled2 = scale_acc((b[c] + offset2) * scale_up, q2);
        const int32_t sum = scale_acc(scaled1 + scaled2, qo);
        o[c] = clamp_to_int8(sum + output_offset, act);
      }
    }
  }
  return KernelStatus::Ok;
}

}  // namespace mcusplit::kernels
