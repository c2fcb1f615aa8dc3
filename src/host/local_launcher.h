// Starts `mcusplit worker` processes on loopback for `mcusplit run` without
// --workers: fork/exec of this very binary (/proc/self/exe) with --listen
// 127.0.0.1:0; each worker announces the port it bound on its stdout. The
// children die with this process (PR_SET_PDEATHSIG) and the destructor kills
// and reaps any still running, so no run leaves an orphan behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "host/socket_io.h"

namespace mcusplit::host {

class LocalWorkers {
 public:
  // Throws mcusplit::Error (exit code 1) if a worker cannot be started or
  // does not announce its port within `start_timeout`; the ones already
  // started are killed.
  LocalWorkers(int count, std::chrono::milliseconds start_timeout,
               const std::vector<std::string>& extra_args = {});
  ~LocalWorkers();
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;

  const std::vector<SocketAddress>& addresses() const { return addresses_; }

  // Waits up to `timeout` for every worker to exit; kills the rest. True if
  // all exited by themselves with status 0.
  bool wait_all(std::chrono::milliseconds timeout);
  void kill_all();

 private:
  void start_one(std::chrono::milliseconds start_timeout,
                 const std::vector<std::string>& extra_args);

  std::vector<pid_t> pids_;  // -1 once reaped
  std::vector<SocketAddress> addresses_;
};

}  // namespace mcusplit::host
