#include "controller/scheduler.h"

#include <algorithm>
#include <map>

namespace gantry::controller {

namespace {

constexpr std::pair<JobState, std::string_view> kStateNames[] = {
    {JobState::kCreated, "created"}, {JobState::kPending, "pending"},
    {JobState::kRunning, "running"}, {JobState::kSuccess, "success"},
    {JobState::kFailed, "failed"},   {JobState::kCanceled, "canceled"},
    {JobState::kSkipped, "skipped"}, {JobState::kManual, "manual"},
    {JobState::kScheduled, "scheduled"},
};

enum class Composite { kWaiting, kSuccess, kFailed, kCanceled, kSkipped };

// GitLab's composite status of a job's prerequisites.
Composite composite(const std::vector<const SchedJob*>& prereqs) {
  bool any_failed = false, any_canceled = false, all_skipped = true;
  for (const SchedJob* j : prereqs) {
    switch (j->state) {
      case JobState::kCreated:
      case JobState::kPending:
      case JobState::kRunning:
      case JobState::kScheduled:
        return Composite::kWaiting;
      case JobState::kManual:
        if (!j->allow_failure) return Composite::kWaiting;  // blocking manual job
        break;                                               // optional: ignored
      case JobState::kSkipped:
        break;
      case JobState::kSuccess:
        all_skipped = false;
        break;
      case JobState::kFailed:
        all_skipped = false;
        if (!j->allow_failure) any_failed = true;
        break;
      case JobState::kCanceled:
        all_skipped = false;
        any_canceled = true;
        break;
    }
  }
  if (prereqs.empty()) return Composite::kSuccess;
  if (any_failed) return Composite::kFailed;
  if (any_canceled) return Composite::kCanceled;
  if (all_skipped) return Composite::kSkipped;
  return Composite::kSuccess;
}

std::optional<JobState> decide(schema::When when, Composite c) {
  if (c == Composite::kWaiting) return std::nullopt;
  bool ok = c == Composite::kSuccess || c == Composite::kSkipped;
  switch (when) {
    case schema::When::kOnSuccess:
      return ok ? JobState::kPending : JobState::kSkipped;
    case schema::When::kDelayed:
      return ok ? JobState::kScheduled : JobState::kSkipped;
    case schema::When::kManual:
      return ok ? JobState::kManual : JobState::kSkipped;
    case schema::When::kOnFailure:
      return c == Composite::kFailed ? JobState::kPending : JobState::kSkipped;
    case schema::When::kAlways:
      return c == Composite::kCanceled ? JobState::kSkipped : JobState::kPending;
    case schema::When::kNever:
      return JobState::kSkipped;
  }
  return JobState::kSkipped;
}

}  // namespace

std::string_view job_state_name(JobState s) {
  for (const auto& [state, name] : kStateNames) {
    if (state == s) return name;
  }
  return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view s) {
  for (const auto& [state, name] : kStateNames) {
    if (name == s) return state;
  }
  return std::nullopt;
}

bool is_finished(JobState s) {
  return s == JobState::kSuccess || s == JobState::kFailed || s == JobState::kCanceled ||
         s == JobState::kSkipped;
}

std::vector<Transition> process_pipeline(const std::vector<SchedJob>& input) {
  std::vector<SchedJob> jobs = input;
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < jobs.size(); ++i) by_name.emplace(jobs[i].name, i);
  std::vector<Transition> out;
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].state != JobState::kCreated) continue;
      std::vector<const SchedJob*> prereqs;
      if (jobs[i].needs) {
        for (const auto& n : *jobs[i].needs) {
          auto it = by_name.find(n);
          if (it != by_name.end()) prereqs.push_back(&jobs[it->second]);
        }
      } else {
        for (const auto& j : jobs) {
          if (j.stage < jobs[i].stage) prereqs.push_back(&j);
        }
      }
      auto to = decide(jobs[i].when, composite(prereqs));
      if (!to) continue;
      jobs[i].state = *to;
      out.push_back({i, *to});
      changed = true;
    }
  }
  return out;
}

JobState pipeline_state(const std::vector<SchedJob>& jobs) {
  bool any_running = false, any_pending = false, any_finished_run = false, any_created = false;
  bool blocking_manual = false, any_failed = false, any_canceled = false, all_skipped = true;
  bool any_scheduled = false;
  for (const auto& j : jobs) {
    switch (j.state) {
      case JobState::kRunning: any_running = true; break;
      case JobState::kPending: any_pending = true; break;
      case JobState::kCreated: any_created = true; break;
      case JobState::kManual:
        if (!j.allow_failure) blocking_manual = true;
        break;
      case JobState::kSkipped: break;
      case JobState::kScheduled: any_scheduled = true; break;
      case JobState::kSuccess:
        all_skipped = false;
        any_finished_run = true;
        break;
      case JobState::kFailed:
        all_skipped = false;
        any_finished_run = true;
        if (!j.allow_failure) any_failed = true;
        break;
      case JobState::kCanceled:
        all_skipped = false;
        any_canceled = true;
        break;
    }
  }
  if (any_running || (any_pending && any_finished_run)) return JobState::kRunning;
  if (any_pending) return JobState::kPending;
  if (blocking_manual) return JobState::kManual;
  if (any_scheduled) return JobState::kScheduled;
  if (any_created) {
    // Created jobs that nothing will start: only a blocking manual job holds them, handled
    // above; otherwise they wait for processing, which counts as still running.
    return any_finished_run ? JobState::kRunning : JobState::kCreated;
  }
  if (any_failed) return JobState::kFailed;
  if (any_canceled) return JobState::kCanceled;
  if (all_skipped) return JobState::kSkipped;
  return JobState::kSuccess;
}

bool should_retry(const schema::Retry& retry, int retries_done, std::string_view reason,
                  std::optional<int> exit_code) {
  if (retries_done >= retry.max) return false;
  if (reason == "canceled") return false;
  bool exit_match = exit_code && std::find(retry.exit_codes.begin(), retry.exit_codes.end(),
                                           *exit_code) != retry.exit_codes.end();
  if (retry.when.empty()) return retry.exit_codes.empty() || exit_match;
  for (const auto& w : retry.when) {
    if (w == "always" || w == reason) return true;
    if (reason == "agent_lost" &&
        (w == "runner_system_failure" || w == "stuck_or_timeout_failure")) {
      return true;
    }
    if (reason == "job_execution_timeout" && w == "stuck_or_timeout_failure") return true;
  }
  return exit_match;
}

std::optional<size_t> pick_job(const std::vector<Candidate>& pending,
                               const std::vector<std::string>& labels,
                               const std::vector<std::string>& busy_groups,
                               const std::vector<std::pair<int64_t, int>>& running_per_project) {
  auto running_of = [&](int64_t project) {
    for (const auto& [p, n] : running_per_project) {
      if (p == project) return n;
    }
    return 0;
  };
  std::optional<size_t> best;
  for (size_t i = 0; i < pending.size(); ++i) {
    const Candidate& c = pending[i];
    bool covered = std::all_of(c.tags.begin(), c.tags.end(), [&](const std::string& t) {
      return std::find(labels.begin(), labels.end(), t) != labels.end();
    });
    if (!covered) continue;
    if (!c.resource_group.empty() &&
        std::find(busy_groups.begin(), busy_groups.end(), c.resource_group) !=
            busy_groups.end()) {
      continue;
    }
    if (!best) {
      best = i;
      continue;
    }
    const Candidate& b = pending[*best];
    int rc = running_of(c.project_id), rb = running_of(b.project_id);
    if (rc < rb || (rc == rb && (c.queued_at < b.queued_at ||
                                 (c.queued_at == b.queued_at && c.job_id < b.job_id)))) {
      best = i;
    }
  }
  return best;
}

}  // namespace gantry::controller
