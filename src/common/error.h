// The one exception type of the host layers. The CLI prints its message as a
// single line and exits with its code.
#pragma once

#include <stdexcept>
#include <string>

namespace mcusplit {

// Exit codes shared by every verb of the CLI.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,     // a run that started but did not succeed
  kExitBadInput = 2,    // bad file, flag, shape or operator
  kExitInfeasible = 3,  // a model that does not fit the cluster
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = kExitBadInput)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

}  // namespace mcusplit
