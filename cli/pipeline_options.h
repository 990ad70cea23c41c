// The options that choose a pipeline and its trigger, shared by `gantry lint` (file and project
// only), `gantry plan` and `gantry run`: FILE, --project-dir, --branch/--tag, --source, --var,
// --default-branch, --sha, --project-path, --changed-file. load_plan() loads and evaluates the
// pipeline and prints every diagnostic on stderr with paths the user can open.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/plan.h"
#include "pipeline-schema/trigger.h"

namespace gantry::cli {

struct PipelineOptions {
  std::string file;
  std::string project_dir;
  std::string branch;
  std::string tag;
  std::string source = "push";
  std::vector<std::string> vars;
  std::string default_branch = "main";
  std::string sha;
  std::string project_path;
  std::vector<std::string> changed_files;
  bool changed_files_given = false;
};

// FILE and --project-dir.
void add_pipeline_file_options(CLI::App& command, const std::shared_ptr<PipelineOptions>& opts);
// FILE, --project-dir and the trigger options.
void add_pipeline_options(CLI::App& command, const std::shared_ptr<PipelineOptions>& opts);

// GitLab resolves local includes from the repository root, so a FILE given relative to the
// current directory keeps the current directory as the project; an absolute or '..' path makes
// the file's own directory the project. Returns {project_dir, file relative to it}.
std::pair<std::string, std::string> resolve_pipeline_paths(const PipelineOptions& opts);

// Diagnostics on stderr, their paths prefixed with `project_dir` (unless ".").
void print_diagnostics(const schema::Diagnostics& diags, const std::string& project_dir);

struct LoadedPlan {
  int exit_code = 0;  // non-zero: loading or planning failed and the reason has been printed
  schema::Plan plan;
  schema::TriggerContext trigger;
  std::string project_dir;  // as resolved; the file is plan.file, relative to it
};

// Loads, validates and plans the pipeline for the trigger the options describe. `command`
// ("plan", "run") prefixes messages. Option errors exit 2, pipeline errors 1.
LoadedPlan load_plan(const PipelineOptions& opts, const std::string& command);

}  // namespace gantry::cli
