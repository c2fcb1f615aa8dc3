// The device's side of depthwise in place: check_program accepts a Compute
// whose output lies over its input only as the planner lays it out.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "device/layer_compute.h"
#include "device/program_check.h"
#include "host/device_slice.h"
#include "plan/devices_shorthand.h"
#include "plan/planner.h"
#include "quant/quantized_zoo.h"

namespace mcusplit::device {
namespace {

TEST(InPlaceProgram, OnlyTheOverlapThePlannerLaysOutPasses) {
  const quant::QGraph& g = mcusplit::testing::cached_mobilenetv2(0.35f, 96, 10);
  plan::ClusterSpec cluster = plan::parse_devices_shorthand("1xteensy41");
  plan::apply_ram_override(cluster, 96 * 1024);
  plan::PlanOptions o;
  o.objective = plan::Objective::Memory;
  o.search_min_count = false;
  const plan::PlanFile file = host::provision_plan(plan::make_plan(g, cluster, o), g);
  const host::DeviceSlice slice(file, 0);
  const DeviceProgram& good = slice.program();
  EXPECT_EQ(check_program(good).status, RuntimeStatus::Ok) << check_program(good).what;

  int32_t at = -1;  // a Compute computed in place
  for (int32_t i = 0; i < good.op_count && at < 0; ++i) {
    const DeviceOp& op = good.ops[i];
    if (op.kind == DeviceOpKind::Compute && op.input_count > 0 && op.inputs[0] >= 0 &&
        buffers_overlap(good.buffers[op.inputs[0]], good.buffers[op.dst_buffer])) {
      at = i;
    }
  }
  ASSERT_GE(at, 0);
  const DeviceOp& op = good.ops[at];
  auto check_with = [&](auto edit) {
    std::vector<DeviceBuffer> buffers(good.buffers, good.buffers + good.buffer_count);
    std::vector<DeviceOp> ops(good.ops, good.ops + good.op_count);
    edit(buffers, ops[static_cast<size_t>(at)]);
    DeviceProgram bad = good;
    bad.buffers = buffers.data();
    bad.ops = ops.data();
    return check_program(bad);
  };
  // The output one byte off its input's first byte: channels would land on
  // live inputs.
  ProgramProblem p = check_with([&](std::vector<DeviceBuffer>& b, DeviceOp&) {
    b[static_cast<size_t>(op.dst_buffer)].offset += 1;
  });
  EXPECT_STREQ(p.what, "compute writes over its input where it cannot run in place");
  // Part of the output only.
  p = check_with([](std::vector<DeviceBuffer>&, DeviceOp& c) { c.box.y1 = c.box.y0 + 1; });
  EXPECT_STREQ(p.what, "compute writes over its input where it cannot run in place");
  // The plane's scratch missing.
  p = check_with([](std::vector<DeviceBuffer>&, DeviceOp& c) { c.scratch_bytes -= 4; });
  EXPECT_STREQ(p.what, "kernel scratch smaller than the kernel needs");
}

}  // namespace
}  // namespace mcusplit::device
