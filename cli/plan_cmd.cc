// `gantry plan [FILE]`: the dry run. Loads the pipeline, evaluates it for one trigger (branch or
// tag, source, variables, changed files) and prints the pipeline that would run: text for
// people, JSON for tools (`{"stages", "jobs"}`), or a Mermaid flowchart of stages and needs.
// Load or plan errors are diagnostics on stderr and exit 1; a pipeline that workflow:rules
// stops prints an empty plan and says why on stderr (exit 0, as it is not an error).
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "pipeline-schema/load.h"
#include "pipeline-schema/plan.h"

namespace gantry::cli {

namespace {

struct PlanOptions {
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
  std::string format = "text";
};

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The same resolution as `gantry lint`: a FILE relative to the current directory keeps the
// current directory as the project root (local includes are relative to it); an absolute or
// '..' path makes the file's own directory the project.
void resolve_paths(const PlanOptions& opts, std::string& project_dir, std::string& file) {
  project_dir = opts.project_dir;
  file = opts.file;
  if (!project_dir.empty() || file.empty()) {
    if (project_dir.empty()) project_dir = ".";
    if (!file.empty() && file.rfind(project_dir + "/", 0) == 0) {
      file = file.substr(project_dir.size() + 1);
    }
    return;
  }
  if (file[0] == '/' || file.rfind("../", 0) == 0) {
    project_dir = dirname_of(file);
    file = file.substr(file.rfind('/') + 1);
  } else {
    project_dir = ".";
  }
}

// Diagnostics with paths the user can open from the current directory.
void print_diagnostics(const schema::Diagnostics& diags, const std::string& project_dir) {
  std::string prefix = project_dir == "." ? "" : project_dir + "/";
  for (auto d : diags.sorted()) {
    if (!d.loc.file.empty()) d.loc.file = prefix + d.loc.file;
    std::fprintf(stderr, "%s\n", d.render().c_str());
  }
}

std::string quote_if_needed(const std::string& s) {
  return s.find_first_of(" :[]\"") == std::string::npos ? s : "\"" + s + "\"";
}

std::string render_text(const schema::Plan& plan, const schema::TriggerContext& t) {
  std::ostringstream out;
  out << "pipeline " << (plan.name ? "'" + *plan.name + "' " : "") << "for "
      << (t.is_tag() ? "tag '" + t.tag + "'" : "branch '" + t.branch + "'") << " (source "
      << t.source << "): " << plan.stages.size() << " stage" << (plan.stages.size() == 1 ? "" : "s")
      << ", " << plan.jobs.size() << " job" << (plan.jobs.size() == 1 ? "" : "s") << "\n";
  for (const auto& stage : plan.stages) {
    out << "\nstage " << stage << "\n";
    for (const auto& j : plan.jobs) {
      if (j.stage != stage) continue;
      out << "  " << j.name << "\n";
      out << "    when: " << schema::when_name(j.when);
      if (j.start_in) out << " (in " << *j.start_in << ")";
      if (j.allow_failure) out << ", allow_failure";
      if (!j.allow_failure_exit_codes.empty()) {
        out << ", allow_failure for exit codes";
        for (int c : j.allow_failure_exit_codes) out << " " << c;
      }
      out << "\n";
      out << "    image: " << (j.image ? j.image->name : "(none)") << "\n";
      for (const auto& s : j.services) {
        out << "    service: " << s.name << (s.alias ? " as " + *s.alias : "") << "\n";
      }
      if (j.needs) {
        out << "    needs:";
        if (j.needs->empty()) out << " [] (starts at once)";
        for (const auto& n : *j.needs) {
          out << " " << quote_if_needed(n.job) << (n.artifacts ? "" : " (no artifacts)");
        }
        out << "\n";
      }
      if (j.is_trigger) out << "    triggers a downstream pipeline (not run by gantry)\n";
      for (const auto& k : j.skipped_keywords) out << "    not executed: " << k << "\n";
      for (const auto& line : j.before_script) {
        out << "    $ " << schema::expand_for_display(line, j.variables) << "\n";
      }
      for (const auto& line : j.script) {
        out << "    $ " << schema::expand_for_display(line, j.variables) << "\n";
      }
      for (const auto& line : j.after_script) {
        out << "    (after) $ " << schema::expand_for_display(line, j.variables) << "\n";
      }
    }
  }
  return out.str();
}

std::string mermaid_id(const std::string& prefix, size_t index) {
  return prefix + std::to_string(index);
}

std::string mermaid_label(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '"' ? std::string("#quot;") : std::string(1, c);
  return "\"" + out + "\"";
}

std::string render_mermaid(const schema::Plan& plan) {
  std::ostringstream out;
  out << "flowchart LR\n";
  std::map<std::string, std::string> job_id;
  for (size_t s = 0; s < plan.stages.size(); ++s) {
    out << "  subgraph " << mermaid_id("stage", s) << "[" << mermaid_label(plan.stages[s])
        << "]\n";
    for (size_t i = 0; i < plan.jobs.size(); ++i) {
      const auto& j = plan.jobs[i];
      if (j.stage != plan.stages[s]) continue;
      job_id[j.name] = mermaid_id("job", i);
      std::string label = j.name;
      if (j.when != schema::When::kOnSuccess) label += " (" + std::string(schema::when_name(j.when)) + ")";
      out << "    " << job_id[j.name] << "[" << mermaid_label(label) << "]\n";
    }
    out << "  end\n";
  }
  for (size_t s = 1; s < plan.stages.size(); ++s) {
    out << "  " << mermaid_id("stage", s - 1) << " --> " << mermaid_id("stage", s) << "\n";
  }
  for (const auto& j : plan.jobs) {
    if (!j.needs) continue;
    for (const auto& n : *j.needs) {
      out << "  " << job_id[n.job] << (n.artifacts ? " --> " : " -.-> ") << job_id[j.name] << "\n";
    }
  }
  return out.str();
}

int run_plan(const PlanOptions& o) {
  if (!o.branch.empty() && !o.tag.empty()) {
    return report_error(Error(ErrorCode::kInvalidArgument, "plan: give --branch or --tag, not both"));
  }
  if (o.format != "text" && o.format != "json" && o.format != "mermaid") {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "plan: unknown --format '" + o.format + "' (text, json, mermaid)"));
  }
  schema::TriggerContext t;
  if (auto st = schema::validate_pipeline_source(o.source); !st.ok()) {
    return report_error(st.error().with_context("plan: --source"));
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
  std::string project_dir, file;
  resolve_paths(o, project_dir, file);
  t.project_dir = project_dir;
  t.project_path = o.project_path;
  for (const auto& v : o.vars) {
    auto kv = schema::parse_variable_assignment(v);
    if (!kv.ok()) return report_error(kv.error().with_context("plan: --var"));
    t.variables.push_back(*kv);
  }
  if (o.changed_files_given) t.changed_files = o.changed_files;

  schema::DiskProjectFiles files(project_dir);
  auto loaded = schema::load_pipeline(files, file, project_dir);
  if (!loaded.ok()) return report_error(loaded.error().with_context("plan"));
  print_diagnostics(loaded->diagnostics, project_dir);
  if (loaded->diagnostics.has_errors()) {
    std::fprintf(stderr, "gantry: plan: %zu error(s)\n",
                 loaded->diagnostics.error_count());
    return 1;
  }
  t.project_files = files.list();

  auto result = schema::make_plan(loaded->pipeline, t);
  print_diagnostics(result.diagnostics, project_dir);
  if (!result.ok()) {
    std::fprintf(stderr, "gantry: plan: %zu error(s)\n",
                 result.diagnostics.error_count());
    return 1;
  }
  const auto& plan = result.plan;
  if (!plan.created) std::fprintf(stderr, "gantry: plan: %s\n", plan.stopped_reason.c_str());
  if (o.format == "json") {
    std::cout << schema::plan_summary_json(plan).dump(2) << "\n";
  } else if (o.format == "mermaid") {
    std::cout << render_mermaid(plan);
  } else if (plan.created) {
    std::cout << render_text(plan, t);
  }
  return 0;
}

}  // namespace

void setup_plan_command(CLI::App& command, CommandContext& ctx) {
  auto opts = std::make_shared<PlanOptions>();
  command.add_option("file", opts->file,
                     "Pipeline file, relative to the project directory (default: .gantry-ci.yml, "
                     "else .gitlab-ci.yml)");
  command.add_option("--project-dir", opts->project_dir,
                     "Project root that local includes and rules:exists are relative to "
                     "(default: the current directory, or the file's directory for a path "
                     "outside it)");
  command.add_option("--branch", opts->branch, "Plan a pipeline for this branch (default: main)");
  command.add_option("--tag", opts->tag, "Plan a pipeline for this tag");
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
  command.add_option("--format", opts->format, "Output: text, json, mermaid")->capture_default_str();
  command.callback([opts, &ctx] { ctx.exit_code = run_plan(*opts); });
}

}  // namespace gantry::cli
