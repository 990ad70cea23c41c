// The `gantry` command table: each subcommand is one file in cli/ that defines a setup function
// adding its options and callback to a CLI11 subcommand. main.cc holds the one table of
// {name, help, setup}. Callbacks report their exit code through CommandContext::exit_code.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "common/result.h"

namespace gantry::cli {

struct GlobalOptions {
  std::string root = "/var/lib/gantry";  // state root for every command
  std::string log_level = "warn";
};

struct CommandContext {
  GlobalOptions global;
  int exit_code = 0;
};

using CommandSetup = void (*)(CLI::App& command, CommandContext& ctx);

struct CommandEntry {
  const char* name;
  const char* help;
  CommandSetup setup;
};

// Prints "gantry: <message>" to stderr and returns the exit code for the error.
int report_error(const Error& error);

// Setup functions, one per file (cli/<name>_cmd.cc).
void setup_version_command(CLI::App& command, CommandContext& ctx);
void setup_runtime_command(CLI::App& command, CommandContext& ctx);
void setup_lint_command(CLI::App& command, CommandContext& ctx);
// `gantry image …`: its own table of subcommands in cli/image_cmd.cc.
void setup_image_command(CLI::App& command, CommandContext& ctx);
void setup_plan_command(CLI::App& command, CommandContext& ctx);
// `gantry agent` (cli/agent_cmd.cc) and the client commands of a controller (cli/client_cmd.cc).
void setup_agent_command(CLI::App& command, CommandContext& ctx);
void setup_project_command(CLI::App& command, CommandContext& ctx);
void setup_pipeline_command(CLI::App& command, CommandContext& ctx);
void setup_job_command(CLI::App& command, CommandContext& ctx);
// `gantry container run|ls|rm`: cli/container_cmd.cc.
void setup_container_command(CLI::App& command, CommandContext& ctx);
void setup_run_command(CLI::App& command, CommandContext& ctx);
// `gantry network ls|prune`: cli/network_cmd.cc.
void setup_network_command(CLI::App& command, CommandContext& ctx);
void setup_controller_command(CLI::App& command, CommandContext& ctx);

}  // namespace gantry::cli
