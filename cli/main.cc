// `gantry`: the single binary. Global options come before the subcommand; the subcommands come
// from the one table below.
#include <cstdio>
#include <exception>

#include "cli/command.h"
#include "cli/runtime_cmd.h"
#include "common/logging.h"

namespace gantry::cli {

namespace {

const CommandEntry kCommands[] = {
    {"version", "Print Gantry's version", setup_version_command},
    {"runtime", kRuntimeCommandHelp, setup_runtime_command},
    {"lint", "Check a pipeline file and print every mistake", setup_lint_command},
    {"image", "Manage local images: ls, inspect, rm, prune, import, load", setup_image_command},
    {"plan", "Show the pipeline that would run for a branch, tag or source (dry run)",
     setup_plan_command},
    {"agent", "Run jobs for a controller (registers on first start); `agent ls` lists agents",
     setup_agent_command},
    {"project", "Projects on a controller: create, ls, show", setup_project_command},
    {"pipeline", "Pipelines on a controller: trigger, ls, show, cancel, retry",
     setup_pipeline_command},
    {"job", "Jobs on a controller: log [-f], show, cancel, retry, play", setup_job_command},
    {"container", "Run containers from images: run, ls, rm (as docker run/ps/rm)",
     setup_container_command},
    {"run", "Run a pipeline on this machine, each job in its own container", setup_run_command},
    {"network", "Bridge networks of jobs and containers: ls, prune", setup_network_command},
    {"controller", "Run the controller: HTTP API, scheduler and store for agents",
     setup_controller_command},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Gantry: a CI/CD pipeline executor on its own container runtime"};
  app.require_subcommand(1);
  app.fallthrough(false);
  CommandContext ctx;
  app.add_option("--root", ctx.global.root, "State root for every command")
      ->capture_default_str();
  app.add_option("--log-level", ctx.global.log_level,
                 "Log level: trace, debug, info, warn, error, off")
      ->capture_default_str();
  app.parse_complete_callback([&] {
    if (auto st = init_logging(ctx.global.log_level); !st.ok()) {
      throw CLI::ValidationError("--log-level", st.error().message());
    }
  });
  for (const auto& entry : kCommands) {
    CLI::App* sub = app.add_subcommand(entry.name, entry.help);
    entry.setup(*sub, ctx);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ctx.exit_code;
}

}  // namespace gantry::cli

int main(int argc, char** argv) {
  try {
    return gantry::cli::main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gantry: internal error: %s\n", e.what());
    return 70;
  }
}
