// Scheduler: GitLab's pipeline processing over a Plan, as pure decisions — which job may start
// now, which is skipped, which stays manual, when a failed attempt is retried and what the
// pipeline's status is. It follows GitLab's atomic processing service: a job is processed once
// the composite status of the jobs before it (earlier stages, or its `needs`) is complete, and
// runs if its `when` accepts that status. No threads, no clock, no I/O: the local runner
// (agent/local_runner.h) drives it and the unit tests drive it with made-up outcomes.
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pipeline-schema/plan.h"

namespace gantry::agent {

// GitLab's job statuses, as far as they occur locally. kPending: ready, waiting for a free slot.
// kScheduled: a `when: delayed` job whose turn came, waiting out its start_in.
enum class JobState {
  kCreated, kPending, kRunning, kSuccess, kFailed, kCanceled, kSkipped, kManual, kScheduled
};
std::string_view job_state_name(JobState s);  // "created", "pending", ... "scheduled"

// What one attempt of a job ended with (the executor's JobResult, reduced).
struct AttemptOutcome {
  enum class Kind { kSuccess, kFailed, kCanceled };
  Kind kind = Kind::kFailed;
  std::string failure_reason;    // GitLab's name: script_failure, job_execution_timeout, ...
  std::optional<int> exit_code;  // when the script ran to an exit
};

// One job of the run and where it stands.
struct ScheduledJob {
  const schema::PlannedJob* job = nullptr;  // points into the Plan given to the Scheduler
  JobState state = JobState::kCreated;
  bool allowed_failure = false;  // kFailed/kCanceled but allowed to fail: GitLab's warning
  int attempts = 0;              // attempts started so far
  std::optional<AttemptOutcome> last;  // the latest finished attempt
  std::string note;  // why skipped / manual / scheduled / not started, for people
  // kScheduled: seconds to wait (start_in) before the job becomes pending.
  std::int64_t start_in_seconds = 0;
  // Needed jobs (with artifacts) that are not part of this run (--job): their artifacts are
  // missing.
  std::vector<std::string> missing_needs;
};

// The pipeline's overall status (GitLab's composite of all its jobs).
enum class PipelineStatus { kSuccess, kFailed, kCanceled, kSkipped, kBlocked, kRunning };
std::string_view pipeline_status_name(PipelineStatus s);  // "success", ..., "blocked"

// The jobs named by `--job` arguments: an instance name ("test 1/3", "deploy: [aws]") or a
// job's key, which selects all its instances. kInvalidArgument naming the unknown name and the
// jobs there are.
Result<std::set<std::string>> select_jobs(const schema::Plan& plan,
                                          const std::vector<std::string>& names);

class Scheduler {
 public:
  // `selected`: nullopt runs every job of the plan (manual ones wait, as on GitLab); otherwise
  // only those instance names run, manual ones included, ordered among themselves by stage and
  // needs; jobs outside the selection count as absent. `plan` must outlive the Scheduler.
  Scheduler(const schema::Plan& plan, std::optional<std::set<std::string>> selected);

  // Processes every created job whose predecessors are complete: to kPending (returned, in
  // plan order, to be started), kSkipped, kManual or kScheduled (a delayed job: the caller
  // waits start_in_seconds, then calls start_scheduled()). Call after construction and after
  // each record() or start_scheduled(); idempotent.
  std::vector<size_t> advance();

  // A kScheduled job's wait is over (or the user does not want it): it becomes kPending and
  // should be started. GitLab's "play" of a scheduled job.
  void start_scheduled(size_t index);

  // The runner started attempt jobs()[index].attempts + 1 of a kPending job.
  void mark_running(size_t index);

  // A kRunning job's attempt ended. Returns true when GitLab would retry it (retry:max, when,
  // exit_codes): the job is kPending again and should be started once more.
  bool record(size_t index, const AttemptOutcome& outcome);

  // Cancels the pipeline: every created, scheduled or pending job becomes kCanceled; running ones
  // are expected to end with Kind::kCanceled. Nothing is retried or started afterwards.
  void cancel();

  // True when no job is pending, scheduled or running and advance() would start nothing more.
  bool finished() const;

  PipelineStatus status() const;
  bool has_warnings() const;  // a job failed but was allowed to

  const std::vector<ScheduledJob>& jobs() const { return jobs_; }
  std::optional<size_t> index_of(std::string_view name) const;

 private:
  // GitLab's composite status of a set of jobs; nullopt when empty.
  std::string composite(const std::vector<size_t>& indices, bool dag) const;
  std::vector<size_t> predecessors(size_t index) const;
  bool is_dag(size_t index) const;
  bool retry_allowed(const ScheduledJob& job, const AttemptOutcome& outcome) const;

  std::vector<ScheduledJob> jobs_;
  std::vector<size_t> stage_index_;  // per job: its stage's position in plan.stages
  bool selection_ = false;
  bool canceled_ = false;
};

}  // namespace gantry::agent
