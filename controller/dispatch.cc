// The agent protocol: long-polls answered by dispatch(), leases with attempt numbers,
// heartbeats, log appends at offsets, artifact uploads and final statuses (docs/api.md).
#include <algorithm>
#include <iterator>
#include <map>

#include "common/logging.h"
#include "controller/controller.h"
#include "controller/fields.h"
#include "controller/scheduler.h"
#include "pipeline-schema/job_spec.h"

namespace gantry::controller {

namespace {

std::string group_key(const JobRecord& j) {
  return j.resource_group.empty() ? "" : std::to_string(j.project_id) + ":" + j.resource_group;
}

}  // namespace

void Controller::request_job(int64_t agent, std::chrono::seconds wait,
                             std::function<void(Result<ApiReply>)> done) {
  Locked lock(*this);
  if (shutting_down_) {
    later([done] { done(ApiReply{204, Json()}); });
    return;
  }
  wait = std::clamp(wait, std::chrono::seconds(0), options_.max_poll_wait);
  poll_waiters_.push_back(
      PollWaiter{agent, now() + std::chrono::milliseconds(wait).count(), std::move(done)});
  auto mine = std::prev(poll_waiters_.end());
  // Only this poll is new: the others already had their turn at the same jobs. When jobs
  // changed since, dispatch() tries every held poll (oldest first, as before).
  dispatch(mine);
  // dispatch() answered it, or it waits; with no wait at all it is answered now.
  if (wait.count() == 0) {
    for (auto it = poll_waiters_.begin(); it != poll_waiters_.end(); ++it) {
      if (it == mine) {
        later([d = std::move(it->done)] { d(ApiReply{204, Json()}); });
        poll_waiters_.erase(it);
        break;
      }
    }
  }
}

Status Controller::refresh_dispatch_view() {
  if (dispatch_view_ && dispatch_view_->job_writes == store_->job_writes()) return ok_status();
  dispatch_view_.reset();
  DispatchView view;
  view.job_writes = store_->job_writes();
  ++dispatch_scans_;
  GANTRY_ASSIGN_OR_RETURN(auto pending, store_->jobs_with_status("pending"));
  if (!pending.empty()) {
    GANTRY_ASSIGN_OR_RETURN(auto running, store_->jobs_with_status("running"));
    for (const auto& j : running) {
      if (auto g = group_key(j); !g.empty()) view.busy_groups.push_back(g);
      ++view.running_per_project[j.project_id];
    }
  }
  for (const auto& j : pending) {
    view.pending.push_back(Candidate{j.id, j.project_id, j.queued_at, j.tags, group_key(j)});
  }
  dispatch_view_ = std::move(view);
  return ok_status();
}

void Controller::dispatch(std::optional<std::list<PollWaiter>::iterator> only) {
  if (poll_waiters_.empty()) return;
  bool fresh = !dispatch_view_ || dispatch_view_->job_writes != store_->job_writes();
  if (auto st = refresh_dispatch_view(); !st.ok()) {
    logger("scheduler")->error("list pending jobs failed error={}", st.error().message());
    return;
  }
  if (dispatch_view_->pending.empty()) return;
  // A view read just now has not been tried by the held polls yet: all of them get a turn.
  if (fresh) only.reset();
  // The loop works on a copy: leases write jobs, which makes the stored view stale anyway.
  DispatchView view = *dispatch_view_;
  auto it = only ? *only : poll_waiters_.begin();
  while (it != poll_waiters_.end() && !view.pending.empty()) {
    auto next = only ? poll_waiters_.end() : std::next(it);
    auto agent = agents_.find(it->agent_id);
    if (agent == agents_.end() || agent->second.paused) {
      it = next;
      continue;
    }
    std::vector<std::pair<int64_t, int>> counts(view.running_per_project.begin(),
                                                view.running_per_project.end());
    auto pick = pick_job(view.pending, agent->second.labels, view.busy_groups, counts);
    if (!pick) {
      it = next;
      continue;
    }
    Candidate chosen = view.pending[*pick];
    view.pending.erase(view.pending.begin() + static_cast<std::ptrdiff_t>(*pick));
    auto job = job_by_id(chosen.job_id);
    if (!job.ok() || job->status != "pending") {
      // Cannot happen while every job write goes through the store's counter; a stale view
      // must not lease a job twice, so it is dropped and read again next time.
      logger("scheduler")->error("dispatch view out of date job={}", chosen.job_id);
      dispatch_view_.reset();
      return;
    }
    auto reply = lease_reply(*job, agent->second);
    if (!reply.ok()) {
      // The same poll tries the next job.
      logger("scheduler")->error("lease failed job={} error={}", job->id, reply.error().message());
      continue;
    }
    if (!chosen.resource_group.empty()) view.busy_groups.push_back(chosen.resource_group);
    ++view.running_per_project[job->project_id];
    logger("scheduler")->info("job leased job={} attempt={} agent={}", job->id, job->attempt,
                              agent->first);
    later([done = std::move(it->done), body = std::move(*reply)]() mutable {
      done(ApiReply{200, std::move(body)});
    });
    poll_waiters_.erase(it);
    it = next;
  }
}

Controller::DispatchStats Controller::dispatch_stats() {
  Locked lock(*this);
  return DispatchStats{poll_waiters_.size(), dispatch_scans_};
}

Result<Json> Controller::lease_reply(JobRecord& job, const AgentRecord& agent) {
  GANTRY_ASSIGN_OR_RETURN(auto pipeline, pipeline_by_id(job.pipeline_id));
  GANTRY_ASSIGN_OR_RETURN(auto project, store_->get_project(job.project_id));
  if (!project) return Error(ErrorCode::kInternal, "job's project is gone");
  GANTRY_ASSIGN_OR_RETURN(const schema::Plan* plan, plan_of(pipeline));
  const schema::PlannedJob* planned = plan->find_job(job.name);
  if (!planned) {
    return Error(ErrorCode::kInternal, "job '" + job.name + "' is not in its pipeline's plan");
  }
  int64_t t = now();
  job.attempt += 1;
  job.status = "running";
  job.agent_id = agent.id;
  job.lease_expires_at = t + std::chrono::milliseconds(options_.lease).count();
  job.started_at = t;
  job.finished_at = 0;
  job.failure_reason.clear();
  job.exit_code.reset();
  job.failure_allowed = false;
  job.artifact_digest.clear();
  job.artifact_size = 0;
  job.acknowledged = false;
  GANTRY_TRY(store_->update_job(job));

  schema::JobSpec spec;
  spec.job_id = job.id;
  spec.attempt = job.attempt;
  spec.pipeline_id = job.pipeline_id;
  spec.project_name = project->name;
  spec.project_path = project->name;
  spec.commit_sha = pipeline.sha;
  spec.ref = pipeline.ref;
  spec.job = *planned;
  GANTRY_ASSIGN_OR_RETURN(auto siblings, store_->pipeline_jobs(job.pipeline_id));
  for (const auto& dep : planned->dependencies) {
    schema::DependencyArtifacts d;
    d.job = dep;
    for (const auto& s : siblings) {
      if (s.name == dep && !s.artifact_digest.empty()) {
        d.locator = "/api/v1/agent/jobs/" + std::to_string(s.id) + "/artifacts";
      }
    }
    spec.dependencies.push_back(std::move(d));
  }
  for (const auto& v : project->variables) {
    if (v.masked) spec.masked_values.push_back(v.value);
  }
  // The agent and the controller's own timeout check (tick()) agree on the default.
  spec.default_timeout_seconds = options_.default_job_timeout.count();
  GANTRY_TRY(process(job.pipeline_id));
  return Json{{"job_id", job.id},
              {"attempt", job.attempt},
              {"lease_seconds", options_.lease.count()},
              {"heartbeat_seconds", options_.heartbeat.count()},
              {"repo_url", project->repo_url},
              {"spec", schema::job_spec_to_json(spec)}};
}

Status Controller::acknowledge(JobRecord& job) {
  if (job.acknowledged) return ok_status();
  job.acknowledged = true;
  return store_->update_job(job);
}

bool Controller::lease_current(int64_t agent, const JobRecord& job, int attempt) const {
  return job.agent_id == agent && job.attempt == attempt && job.lease_expires_at != 0;
}

ApiReply Controller::stale_reply(int64_t agent, const JobRecord& job, int attempt) const {
  std::string why = job.attempt != attempt || job.agent_id != agent
                        ? "attempt " + std::to_string(attempt) +
                              " is not the current lease (attempt " + std::to_string(job.attempt) +
                              ")"
                        : "attempt " + std::to_string(attempt) + " has ended (" + job.status + ")";
  return refusal(409, "stale_attempt", "job " + std::to_string(job.id) + ": " + why,
                 Json{{"attempt", job.attempt}});
}

Result<ApiReply> Controller::heartbeat(int64_t agent, int64_t job_id, int attempt) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto job, job_by_id(job_id));
  if (!lease_current(agent, job, attempt)) return stale_reply(agent, job, attempt);
  job.lease_expires_at = now() + std::chrono::milliseconds(options_.lease).count();
  job.acknowledged = true;
  GANTRY_TRY(store_->update_job(job));
  return ApiReply{200, Json{{"status", job.status},
                            {"cancel", job.status == "canceled"},
                            {"lease_seconds", options_.lease.count()}}};
}

Result<ApiReply> Controller::append_log(int64_t agent, int64_t job_id, int attempt,
                                        uint64_t offset, std::string_view data) {
  {
    Locked lock(*this);
    GANTRY_ASSIGN_OR_RETURN(auto job, job_by_id(job_id));
    if (!lease_current(agent, job, attempt)) return stale_reply(agent, job, attempt);
    GANTRY_TRY(acknowledge(job));
  }
  // Outside the lock: each attempt has its own file, so a lease that changed meanwhile can
  // only have written into its own attempt's log.
  GANTRY_ASSIGN_OR_RETURN(AppendResult r, logs_->append(job_id, attempt, offset, data));
  if (!r.accepted) {
    return refusal(409, "offset_mismatch",
                   "job " + std::to_string(job_id) + " log: chunk at offset " +
                       std::to_string(offset) + ", log size is " + std::to_string(r.size),
                   Json{{"size", r.size}});
  }
  if (!data.empty()) {
    Locked lock(*this);
    wake_log_waiters(job_id);
  }
  return ApiReply{200, Json{{"size", r.size}}};
}

Result<ApiReply> Controller::upload_artifacts(int64_t agent, int64_t job_id, int attempt,
                                              std::string_view data,
                                              std::string_view expected_digest) {
  {
    Locked lock(*this);
    GANTRY_ASSIGN_OR_RETURN(auto job, job_by_id(job_id));
    if (!lease_current(agent, job, attempt)) return stale_reply(agent, job, attempt);
  }
  GANTRY_ASSIGN_OR_RETURN(StoredArtifact stored, artifacts_->put(data, expected_digest));
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto job, job_by_id(job_id));
  if (!lease_current(agent, job, attempt)) return stale_reply(agent, job, attempt);
  job.artifact_digest = stored.digest;
  job.artifact_size = stored.size;
  job.acknowledged = true;
  GANTRY_TRY(store_->update_job(job));
  return ApiReply{201, Json{{"digest", stored.digest}, {"size", stored.size}}};
}

Result<ApiReply> Controller::finish_job(int64_t agent, int64_t job_id, const Json& body) {
  GANTRY_TRY(require_object(body));
  GANTRY_ASSIGN_OR_RETURN(int64_t attempt64, int_field(body, "attempt"));
  int attempt = static_cast<int>(attempt64);
  if (!body.contains("result")) {
    return Error(ErrorCode::kInvalidArgument, "field 'result': missing");
  }
  auto result = schema::job_result_from_json(body.at("result"));
  if (!result.ok()) return std::move(result).error().with_context("field 'result'");

  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto job, job_by_id(job_id));
  // A repeated report (its first answer was lost) gets the same answer. An attempt the
  // controller ended (agent lost, timed out) has no checksum: its late report is refused.
  if (job.agent_id == agent && job.attempt == attempt && job.lease_expires_at == 0 &&
      job.finished_at != 0 && !job.log_sha256.empty()) {
    return ApiReply{200, Json{{"status", job.status}}};
  }
  if (!lease_current(agent, job, attempt)) return stale_reply(agent, job, attempt);
  GANTRY_ASSIGN_OR_RETURN(uint64_t size, logs_->size(job_id, attempt));
  if (size != result->log_bytes) {
    return refusal(409, "log_incomplete",
                   "job " + std::to_string(job_id) + ": result says the log has " +
                       std::to_string(result->log_bytes) + " bytes, the controller has " +
                       std::to_string(size),
                   Json{{"size", size}});
  }
  GANTRY_ASSIGN_OR_RETURN(auto sha, logs_->sha256(job_id, attempt));
  bool integrity_failure = sha && !result->log_sha256.empty() && *sha != result->log_sha256;
  int64_t t = now();
  job.log_size = size;
  job.log_sha256 = sha.value_or(result->log_sha256);
  job.lease_expires_at = 0;
  job.finished_at = t;
  job.exit_code = result->exit_code;
  if (job.status != "canceled") {
    if (integrity_failure) {
      job.status = "failed";
      job.failure_reason = "data_integrity_failure";
      logger("scheduler")->error("log checksum mismatch job={} attempt={}", job_id, attempt);
    } else if (result->status == schema::JobStatus::kSuccess) {
      job.status = "success";
      job.failure_reason.clear();
    } else if (result->status == schema::JobStatus::kCanceled) {
      job.status = "canceled";
      job.failure_reason.clear();
    } else {
      job.status = "failed";
      std::string reason(schema::failure_reason_name(result->failure_reason));
      job.failure_reason = reason.empty() ? "unknown_failure" : reason;
    }
    if (job.status == "failed") {
      bool exit_allowed =
          job.exit_code && std::find(job.allow_failure_exit_codes.begin(),
                                     job.allow_failure_exit_codes.end(),
                                     *job.exit_code) != job.allow_failure_exit_codes.end();
      job.failure_allowed = job.allow_failure || exit_allowed;
      requeue_under_retry(job, job.exit_code, t);
    }
  }
  GANTRY_TRY(store_->update_job(job));
  logs_->close(job_id, attempt);
  wake_log_waiters(job_id);
  logger("scheduler")->info("job finished job={} attempt={} status={} reason={}", job_id,
                            attempt, job.status, job.failure_reason);
  GANTRY_TRY(process(job.pipeline_id));
  dispatch();
  return ApiReply{200, Json{{"status", job.status}}};
}

}  // namespace gantry::controller
