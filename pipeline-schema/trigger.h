// TriggerContext: what started a pipeline — the ref (branch or tag), the source (push, web,
// schedule, ...), the commit, the default branch, variables passed with the trigger, the files
// the push changed and the project directory. The plan (plan.h) evaluates a Pipeline for one
// TriggerContext; variables.h turns it into GitLab's predefined CI_* variables. Plain value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace gantry::schema {

// The CI_PIPELINE_SOURCE values GitLab defines.
inline constexpr std::string_view kPipelineSources[] = {
    "push",     "web",      "schedule",  "api",          "trigger", "merge_request_event",
    "pipeline", "parent_pipeline", "chat", "external", "external_pull_request_event",
    "webide",   "security_orchestration_policy", "ondemand_dast_scan", "ondemand_dast_validation",
};

struct TriggerContext {
  // Exactly one of branch / tag is the ref. For merge_request_event, `branch` is the MR's source
  // branch (GitLab then sets CI_COMMIT_REF_NAME but not CI_COMMIT_BRANCH).
  std::string branch = "main";
  std::string tag;
  std::string source = "push";  // one of kPipelineSources
  std::string sha;              // 40 hex; empty → a fixed placeholder of zeros
  std::string before_sha;       // empty → zeros, as GitLab does for new branches
  std::string default_branch = "main";
  std::string merge_request_target_branch;  // merge_request_event; empty → default branch

  // Variables given with the trigger (`--var K=V`, API/trigger/schedule variables): highest
  // precedence, visible to rules and to every job.
  std::vector<std::pair<std::string, std::string>> variables;

  // Files changed by the push, relative to the project root. nullopt: unknown, and then
  // `rules:changes` / `only:changes` are true, as GitLab does for pipelines without a push
  // event (new branches, schedules, web, api, ...).
  std::optional<std::vector<std::string>> changed_files;

  std::string project_dir = ".";  // the project's directory on this machine
  // The project's files, relative to its root ('/'-separated), for `rules:exists`. The caller
  // lists them (pipeline-schema/ touches no file system); empty → no file exists.
  std::vector<std::string> project_files;
  std::string project_path;       // "group/project" (CI_PROJECT_PATH); empty → from project_dir
  std::string job_project_dir;    // CI_PROJECT_DIR inside the job; empty → /builds/<path>

  bool is_tag() const { return !tag.empty(); }
  // The ref name: the tag for tag pipelines, otherwise the branch.
  const std::string& ref() const { return is_tag() ? tag : branch; }
};

// Checks a --source value: kInvalidArgument naming the accepted values.
Status validate_pipeline_source(std::string_view source);

// Parses "KEY=VALUE" (value may be empty or contain '='); bad names are kInvalidArgument.
Result<std::pair<std::string, std::string>> parse_variable_assignment(std::string_view text);

}  // namespace gantry::schema
