// The controller's state in one SQLite database (WAL mode): settings (token hashes), projects
// and their variables, pipelines, jobs, agents. Schema changes are numbered migrations applied
// on open (`PRAGMA user_version`). Plain record structs in, plain records out; SQLiteCpp is
// included only by store.cc and its exceptions become Errors naming the operation.
// One Store is one connection: not thread-safe; the controller serializes calls with its lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace SQLite {
class Statement;
}

namespace gantry::controller {

struct ProjectVariable {
  std::string key;
  std::string value;
  bool masked = false;
};

struct ProjectRecord {
  int64_t id = 0;
  std::string name;
  std::string repo_url;
  std::string default_branch = "main";
  std::vector<ProjectVariable> variables;  // ordered by key
  int64_t created_at = 0;                  // ms since the epoch (every time here)
  // Compared with what push webhooks carry (GitLab's token, GitHub's HMAC key), so it is kept
  // as given, not hashed; "" when the project takes no webhooks.
  std::string webhook_secret;
};

struct PipelineRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string ref;
  bool tag = false;
  std::string sha;
  std::string source = "api";
  std::string status = "created";
  std::string failure_reason;            // "" or "config_error"
  std::vector<std::string> diagnostics;  // rendered "file:line:col: error: ..."
  std::vector<std::string> stages;
  std::string variables_json = "{}";  // the trigger's variables, as given
  std::string plan_json;              // schema::plan_to_json of the plan ("" without a plan)
  int64_t created_at = 0;
  int64_t started_at = 0;  // 0: not yet
  int64_t finished_at = 0;
};

struct JobRecord {
  int64_t id = 0;
  int64_t pipeline_id = 0;
  int64_t project_id = 0;
  int position = 0;  // index in the plan's job list
  std::string name;
  std::string stage;
  int stage_index = 0;
  std::string status = "created";
  std::string when = "on_success";
  bool allow_failure = false;  // as planned (manual jobs: does not block)
  std::vector<int> allow_failure_exit_codes;
  bool failure_allowed = false;  // set when the job finished failed and that is allowed
  std::optional<std::vector<std::string>> needs;
  std::vector<std::string> tags;
  std::string resource_group;  // "" when none
  bool interruptible = false;
  int attempt = 0;       // leases so far
  int auto_retries = 0;  // requeues done under `retry:`
  std::string failure_reason;
  std::optional<int> exit_code;
  int64_t agent_id = 0;
  int64_t lease_expires_at = 0;  // ms; 0 when not leased
  int64_t created_at = 0;
  int64_t queued_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  uint64_t log_size = 0;  // of the current attempt, at its finish
  std::string log_sha256;
  std::string artifact_digest;  // "sha256:…" or ""
  uint64_t artifact_size = 0;
  bool acknowledged = false;  // the agent called about the current attempt
  int64_t start_in_seconds = 0;  // when: delayed: the plan's start_in
  int64_t scheduled_at = 0;      // ms; a `scheduled` job becomes pending then (0 otherwise)
};

struct AgentRecord {
  int64_t id = 0;
  std::string name;
  std::vector<std::string> labels;
  bool paused = false;
  std::string token_hash;  // hex sha256 of the agent's token
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
};

struct PipelineFilter {
  int64_t project_id = 0;  // 0: any
  std::string ref;
  std::string status;
  int64_t before_id = 0;  // 0: newest
  int limit = 50;
};

class Store {
 public:
  // Opens (creating) the database at `path`, turns on WAL and applies pending migrations.
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const;

  // Runs `body` in one transaction: committed when it returns ok, rolled back otherwise.
  Status transaction(const std::function<Status()>& body);

  Result<std::optional<std::string>> get_setting(const std::string& key);
  Status set_setting(const std::string& key, const std::string& value);

  // kAlreadyExists when the name is taken. Returns the id.
  Result<int64_t> create_project(const ProjectRecord& project);
  Result<std::optional<ProjectRecord>> find_project(const std::string& name);
  Result<std::optional<ProjectRecord>> get_project(int64_t id);
  Result<std::vector<ProjectRecord>> list_projects();
  Status set_variable(int64_t project_id, const ProjectVariable& variable);
  Status set_webhook_secret(int64_t project_id, const std::string& secret);
  // kNotFound when the project has no such variable.
  Status delete_variable(int64_t project_id, const std::string& key);

  // Inserts the pipeline and its jobs (ids assigned, written back into `jobs`).
  Result<int64_t> create_pipeline(const PipelineRecord& pipeline, std::vector<JobRecord>& jobs);
  Result<std::optional<PipelineRecord>> get_pipeline(int64_t id);
  // Without plan_json (a list never needs the plan).
  Result<std::vector<PipelineRecord>> list_pipelines(const PipelineFilter& filter);
  Status update_pipeline(const PipelineRecord& pipeline);  // status and times
  // Pipelines of a project and ref that are not finished, oldest first.
  Result<std::vector<PipelineRecord>> active_pipelines(int64_t project_id, const std::string& ref);
  // Every pipeline that is not finished (for processing after a restart).
  Result<std::vector<int64_t>> unfinished_pipeline_ids();

  Result<std::optional<JobRecord>> get_job(int64_t id);
  Result<std::vector<JobRecord>> pipeline_jobs(int64_t pipeline_id);  // by position
  Result<std::vector<JobRecord>> jobs_with_status(const std::string& status);  // by id
  // Jobs whose lease is set: running ones, and canceled ones whose agent has not reported yet.
  Result<std::vector<JobRecord>> jobs_holding_leases();  // by id
  Status update_job(const JobRecord& job);  // every mutable field
  // Counts the writes of jobs (inserts and updates, committed or not): a view of the jobs
  // built when it had some value is current while it still has it. Caches use it.
  uint64_t job_writes() const { return job_writes_; }

  Result<int64_t> create_agent(const AgentRecord& agent);
  Result<std::optional<AgentRecord>> get_agent(int64_t id);
  Result<std::optional<AgentRecord>> find_agent_by_token_hash(const std::string& hash);
  Result<std::vector<AgentRecord>> list_agents();
  Status update_agent(const AgentRecord& agent);  // name, labels, paused, last_seen_at

 private:
  struct State;
  explicit Store(std::unique_ptr<State> state);
  // The jobs `SELECT ... FROM jobs WHERE <where>` returns; `bind` binds its parameters and
  // `what` names the query in errors.
  Result<std::vector<JobRecord>> select_jobs(const std::string& where, const std::string& what,
                                             const std::function<void(SQLite::Statement&)>& bind);
  std::unique_ptr<State> state_;
  uint64_t job_writes_ = 0;
};

}  // namespace gantry::controller
