#include "kernels/op_registry.h"

namespace mcusplit::kernels {

namespace {

// Indexed by OpType; the static_assert keeps the table and the enum in step.
const OpRegistration* const kRegistrations[] = {
    &kConvOp,    &kFullyConnectedOp, &kAddOp,
    &kMaxPoolOp, &kAveragePoolOp,    &kGlobalAveragePoolOp,
    &kConcatOp,  &kReshapeOp,        &kSoftmaxOp, &kPadOp,
};
static_assert(sizeof(kRegistrations) / sizeof(kRegistrations[0]) == kOpTypeCount);

}  // namespace

const OpRegistration& op_registration(OpType op) {
  const auto index = static_cast<uint32_t>(op);
  return *kRegistrations[valid_op_type(index) ? index : 0];
}

namespace {

bool same_text(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

}  // namespace

bool is_kernel_name(const char* name) {
  for (const OpRegistration* r : kRegistrations) {
    for (const char* const* n = r->kernel_names; *n != nullptr; ++n) {
      if (same_text(*n, name)) return true;
    }
  }
  return false;
}

const char* check_op_layer(const OpLayer& layer, const OpShapes& shapes) {
  if (!valid_op_type(static_cast<uint32_t>(layer.op))) return "unknown operator";
  const OpRegistration& r = op_registration(layer.op);
  if (layer.params == nullptr) return "no parameters";
  if (shapes.input_count != layer.input_count) return "input shapes do not match the inputs";
  if (r.variadic_inputs ? layer.input_count < 1 : layer.input_count != r.input_count) {
    return "wrong number of inputs";
  }
  return r.check(layer, shapes);
}

}  // namespace mcusplit::kernels
