// CI/CD variables as GitLab computes them on its side, before a job reaches a runner:
//   - VariableSet: an ordered name → value collection where a later set() overrides, so layers
//     are applied lowest precedence first: predefined < global `variables:` < job `variables:`
//     < rule `variables:` < trigger variables (`--var`).
//   - expand_all(): GitLab's nested expansion. `$NAME`, `${NAME}` and `%NAME%` referring to
//     another variable of the set are replaced by its (expanded) value; references to unknown
//     variables and a variable's reference to itself are left intact (the shell sees them);
//     `expand: false` values are used literally; `$$` is an escape for `$`; a cycle is an error.
//   - predefined variables: the CI_* set GitLab defines for a pipeline and for one job.
// PURE; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pipeline-schema/trigger.h"

namespace gantry::schema {

struct VariableValue {
  std::string name;
  std::string value;
  bool expand = true;  // false: `expand: false`, never expanded nor expanded into
};

class VariableSet {
 public:
  // Adds or replaces `name` (a replaced variable keeps its first position).
  void set(std::string name, std::string value, bool expand = true);
  void set_all(const VariableSet& other);
  bool remove(std::string_view name);

  const VariableValue* find(std::string_view name) const;
  std::optional<std::string> value_of(std::string_view name) const;
  bool contains(std::string_view name) const { return find(name) != nullptr; }

  const std::vector<VariableValue>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<VariableValue> entries_;
};

// A copy of `vars` with every value expanded against the others (see the header comment) and
// `$$` turned into `$`. kInvalidArgument naming the cycle ("A -> B -> A") when references loop.
Result<VariableSet> expand_all(const VariableSet& vars);

// Expands `$NAME` and `${NAME}` in `text` with values from `vars`, as a POSIX shell would for
// defined variables; unknown names, `$$` and everything else are left as written. For showing
// a job's script with its variables (the plan's dry run); the real expansion is the shell's.
std::string expand_for_display(std::string_view text, const VariableSet& vars);

// GitLab's *_SLUG: lowercased, every character outside [a-z0-9] replaced by '-', cut to 63
// bytes, no leading or trailing '-'.
std::string slugify(std::string_view text);

// The pipeline-level predefined variables for a trigger: CI, GITLAB_CI, CI_COMMIT_* (SHA,
// SHORT_SHA, BEFORE_SHA, REF_NAME, REF_SLUG, BRANCH or TAG), CI_DEFAULT_BRANCH,
// CI_PIPELINE_SOURCE, CI_PROJECT_* (DIR, PATH, NAME, NAMESPACE, PATH_SLUG), CI_CONFIG_PATH,
// CI_MERGE_REQUEST_* for merge_request_event (IID/ID are placeholders "1"),
// CI_PIPELINE_TRIGGERED for triggers.
VariableSet predefined_pipeline_variables(const TriggerContext& trigger,
                                          std::string_view config_path);

// The job-level ones: CI_JOB_NAME, CI_JOB_NAME_SLUG, CI_JOB_STAGE, CI_NODE_TOTAL and, for
// parallel jobs, CI_NODE_INDEX (1-based; `node_index` 0 means the job has no `parallel:`).
VariableSet predefined_job_variables(std::string_view job_name, std::string_view stage,
                                     int node_index, int node_total);

}  // namespace gantry::schema
