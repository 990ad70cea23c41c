// `gantry lint [FILE]`: loads a pipeline and prints every diagnostic (file:line:col: error:
// message) on stderr, then a summary line on stdout. Exit 1 if there is any error (including a
// missing or unreadable file), 0 otherwise — warnings alone do not fail.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "pipeline-schema/load.h"

namespace gantry::cli {

namespace {

struct LintOptions {
  std::string file;
  std::string project_dir;
};

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// GitLab resolves local includes from the repository root, so a FILE given relative to the
// current directory (the usual `gantry lint ci/main.yml` from the repo root) keeps the current
// directory as the project; an absolute or '..' path uses the file's own directory.
void resolve_paths(const LintOptions& opts, std::string& project_dir, std::string& file) {
  project_dir = opts.project_dir;
  file = opts.file;
  if (!project_dir.empty() || file.empty()) {
    if (project_dir.empty()) project_dir = ".";
    if (!file.empty() && file.rfind(project_dir + "/", 0) == 0) file = file.substr(project_dir.size() + 1);
    return;
  }
  bool outside = file[0] == '/' || file.rfind("../", 0) == 0;
  if (outside) {
    project_dir = dirname_of(file);
    file = file.substr(file.rfind('/') + 1);
  } else {
    project_dir = ".";
  }
}

int run_lint(const LintOptions& opts) {
  std::string project_dir, file;
  resolve_paths(opts, project_dir, file);
  auto loaded = schema::load_pipeline(project_dir, file);
  if (!loaded.ok()) {
    std::fprintf(stderr, "gantry: lint: %s\n", loaded.error().message().c_str());
    return 1;
  }
  const auto& diags = loaded->diagnostics;
  // Show paths as the user can open them from the current directory.
  std::string prefix = project_dir == "." ? "" : project_dir + "/";
  for (auto d : diags.sorted()) {
    d.loc.file = prefix + d.loc.file;
    std::fprintf(stderr, "%s\n", d.render().c_str());
  }
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
  auto opts = std::make_shared<LintOptions>();
  command.add_option("file", opts->file,
                     "Pipeline file (default: .gantry-ci.yml, else .gitlab-ci.yml)");
  command.add_option("--project-dir", opts->project_dir,
                     "Project root that local includes are relative to (default: the current "
                     "directory, or the file's directory for a path outside it)");
  command.callback([opts, &ctx] { ctx.exit_code = run_lint(*opts); });
}

}  // namespace gantry::cli
