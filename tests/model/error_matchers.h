// Checks that a call throws mcusplit::Error whose one-line message contains
// every expected piece.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace mcusplit::onnx_test {

inline std::string error_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-mcusplit exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

inline void expect_error(const std::function<void()>& fn, const std::vector<std::string>& pieces) {
  const std::string message = error_message(fn);
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  for (const auto& piece : pieces) {
    EXPECT_NE(message.find(piece), std::string::npos)
        << "message \"" << message << "\" lacks \"" << piece << "\"";
  }
}

}  // namespace mcusplit::onnx_test
