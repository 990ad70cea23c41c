// Controller lifecycle, authentication, projects and agents. Pipelines and jobs are in
// pipelines.cc, the agent protocol and dispatch in dispatch.cc, JSON views in views.cc.
#include "controller/controller.h"

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "common/digest.h"
#include "common/file.h"
#include "common/hex.h"
#include "common/logging.h"
#include "controller/fields.h"
#include "controller/scheduler.h"
#include "controller/webhooks.h"

namespace gantry::controller {

namespace {

constexpr const char* kAdminHashKey = "admin_token_sha256";
constexpr const char* kRegistrationHashKey = "registration_token_sha256";

std::string random_token(std::string_view prefix) {
  return std::string(prefix) + random_hex(24);
}

bool valid_project_name(const std::string& name) {
  if (name.empty() || name.size() > 100 || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool valid_repo_url(const std::string& url) {
  for (const char* prefix : {"/", "file://", "http://", "https://", "ssh://"}) {
    if (url.rfind(prefix, 0) == 0 && url.size() > std::string_view(prefix).size()) return true;
  }
  return false;
}

Result<std::vector<std::string>> labels_field(const Json& body, const char* field) {
  GANTRY_ASSIGN_OR_RETURN(auto labels, string_list_field(body, field));
  for (const auto& l : labels) {
    if (l.empty() || l.size() > 100 || l.find_first_of(" ,\t\n") != std::string::npos) {
      return Error(ErrorCode::kInvalidArgument, "field '" + std::string(field) + "': label '" + l +
                                                    "' is empty, too long or has a space/comma");
    }
  }
  return labels;
}

}  // namespace

ApiReply refusal(int status, std::string_view code, std::string message, Json extra) {
  Json body = extra.is_object() ? std::move(extra) : Json::object();
  body["error"] = std::move(message);
  body["code"] = std::string(code);
  return ApiReply{status, std::move(body)};
}

Controller::Locked::Locked(Controller& c) : c_(c), lock_(c.mu_) {}

Controller::Locked::~Locked() {
  auto fns = std::move(c_.after_unlock_);
  c_.after_unlock_.clear();
  lock_.unlock();
  for (auto& fn : fns) fn();
}

Controller::Controller(ControllerOptions options) : options_(std::move(options)) {}

Controller::~Controller() {
  shutdown();
  {
    std::lock_guard lock(work_mu_);
    work_stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

int64_t Controller::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Controller>> Controller::open(ControllerOptions options) {
  std::unique_ptr<Controller> c(new Controller(std::move(options)));
  const std::string& dir = c->options_.data_dir;
  if (dir.empty()) return Error(ErrorCode::kInvalidArgument, "controller: no data dir");
  GANTRY_TRY(make_dirs(dir, 0700));
  GANTRY_ASSIGN_OR_RETURN(c->store_, Store::open(join_path(dir, "gantry.db")));
  c->logs_ = std::make_unique<LogStore>(join_path(dir, "logs"), c->options_.max_log_bytes);
  c->artifacts_ = std::make_unique<ArtifactStore>(join_path(dir, "artifacts"));
  c->mirrors_ = std::make_unique<GitMirror>(join_path(dir, "mirrors"));
  GANTRY_TRY(c->bootstrap());
  GANTRY_ASSIGN_OR_RETURN(auto agents, c->store_->list_agents());
  for (auto& a : agents) {
    c->agent_by_hash_[a.token_hash] = a.id;
    c->agents_[a.id] = std::move(a);
  }
  // Pipelines left mid-way by a stop: process them again (jobs whose prerequisites finished
  // while the controller was down become pending).
  // Agents could not reach a stopped controller: every lease starts afresh, so only agents
  // that stay silent after the restart lose their jobs.
  GANTRY_ASSIGN_OR_RETURN(auto leased, c->store_->jobs_holding_leases());
  int64_t renewed = c->now() + std::chrono::milliseconds(c->options_.lease).count();
  for (auto& job : leased) {
    if (job.lease_expires_at == 0 || job.lease_expires_at >= renewed) continue;
    job.lease_expires_at = renewed;
    GANTRY_TRY(c->store_->update_job(job));
  }
  GANTRY_ASSIGN_OR_RETURN(auto unfinished, c->store_->unfinished_pipeline_ids());
  {
    Locked lock(*c);
    for (int64_t id : unfinished) GANTRY_TRY(c->process(id));
  }
  for (int i = 0; i < 2; ++i) c->workers_.emplace_back([p = c.get()] { p->worker_loop(); });
  return c;
}

Status Controller::bootstrap() {
  GANTRY_ASSIGN_OR_RETURN(auto admin, store_->get_setting(kAdminHashKey));
  GANTRY_ASSIGN_OR_RETURN(auto registration, store_->get_setting(kRegistrationHashKey));
  if (admin && registration) {
    admin_hash_ = *admin;
    registration_hash_ = *registration;
    return ok_status();
  }
  BootstrapTokens tokens;
  tokens.admin = random_token("gantry-admin-");
  tokens.registration = random_token("gantry-reg-");
  // Files first: a crash before the hashes are stored makes new tokens next time, never a
  // database that knows tokens nobody can read.
  GANTRY_TRY(write_file_atomic(join_path(options_.data_dir, "admin.token"), tokens.admin + "\n",
                               0600));
  GANTRY_TRY(write_file_atomic(join_path(options_.data_dir, "registration.token"),
                               tokens.registration + "\n", 0600));
  admin_hash_ = sha256_hex(tokens.admin);
  registration_hash_ = sha256_hex(tokens.registration);
  GANTRY_TRY(store_->transaction([&]() -> Status {
    GANTRY_TRY(store_->set_setting(kAdminHashKey, admin_hash_));
    return store_->set_setting(kRegistrationHashKey, registration_hash_);
  }));
  bootstrap_ = std::move(tokens);
  return ok_status();
}

Caller Controller::authenticate(std::string_view token) {
  if (token.empty()) return {};
  std::string hash = sha256_hex(token);
  Locked lock(*this);
  if (hash == admin_hash_) return {CallerKind::kAdmin, 0};
  if (hash == registration_hash_) return {CallerKind::kRegistration, 0};
  if (auto it = agent_by_hash_.find(hash); it != agent_by_hash_.end()) {
    touch_agent(it->second);
    return {CallerKind::kAgent, it->second};
  }
  return {};
}

void Controller::touch_agent(int64_t agent) { last_seen_[agent] = now(); }

// ---- work queue (git) ----

void Controller::worker_loop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(work_mu_);
      work_cv_.wait(lock, [&] { return work_stop_ || !work_.empty(); });
      if (work_.empty()) return;
      fn = std::move(work_.front());
      work_.pop_front();
    }
    fn();
  }
}

// ---- projects ----

Result<ProjectRecord> Controller::project_named(const std::string& name) {
  GANTRY_ASSIGN_OR_RETURN(auto p, store_->find_project(name));
  if (!p) return Error(ErrorCode::kNotFound, "project '" + name + "' not found");
  return std::move(*p);
}

Result<ApiReply> Controller::create_project(const Json& body) {
  GANTRY_TRY(require_object(body));
  ProjectRecord p;
  GANTRY_ASSIGN_OR_RETURN(p.name, string_field(body, "name", true));
  GANTRY_ASSIGN_OR_RETURN(p.repo_url, string_field(body, "repo_url", true));
  GANTRY_ASSIGN_OR_RETURN(p.default_branch, string_field(body, "default_branch", false, "main"));
  if (!valid_project_name(p.name)) {
    return Error(ErrorCode::kInvalidArgument,
                 "field 'name': '" + p.name +
                     "' is not a project name (letters, digits, '-', '_', '.', at most 100)");
  }
  if (!valid_repo_url(p.repo_url)) {
    return Error(ErrorCode::kInvalidArgument,
                 "field 'repo_url': '" + p.repo_url +
                     "' is not an absolute path or a file://, http(s):// or ssh:// URL");
  }
  if (p.default_branch.empty()) {
    return Error(ErrorCode::kInvalidArgument, "field 'default_branch': empty");
  }
  if (body.contains("variables")) {
    const Json& vars = body.at("variables");
    if (!vars.is_array()) {
      return Error(ErrorCode::kInvalidArgument, "field 'variables': must be an array");
    }
    for (size_t i = 0; i < vars.size(); ++i) {
      auto v = variable_from_json(vars[i], "variables[" + std::to_string(i) + "]");
      if (!v.ok()) return std::move(v).error();
      p.variables.push_back(std::move(*v));
    }
  }
  if (body.contains("webhook_secret") && !body.at("webhook_secret").is_null()) {
    GANTRY_ASSIGN_OR_RETURN(p.webhook_secret, string_field(body, "webhook_secret", false));
    if (auto st = validate_webhook_secret(p.webhook_secret); !st.ok()) {
      return std::move(st).error().with_context("field 'webhook_secret'");
    }
  } else {
    p.webhook_secret = random_token("gantry-hook-");
  }
  p.created_at = now();
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(p.id, store_->create_project(p));
  logger("api")->info("project created name={} repo={}", p.name, p.repo_url);
  GANTRY_ASSIGN_OR_RETURN(auto stored, project_named(p.name));
  Json out = project_json(stored);
  out["webhook_secret"] = stored.webhook_secret;
  return ApiReply{201, std::move(out)};
}

Result<ApiReply> Controller::list_projects() {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto projects, store_->list_projects());
  Json list = Json::array();
  for (const auto& p : projects) list.push_back(project_json(p));
  return ApiReply{200, Json{{"projects", std::move(list)}}};
}

Result<ApiReply> Controller::show_project(const std::string& name) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto p, project_named(name));
  return ApiReply{200, project_json(p)};
}

Result<ApiReply> Controller::set_variable(const std::string& project, const std::string& key,
                                          const Json& body) {
  GANTRY_TRY(require_object(body));
  Json with_key = body;
  with_key["key"] = key;
  GANTRY_ASSIGN_OR_RETURN(auto v, variable_from_json(with_key, "variable"));
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto p, project_named(project));
  GANTRY_TRY(store_->set_variable(p.id, v));
  GANTRY_ASSIGN_OR_RETURN(p, project_named(project));
  return ApiReply{200, project_json(p)};
}

Result<ApiReply> Controller::set_webhook_secret(const std::string& project, const Json& body) {
  GANTRY_TRY(require_object(body));
  std::string secret;
  if (body.contains("secret") && !body.at("secret").is_null()) {
    GANTRY_ASSIGN_OR_RETURN(secret, string_field(body, "secret", false));
    if (auto st = validate_webhook_secret(secret); !st.ok()) {
      return std::move(st).error().with_context("field 'secret'");
    }
  } else {
    secret = random_token("gantry-hook-");
  }
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto p, project_named(project));
  GANTRY_TRY(store_->set_webhook_secret(p.id, secret));
  logger("api")->info("webhook secret set project={}", p.name);
  GANTRY_ASSIGN_OR_RETURN(p, project_named(project));
  Json out = project_json(p);
  out["webhook_secret"] = p.webhook_secret;
  return ApiReply{200, std::move(out)};
}

void Controller::push_hook(const std::string& project, const http::Headers& headers,
                           std::string body, std::function<void(Result<ApiReply>)> done) {
  std::string secret;
  {
    Locked lock(*this);
    auto p = store_->find_project(project);
    if (!p.ok()) return done(std::move(p).error());
    if (*p) secret = (*p)->webhook_secret;
  }
  auto action = interpret_push_hook(headers, body, secret);
  if (!action.ok()) {
    logger("api")->warn("webhook refused project={} error={}", project, action.error().message());
    return done(std::move(action).error().with_context("project '" + project + "'"));
  }
  const char* sender = action->sender == HookSender::kGitHub ? "github" : "gitlab";
  if (!action->create) {
    logger("api")->info("webhook ignored project={} sender={} why={}", project, sender,
                        action->ignored);
    return done(ApiReply{200, Json{{"pipeline", nullptr}, {"ignored", action->ignored}}});
  }
  logger("api")->info("webhook push project={} sender={} ref={} sha={}", project, sender,
                      action->ref, action->sha.substr(0, 12));
  Json trigger{{"project", project}, {"ref", action->ref}, {"sha", action->sha},
               {"source", "push"}};
  // workflow:rules that create no pipeline are a normal answer to a push, not a failed
  // delivery: 200 with the reason.
  create_pipeline(trigger, [done = std::move(done)](Result<ApiReply> r) {
    if (r.ok() && r->status == 400 && r->body.value("code", "") == "filtered") {
      return done(ApiReply{200, Json{{"pipeline", nullptr},
                                     {"ignored", r->body.value("error", "filtered")}}});
    }
    done(std::move(r));
  });
}

Result<ApiReply> Controller::delete_variable(const std::string& project, const std::string& key) {
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(auto p, project_named(project));
  Status st = store_->delete_variable(p.id, key);
  if (!st.ok()) return std::move(st).error().with_context("project '" + project + "'");
  GANTRY_ASSIGN_OR_RETURN(p, project_named(project));
  return ApiReply{200, project_json(p)};
}

// ---- agents (people's side) ----

Result<ApiReply> Controller::list_agents() {
  Locked lock(*this);
  Json list = Json::array();
  AgentActivity activity = agent_activity();
  for (const auto& [id, a] : agents_) list.push_back(agent_json(a, activity));
  return ApiReply{200, Json{{"agents", std::move(list)}}};
}

Result<ApiReply> Controller::set_agent_paused(int64_t id, bool paused) {
  Locked lock(*this);
  auto it = agents_.find(id);
  if (it == agents_.end()) {
    return Error(ErrorCode::kNotFound, "agent " + std::to_string(id) + " not found");
  }
  it->second.paused = paused;
  GANTRY_TRY(store_->update_agent(it->second));
  logger("api")->info("agent {} id={}", paused ? "paused" : "resumed", id);
  if (!paused) dispatch();
  return ApiReply{200, agent_json(it->second, agent_activity())};
}

Result<ApiReply> Controller::register_agent(const Json& body) {
  Json b = body.is_null() ? Json::object() : body;
  GANTRY_TRY(require_object(b));
  AgentRecord a;
  GANTRY_ASSIGN_OR_RETURN(a.name, string_field(b, "name", false, ""));
  GANTRY_ASSIGN_OR_RETURN(a.labels, labels_field(b, "labels"));
  if (a.name.size() > 200) {
    return Error(ErrorCode::kInvalidArgument, "field 'name': longer than 200 characters");
  }
  std::string token = random_token("gantry-agent-");
  a.token_hash = sha256_hex(token);
  a.created_at = a.last_seen_at = now();
  Locked lock(*this);
  GANTRY_ASSIGN_OR_RETURN(a.id, store_->create_agent(a));
  if (a.name.empty()) {
    a.name = "agent-" + std::to_string(a.id);
    GANTRY_TRY(store_->update_agent(a));
  }
  agent_by_hash_[a.token_hash] = a.id;
  agents_[a.id] = a;
  logger("api")->info("agent registered id={} name={}", a.id, a.name);
  Json out = agent_json(a, agent_activity());
  out["token"] = token;
  return ApiReply{201, std::move(out)};
}

Result<ApiReply> Controller::agent_me(int64_t agent) {
  Locked lock(*this);
  auto it = agents_.find(agent);
  if (it == agents_.end()) return Error(ErrorCode::kNotFound, "agent not found");
  return ApiReply{200, agent_json(it->second, agent_activity())};
}

Result<ApiReply> Controller::update_agent_me(int64_t agent, const Json& body) {
  GANTRY_TRY(require_object(body));
  std::optional<std::vector<std::string>> labels;
  std::optional<std::string> name;
  if (body.contains("labels")) {
    GANTRY_ASSIGN_OR_RETURN(labels, labels_field(body, "labels"));
  }
  if (body.contains("name")) {
    GANTRY_ASSIGN_OR_RETURN(name, string_field(body, "name", true));
    if (name->empty() || name->size() > 200) {
      return Error(ErrorCode::kInvalidArgument, "field 'name': empty or longer than 200");
    }
  }
  Locked lock(*this);
  auto it = agents_.find(agent);
  if (it == agents_.end()) return Error(ErrorCode::kNotFound, "agent not found");
  if (labels) it->second.labels = *labels;
  if (name) it->second.name = *name;
  GANTRY_TRY(store_->update_agent(it->second));
  dispatch();  // new labels may match pending jobs
  return ApiReply{200, agent_json(it->second, agent_activity())};
}

// ---- periodic work ----

const schema::PlannedJob* Controller::planned_job(const JobRecord& job) {
  auto pipeline = pipeline_by_id(job.pipeline_id);
  if (!pipeline.ok()) return nullptr;
  auto plan = plan_of(*pipeline);
  return plan.ok() ? (*plan)->find_job(job.name) : nullptr;
}

bool Controller::requeue_under_retry(JobRecord& job, std::optional<int> exit_code, int64_t t) {
  const schema::PlannedJob* planned = planned_job(job);
  if (!planned || !planned->retry ||
      !should_retry(*planned->retry, job.auto_retries, job.failure_reason, exit_code)) {
    return false;
  }
  logger("scheduler")->info("job requeued by retry job={} attempt={} reason={}", job.id,
                            job.attempt, job.failure_reason);
  ++job.auto_retries;
  job.status = "pending";
  job.queued_at = t;
  job.finished_at = 0;
  return true;
}

int64_t Controller::job_timeout_ms(const JobRecord& job) {
  const schema::PlannedJob* planned = planned_job(job);
  int64_t seconds = planned && planned->timeout_seconds ? *planned->timeout_seconds
                                                        : options_.default_job_timeout.count();
  return seconds * 1000;
}

bool Controller::end_attempt(JobRecord& job, const std::string& reason, int64_t t) {
  job.failure_reason = reason;
  job.exit_code.reset();
  if (!requeue_under_retry(job, std::nullopt, t)) {
    job.status = "failed";
    job.failure_allowed = job.allow_failure;
    job.finished_at = t;
  }
  return release_lease(job);
}

bool Controller::release_lease(JobRecord& job) {
  job.lease_expires_at = 0;
  // What the controller holds of the log; no checksum, which also tells finish_job() that no
  // report of the agent's ended this attempt.
  if (auto size = logs_->size(job.id, job.attempt); size.ok()) job.log_size = *size;
  job.log_sha256.clear();
  if (auto st = store_->update_job(job); !st.ok()) {
    logger("store")->error("update job failed job={} error={}", job.id, st.error().message());
    return false;
  }
  logs_->close(job.id, job.attempt);
  wake_log_waiters(job.id);
  return true;
}

void Controller::tick() {
  Locked lock(*this);
  int64_t t = now();
  auto leased = store_->jobs_holding_leases();
  if (leased.ok()) {
    std::vector<int64_t> touched;
    std::set<std::pair<int64_t, int>> live;
    int64_t grace_ms = options_.job_timeout_grace.count() * 1000;
    for (auto& job : *leased) {
      if (job.status != "running") {
        // A canceled attempt keeps its lease so that its agent can stop the job, run
        // after_script and report. An agent that falls silent, or that still heartbeats but
        // never reports within the grace, loses it: its later calls are refused.
        if (job.lease_expires_at > t && job.finished_at + grace_ms > t) continue;
        logger("scheduler")->warn("lease released job={} attempt={} agent={} status={} "
                                  "reason={}",
                                  job.id, job.attempt, job.agent_id, job.status,
                                  job.lease_expires_at <= t ? "lapsed" : "no report in the grace");
        release_lease(job);
        continue;
      }
      if (job.lease_expires_at <= t) {
        logger("scheduler")->warn("lease lapsed job={} attempt={} agent={}", job.id, job.attempt,
                                  job.agent_id);
        if (!job.acknowledged) {
          // The agent never called about this attempt: the lease was lost on its way (the
          // long-poll's agent had gone). Nothing ran; the job waits for another agent.
          logger("scheduler")->warn("lease never acknowledged, requeued job={} attempt={}",
                                    job.id, job.attempt);
          job.status = "pending";
          job.queued_at = t;
          job.lease_expires_at = 0;
          if (auto st = store_->update_job(job); !st.ok()) continue;
          touched.push_back(job.pipeline_id);
          continue;
        }
        if (end_attempt(job, "agent_lost", t)) touched.push_back(job.pipeline_id);
        continue;
      }
      // Attempts past their timeout (plus the grace the agent needs to stop the job, run
      // after_script and report): the agent enforces the timeout itself, so only a wedged
      // agent that still heartbeats gets here. Its later calls are refused (409
      // stale_attempt), which makes the agent stop the job.
      if (job.started_at == 0) continue;
      auto key = std::make_pair(job.id, job.attempt);
      live.insert(key);
      auto deadline = job_deadlines_.find(key);
      if (deadline == job_deadlines_.end()) {
        deadline =
            job_deadlines_.emplace(key, job.started_at + job_timeout_ms(job) + grace_ms).first;
      }
      if (deadline->second > t) continue;
      logger("scheduler")->warn(
          "job timed out on the controller job={} attempt={} agent={} timeout_s={}", job.id,
          job.attempt, job.agent_id, (deadline->second - job.started_at - grace_ms) / 1000);
      if (end_attempt(job, "job_execution_timeout", t)) touched.push_back(job.pipeline_id);
    }
    std::erase_if(job_deadlines_, [&](const auto& e) { return live.count(e.first) == 0; });
    for (int64_t p : touched) {
      if (auto st = process(p); !st.ok()) {
        logger("scheduler")->error("process pipeline failed id={} error={}", p,
                                   st.error().message());
      }
    }
    if (!touched.empty()) dispatch();
  }
  if (auto st = start_due_jobs(); !st.ok()) {
    logger("scheduler")->error("start scheduled jobs failed error={}", st.error().message());
  }
  // Long-polls and log followers past their deadline.
  for (auto it = poll_waiters_.begin(); it != poll_waiters_.end();) {
    if (it->deadline > t) {
      ++it;
      continue;
    }
    later([done = std::move(it->done)] { done(ApiReply{204, Json()}); });
    it = poll_waiters_.erase(it);
  }
  for (auto it = log_waiters_.begin(); it != log_waiters_.end();) {
    if (it->deadline > t) {
      ++it;
      continue;
    }
    auto job = job_by_id(it->job);
    Result<LogAnswer> answer = job.ok() ? read_log_locked(*job, it->query)
                                        : Result<LogAnswer>(std::move(job).error());
    later([done = std::move(it->done), answer = std::move(answer)]() mutable {
      done(std::move(answer));
    });
    it = log_waiters_.erase(it);
  }
  // last_seen_at reaches the database every 30 s.
  if (t - last_seen_flushed_ >= 30'000) {
    flush_last_seen();
    last_seen_flushed_ = t;
  }
}

// One transaction for all agents: with 1,000 agents polling, one commit per agent held the
// lock (and every API call behind it) for a thousand WAL appends.
void Controller::flush_last_seen() {
  std::vector<AgentRecord*> changed;
  for (const auto& [id, seen] : last_seen_) {
    auto a = agents_.find(id);
    if (a == agents_.end() || a->second.last_seen_at >= seen) continue;
    a->second.last_seen_at = seen;
    changed.push_back(&a->second);
  }
  if (changed.empty()) return;
  Status st = store_->transaction([&]() -> Status {
    for (const AgentRecord* a : changed) GANTRY_TRY(store_->update_agent(*a));
    return ok_status();
  });
  if (!st.ok()) {
    logger("store")->warn("saving agents' last seen times failed error={}", st.error().message());
  }
}

void Controller::shutdown() {
  Locked lock(*this);
  shutting_down_ = true;
  for (auto& w : poll_waiters_) {
    later([done = std::move(w.done)] { done(ApiReply{204, Json()}); });
  }
  poll_waiters_.clear();
  for (auto& w : log_waiters_) {
    auto job = job_by_id(w.job);
    Result<LogAnswer> answer =
        job.ok() ? read_log_locked(*job, w.query) : Result<LogAnswer>(std::move(job).error());
    later([done = std::move(w.done), answer = std::move(answer)]() mutable {
      done(std::move(answer));
    });
  }
  log_waiters_.clear();
  flush_last_seen();
}

}  // namespace gantry::controller
