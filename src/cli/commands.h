// Each verb of the mcusplit command registers itself on the app.
#pragma once

#include <CLI/CLI.hpp>

namespace mcusplit::cli {

void add_zoo_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_infer_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_plan_command(CLI::App& app);
void add_worker_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_calibrate_command(CLI::App& app);
void add_keygen_command(CLI::App& app);

}  // namespace mcusplit::cli
