// SQLiteCpp adapter for controller/store.h. List-valued fields are JSON text columns.
#include "controller/store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <exception>
#include <iterator>

#include "common/json.h"

namespace gantry::controller {

namespace {

// Migration N+1 is kMigrations[N]; PRAGMA user_version says how many ran.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE projects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  repo_url TEXT NOT NULL,
  default_branch TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE project_variables (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  masked INTEGER NOT NULL,
  PRIMARY KEY (project_id, key)
);
CREATE TABLE pipelines (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  ref TEXT NOT NULL,
  tag INTEGER NOT NULL,
  sha TEXT NOT NULL,
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  failure_reason TEXT NOT NULL,
  diagnostics TEXT NOT NULL,
  stages TEXT NOT NULL,
  variables TEXT NOT NULL,
  plan TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
);
CREATE INDEX pipelines_by_project_ref ON pipelines(project_id, ref);
CREATE INDEX pipelines_by_status ON pipelines(status);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id),
  project_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  stage TEXT NOT NULL,
  stage_index INTEGER NOT NULL,
  status TEXT NOT NULL,
  job_when TEXT NOT NULL,
  allow_failure INTEGER NOT NULL,
  allow_failure_exit_codes TEXT NOT NULL,
  failure_allowed INTEGER NOT NULL,
  needs TEXT,
  tags TEXT NOT NULL,
  resource_group TEXT NOT NULL,
  interruptible INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  auto_retries INTEGER NOT NULL,
  failure_reason TEXT NOT NULL,
  exit_code INTEGER,
  agent_id INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  queued_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  log_size INTEGER NOT NULL,
  log_sha256 TEXT NOT NULL,
  artifact_digest TEXT NOT NULL,
  artifact_size INTEGER NOT NULL
);
CREATE INDEX jobs_by_pipeline ON jobs(pipeline_id, position);
CREATE INDEX jobs_by_status ON jobs(status);
CREATE TABLE agents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  paused INTEGER NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
)sql",
    // 2: whether the agent has called about its leased attempt (a lease never acknowledged
    // was lost on the way, e.g. a long-poll whose agent died: requeued, not failed).
    R"sql(
ALTER TABLE jobs ADD COLUMN acknowledged INTEGER NOT NULL DEFAULT 0;
)sql",
    // 3: the secret push webhooks must carry (kept as given: GitHub signs with it).
    R"sql(
ALTER TABLE projects ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';
)sql",
    // 4: delayed jobs: start_in (seconds, from the plan) and when a scheduled job becomes
    // pending (ms; 0 unless scheduled), so the wait survives a controller restart.
    R"sql(
ALTER TABLE jobs ADD COLUMN start_in INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN scheduled_at INTEGER NOT NULL DEFAULT 0;
)sql",
    // 5: the jobs that hold a lease (running, or canceled and not yet reported), which the
    // scheduler's tick reads every second.
    R"sql(
CREATE INDEX jobs_holding_leases ON jobs(lease_expires_at) WHERE lease_expires_at != 0;
)sql",
};

Error db_error(std::string_view what, const std::exception& e) {
  return Error(ErrorCode::kIo, "store: " + std::string(what) + ": " + e.what());
}

std::string strings_json(const std::vector<std::string>& v) { return Json(v).dump(); }
std::vector<std::string> strings_from(const std::string& text) {
  auto j = Json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& e : j) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
  }
  return out;
}
std::vector<int> ints_from(const std::string& text) {
  auto j = Json::parse(text, nullptr, false);
  std::vector<int> out;
  if (j.is_array()) {
    for (const auto& e : j) {
      if (e.is_number_integer()) out.push_back(e.get<int>());
    }
  }
  return out;
}

const char* const kProjectColumns =
    "id, name, repo_url, default_branch, created_at, webhook_secret";

const char* const kPipelineColumns =
    "id, project_id, ref, tag, sha, source, status, failure_reason, diagnostics, stages, "
    "variables, plan, created_at, started_at, finished_at";
// The same without the plan (kilobytes per row that no list shows).
const char* const kPipelineListColumns =
    "id, project_id, ref, tag, sha, source, status, failure_reason, diagnostics, stages, "
    "variables, '' AS plan, created_at, started_at, finished_at";

PipelineRecord read_pipeline(SQLite::Statement& q) {
  PipelineRecord p;
  p.id = q.getColumn(0).getInt64();
  p.project_id = q.getColumn(1).getInt64();
  p.ref = q.getColumn(2).getString();
  p.tag = q.getColumn(3).getInt() != 0;
  p.sha = q.getColumn(4).getString();
  p.source = q.getColumn(5).getString();
  p.status = q.getColumn(6).getString();
  p.failure_reason = q.getColumn(7).getString();
  p.diagnostics = strings_from(q.getColumn(8).getString());
  p.stages = strings_from(q.getColumn(9).getString());
  p.variables_json = q.getColumn(10).getString();
  p.plan_json = q.getColumn(11).getString();
  p.created_at = q.getColumn(12).getInt64();
  p.started_at = q.getColumn(13).getInt64();
  p.finished_at = q.getColumn(14).getInt64();
  return p;
}

const char* const kJobColumns =
    "id, pipeline_id, project_id, position, name, stage, stage_index, status, job_when, "
    "allow_failure, allow_failure_exit_codes, failure_allowed, needs, tags, resource_group, "
    "interruptible, attempt, auto_retries, failure_reason, exit_code, agent_id, "
    "lease_expires_at, created_at, queued_at, started_at, finished_at, log_size, log_sha256, "
    "artifact_digest, artifact_size, acknowledged, start_in, scheduled_at";

JobRecord read_job(SQLite::Statement& q) {
  JobRecord j;
  int c = 0;
  j.id = q.getColumn(c++).getInt64();
  j.pipeline_id = q.getColumn(c++).getInt64();
  j.project_id = q.getColumn(c++).getInt64();
  j.position = q.getColumn(c++).getInt();
  j.name = q.getColumn(c++).getString();
  j.stage = q.getColumn(c++).getString();
  j.stage_index = q.getColumn(c++).getInt();
  j.status = q.getColumn(c++).getString();
  j.when = q.getColumn(c++).getString();
  j.allow_failure = q.getColumn(c++).getInt() != 0;
  j.allow_failure_exit_codes = ints_from(q.getColumn(c++).getString());
  j.failure_allowed = q.getColumn(c++).getInt() != 0;
  auto needs = q.getColumn(c++);
  if (!needs.isNull()) j.needs = strings_from(needs.getString());
  j.tags = strings_from(q.getColumn(c++).getString());
  j.resource_group = q.getColumn(c++).getString();
  j.interruptible = q.getColumn(c++).getInt() != 0;
  j.attempt = q.getColumn(c++).getInt();
  j.auto_retries = q.getColumn(c++).getInt();
  j.failure_reason = q.getColumn(c++).getString();
  auto exit_code = q.getColumn(c++);
  if (!exit_code.isNull()) j.exit_code = exit_code.getInt();
  j.agent_id = q.getColumn(c++).getInt64();
  j.lease_expires_at = q.getColumn(c++).getInt64();
  j.created_at = q.getColumn(c++).getInt64();
  j.queued_at = q.getColumn(c++).getInt64();
  j.started_at = q.getColumn(c++).getInt64();
  j.finished_at = q.getColumn(c++).getInt64();
  j.log_size = static_cast<uint64_t>(q.getColumn(c++).getInt64());
  j.log_sha256 = q.getColumn(c++).getString();
  j.artifact_digest = q.getColumn(c++).getString();
  j.artifact_size = static_cast<uint64_t>(q.getColumn(c++).getInt64());
  j.acknowledged = q.getColumn(c++).getInt() != 0;
  j.start_in_seconds = q.getColumn(c++).getInt64();
  j.scheduled_at = q.getColumn(c++).getInt64();
  return j;
}

// Binds the mutable job fields from index `first` on; returns the next index.
int bind_job_state(SQLite::Statement& q, const JobRecord& j, int first) {
  int c = first;
  q.bind(c++, j.status);
  q.bind(c++, j.failure_allowed ? 1 : 0);
  q.bind(c++, j.attempt);
  q.bind(c++, j.auto_retries);
  q.bind(c++, j.failure_reason);
  if (j.exit_code) {
    q.bind(c++, *j.exit_code);
  } else {
    q.bind(c++);
  }
  q.bind(c++, j.agent_id);
  q.bind(c++, j.lease_expires_at);
  q.bind(c++, j.queued_at);
  q.bind(c++, j.started_at);
  q.bind(c++, j.finished_at);
  q.bind(c++, static_cast<int64_t>(j.log_size));
  q.bind(c++, j.log_sha256);
  q.bind(c++, j.artifact_digest);
  q.bind(c++, static_cast<int64_t>(j.artifact_size));
  q.bind(c++, j.acknowledged ? 1 : 0);
  q.bind(c++, j.start_in_seconds);
  q.bind(c++, j.scheduled_at);
  return c;
}

AgentRecord read_agent(SQLite::Statement& q) {
  AgentRecord a;
  a.id = q.getColumn(0).getInt64();
  a.name = q.getColumn(1).getString();
  a.labels = strings_from(q.getColumn(2).getString());
  a.paused = q.getColumn(3).getInt() != 0;
  a.token_hash = q.getColumn(4).getString();
  a.created_at = q.getColumn(5).getInt64();
  a.last_seen_at = q.getColumn(6).getInt64();
  return a;
}

const char* const kAgentColumns = "id, name, labels, paused, token_hash, created_at, last_seen_at";

}  // namespace

struct Store::State {
  explicit State(const std::string& path)
      : db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX) {}
  SQLite::Database db;
  int version = 0;
};

Store::Store(std::unique_ptr<State> state) : state_(std::move(state)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  std::unique_ptr<State> state;
  try {
    state = std::make_unique<State>(path);
    state->db.exec("PRAGMA journal_mode=WAL");
    state->db.exec("PRAGMA synchronous=NORMAL");
    state->db.exec("PRAGMA foreign_keys=ON");
    state->db.setBusyTimeout(5000);
    int version = state->db.execAndGet("PRAGMA user_version").getInt();
    constexpr int kLatest = static_cast<int>(std::size(kMigrations));
    if (version > kLatest) {
      return Error(ErrorCode::kFailedPrecondition,
                   "open store '" + path + "': schema version " + std::to_string(version) +
                       " is newer than this gantry (" + std::to_string(kLatest) + ")");
    }
    for (int v = version; v < kLatest; ++v) {
      SQLite::Transaction tx(state->db);
      state->db.exec(kMigrations[v]);
      state->db.exec("PRAGMA user_version=" + std::to_string(v + 1));
      tx.commit();
    }
    state->version = kLatest;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kIo, "open store '" + path + "': " + e.what());
  }
  return std::unique_ptr<Store>(new Store(std::move(state)));
}

int Store::schema_version() const { return state_->version; }

Status Store::transaction(const std::function<Status()>& body) {
  try {
    SQLite::Transaction tx(state_->db);
    Status st = body();
    if (!st.ok()) return st;  // the Transaction rolls back in its destructor
    tx.commit();
    return ok_status();
  } catch (const std::exception& e) {
    return db_error("transaction", e);
  }
}

Result<std::optional<std::string>> Store::get_setting(const std::string& key) {
  try {
    SQLite::Statement q(state_->db, "SELECT value FROM settings WHERE key = ?");
    q.bind(1, key);
    if (!q.executeStep()) return std::optional<std::string>();
    return std::optional<std::string>(q.getColumn(0).getString());
  } catch (const std::exception& e) {
    return db_error("get setting '" + key + "'", e);
  }
}

Status Store::set_setting(const std::string& key, const std::string& value) {
  try {
    SQLite::Statement q(state_->db,
                        "INSERT INTO settings(key, value) VALUES(?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    q.bind(1, key);
    q.bind(2, value);
    q.exec();
    return ok_status();
  } catch (const std::exception& e) {
    return db_error("set setting '" + key + "'", e);
  }
}

Result<int64_t> Store::create_project(const ProjectRecord& p) {
  try {
    SQLite::Statement exists(state_->db, "SELECT 1 FROM projects WHERE name = ?");
    exists.bind(1, p.name);
    if (exists.executeStep()) {
      return Error(ErrorCode::kAlreadyExists, "project '" + p.name + "' exists already");
    }
    SQLite::Transaction tx(state_->db);
    SQLite::Statement q(state_->db,
                        "INSERT INTO projects(name, repo_url, default_branch, created_at, "
                        "webhook_secret) VALUES(?, ?, ?, ?, ?)");
    q.bind(1, p.name);
    q.bind(2, p.repo_url);
    q.bind(3, p.default_branch);
    q.bind(4, p.created_at);
    q.bind(5, p.webhook_secret);
    q.exec();
    int64_t id = state_->db.getLastInsertRowid();
    for (const auto& v : p.variables) {
      SQLite::Statement vq(state_->db,
                           "INSERT OR REPLACE INTO project_variables(project_id, key, value, "
                           "masked) VALUES(?, ?, ?, ?)");
      vq.bind(1, id);
      vq.bind(2, v.key);
      vq.bind(3, v.value);
      vq.bind(4, v.masked ? 1 : 0);
      vq.exec();
    }
    tx.commit();
    return id;
  } catch (const std::exception& e) {
    return db_error("create project '" + p.name + "'", e);
  }
}

namespace {

std::vector<ProjectVariable> read_variables(SQLite::Database& db, int64_t project_id) {
  SQLite::Statement q(db,
                      "SELECT key, value, masked FROM project_variables WHERE project_id = ? "
                      "ORDER BY key");
  q.bind(1, project_id);
  std::vector<ProjectVariable> out;
  while (q.executeStep()) {
    out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                   q.getColumn(2).getInt() != 0});
  }
  return out;
}

std::optional<ProjectRecord> read_project(SQLite::Database& db, SQLite::Statement& q) {
  if (!q.executeStep()) return std::nullopt;
  ProjectRecord p;
  p.id = q.getColumn(0).getInt64();
  p.name = q.getColumn(1).getString();
  p.repo_url = q.getColumn(2).getString();
  p.default_branch = q.getColumn(3).getString();
  p.created_at = q.getColumn(4).getInt64();
  p.webhook_secret = q.getColumn(5).getString();
  p.variables = read_variables(db, p.id);
  return p;
}

}  // namespace

Result<std::optional<ProjectRecord>> Store::find_project(const std::string& name) {
  try {
    SQLite::Statement q(state_->db, std::string("SELECT ") + kProjectColumns +
                                        " FROM projects "
                                        "WHERE name = ?");
    q.bind(1, name);
    return read_project(state_->db, q);
  } catch (const std::exception& e) {
    return db_error("find project '" + name + "'", e);
  }
}

Result<std::optional<ProjectRecord>> Store::get_project(int64_t id) {
  try {
    SQLite::Statement q(state_->db, std::string("SELECT ") + kProjectColumns +
                                        " FROM projects "
                                        "WHERE id = ?");
    q.bind(1, id);
    return read_project(state_->db, q);
  } catch (const std::exception& e) {
    return db_error("get project " + std::to_string(id), e);
  }
}

Result<std::vector<ProjectRecord>> Store::list_projects() {
  try {
    SQLite::Statement q(state_->db, std::string("SELECT ") + kProjectColumns +
                                        " FROM projects "
                                        "ORDER BY name");
    std::vector<ProjectRecord> out;
    while (auto p = read_project(state_->db, q)) out.push_back(std::move(*p));
    return out;
  } catch (const std::exception& e) {
    return db_error("list projects", e);
  }
}

Status Store::set_webhook_secret(int64_t project_id, const std::string& secret) {
  try {
    SQLite::Statement q(state_->db, "UPDATE projects SET webhook_secret = ? WHERE id = ?");
    q.bind(1, secret);
    q.bind(2, project_id);
    q.exec();
    return ok_status();
  } catch (const std::exception& e) {
    return db_error("set webhook secret of project " + std::to_string(project_id), e);
  }
}

Status Store::set_variable(int64_t project_id, const ProjectVariable& v) {
  try {
    SQLite::Statement q(state_->db,
                        "INSERT OR REPLACE INTO project_variables(project_id, key, value, masked) "
                        "VALUES(?, ?, ?, ?)");
    q.bind(1, project_id);
    q.bind(2, v.key);
    q.bind(3, v.value);
    q.bind(4, v.masked ? 1 : 0);
    q.exec();
    return ok_status();
  } catch (const std::exception& e) {
    return db_error("set variable '" + v.key + "'", e);
  }
}

Status Store::delete_variable(int64_t project_id, const std::string& key) {
  try {
    SQLite::Statement q(state_->db,
                        "DELETE FROM project_variables WHERE project_id = ? AND key = ?");
    q.bind(1, project_id);
    q.bind(2, key);
    if (q.exec() == 0) {
      return Error(ErrorCode::kNotFound, "variable '" + key + "' not found");
    }
    return ok_status();
  } catch (const std::exception& e) {
    return db_error("delete variable '" + key + "'", e);
  }
}

Result<int64_t> Store::create_pipeline(const PipelineRecord& p, std::vector<JobRecord>& jobs) {
  ++job_writes_;
  try {
    SQLite::Transaction tx(state_->db);
    SQLite::Statement q(state_->db,
                        "INSERT INTO pipelines(project_id, ref, tag, sha, source, status, "
                        "failure_reason, diagnostics, stages, variables, plan, created_at, "
                        "started_at, finished_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    int c = 1;
    q.bind(c++, p.project_id);
    q.bind(c++, p.ref);
    q.bind(c++, p.tag ? 1 : 0);
    q.bind(c++, p.sha);
    q.bind(c++, p.source);
    q.bind(c++, p.status);
    q.bind(c++, p.failure_reason);
    q.bind(c++, strings_json(p.diagnostics));
    q.bind(c++, strings_json(p.stages));
    q.bind(c++, p.variables_json);
    q.bind(c++, p.plan_json);
    q.bind(c++, p.created_at);
    q.bind(c++, p.started_at);
    q.bind(c++, p.finished_at);
    q.exec();
    int64_t id = state_->db.getLastInsertRowid();
    for (auto& j : jobs) {
      j.pipeline_id = id;
      SQLite::Statement jq(
          state_->db,
          "INSERT INTO jobs(pipeline_id, project_id, position, name, stage, "
          "stage_index, job_when, allow_failure, allow_failure_exit_codes, needs, "
          "tags, resource_group, interruptible, created_at, status, "
          "failure_allowed, attempt, auto_retries, failure_reason, exit_code, "
          "agent_id, lease_expires_at, queued_at, started_at, finished_at, "
          "log_size, log_sha256, artifact_digest, artifact_size, acknowledged, "
          "start_in, scheduled_at) "
          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      int k = 1;
      jq.bind(k++, id);
      jq.bind(k++, j.project_id);
      jq.bind(k++, j.position);
      jq.bind(k++, j.name);
      jq.bind(k++, j.stage);
      jq.bind(k++, j.stage_index);
      jq.bind(k++, j.when);
      jq.bind(k++, j.allow_failure ? 1 : 0);
      jq.bind(k++, Json(j.allow_failure_exit_codes).dump());
      if (j.needs) {
        jq.bind(k++, strings_json(*j.needs));
      } else {
        jq.bind(k++);
      }
      jq.bind(k++, strings_json(j.tags));
      jq.bind(k++, j.resource_group);
      jq.bind(k++, j.interruptible ? 1 : 0);
      jq.bind(k++, j.created_at);
      bind_job_state(jq, j, k);
      jq.exec();
      j.id = state_->db.getLastInsertRowid();
    }
    tx.commit();
    return id;
  } catch (const std::exception& e) {
    return db_error("create pipeline", e);
  }
}

Result<std::optional<PipelineRecord>> Store::get_pipeline(int64_t id) {
  try {
    SQLite::Statement q(state_->db,
                        std::string("SELECT ") + kPipelineColumns + " FROM pipelines WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::optional<PipelineRecord>();
    return std::optional<PipelineRecord>(read_pipeline(q));
  } catch (const std::exception& e) {
    return db_error("get pipeline " + std::to_string(id), e);
  }
}

Result<std::vector<PipelineRecord>> Store::list_pipelines(const PipelineFilter& f) {
  try {
    std::string sql = std::string("SELECT ") + kPipelineListColumns + " FROM pipelines WHERE 1=1";
    if (f.project_id) sql += " AND project_id = :project";
    if (!f.ref.empty()) sql += " AND ref = :ref";
    if (!f.status.empty()) sql += " AND status = :status";
    if (f.before_id) sql += " AND id < :before";
    sql += " ORDER BY id DESC LIMIT :limit";
    SQLite::Statement q(state_->db, sql);
    if (f.project_id) q.bind(":project", f.project_id);
    if (!f.ref.empty()) q.bind(":ref", f.ref);
    if (!f.status.empty()) q.bind(":status", f.status);
    if (f.before_id) q.bind(":before", f.before_id);
    q.bind(":limit", f.limit);
    std::vector<PipelineRecord> out;
    while (q.executeStep()) out.push_back(read_pipeline(q));
    return out;
  } catch (const std::exception& e) {
    return db_error("list pipelines", e);
  }
}

Status Store::update_pipeline(const PipelineRecord& p) {
  try {
    SQLite::Statement q(state_->db,
                        "UPDATE pipelines SET status = ?, failure_reason = ?, started_at = ?, "
                        "finished_at = ? WHERE id = ?");
    q.bind(1, p.status);
    q.bind(2, p.failure_reason);
    q.bind(3, p.started_at);
    q.bind(4, p.finished_at);
    q.bind(5, p.id);
    q.exec();
    return ok_status();
  } catch (const std::exception& e) {
    return db_error("update pipeline " + std::to_string(p.id), e);
  }
}

Result<std::vector<PipelineRecord>> Store::active_pipelines(int64_t project_id,
                                                            const std::string& ref) {
  try {
    SQLite::Statement q(state_->db,
                        std::string("SELECT ") + kPipelineColumns +
                            " FROM pipelines WHERE project_id = ? AND ref = ? AND status IN "
                            "('created', 'pending', 'running', 'manual', 'scheduled') "
                            "ORDER BY id");
    q.bind(1, project_id);
    q.bind(2, ref);
    std::vector<PipelineRecord> out;
    while (q.executeStep()) out.push_back(read_pipeline(q));
    return out;
  } catch (const std::exception& e) {
    return db_error("list active pipelines", e);
  }
}

Result<std::vector<int64_t>> Store::unfinished_pipeline_ids() {
  try {
    SQLite::Statement q(state_->db,
                        "SELECT id FROM pipelines WHERE status IN ('created', 'pending', "
                        "'running', 'manual', 'scheduled') ORDER BY id");
    std::vector<int64_t> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
    return out;
  } catch (const std::exception& e) {
    return db_error("list unfinished pipelines", e);
  }
}

Result<std::optional<JobRecord>> Store::get_job(int64_t id) {
  try {
    SQLite::Statement q(state_->db,
                        std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::optional<JobRecord>();
    return std::optional<JobRecord>(read_job(q));
  } catch (const std::exception& e) {
    return db_error("get job " + std::to_string(id), e);
  }
}

Result<std::vector<JobRecord>> Store::pipeline_jobs(int64_t pipeline_id) {
  return select_jobs("pipeline_id = ? ORDER BY position",
                     "list jobs of pipeline " + std::to_string(pipeline_id),
                     [&](SQLite::Statement& q) { q.bind(1, pipeline_id); });
}

Result<std::vector<JobRecord>> Store::jobs_with_status(const std::string& status) {
  return select_jobs("status = ? ORDER BY id", "list " + status + " jobs",
                     [&](SQLite::Statement& q) { q.bind(1, status); });
}

Result<std::vector<JobRecord>> Store::jobs_holding_leases() {
  // The condition of the partial index jobs_holding_leases, so the query uses it.
  return select_jobs("lease_expires_at != 0 ORDER BY id", "list jobs holding leases",
                     [](SQLite::Statement&) {});
}

Result<std::vector<JobRecord>> Store::select_jobs(
    const std::string& where, const std::string& what,
    const std::function<void(SQLite::Statement&)>& bind) {
  try {
    SQLite::Statement q(state_->db, std::string("SELECT ") + kJobColumns + " FROM jobs WHERE " +
                                        where);
    bind(q);
    std::vector<JobRecord> out;
    while (q.executeStep()) out.push_back(read_job(q));
    return out;
  } catch (const std::exception& e) {
    return db_error(what, e);
  }
}

Status Store::update_job(const JobRecord& j) {
  ++job_writes_;
  try {
    SQLite::Statement q(state_->db,
                        "UPDATE jobs SET status = ?, failure_allowed = ?, attempt = ?, "
                        "auto_retries = ?, failure_reason = ?, exit_code = ?, agent_id = ?, "
                        "lease_expires_at = ?, queued_at = ?, started_at = ?, finished_at = ?, "
                        "log_size = ?, log_sha256 = ?, artifact_digest = ?, artifact_size = ?, "
                        "acknowledged = ?, start_in = ?, scheduled_at = ? WHERE id = ?");
    int next = bind_job_state(q, j, 1);
    q.bind(next, j.id);
    q.exec();
    return ok_status();
  } catch (const std::exception& e) {
    return db_error("update job " + std::to_string(j.id), e);
  }
}

Result<int64_t> Store::create_agent(const AgentRecord& a) {
  try {
    SQLite::Statement q(state_->db,
                        "INSERT INTO agents(name, labels, paused, token_hash, created_at, "
                        "last_seen_at) VALUES(?, ?, ?, ?, ?, ?)");
    q.bind(1, a.name);
    q.bind(2, strings_json(a.labels));
    q.bind(3, a.paused ? 1 : 0);
    q.bind(4, a.token_hash);
    q.bind(5, a.created_at);
    q.bind(6, a.last_seen_at);
    q.exec();
    return state_->db.getLastInsertRowid();
  } catch (const std::exception& e) {
    return db_error("create agent '" + a.name + "'", e);
  }
}

Result<std::optional<AgentRecord>> Store::get_agent(int64_t id) {
  try {
    SQLite::Statement q(state_->db,
                        std::string("SELECT ") + kAgentColumns + " FROM agents WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep()) return std::optional<AgentRecord>();
    return std::optional<AgentRecord>(read_agent(q));
  } catch (const std::exception& e) {
    return db_error("get agent " + std::to_string(id), e);
  }
}

Result<std::optional<AgentRecord>> Store::find_agent_by_token_hash(const std::string& hash) {
  try {
    SQLite::Statement q(state_->db, std::string("SELECT ") + kAgentColumns +
                                        " FROM agents WHERE token_hash = ?");
    q.bind(1, hash);
    if (!q.executeStep()) return std::optional<AgentRecord>();
    return std::optional<AgentRecord>(read_agent(q));
  } catch (const std::exception& e) {
    return db_error("find agent by token", e);
  }
}

Result<std::vector<AgentRecord>> Store::list_agents() {
  try {
    SQLite::Statement q(state_->db,
                        std::string("SELECT ") + kAgentColumns + " FROM agents ORDER BY id");
    std::vector<AgentRecord> out;
    while (q.executeStep()) out.push_back(read_agent(q));
    return out;
  } catch (const std::exception& e) {
    return db_error("list agents", e);
  }
}

Status Store::update_agent(const AgentRecord& a) {
  try {
    SQLite::Statement q(state_->db,
                        "UPDATE agents SET name = ?, labels = ?, paused = ?, last_seen_at = ? "
                        "WHERE id = ?");
    q.bind(1, a.name);
    q.bind(2, strings_json(a.labels));
    q.bind(3, a.paused ? 1 : 0);
    q.bind(4, a.last_seen_at);
    q.bind(5, a.id);
    q.exec();
    return ok_status();
  } catch (const std::exception& e) {
    return db_error("update agent " + std::to_string(a.id), e);
  }
}

}  // namespace gantry::controller
