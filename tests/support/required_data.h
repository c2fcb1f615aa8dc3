// A suite that finds none of its data checks nothing, so it must not pass.
// On CI (CI set, and not "false" or "0") a missing package fails the test;
// on a developer machine without it the test is skipped, saying what to
// install.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace mcusplit::testing {

inline bool on_ci() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string value = ci;
  return !value.empty() && value != "false" && value != "0";
}

}  // namespace mcusplit::testing

// Ends the test unless `present`: a failure on CI, a skip elsewhere.
// `package` names what provides the data (the apt package).
#define MCUSPLIT_REQUIRE_DATA(present, package)                                       \
  do {                                                                                \
    if (!(present)) {                                                                 \
      if (::mcusplit::testing::on_ci()) {                                             \
        FAIL() << "no " << (package) << ": on CI a suite without its data must fail"; \
      }                                                                               \
      GTEST_SKIP() << "no " << (package) << " (apt-get install " << (package) << ")"; \
    }                                                                                 \
  } while (false)
