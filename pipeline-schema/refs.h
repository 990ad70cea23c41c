// `only:` / `except:` evaluation with GitLab's semantics. A filter has up to four conditions
// (refs, variables, changes, kubernetes); a job runs when every condition of `only` holds and no
// condition of `except` holds. Refs: `branches`, `tags`, the source keywords (`api`, `chat`,
// `external`, `external_pull_requests`, `merge_requests`, `pipelines`, `pushes`, `schedules`,
// `triggers`, `web`), `/regex/flags` or an exact ref name, each optionally `@group/project`.
// Merge request pipelines match only the keywords, never names or regexes (as on GitLab). PURE.
#pragma once

#include <string_view>

#include "pipeline-schema/pipeline.h"
#include "pipeline-schema/rules_expr/eval.h"
#include "pipeline-schema/trigger.h"

namespace gantry::schema {

// Does one `refs` pattern match the trigger? `project_path` is CI_PROJECT_PATH.
bool ref_pattern_matches(std::string_view pattern, const TriggerContext& trigger,
                         std::string_view project_path);

// Do the changed files of the trigger match `changes`? Unknown changed files (no push context)
// → true, as GitLab does.
bool changes_match(const Changes& changes, const TriggerContext& trigger);

// Does any project file match `exists`? (`exists:project`/`ref` other projects: false.)
bool exists_match(const Exists& exists, const TriggerContext& trigger);

// The conditions of one filter, each nullopt when the filter does not have it.
struct FilterConditions {
  std::optional<bool> refs;
  std::optional<bool> variables;
  std::optional<bool> changes;
  std::optional<bool> kubernetes;
};

// Evaluates each condition present in `filter`. Expressions that do not parse count as false
// (the loader reports them). `lookup` gives the variables visible to the job.
FilterConditions evaluate_filter(const RefFilter& filter, const TriggerContext& trigger,
                                 std::string_view project_path,
                                 const rules_expr::VariableLookup& lookup);

// GitLab's decision from both filters: every `only` condition holds and no `except` condition
// does. A job with neither gets `only: [branches, tags]`.
bool only_except_allows(const std::optional<RefFilter>& only,
                        const std::optional<RefFilter>& except, const TriggerContext& trigger,
                        std::string_view project_path, const rules_expr::VariableLookup& lookup);

}  // namespace gantry::schema
