// The Plan (contract 1, second half): what a Pipeline means for one trigger — GitLab's
// pipeline creation done locally. make_plan() evaluates `workflow:rules`, then for each job and
// each of its parallel/matrix instances `rules` (first match wins) or `only`/`except`, resolves
// `when`, `allow_failure`, `start_in`, variables (predefined < global < workflow rule < job <
// matrix < rule < trigger; expanded as GitLab does), `needs` (to instances, optional ones dropped)
// and `dependencies`. The result lists the stages that have jobs (GitLab drops empty stages) and
// every job ready to run, in stage order then file order. The executor and the controller
// consume PlannedJob; JSON (de)serialization below is the wire form. PURE; plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "pipeline-schema/diagnostics.h"
#include "pipeline-schema/pipeline.h"
#include "pipeline-schema/trigger.h"
#include "pipeline-schema/variables.h"

namespace gantry::schema {

struct PlannedNeed {
  std::string job;  // the instance name of the needed job
  bool artifacts = true;
  bool operator==(const PlannedNeed&) const = default;
};

struct PlannedJob {
  std::string name;      // instance name: "test", "test 2/3", "deploy: [aws, app]"
  std::string job_name;  // the job's key in the pipeline file
  std::string stage;
  When when = When::kOnSuccess;  // never kNever: such jobs are not in the plan
  std::optional<std::string> start_in;  // when kDelayed
  bool allow_failure = false;                 // any failure is allowed
  std::vector<int> allow_failure_exit_codes;  // failure allowed for these exit codes only
  std::optional<Image> image;                 // name expanded with the job's variables
  std::vector<Service> services;              // names and aliases expanded likewise
  std::vector<std::string> before_script;     // as written: the job's shell expands them
  std::vector<std::string> script;
  std::vector<std::string> after_script;
  VariableSet variables;  // the job's full environment, expanded (see header comment)
  std::optional<std::vector<PlannedNeed>> needs;  // nullopt: follows stage order
  std::vector<std::string> dependencies;  // jobs whose artifacts it downloads, in plan order
  std::optional<Artifacts> artifacts;
  std::vector<Cache> cache;
  std::optional<std::int64_t> timeout_seconds;
  std::optional<Retry> retry;
  bool interruptible = false;
  std::vector<std::string> tags;
  std::optional<Environment> environment;
  std::optional<std::string> resource_group;
  std::optional<std::string> coverage;
  std::vector<std::string> skipped_keywords;  // accepted but not executed by gantry
  bool is_trigger = false;
  int node_index = 0;  // 1-based among the job's instances; 0 without `parallel:`
  int node_total = 1;
  SourceLocation loc;  // the job's key
};

struct Plan {
  std::string file;                  // the pipeline file
  bool created = true;  // false: no pipeline (workflow:rules, no jobs, only .pre/.post jobs)
  std::string stopped_reason;        // why, when !created
  std::optional<std::string> name;   // workflow:name, expanded
  std::vector<std::string> stages;   // stages with at least one job, in order
  std::vector<PlannedJob> jobs;      // stage order, then file order
  VariableSet variables;             // pipeline-level: predefined, global, workflow, trigger

  const PlannedJob* find_job(std::string_view name) const;
};

struct PlanResult {
  Plan plan;
  Diagnostics diagnostics;  // problems that only show for this trigger (needs of excluded jobs,
                            // variable cycles, oversized matrices)
  bool ok() const { return !diagnostics.has_errors(); }
};

// Evaluates `pipeline` (already loaded and valid) for `trigger`.
PlanResult make_plan(const Pipeline& pipeline, const TriggerContext& trigger);

// The full wire form of a Plan, and back. from_json errors name the offending field.
Json plan_to_json(const Plan& plan);
Result<Plan> plan_from_json(const Json& json);

// One PlannedJob's wire form (the element of the plan's "jobs"), and back; used by JobSpec.
Json planned_job_to_json(const PlannedJob& job);
Result<PlannedJob> planned_job_from_json(const Json& json);

// `gantry plan --format json`: {"stages": [...], "jobs": [{"name", "stage", "when",
// "allow_failure", "image", "needs", "script"}]}, scripts with variables expanded for display.
OrderedJson plan_summary_json(const Plan& plan);

}  // namespace gantry::schema
