#include "agent/scheduler.h"

#include <algorithm>
#include <map>

#include "pipeline-schema/duration.h"

namespace gantry::agent {

std::string_view job_state_name(JobState s) {
  switch (s) {
    case JobState::kCreated: return "created";
    case JobState::kPending: return "pending";
    case JobState::kRunning: return "running";
    case JobState::kSuccess: return "success";
    case JobState::kFailed: return "failed";
    case JobState::kCanceled: return "canceled";
    case JobState::kSkipped: return "skipped";
    case JobState::kManual: return "manual";
    case JobState::kScheduled: return "scheduled";
  }
  return "unknown";
}

std::string_view pipeline_status_name(PipelineStatus s) {
  switch (s) {
    case PipelineStatus::kSuccess: return "success";
    case PipelineStatus::kFailed: return "failed";
    case PipelineStatus::kCanceled: return "canceled";
    case PipelineStatus::kSkipped: return "skipped";
    case PipelineStatus::kBlocked: return "blocked";
    case PipelineStatus::kRunning: return "running";
  }
  return "unknown";
}

Result<std::set<std::string>> select_jobs(const schema::Plan& plan,
                                          const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (const auto& name : names) {
    bool found = false;
    for (const auto& j : plan.jobs) {
      if (j.name == name) {
        out.insert(j.name);
        found = true;
      }
    }
    if (found) continue;
    for (const auto& j : plan.jobs) {
      if (j.job_name == name) {
        out.insert(j.name);
        found = true;
      }
    }
    if (!found) {
      std::string known;
      for (const auto& j : plan.jobs) known += (known.empty() ? "" : ", ") + ("'" + j.name + "'");
      return Error(ErrorCode::kInvalidArgument,
                   "--job '" + name + "': no such job in this pipeline for this trigger (jobs: " +
                       known + ")");
    }
  }
  return out;
}

Scheduler::Scheduler(const schema::Plan& plan, std::optional<std::set<std::string>> selected)
    : selection_(selected.has_value()) {
  std::map<std::string, size_t> stage_pos;
  for (size_t i = 0; i < plan.stages.size(); ++i) stage_pos[plan.stages[i]] = i;
  for (const auto& j : plan.jobs) {
    if (selected && !selected->count(j.name)) continue;
    ScheduledJob sj;
    sj.job = &j;
    if (selected) {
      for (const auto& dep : j.dependencies) {
        if (selected->count(dep)) continue;
        const auto* d = plan.find_job(dep);
        if (d && d->artifacts) sj.missing_needs.push_back(dep);
      }
    }
    jobs_.push_back(std::move(sj));
    auto it = stage_pos.find(j.stage);
    stage_index_.push_back(it == stage_pos.end() ? 0 : it->second);
  }
}

std::optional<size_t> Scheduler::index_of(std::string_view name) const {
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (jobs_[i].job->name == name) return i;
  }
  return std::nullopt;
}

bool Scheduler::is_dag(size_t index) const { return jobs_[index].job->needs.has_value(); }

std::vector<size_t> Scheduler::predecessors(size_t index) const {
  std::vector<size_t> out;
  if (is_dag(index)) {
    for (const auto& n : *jobs_[index].job->needs) {
      if (auto i = index_of(n.job)) out.push_back(*i);  // needs outside a --job selection: absent
    }
    return out;
  }
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (stage_index_[i] < stage_index_[index]) out.push_back(i);
  }
  return out;
}

// Gitlab::Ci::Status::Composite#status, over the states that occur locally.
std::string Scheduler::composite(const std::vector<size_t>& indices, bool dag) const {
  std::set<std::string> set;
  for (size_t i : indices) {
    const auto& j = jobs_[i];
    switch (j.state) {
      case JobState::kCreated: set.insert("created"); break;
      case JobState::kPending: set.insert("pending"); break;
      case JobState::kRunning: set.insert("running"); break;
      case JobState::kSuccess: set.insert("success"); break;
      case JobState::kSkipped: set.insert("skipped"); break;
      case JobState::kFailed:
        set.insert(j.allowed_failure ? "success_with_warnings" : "failed");
        break;
      case JobState::kCanceled:
        set.insert(j.allowed_failure ? "success_with_warnings" : "canceled");
        break;
      case JobState::kManual: set.insert(j.job->allow_failure ? "ignored" : "manual"); break;
      case JobState::kScheduled: set.insert("scheduled"); break;
    }
  }
  if (set.empty()) return "";
  auto any_of = [&](std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (set.count(n)) return true;
    }
    return false;
  };
  auto only_of = [&](std::initializer_list<const char*> names) {
    size_t matching = 0;
    for (const char* n : names) matching += set.count(n);
    return matching > 0 && matching == set.size();
  };
  if (dag && any_of({"skipped", "ignored"})) return "skipped";
  if (dag && !only_of({"success", "failed", "canceled", "skipped", "success_with_warnings"})) {
    return "pending";
  }
  if (only_of({"skipped", "ignored"})) return "skipped";
  if (only_of({"success", "skipped", "success_with_warnings", "ignored"})) return "success";
  if (only_of({"created", "success_with_warnings", "ignored"})) return "created";
  if (only_of({"canceled", "success", "skipped", "success_with_warnings", "ignored"})) {
    return "canceled";
  }
  if (only_of({"pending", "created", "skipped", "success_with_warnings", "ignored"})) {
    return "pending";
  }
  if (any_of({"running", "pending"})) return "running";
  if (any_of({"manual"})) return "manual";
  if (any_of({"scheduled"})) return "scheduled";
  if (any_of({"created"})) return "running";
  return "failed";
}

std::vector<size_t> Scheduler::advance() {
  std::vector<size_t> started;
  if (canceled_) return started;
  // Jobs may need later jobs of their own stage, so repeat until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < jobs_.size(); ++i) {
      auto& j = jobs_[i];
      if (j.state != JobState::kCreated) continue;
      std::string before = composite(predecessors(i), is_dag(i));
      if (before.empty()) before = "success";
      if (before != "success" && before != "failed" && before != "canceled" &&
          before != "skipped") {
        continue;  // not complete yet (or blocked by a manual job)
      }
      // Ci::ProcessBuildService#valid_statuses_for_build
      bool run = false;
      switch (j.job->when) {
        case schema::When::kOnSuccess:
        case schema::When::kManual:
        case schema::When::kDelayed:
          run = before == "success" || (!is_dag(i) && before == "skipped");
          break;
        case schema::When::kOnFailure: run = before == "failed"; break;
        case schema::When::kAlways:
          run = before == "success" || before == "failed" || before == "skipped";
          break;
        case schema::When::kNever: run = false; break;
      }
      changed = true;
      if (!run) {
        j.state = JobState::kSkipped;
        std::string which = is_dag(i) ? "a job it needs " : "an earlier job ";
        if (j.job->when == schema::When::kOnFailure) {
          j.note = "when: on_failure, and nothing before it failed";
        } else if (before == "skipped") {
          j.note = which + "did not run";
        } else {
          j.note = which + (before == "canceled" ? "was canceled" : "failed");
        }
        continue;
      }
      if (j.job->when == schema::When::kManual && !selection_) {
        j.state = JobState::kManual;
        j.note = "manual job: run it with --job '" + j.job->name + "'";
        continue;
      }
      if (j.job->when == schema::When::kDelayed) {
        // The parser checked start_in (a duration of at most a week); a plan from elsewhere
        // without one starts at once.
        auto secs = j.job->start_in ? schema::parse_duration(*j.job->start_in) : std::nullopt;
        j.state = JobState::kScheduled;
        j.start_in_seconds = secs && *secs > 0 ? *secs : 0;
        j.note = "delayed job: starts in " + j.job->start_in.value_or("0 seconds");
        continue;
      }
      j.state = JobState::kPending;
      started.push_back(i);
    }
  }
  return started;
}

void Scheduler::start_scheduled(size_t index) {
  GANTRY_CHECK(jobs_[index].state == JobState::kScheduled);
  jobs_[index].state = JobState::kPending;
}

void Scheduler::mark_running(size_t index) {
  GANTRY_CHECK(jobs_[index].state == JobState::kPending);
  jobs_[index].state = JobState::kRunning;
  ++jobs_[index].attempts;
}

// Gitlab::Ci::Build::AutoRetry: retry:max applies when the failure reason is in retry:when
// (default: always) and, with retry:exit_codes, the exit code is one of them. A missing
// dependency is never retried.
bool Scheduler::retry_allowed(const ScheduledJob& j, const AttemptOutcome& outcome) const {
  if (outcome.kind != AttemptOutcome::Kind::kFailed || !j.job->retry) return false;
  if (outcome.failure_reason == "missing_dependency_failure") return false;
  const auto& r = *j.job->retry;
  if (r.max <= j.attempts - 1) return false;
  bool reason = r.when.empty() ||
                std::find(r.when.begin(), r.when.end(), "always") != r.when.end() ||
                std::find(r.when.begin(), r.when.end(), outcome.failure_reason) != r.when.end();
  if (!reason) return false;
  if (!r.exit_codes.empty()) {
    if (!outcome.exit_code) return false;
    return std::find(r.exit_codes.begin(), r.exit_codes.end(), *outcome.exit_code) !=
           r.exit_codes.end();
  }
  return true;
}

bool Scheduler::record(size_t index, const AttemptOutcome& outcome) {
  auto& j = jobs_[index];
  GANTRY_CHECK(j.state == JobState::kRunning);
  j.last = outcome;
  if (!canceled_ && retry_allowed(j, outcome)) {
    j.state = JobState::kPending;
    return true;
  }
  switch (outcome.kind) {
    case AttemptOutcome::Kind::kSuccess: j.state = JobState::kSuccess; break;
    case AttemptOutcome::Kind::kFailed: {
      j.state = JobState::kFailed;
      const auto& codes = j.job->allow_failure_exit_codes;
      j.allowed_failure = j.job->allow_failure ||
                          (outcome.exit_code && std::find(codes.begin(), codes.end(),
                                                          *outcome.exit_code) != codes.end());
      break;
    }
    case AttemptOutcome::Kind::kCanceled:
      j.state = JobState::kCanceled;
      j.allowed_failure = j.job->allow_failure;
      break;
  }
  return false;
}

void Scheduler::cancel() {
  canceled_ = true;
  for (auto& j : jobs_) {
    if (j.state == JobState::kCreated || j.state == JobState::kPending ||
        j.state == JobState::kScheduled) {
      j.state = JobState::kCanceled;
      j.note = "the pipeline was canceled before it started";
    }
  }
}

bool Scheduler::finished() const {
  for (const auto& j : jobs_) {
    if (j.state == JobState::kPending || j.state == JobState::kRunning ||
        j.state == JobState::kScheduled) {
      return false;
    }
  }
  return true;
}

PipelineStatus Scheduler::status() const {
  std::vector<size_t> all(jobs_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::string s = composite(all, false);
  if (s == "success" || s.empty()) return PipelineStatus::kSuccess;
  if (s == "failed") return PipelineStatus::kFailed;
  if (s == "canceled") return PipelineStatus::kCanceled;
  if (s == "skipped") return PipelineStatus::kSkipped;
  if (s == "manual") return PipelineStatus::kBlocked;
  return PipelineStatus::kRunning;
}

bool Scheduler::has_warnings() const {
  for (const auto& j : jobs_) {
    if (j.allowed_failure) return true;
  }
  return false;
}

}  // namespace gantry::agent
