// The controller's core: projects, pipelines, jobs and agents over the Store, the scheduler's
// decisions applied, agents' long-polls and log followers held without threads, job logs and
// artifacts on disk. Each operation of the HTTP API (controller/api/routes.cc) is one method
// returning an ApiReply (status + JSON) or an Error (mapped to a status in one place there).
// Thread-safe: one lock serializes state changes; file I/O of logs and artifacts and git work
// happen outside it. Completion callbacks run outside the lock, on whatever thread completed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/http/message.h"
#include "common/json.h"
#include "common/result.h"
#include "controller/artifacts.h"
#include "controller/git_mirror.h"
#include "controller/logs.h"
#include "controller/scheduler.h"
#include "controller/store.h"
#include "pipeline-schema/plan.h"

namespace gantry::controller {

struct ControllerOptions {
  std::string data_dir;
  std::chrono::seconds lease{60};      // a leased job's lease, renewed by heartbeats
  std::chrono::seconds heartbeat{10};  // told to agents
  std::chrono::seconds max_poll_wait{30};
  // A job without its own `timeout` gets this one (sent to the agent in the job's spec).
  std::chrono::seconds default_job_timeout{3600};
  // The controller fails a running attempt this long after its timeout, with GitLab's reason
  // job_execution_timeout, when the agent has not reported it (a wedged agent that still
  // heartbeats). Covers the agent's own stop, after_script (5 min) and uploads.
  std::chrono::seconds job_timeout_grace{600};
  uint64_t max_log_bytes = 64ull << 20;  // 0: no cap
  uint64_t max_artifact_bytes = 512ull << 20;
  std::function<int64_t()> clock;  // ms since the epoch; default: the system clock
};

// The tokens made on the first start (printed once by the CLI).
struct BootstrapTokens {
  std::string admin;
  std::string registration;
};

enum class CallerKind { kNone, kAdmin, kRegistration, kAgent };
struct Caller {
  CallerKind kind = CallerKind::kNone;
  int64_t agent_id = 0;
};

// An answer for the API: the HTTP status and its JSON body.
struct ApiReply {
  int status = 200;
  Json body;
};

// A conflict answer: {"error": message, "code": code} plus `extra` fields.
ApiReply refusal(int status, std::string_view code, std::string message,
                 Json extra = Json::object());

struct LogQuery {
  uint64_t offset = 0;
  size_t limit = 4 << 20;
  int attempt = 0;  // 0: the job's current attempt
  std::chrono::seconds wait{0};
};

struct LogAnswer {
  std::string data;
  uint64_t next_offset = 0;
  uint64_t size = 0;
  bool complete = false;
};

struct ArtifactFile {
  std::string path;
  std::string digest;
  uint64_t size = 0;
};

class Controller {
 public:
  // Opens (creating) the data dir: database, logs, artifacts, mirrors, and the token files on
  // the first start. Running jobs get a fresh lease (agents could not call a stopped controller).
  static Result<std::unique_ptr<Controller>> open(ControllerOptions options);
  ~Controller();

  // Set when open() created the tokens (first start).
  const std::optional<BootstrapTokens>& bootstrap_tokens() const { return bootstrap_; }
  const ControllerOptions& options() const { return options_; }

  Caller authenticate(std::string_view token);

  // People (admin token).
  Result<ApiReply> create_project(const Json& body);
  Result<ApiReply> list_projects();
  Result<ApiReply> show_project(const std::string& name);
  Result<ApiReply> set_variable(const std::string& project, const std::string& key,
                                const Json& body);
  Result<ApiReply> delete_variable(const std::string& project, const std::string& key);
  // Sets the project's push webhook secret ({"secret": "..."}; without one a random secret is
  // made). The reply is the Project plus "webhook_secret", the only time it is shown.
  Result<ApiReply> set_webhook_secret(const std::string& project, const Json& body);
  // A push webhook (controller/webhooks.h): 401 unless it carries the project's secret, 400 for
  // a bad body, 200 for what creates nothing (ping, deleted branch), else the pipeline's reply.
  // An unknown project answers as a wrong secret does, so names cannot be probed.
  void push_hook(const std::string& project, const http::Headers& headers, std::string body,
                 std::function<void(Result<ApiReply>)> done);
  // Runs git on a worker thread; `done` is called there.
  void create_pipeline(const Json& body, std::function<void(Result<ApiReply>)> done);
  Result<ApiReply> list_pipelines(const PipelineFilter& filter, const std::string& project);
  Result<ApiReply> show_pipeline(int64_t id);
  Result<ApiReply> cancel_pipeline(int64_t id);
  Result<ApiReply> retry_pipeline(int64_t id);
  Result<ApiReply> show_job(int64_t id);
  Result<ApiReply> cancel_job(int64_t id);
  Result<ApiReply> retry_job(int64_t id);
  // Starts a manual job, or a scheduled (delayed) one now.
  Result<ApiReply> play_job(int64_t id);
  // A scheduled job becomes manual: it waits for play instead of its time.
  Result<ApiReply> unschedule_job(int64_t id);
  // Answers at once, or (wait > 0, nothing to read yet) when bytes arrive, the attempt ends or
  // the wait is over.
  void read_log(int64_t job, const LogQuery& query, std::function<void(Result<LogAnswer>)> done);
  Result<ArtifactFile> job_artifacts(int64_t job);
  Result<ApiReply> list_agents();
  Result<ApiReply> set_agent_paused(int64_t id, bool paused);

  // Agents.
  Result<ApiReply> register_agent(const Json& body);
  Result<ApiReply> agent_me(int64_t agent);
  Result<ApiReply> update_agent_me(int64_t agent, const Json& body);
  // Answers with a lease (200) as soon as a job matches, or 204 after `wait`.
  void request_job(int64_t agent, std::chrono::seconds wait,
                   std::function<void(Result<ApiReply>)> done);
  Result<ApiReply> heartbeat(int64_t agent, int64_t job, int attempt);
  Result<ApiReply> append_log(int64_t agent, int64_t job, int attempt, uint64_t offset,
                              std::string_view data);
  Result<ApiReply> upload_artifacts(int64_t agent, int64_t job, int attempt, std::string_view data,
                                    std::string_view expected_digest);
  Result<ApiReply> finish_job(int64_t agent, int64_t job, const Json& body);

  // Lapsed leases fail or requeue their jobs (a canceled job's lease is released when it
  // lapses or its agent has not reported within the grace); scheduled jobs whose time came
  // become pending; waits past their deadline are answered. Called periodically by the daemon
  // (and directly by tests with a fake clock).
  void tick();
  // Counters of the dispatcher, for tests and benchmarks: long-polls held now, and how many
  // times the pending and running jobs were read from the store.
  struct DispatchStats {
    size_t waiting_polls = 0;
    uint64_t job_scans = 0;
  };
  DispatchStats dispatch_stats();
  // Answers every held request (204 / what the log has) so a server can stop.
  void shutdown();

 private:
  struct PollWaiter {
    int64_t agent_id;
    int64_t deadline;
    std::function<void(Result<ApiReply>)> done;
  };
  struct LogWaiter {
    int64_t job;
    LogQuery query;
    int64_t deadline;
    std::function<void(Result<LogAnswer>)> done;
  };
  // Holds the lock; callbacks queued with later() run after it is released.
  class Locked {
   public:
    explicit Locked(Controller& c);
    ~Locked();
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;

   private:
    Controller& c_;
    std::unique_lock<std::mutex> lock_;
  };

  explicit Controller(ControllerOptions options);
  Status bootstrap();
  int64_t now() const;
  void later(std::function<void()> fn) { after_unlock_.push_back(std::move(fn)); }

  // All below: with the lock held.
  Result<ProjectRecord> project_named(const std::string& name);
  Result<PipelineRecord> pipeline_by_id(int64_t id);
  Result<JobRecord> job_by_id(int64_t id);
  Result<const schema::Plan*> plan_of(const PipelineRecord& pipeline);
  Status process(int64_t pipeline_id);
  Status finish_attempt(JobRecord& job);  // logs closed, log followers woken
  Status cancel_jobs(int64_t pipeline_id);
  Status reset_for_retry(JobRecord& job);
  Status start_due_jobs();
  Status auto_cancel_older(const PipelineRecord& created);
  // Hands pending jobs to held long-polls: every one of them (after a change), or only
  // `only` (a new poll: the others have already been tried against the same jobs).
  void dispatch(std::optional<std::list<PollWaiter>::iterator> only = std::nullopt);
  // The pending and running jobs as the dispatcher needs them, read again only when a job was
  // written since (so a burst of polls with nothing to hand out runs no query).
  Status refresh_dispatch_view();
  Result<Json> lease_reply(JobRecord& job, const AgentRecord& agent);
  bool lease_current(int64_t agent, const JobRecord& job, int attempt) const;
  Status acknowledge(JobRecord& job);
  ApiReply stale_reply(int64_t agent, const JobRecord& job, int attempt) const;
  void touch_agent(int64_t agent);
  // The job's entry in its pipeline's plan; nullptr when the pipeline or plan cannot be read.
  const schema::PlannedJob* planned_job(const JobRecord& job);
  // A failed attempt (job.failure_reason, `exit_code`) that the job's `retry:` runs again:
  // the job is pending again and true is returned; otherwise nothing changes.
  bool requeue_under_retry(JobRecord& job, std::optional<int> exit_code, int64_t t);
  // The attempt's timeout: the job's own, else default_job_timeout.
  int64_t job_timeout_ms(const JobRecord& job);
  // Ends a running attempt the agent did not report (`reason`: agent_lost,
  // job_execution_timeout): failed, or pending again under the job's `retry:`; the lease ends,
  // so the attempt's later calls are refused. False when the store refused the write.
  bool end_attempt(JobRecord& job, const std::string& reason, int64_t t);
  // Ends the attempt's lease (its status stays): records the log size the controller holds and
  // closes the log. False when the store refused the write.
  bool release_lease(JobRecord& job);
  void flush_last_seen();
  void wake_log_waiters(int64_t job);
  Result<LogAnswer> read_log_locked(const JobRecord& job, const LogQuery& query);
  Result<Json> pipeline_json(const PipelineRecord& p, bool with_jobs);
  // The same with the project's name already known (lists look each project up once).
  Result<Json> pipeline_json(const PipelineRecord& p, const std::string& project_name,
                             bool with_jobs);
  Json job_json(const JobRecord& j, const std::string& project_name);
  // What agent_json shows of agents' work, gathered once for a whole list.
  struct AgentActivity {
    std::set<int64_t> waiting;                         // agents with a held long-poll
    std::map<int64_t, std::vector<int64_t>> running;  // agent id -> running job ids
  };
  AgentActivity agent_activity();
  Json agent_json(const AgentRecord& a, const AgentActivity& activity);
  Json project_json(const ProjectRecord& p);
  Result<ApiReply> job_reply(int64_t id);
  Result<ApiReply> pipeline_reply(int64_t id, int status = 200);

  // Pipeline creation off the lock (git), then under it.
  Result<ApiReply> create_pipeline_now(const Json& body);
  void worker_loop();

  ControllerOptions options_;
  std::optional<BootstrapTokens> bootstrap_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LogStore> logs_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<GitMirror> mirrors_;

  std::mutex mu_;
  std::vector<std::function<void()>> after_unlock_;
  std::string admin_hash_;
  std::string registration_hash_;
  std::map<std::string, int64_t> agent_by_hash_;
  std::map<int64_t, AgentRecord> agents_;
  std::map<int64_t, int64_t> last_seen_;  // in memory; persisted now and then
  int64_t last_seen_flushed_ = 0;
  std::list<PollWaiter> poll_waiters_;
  struct DispatchView {
    uint64_t job_writes = 0;  // Store::job_writes() when it was read
    std::vector<Candidate> pending;
    std::vector<std::string> busy_groups;
    std::map<int64_t, int> running_per_project;
  };
  std::optional<DispatchView> dispatch_view_;
  uint64_t dispatch_scans_ = 0;
  std::list<LogWaiter> log_waiters_;
  std::map<int64_t, std::unique_ptr<schema::Plan>> plans_;
  std::map<std::pair<int64_t, int>, int64_t> job_deadlines_;  // (job, attempt) -> ms
  bool shutting_down_ = false;

  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> work_;
  bool work_stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace gantry::controller
