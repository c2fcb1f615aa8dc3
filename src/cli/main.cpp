// mcusplit: import, inspect, run and (later) split CNN models across MCUs.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "common/error.h"

namespace {

// CLI11 reports a mistyped verb only as "a subcommand is required"; this
// names it. Returns the list of verbs when `word` is not one of them, else "".
std::string unknown_verb_hint(CLI::App& app, const std::string& word) {
  std::string verbs;
  for (const auto* sub : app.get_subcommands({})) {
    if (sub->get_name() == word) return "";
    if (!verbs.empty()) verbs += ", ";
    verbs += sub->get_name();
  }
  return verbs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mcusplit: split CNN inference across networked microcontrollers"};
  app.require_subcommand(1);
  mcusplit::cli::add_zoo_command(app);
  mcusplit::cli::add_inspect_command(app);
  mcusplit::cli::add_infer_command(app);
  mcusplit::cli::add_quantize_command(app);
  mcusplit::cli::add_eval_command(app);
  mcusplit::cli::add_plan_command(app);
  mcusplit::cli::add_worker_command(app);
  mcusplit::cli::add_run_command(app);
  mcusplit::cli::add_export_command(app);
  mcusplit::cli::add_calibrate_command(app);
  mcusplit::cli::add_keygen_command(app);

  if (argc > 1 && argv[1][0] != '-') {
    const std::string verbs = unknown_verb_hint(app, argv[1]);
    if (!verbs.empty()) {
      std::fprintf(stderr, "mcusplit: error: unknown command '%s' (commands: %s)\n", argv[1],
                   verbs.c_str());
      return mcusplit::kExitBadInput;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, the bad-input exit code, as for every other bad input.
    std::fprintf(stderr, "mcusplit: error: %s (see mcusplit --help)\n", e.what());
    return mcusplit::kExitBadInput;
  } catch (const mcusplit::Error& e) {
    std::fprintf(stderr, "mcusplit: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mcusplit: internal error: %s\n", e.what());
    return mcusplit::kExitFailure;
  }
  return mcusplit::kExitOk;
}
