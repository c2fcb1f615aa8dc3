// `mcusplit keygen -o FILE`: a new cluster key, 32 random bytes in a file of
// mode 0600 (host/cluster_key.h), for `run`'s and `worker`'s --key-file.
#include <fmt/core.h>

#include <memory>

#include "cli/commands.h"
#include "host/cluster_key.h"

namespace mcusplit::cli {

void add_keygen_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "keygen", "Make a cluster key for --key-file (32 random bytes, file mode 0600)");
  auto output = std::make_shared<std::string>();
  cmd->add_option("-o,--output", *output, "Key file to create (never overwritten)")->required();
  cmd->callback([output] {
    host::write_cluster_key(*output, host::generate_cluster_key());
    fmt::print("wrote {} ({} bytes, mode 0600)\n", *output, host::ClusterKey{}.size());
  });
}

}  // namespace mcusplit::cli
