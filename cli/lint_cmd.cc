// `gantry lint [FILE]`: loads a pipeline and prints every diagnostic (file:line:col: error:
// message) on stderr, then a summary line on stdout. Exit 1 if there is any error (including a
// missing or unreadable file), 0 otherwise — warnings alone do not fail.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/pipeline_options.h"
#include "pipeline-schema/load.h"

namespace gantry::cli {

namespace {

int run_lint(const PipelineOptions& opts) {
  auto [project_dir, file] = resolve_pipeline_paths(opts);
  auto loaded = schema::load_pipeline(project_dir, file);
  if (!loaded.ok()) {
    std::fprintf(stderr, "gantry: lint: %s\n", loaded.error().message().c_str());
    return 1;
  }
  const auto& diags = loaded->diagnostics;
  print_diagnostics(diags, project_dir);
  std::string prefix = project_dir == "." ? "" : project_dir + "/";
  auto plural = [](std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  std::string main_file = prefix + loaded->pipeline.file;
  if (diags.has_errors()) {
    std::printf("%s: %s, %s\n", main_file.c_str(), plural(diags.error_count(), "error").c_str(),
                plural(diags.warning_count(), "warning").c_str());
    return 1;
  }
  std::printf("%s: valid, %s, %s\n", main_file.c_str(),
              plural(loaded->pipeline.jobs.size(), "job").c_str(),
              plural(diags.warning_count(), "warning").c_str());
  return 0;
}

}  // namespace

void setup_lint_command(CLI::App& command, CommandContext& ctx) {
  auto opts = std::make_shared<PipelineOptions>();
  add_pipeline_file_options(command, opts);
  command.callback([opts, &ctx] { ctx.exit_code = run_lint(*opts); });
}

}  // namespace gantry::cli
