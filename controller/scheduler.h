// The scheduler's decisions, PURE: given the jobs of one pipeline and their statuses, which
// `created` jobs become pending, manual or skipped (GitLab's stage and `needs` processing with
// `when:` and `allow_failure`), what the pipeline's status is, whether a failure is retried
// (`retry:`), and which pending job an agent gets (tags ⊆ labels, resource groups, fairness
// across projects). The controller applies the decisions to its store. Plain values; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline-schema/pipeline.h"

namespace gantry::controller {

// kScheduled: a `when: delayed` job waiting out its start_in (GitLab's `scheduled`).
enum class JobState {
  kCreated, kPending, kRunning, kSuccess, kFailed, kCanceled, kSkipped, kManual, kScheduled
};

std::string_view job_state_name(JobState s);  // "created", ... as GitLab names them
std::optional<JobState> parse_job_state(std::string_view s);
// success, failed, canceled, skipped
bool is_finished(JobState s);

// What the scheduler needs to know of one job.
struct SchedJob {
  std::string name;  // instance name
  int stage = 0;     // index in the pipeline's stage list
  JobState state = JobState::kCreated;
  schema::When when = schema::When::kOnSuccess;
  // For a finished job: its failure is allowed (allow_failure, or its exit code is in
  // allow_failure:exit_codes). For a manual job: it does not block the pipeline.
  bool allow_failure = false;
  std::optional<std::vector<std::string>> needs;  // nullopt: all earlier stages
};

struct Transition {
  size_t index;  // into the job list
  JobState to;
};

// Processes `created` jobs whose prerequisites have finished, until nothing changes, and
// returns the transitions in order (a job appears at most once). Prerequisites are the needed
// jobs, or every job of earlier stages. Their composite status decides, as GitLab does:
// on_success/manual/delayed run when it is success or skipped, on_failure when failed,
// always when success, failed or skipped; otherwise the job is skipped. A manual job becomes
// kManual, a delayed one kScheduled (the caller makes it pending when start_in has passed).
// A blocking manual job (not allow_failure) and a scheduled job keep what depends on them
// waiting.
std::vector<Transition> process_pipeline(const std::vector<SchedJob>& jobs);

// The pipeline's status from its jobs' statuses: kScheduled when only delayed jobs wait.
JobState pipeline_state(const std::vector<SchedJob>& jobs);

// Whether a failed job is run again under its `retry:` (max counts retries, not runs).
// `failure_reason` is GitLab's name (or "agent_lost").
bool should_retry(const schema::Retry& retry, int retries_done, std::string_view failure_reason,
                  std::optional<int> exit_code);

// A pending job as the dispatcher sees it.
struct Candidate {
  int64_t job_id = 0;
  int64_t project_id = 0;
  int64_t queued_at = 0;  // ms; older first
  std::vector<std::string> tags;
  std::string resource_group;  // "" when none; scoped to the project by the caller
};

// The job an agent with `labels` gets: tags covered by labels, resource group free (not in
// `busy_groups`), then the project with the fewest running jobs (`running_per_project`, pairs
// of project id and count), then the oldest. nullopt when none matches.
std::optional<size_t> pick_job(const std::vector<Candidate>& pending,
                               const std::vector<std::string>& labels,
                               const std::vector<std::string>& busy_groups,
                               const std::vector<std::pair<int64_t, int>>& running_per_project);

}  // namespace gantry::controller
