// Helpers for plan tests: the message of an expected mcusplit::Error,
// temporary cluster files, and removing an op from a plan.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/error.h"
#include "plan/plan.h"

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
