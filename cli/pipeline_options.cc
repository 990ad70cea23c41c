#include "cli/pipeline_options.h"

#include <cstdio>

#include "cli/command.h"
#include "pipeline-schema/load.h"
#include "pipeline-schema/project_files.h"

namespace gantry::cli {

namespace {

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void add_pipeline_file_options(CLI::App& command, const std::shared_ptr<PipelineOptions>& opts) {
  command.add_option("file", opts->file,
                     "Pipeline file, relative to the project directory (default: .gantry-ci.yml, "
                     "else .gitlab-ci.yml)");
  command.add_option("--project-dir", opts->project_dir,
                     "Project root that local includes and rules:exists are relative to "
                     "(default: the current directory, or the file's directory for a path "
                     "outside it)");
}

void add_pipeline_options(CLI::App& command, const std::shared_ptr<PipelineOptions>& opts) {
  add_pipeline_file_options(command, opts);
  command.add_option("--branch", opts->branch, "The pipeline's branch (default: main)");
  command.add_option("--tag", opts->tag, "A pipeline for this tag instead of a branch");
  command.add_option("--source", opts->source,
                     "Pipeline source: push, web, schedule, api, trigger, merge_request_event, ...")
      ->capture_default_str();
  command.add_option("--var", opts->vars, "A trigger variable KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--default-branch", opts->default_branch, "The project's default branch")
      ->capture_default_str();
  command.add_option("--sha", opts->sha, "The commit SHA (CI_COMMIT_SHA)");
  command.add_option("--project-path", opts->project_path,
                     "The project's path, group/name (CI_PROJECT_PATH; for only: ref@path)");
  command
      .add_option_function<std::vector<std::string>>(
          "--changed-file",
          [opts](const std::vector<std::string>& v) {
            opts->changed_files = v;
            opts->changed_files_given = true;
          },
          "A file the push changed, for rules:changes (repeatable; none given: changes are "
          "unknown and rules:changes is true, as GitLab does without a push)")
      ->allow_extra_args(false);
}

std::pair<std::string, std::string> resolve_pipeline_paths(const PipelineOptions& opts) {
  std::string project_dir = opts.project_dir;
  std::string file = opts.file;
  if (!project_dir.empty() || file.empty()) {
    if (project_dir.empty()) project_dir = ".";
    if (!file.empty() && file.rfind(project_dir + "/", 0) == 0) {
      file = file.substr(project_dir.size() + 1);
    }
    return {project_dir, file};
  }
  if (file[0] == '/' || file.rfind("../", 0) == 0) {
    project_dir = dirname_of(file);
    file = file.substr(file.rfind('/') + 1);
  } else {
    project_dir = ".";
  }
  return {project_dir, file};
}

void print_diagnostics(const schema::Diagnostics& diags, const std::string& project_dir) {
  std::string prefix = project_dir == "." ? "" : project_dir + "/";
  for (auto d : diags.sorted()) {
    if (!d.loc.file.empty()) d.loc.file = prefix + d.loc.file;
    std::fprintf(stderr, "%s\n", d.render().c_str());
  }
}

LoadedPlan load_plan(const PipelineOptions& o, const std::string& command) {
  LoadedPlan out;
  if (!o.branch.empty() && !o.tag.empty()) {
    out.exit_code = report_error(
        Error(ErrorCode::kInvalidArgument, command + ": give --branch or --tag, not both"));
    return out;
  }
  schema::TriggerContext& t = out.trigger;
  if (auto st = schema::validate_pipeline_source(o.source); !st.ok()) {
    out.exit_code = report_error(st.error().with_context(command + ": --source"));
    return out;
  }
  t.source = o.source;
  if (!o.tag.empty()) {
    t.tag = o.tag;
    t.branch.clear();
  } else if (!o.branch.empty()) {
    t.branch = o.branch;
  }
  t.default_branch = o.default_branch;
  t.sha = o.sha;
  auto [project_dir, file] = resolve_pipeline_paths(o);
  out.project_dir = project_dir;
  t.project_dir = project_dir;
  t.project_path = o.project_path;
  for (const auto& v : o.vars) {
    auto kv = schema::parse_variable_assignment(v);
    if (!kv.ok()) {
      out.exit_code = report_error(kv.error().with_context(command + ": --var"));
      return out;
    }
    t.variables.push_back(*kv);
  }
  if (o.changed_files_given) t.changed_files = o.changed_files;

  schema::DiskProjectFiles files(project_dir);
  auto loaded = schema::load_pipeline(files, file, project_dir);
  if (!loaded.ok()) {
    out.exit_code = report_error(loaded.error().with_context(command));
    return out;
  }
  print_diagnostics(loaded->diagnostics, project_dir);
  if (loaded->diagnostics.has_errors()) {
    std::fprintf(stderr, "gantry: %s: %zu error(s)\n", command.c_str(),
                 loaded->diagnostics.error_count());
    out.exit_code = 1;
    return out;
  }
  t.project_files = files.list();

  auto result = schema::make_plan(loaded->pipeline, t);
  print_diagnostics(result.diagnostics, project_dir);
  if (!result.ok()) {
    std::fprintf(stderr, "gantry: %s: %zu error(s)\n", command.c_str(),
                 result.diagnostics.error_count());
    out.exit_code = 1;
    return out;
  }
  out.plan = std::move(result.plan);
  return out;
}

}  // namespace gantry::cli
