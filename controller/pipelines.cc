// Pipelines and jobs for people: creation (git mirror → load → plan, as `gantry plan`),
// processing with the scheduler's decisions, cancel/retry/play, log reads and followers.
#include <algorithm>
#include <map>

#include "common/logging.h"
#include "controller/controller.h"
#include "controller/fields.h"
#include "controller/scheduler.h"
#include "pipeline-schema/duration.h"
#include "pipeline-schema/load.h"
#include "pipeline-schema/trigger.h"

namespace gantry::controller {

namespace {

SchedJob sched_job(const JobRecord& j) {
  SchedJob s;
  s.name = j.name;
  s.stage = j.stage_index;
  s.state = parse_job_state(j.status).value_or(JobState::kCreated);
  s.when = schema::parse_when(j.when).value_or(schema::When::kOnSuccess);
  s.allow_failure = s.state == JobState::kFailed ? j.failure_allowed : j.allow_failure;
  s.needs = j.needs;
  return s;
}

bool finished_status(const std::string& s) {
  auto state = parse_job_state(s);
  return state && is_finished(*state);
}

bool active_status(const std::string& s) {
  return s == "created" || s == "pending" || s == "running" || s == "manual" ||
         s == "scheduled";
}

}  // namespace

Result<PipelineRecord> Controller::pipeline_by_id(int64_t id) {
  GANTRY_ASSIGN_OR_RETURN(auto p, store_->get_pipeline(id));
  if (!p) return Error(ErrorCode::kNotFound, "pipeline " + std::to_string(id) + " not found");
  return std::move(*p);
}

Result<JobRecord> Controller::job_by_id(int64_t id) {
  GANTRY_ASSIGN_OR_RETURN(auto j, store_->get_job(id));
  if (!j) return Error(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
  return std::move(*j);
}

Result<const schema::Plan*> Controller::plan_of(const PipelineRecord& pipeline) {
  if (auto it = plans_.find(pipeline.id); it != plans_.end()) return it->second.get();
  if (pipeline.plan_json.empty()) {
    return Error(ErrorCode::kFailedPrecondition,
                 "pipeline " + std::to_string(pipeline.id) + " has no plan");
  }
  GANTRY_ASSIGN_OR_RETURN(Json json, parse_json(pipeline.plan_json, "stored plan"));
  GANTRY_ASSIGN_OR_RETURN(schema::Plan plan, schema::plan_from_json(json));
  auto& slot = plans_[pipeline.id];
  slot = std::make_unique<schema::Plan>(std::move(plan));
  return slot.get();
}

// ---- creation ----

void Controller::create_pipeline(const Json& body, std::function<void(Result<ApiReply>)> done) {
  {
    std::lock_guard lock(work_mu_);
    work_.push_back([this, body, done = std::move(done)] { done(create_pipeline_now(body)); });
  }
  work_cv_.notify_one();
}

Result<ApiReply> Controller::create_pipeline_now(const Json& body) {
  GANTRY_TRY(require_object(body));
  GANTRY_ASSIGN_OR_RETURN(std::string project_name, string_field(body, "project", true));
  GANTRY_ASSIGN_OR_RETURN(std::string ref, string_field(body, "ref", false));
  GANTRY_ASSIGN_OR_RETURN(std::string sha, string_field(body, "sha", false));
  GANTRY_ASSIGN_OR_RETURN(std::string source, string_field(body, "source", false, "api"));
  if (auto st = schema::validate_pipeline_source(source); !st.ok()) {
    return std::move(st).error().with_context("field 'source'");
  }
  std::vector<std::pair<std::string, std::string>> trigger_vars;
  if (body.contains("variables") && !body.at("variables").is_null()) {
    const Json& vars = body.at("variables");
    if (!vars.is_object()) {
      return Error(ErrorCode::kInvalidArgument,
                   "field 'variables': must be an object of names to string values");
    }
    for (const auto& [k, v] : vars.items()) {
      if (!valid_variable_key(k)) {
        return Error(ErrorCode::kInvalidArgument,
                     "field 'variables': '" + k + "' is not a variable name");
      }
      if (!v.is_string()) {
        return Error(ErrorCode::kInvalidArgument,
                     "field 'variables." + k + "': must be a string");
      }
      trigger_vars.emplace_back(k, v.get<std::string>());
    }
  }
  ProjectRecord project;
  {
    Locked lock(*this);
    GANTRY_ASSIGN_OR_RETURN(project, project_named(project_name));
  }
  std::string key = std::to_string(project.id);
  std::string where = "project '" + project.name + "'";
  if (auto st = mirrors_->sync(key, project.repo_url); !st.ok()) {
    return std::move(st).error().with_context(where);
  }
  auto resolved = mirrors_->resolve(key, ref, sha, project.default_branch);
  if (!resolved.ok()) return std::move(resolved).error().with_context(where);
  auto files = GitTreeFiles::open(mirrors_->path(key), resolved->sha);
  if (!files.ok()) return std::move(files).error().with_context(where);

  schema::TriggerContext trigger;
  if (resolved->tag) {
    trigger.tag = resolved->ref;
  } else {
    trigger.branch = resolved->ref;
  }
  trigger.source = source;
  trigger.sha = resolved->sha;
  trigger.default_branch = project.default_branch;
  // Project variables under the trigger's, as GitLab orders them.
  std::map<std::string, std::string> merged;
  for (const auto& v : project.variables) merged[v.key] = v.value;
  for (const auto& [k, v] : trigger_vars) merged[k] = v;
  trigger.variables.assign(merged.begin(), merged.end());
  trigger.project_files = (*files)->list();
  trigger.project_path = project.name;

  PipelineRecord p;
  p.project_id = project.id;
  p.ref = resolved->ref;
  p.tag = resolved->tag;
  p.sha = resolved->sha;
  p.source = source;
  p.created_at = now();
  Json vars_json = Json::object();
  for (const auto& [k, v] : trigger_vars) vars_json[k] = v;
  p.variables_json = vars_json.dump();

  std::vector<JobRecord> jobs;
  auto loaded = schema::load_pipeline(**files, "", ".");
  schema::PlanResult planned;
  if (!loaded.ok()) {
    p.diagnostics.push_back(loaded.error().message());
  } else if (!loaded->ok()) {
    for (const auto& d : loaded->diagnostics.sorted()) p.diagnostics.push_back(d.render());
  } else {
    planned = schema::make_plan(loaded->pipeline, trigger);
    if (!planned.ok()) {
      for (const auto& d : planned.diagnostics.sorted()) p.diagnostics.push_back(d.render());
    } else if (!planned.plan.created) {
      return refusal(400, "filtered",
                     "no pipeline for " + std::string(resolved->tag ? "tag '" : "branch '") +
                         resolved->ref + "': " + planned.plan.stopped_reason);
    }
  }
  if (!p.diagnostics.empty()) {
    p.status = "failed";
    p.failure_reason = "config_error";
    p.finished_at = p.created_at;
  } else {
    const schema::Plan& plan = planned.plan;
    p.stages = plan.stages;
    p.plan_json = schema::plan_to_json(plan).dump();
    for (size_t i = 0; i < plan.jobs.size(); ++i) {
      const auto& pj = plan.jobs[i];
      JobRecord j;
      j.project_id = project.id;
      j.position = static_cast<int>(i);
      j.name = pj.name;
      j.stage = pj.stage;
      auto st = std::find(plan.stages.begin(), plan.stages.end(), pj.stage);
      j.stage_index = static_cast<int>(st - plan.stages.begin());
      j.when = std::string(schema::when_name(pj.when));
      if (pj.when == schema::When::kDelayed && pj.start_in) {
        j.start_in_seconds = schema::parse_duration(*pj.start_in).value_or(0);
      }
      j.allow_failure = pj.allow_failure;
      j.allow_failure_exit_codes = pj.allow_failure_exit_codes;
      if (pj.needs) {
        std::vector<std::string> names;
        for (const auto& n : *pj.needs) names.push_back(n.job);
        j.needs = std::move(names);
      }
      j.tags = pj.tags;
      j.resource_group = pj.resource_group.value_or("");
      j.interruptible = pj.interruptible;
      j.created_at = p.created_at;
      jobs.push_back(std::move(j));
    }
  }

  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(p.id, store_->create_pipeline(p, jobs));
  logger("api")->info("pipeline created id={} project={} ref={} sha={} status={}", p.id,
                      project.name, p.ref, p.sha.substr(0, 12), p.status);
  if (p.failure_reason.empty()) {
    GANTRY_TRY(process(p.id));
    GANTRY_TRY(auto_cancel_older(p));
    dispatch();
  }
  return pipeline_reply(p.id, 201);
}

// GitLab's auto-cancel of redundant pipelines: an older pipeline of the same branch is canceled
// unless one of its jobs that already started is not interruptible.
Status Controller::auto_cancel_older(const PipelineRecord& created) {
  if (created.tag) return ok_status();
  GANTRY_ASSIGN_OR_RETURN(auto active, store_->active_pipelines(created.project_id, created.ref));
  for (const auto& p : active) {
    if (p.id >= created.id) continue;
    GANTRY_ASSIGN_OR_RETURN(auto jobs, store_->pipeline_jobs(p.id));
    bool protected_job = std::any_of(jobs.begin(), jobs.end(), [](const JobRecord& j) {
      return j.attempt > 0 && !j.interruptible;
    });
    if (protected_job) continue;
    logger("scheduler")->info("pipeline auto-canceled id={} by={}", p.id, created.id);
    GANTRY_TRY(cancel_jobs(p.id));
    GANTRY_TRY(process(p.id));
  }
  return ok_status();
}

// ---- processing ----

Status Controller::process(int64_t pipeline_id) {
  GANTRY_ASSIGN_OR_RETURN(auto p, pipeline_by_id(pipeline_id));
  if (!p.failure_reason.empty()) return ok_status();  // a config error: no jobs
  GANTRY_ASSIGN_OR_RETURN(auto jobs, store_->pipeline_jobs(pipeline_id));
  std::vector<SchedJob> sched;
  for (const auto& j : jobs) sched.push_back(sched_job(j));
  int64_t t = now();
  for (const auto& tr : process_pipeline(sched)) {
    JobRecord& j = jobs[tr.index];
    j.status = std::string(job_state_name(tr.to));
    if (tr.to == JobState::kPending) j.queued_at = t;
    if (tr.to == JobState::kScheduled) {
      j.scheduled_at = t + j.start_in_seconds * 1000;
      logger("scheduler")->info("job scheduled id={} name={} start_in={}s", j.id, j.name,
                                j.start_in_seconds);
    }
    sched[tr.index].state = tr.to;
    GANTRY_TRY(store_->update_job(j));
  }
  JobState state = pipeline_state(sched);
  std::string status(job_state_name(state));
  int64_t started = 0;
  for (const auto& j : jobs) {
    if (j.started_at && (!started || j.started_at < started)) started = j.started_at;
  }
  bool done = is_finished(state);
  int64_t finished = done ? (p.finished_at ? p.finished_at : t) : 0;
  if (status != p.status || started != p.started_at || finished != p.finished_at) {
    if (status != p.status) {
      logger("scheduler")->info("pipeline status id={} from={} to={}", p.id, p.status, status);
    }
    p.status = status;
    p.started_at = started;
    p.finished_at = finished;
    GANTRY_TRY(store_->update_pipeline(p));
  }
  if (done) plans_.erase(pipeline_id);
  return ok_status();
}

Status Controller::cancel_jobs(int64_t pipeline_id) {
  GANTRY_ASSIGN_OR_RETURN(auto jobs, store_->pipeline_jobs(pipeline_id));
  int64_t t = now();
  for (auto& j : jobs) {
    if (!active_status(j.status)) continue;
    j.status = "canceled";
    j.finished_at = t;
    GANTRY_TRY(store_->update_job(j));
    wake_log_waiters(j.id);
  }
  return ok_status();
}

Status Controller::reset_for_retry(JobRecord& j) {
  j.status = "created";
  j.scheduled_at = 0;
  j.failure_reason.clear();
  j.exit_code.reset();
  j.failure_allowed = false;
  j.auto_retries = 0;
  j.agent_id = 0;
  j.lease_expires_at = 0;
  j.started_at = 0;
  j.finished_at = 0;
  j.log_size = 0;
  j.log_sha256.clear();
  j.artifact_digest.clear();
  j.artifact_size = 0;
  return store_->update_job(j);
}

Result<ApiReply> Controller::list_pipelines(const PipelineFilter& filter_in,
                                            const std::string& project) {
  PipelineFilter filter = filter_in;
  filter.limit = std::clamp(filter.limit, 1, 500);
  Locked lock(*this);
  if (!project.empty()) {
    GANTRY_ASSIGN_OR_RETURN(auto p, project_named(project));
    filter.project_id = p.id;
  }
  GANTRY_ASSIGN_OR_RETURN(auto list, store_->list_pipelines(filter));
  Json out = Json::array();
  // One project lookup per project, not per pipeline: it was most of a list's cost.
  std::map<int64_t, std::string> names;
  for (const auto& p : list) {
    auto name = names.find(p.project_id);
    if (name == names.end()) {
      GANTRY_ASSIGN_OR_RETURN(auto project, store_->get_project(p.project_id));
      name = names.emplace(p.project_id, project ? project->name : "").first;
    }
    GANTRY_ASSIGN_OR_RETURN(auto json, pipeline_json(p, name->second, false));
    out.push_back(std::move(json));
  }
  return ApiReply{200, Json{{"pipelines", std::move(out)}}};
}

Result<ApiReply> Controller::show_pipeline(int64_t id) {
  Locked lock(*this);
  return pipeline_reply(id);
}

Result<ApiReply> Controller::cancel_pipeline(int64_t id) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto p, pipeline_by_id(id));
  GANTRY_TRY(cancel_jobs(id));
  GANTRY_TRY(process(id));
  logger("api")->info("pipeline canceled id={}", id);
  dispatch();  // resource groups may be free now
  return pipeline_reply(id);
}

Result<ApiReply> Controller::retry_pipeline(int64_t id) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto p, pipeline_by_id(id));
  if (!p.failure_reason.empty()) {
    return Error(
        ErrorCode::kFailedPrecondition,
        "pipeline " + std::to_string(id) + " has a configuration error; trigger a new one");
  }
  if (active_status(p.status)) {
    return Error(ErrorCode::kFailedPrecondition,
                 "pipeline " + std::to_string(id) + " is " + p.status + "; retry it when it ends");
  }
  GANTRY_ASSIGN_OR_RETURN(auto jobs, store_->pipeline_jobs(id));
  for (auto& j : jobs) {
    if (j.status == "failed" || j.status == "canceled" || j.status == "skipped") {
      GANTRY_TRY(reset_for_retry(j));
    }
  }
  GANTRY_TRY(process(id));
  dispatch();
  return pipeline_reply(id);
}

Result<ApiReply> Controller::show_job(int64_t id) {
  Locked lock(*this);
  return job_reply(id);
}

Result<ApiReply> Controller::cancel_job(int64_t id) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto j, job_by_id(id));
  if (active_status(j.status)) {
    j.status = "canceled";
    j.finished_at = now();
    GANTRY_TRY(store_->update_job(j));
    wake_log_waiters(id);
    GANTRY_TRY(process(j.pipeline_id));
    dispatch();
  }
  return job_reply(id);
}

Result<ApiReply> Controller::retry_job(int64_t id) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto j, job_by_id(id));
  if (j.status != "success" && j.status != "failed" && j.status != "canceled") {
    return Error(ErrorCode::kFailedPrecondition, "job " + std::to_string(id) + " is " + j.status +
                                                     "; only finished jobs are retried");
  }
  GANTRY_TRY(reset_for_retry(j));
  GANTRY_ASSIGN_OR_RETURN(auto jobs, store_->pipeline_jobs(j.pipeline_id));
  for (auto& other : jobs) {
    if (other.status == "skipped") GANTRY_TRY(reset_for_retry(other));
  }
  GANTRY_TRY(process(j.pipeline_id));
  dispatch();
  return job_reply(id);
}

Result<ApiReply> Controller::play_job(int64_t id) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto j, job_by_id(id));
  if (j.status != "manual" && j.status != "scheduled") {
    return Error(ErrorCode::kFailedPrecondition,
                 "job " + std::to_string(id) + " is " + j.status + ", not manual or scheduled");
  }
  j.status = "pending";
  j.queued_at = now();
  j.scheduled_at = 0;
  GANTRY_TRY(store_->update_job(j));
  GANTRY_TRY(process(j.pipeline_id));
  dispatch();
  return job_reply(id);
}

// GitLab's unschedule: the delayed job waits for a play instead of its time.
Result<ApiReply> Controller::unschedule_job(int64_t id) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto j, job_by_id(id));
  if (j.status != "scheduled") {
    return Error(ErrorCode::kFailedPrecondition,
                 "job " + std::to_string(id) + " is " + j.status + ", not scheduled");
  }
  j.status = "manual";
  j.scheduled_at = 0;
  GANTRY_TRY(store_->update_job(j));
  GANTRY_TRY(process(j.pipeline_id));
  return job_reply(id);
}

// Scheduled jobs whose time has come become pending (from tick(), with the lock held).
Status Controller::start_due_jobs() {
  GANTRY_ASSIGN_OR_RETURN(auto scheduled, store_->jobs_with_status("scheduled"));
  int64_t t = now();
  std::vector<int64_t> pipelines;
  for (auto& j : scheduled) {
    if (j.scheduled_at > t) continue;
    logger("scheduler")->info("scheduled job due id={} name={}", j.id, j.name);
    j.status = "pending";
    j.queued_at = t;
    j.scheduled_at = 0;
    GANTRY_TRY(store_->update_job(j));
    if (std::find(pipelines.begin(), pipelines.end(), j.pipeline_id) == pipelines.end()) {
      pipelines.push_back(j.pipeline_id);
    }
  }
  for (int64_t id : pipelines) GANTRY_TRY(process(id));
  if (!pipelines.empty()) dispatch();
  return ok_status();
}

// ---- logs and artifacts for people ----

Result<LogAnswer> Controller::read_log_locked(const JobRecord& job, const LogQuery& query) {
  int attempt = query.attempt ? query.attempt : job.attempt;
  LogAnswer out;
  bool current_running = attempt == job.attempt && job.status == "running";
  out.complete = !current_running;
  if (attempt == 0) {
    out.complete = finished_status(job.status);
    return out;
  }
  if (attempt < 0 || attempt > job.attempt) {
    return Error(ErrorCode::kInvalidArgument, "job " + std::to_string(job.id) + " has no attempt " +
                                                  std::to_string(attempt));
  }
  GANTRY_ASSIGN_OR_RETURN(LogRead r, logs_->read(job.id, attempt, query.offset, query.limit));
  out.data = std::move(r.data);
  out.next_offset = r.next_offset;
  out.size = r.size;
  // A finished log read in pieces (the limit) is complete only once its last piece is out.
  if (out.next_offset < out.size) out.complete = false;
  return out;
}

void Controller::read_log(int64_t job_id, const LogQuery& query,
                          std::function<void(Result<LogAnswer>)> done) {
  Locked lock(*this);
  auto job = job_by_id(job_id);
  if (!job.ok()) {
    later([done, e = std::move(job).error()]() mutable { done(std::move(e)); });
    return;
  }
  auto answer = read_log_locked(*job, query);
  if (answer.ok() && answer->data.empty() && !answer->complete && query.wait.count() > 0 &&
      !shutting_down_) {
    auto wait = std::min(query.wait, options_.max_poll_wait);
    log_waiters_.push_back(LogWaiter{job_id, query,
                                     now() + std::chrono::milliseconds(wait).count(),
                                     std::move(done)});
    return;
  }
  later([done, answer = std::move(answer)]() mutable { done(std::move(answer)); });
}

void Controller::wake_log_waiters(int64_t job_id) {
  if (log_waiters_.empty()) return;
  auto job = job_by_id(job_id);
  for (auto it = log_waiters_.begin(); it != log_waiters_.end();) {
    if (it->job != job_id) {
      ++it;
      continue;
    }
    Result<LogAnswer> answer = job.ok() ? read_log_locked(*job, it->query)
                                        : Result<LogAnswer>(job.error());
    if (answer.ok() && answer->data.empty() && !answer->complete) {
      ++it;
      continue;
    }
    later([done = std::move(it->done), answer = std::move(answer)]() mutable {
      done(std::move(answer));
    });
    it = log_waiters_.erase(it);
  }
}

Result<ArtifactFile> Controller::job_artifacts(int64_t job_id) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto job, job_by_id(job_id));
  if (job.artifact_digest.empty()) {
    return Error(ErrorCode::kNotFound, "job " + std::to_string(job_id) + " has no artifacts");
  }
  GANTRY_ASSIGN_OR_RETURN(std::string path, artifacts_->path(job.artifact_digest));
  return ArtifactFile{path, job.artifact_digest, job.artifact_size};
}

}  // namespace gantry::controller
