// `mcusplit worker --listen HOST:PORT [--ram BYTES] [--timeout MS] [--key-file FILE]`: one
// device process of a distributed run (host/worker.h).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "common/error.h"
#include "host/cluster_key.h"
#include "host/worker.h"
#include "plan/byte_size.h"

namespace mcusplit::cli {
namespace {

struct WorkerArgs {
  std::string listen;
  std::string ram;
  int timeout_ms = 2000;
  int idle_timeout_s = 60;
  int sessions = 1;
  std::string key_file;
};

void run_worker_verb(const WorkerArgs& a) {
  host::WorkerOptions o;
  o.listen = a.listen;
  if (!a.ram.empty()) o.ram_bytes = plan::parse_byte_size(a.ram);
  if (a.timeout_ms <= 0 || a.idle_timeout_s <= 0) throw Error("timeouts must be positive");
  o.receive_timeout = std::chrono::milliseconds(a.timeout_ms);
  o.idle_timeout = std::chrono::seconds(a.idle_timeout_s);
  if (a.sessions < 1) throw Error("--sessions must be at least 1");
  o.sessions = a.sessions;
  if (!a.key_file.empty()) o.key = host::read_cluster_key(a.key_file);
  host::run_worker(o, stdout);
}

}  // namespace

void add_worker_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "worker", "Serve as one device of a distributed run (prints 'listening HOST:PORT')");
  auto args = std::make_shared<WorkerArgs>();
  cmd->add_option("--listen", args->listen, "Address to listen on, A.B.C.D:PORT (port 0: any)")
      ->required();
  cmd->add_option("--ram", args->ram,
                  "RAM of this device (e.g. 512KiB); larger arenas are refused");
  cmd->add_option("--timeout", args->timeout_ms, "Receive timeout in milliseconds")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", args->idle_timeout_s,
                  "Seconds to wait for the coordinator or its next command")
      ->capture_default_str();
  cmd->add_option("--sessions", args->sessions,
                  "Coordinator sessions to serve before exiting (more than 1 lets a coordinator "
                  "re-plan onto this worker after another device failed)")
      ->capture_default_str();
  cmd->add_option("--key-file", args->key_file,
                  "The cluster key (mcusplit keygen): frames and images without its tag are "
                  "refused");
  cmd->callback([args] { run_worker_verb(*args); });
}

}  // namespace mcusplit::cli
