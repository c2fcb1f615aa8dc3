// Helpers for plan tests: the message of an expected mcusplit::Error, a plan
// within a RAM budget, temporary cluster files, and removing an op from a
// plan.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/error.h"
#include "plan/devices_shorthand.h"
#include "plan/plan.h"
#include "plan/planner.h"

namespace mcusplit::plan::testing {

// The message of the mcusplit::Error that `action` throws; fails the test
// unless it throws one with exit code 2 and a single-line message.
template <typename Action>
std::string bad_input_message(Action&& action) {
  try {
    action();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitBadInput) << e.what();
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "expected an mcusplit::Error";
  return "";
}

// Writes `text` to a file named after the running test; returns its path.
inline std::string write_temp_file(const std::string& text, const std::string& suffix = ".json") {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path =
      ::testing::TempDir() + "mcusplit_" + info->test_suite_name() + "_" + info->name() + suffix;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// `graph` planned on `devices` (shorthand) with `ram` bytes each, at the
// count given (no search for the smallest count that fits).
inline Plan plan_within(const quant::QGraph& graph, const std::string& devices, int64_t ram,
                        Objective objective = Objective::Latency) {
  ClusterSpec cluster = parse_devices_shorthand(devices);
  apply_ram_override(cluster, ram);
  PlanOptions o;
  o.objective = objective;
  o.search_min_count = false;
  return make_plan(graph, cluster, o);
}

// Removes op `index` of participant `pp`. Lifetimes are op indices: the
// later ops move up by one, and so do the lifetimes that reach them.
inline void erase_op_at(ParticipantPlan& pp, int index) {
  for (PlanBuffer& b : pp.buffers) {
    if (b.first_op > index) --b.first_op;
    if (b.last_op >= index && b.last_op > b.first_op) --b.last_op;
  }
  pp.ops.erase(pp.ops.begin() + index);
}

}  // namespace mcusplit::plan::testing
