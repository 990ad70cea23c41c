// JSON views of the controller's records, as docs/api.md shows them.
#include <algorithm>
#include <map>

#include "common/time_format.h"
#include "controller/controller.h"

namespace gantry::controller {

namespace {

Json time_json(int64_t ms) {
  if (ms <= 0) return nullptr;
  // Milliseconds, as GitLab's API gives them: jobs of a second are ordered and timed.
  return format_rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)),
                        TimePrecision::kMillis);
}

Json nullable(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

constexpr int64_t kOnlineWindowMs = 60'000;

}  // namespace

Json Controller::project_json(const ProjectRecord& p) {
  Json vars = Json::array();
  for (const auto& v : p.variables) {
    vars.push_back(Json{{"key", v.key},
                        {"value", v.masked ? Json(nullptr) : Json(v.value)},
                        {"masked", v.masked}});
  }
  return Json{{"id", p.id},
              {"name", p.name},
              {"repo_url", p.repo_url},
              {"default_branch", p.default_branch},
              {"variables", std::move(vars)},
              {"webhook_secret_set", !p.webhook_secret.empty()},
              {"webhook_path", "/api/v1/projects/" + p.name + "/hooks/push"},
              {"created_at", time_json(p.created_at)}};
}

Controller::AgentActivity Controller::agent_activity() {
  AgentActivity out;
  for (const auto& w : poll_waiters_) out.waiting.insert(w.agent_id);
  if (auto jobs = store_->jobs_with_status("running"); jobs.ok()) {
    for (const auto& j : *jobs) out.running[j.agent_id].push_back(j.id);
  }
  return out;
}

Json Controller::agent_json(const AgentRecord& a, const AgentActivity& activity) {
  int64_t seen = a.last_seen_at;
  if (auto it = last_seen_.find(a.id); it != last_seen_.end()) seen = std::max(seen, it->second);
  bool waiting = activity.waiting.count(a.id) > 0;
  Json running = Json::array();
  if (auto it = activity.running.find(a.id); it != activity.running.end()) running = it->second;
  return Json{{"id", a.id},
              {"name", a.name},
              {"labels", a.labels},
              {"paused", a.paused},
              {"online", waiting || now() - seen < kOnlineWindowMs},
              {"last_seen_at", time_json(seen)},
              {"created_at", time_json(a.created_at)},
              {"running_jobs", std::move(running)}};
}

Json Controller::job_json(const JobRecord& j, const std::string& project_name) {
  Json agent = nullptr;
  if (j.agent_id) {
    auto it = agents_.find(j.agent_id);
    agent = Json{{"id", j.agent_id},
                 {"name", it == agents_.end() ? std::string() : it->second.name}};
  }
  Json duration = nullptr;
  if (j.started_at && j.finished_at && j.finished_at >= j.started_at) {
    duration = static_cast<double>(j.finished_at - j.started_at) / 1000.0;
  }
  Json queued = nullptr;
  if (j.attempt > 0 && j.started_at && j.queued_at && j.started_at >= j.queued_at) {
    queued = static_cast<double>(j.started_at - j.queued_at) / 1000.0;
  }
  Json artifacts = nullptr;
  if (!j.artifact_digest.empty()) {
    artifacts = Json{{"size", j.artifact_size}, {"digest", j.artifact_digest}};
  }
  Json needs = nullptr;
  if (j.needs) needs = *j.needs;
  uint64_t log_size = j.log_size;
  if (j.attempt > 0 && (j.status == "running" || j.finished_at == 0)) {
    if (auto s = logs_->size(j.id, j.attempt); s.ok()) log_size = *s;
  }
  return Json{{"id", j.id},
              {"pipeline_id", j.pipeline_id},
              {"project", project_name},
              {"name", j.name},
              {"stage", j.stage},
              {"status", j.status},
              {"when", j.when},
              {"scheduled_at", time_json(j.scheduled_at)},
              {"allow_failure", j.allow_failure},
              {"attempt", j.attempt},
              {"failure_reason", nullable(j.failure_reason)},
              {"exit_code", j.exit_code ? Json(*j.exit_code) : Json(nullptr)},
              {"agent", std::move(agent)},
              {"tags", j.tags},
              {"needs", std::move(needs)},
              {"resource_group", nullable(j.resource_group)},
              {"interruptible", j.interruptible},
              {"created_at", time_json(j.created_at)},
              {"started_at", time_json(j.started_at)},
              {"finished_at", time_json(j.finished_at)},
              {"duration_seconds", std::move(duration)},
              {"queued_duration_seconds", std::move(queued)},
              {"log_size", log_size},
              {"artifacts", std::move(artifacts)}};
}

Result<Json> Controller::pipeline_json(const PipelineRecord& p, bool with_jobs) {
  GANTRY_ASSIGN_OR_RETURN(auto project, store_->get_project(p.project_id));
  return pipeline_json(p, project ? project->name : "", with_jobs);
}

Result<Json> Controller::pipeline_json(const PipelineRecord& p, const std::string& project_name,
                                       bool with_jobs) {
  Json out{{"id", p.id},
           {"project", project_name},
           {"ref", p.ref},
           {"tag", p.tag},
           {"sha", p.sha},
           {"source", p.source},
           {"status", p.status},
           {"failure_reason", nullable(p.failure_reason)},
           {"diagnostics", p.diagnostics},
           {"stages", p.stages},
           {"created_at", time_json(p.created_at)},
           {"started_at", time_json(p.started_at)},
           {"finished_at", time_json(p.finished_at)}};
  if (with_jobs) {
    GANTRY_ASSIGN_OR_RETURN(auto jobs, store_->pipeline_jobs(p.id));
    Json list = Json::array();
    for (const auto& j : jobs) list.push_back(job_json(j, project_name));
    out["jobs"] = std::move(list);
  }
  return out;
}

Result<ApiReply> Controller::job_reply(int64_t id) {
  GANTRY_ASSIGN_OR_RETURN(auto job, job_by_id(id));
  GANTRY_ASSIGN_OR_RETURN(auto project, store_->get_project(job.project_id));
  return ApiReply{200, job_json(job, project ? project->name : "")};
}

Result<ApiReply> Controller::pipeline_reply(int64_t id, int status) {
  GANTRY_ASSIGN_OR_RETURN(auto p, pipeline_by_id(id));
  GANTRY_ASSIGN_OR_RETURN(auto json, pipeline_json(p, true));
  return ApiReply{status, std::move(json)};
}

}  // namespace gantry::controller
