#include "agent/remote/agent_daemon.h"

#include <thread>

#include "agent/remote/http_artifact_store.h"
#include "agent/remote/log_uploader.h"
#include "common/file.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "runtime/state.h"

namespace gantry::agent {

namespace {

std::shared_ptr<spdlog::logger> log() { return logger("agent"); }

bool is_transient(const Error& e) {
  return e.code() == ErrorCode::kUnavailable || e.code() == ErrorCode::kDeadlineExceeded;
}

// The job's LogSink: every chunk into the uploader's spool. A spool write failure (disk full)
// is remembered and fails the job's report as a system failure.
class UploadingLogSink : public LogSink {
 public:
  explicit UploadingLogSink(LogUploader& uploader) : uploader_(uploader) {}
  void write(std::string_view chunk) override {
    auto st = uploader_.write(chunk);
    std::lock_guard lock(mu_);
    if (!st.ok() && !error_) error_ = st.error();
  }
  std::optional<Error> error() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  LogUploader& uploader_;
  mutable std::mutex mu_;
  std::optional<Error> error_;
};

schema::JobResult system_failure(std::string message, const std::string& started_at) {
  schema::JobResult r;
  r.status = schema::JobStatus::kFailed;
  r.failure_reason = schema::FailureReason::kRunnerSystemFailure;
  r.message = std::move(message);
  r.started_at = started_at;
  r.finished_at = rfc3339_now(TimePrecision::kMillis);
  return r;
}

}  // namespace

struct AgentDaemon::RunningJob {
  int64_t id = 0;
  int attempt = 0;
  std::stop_source stop;               // the job's container stops when this fires
  std::atomic<bool> canceled{false};   // the controller said cancel
  std::atomic<bool> stale{false};      // the lease is someone else's now
  std::atomic<bool> shut_down{false};  // stopped because the agent is shutting down
};

AgentDaemon::AgentDaemon(AgentDaemonOptions options, ControllerClient& client,
                         JobExecutor& executor, ContainerManager* containers,
                         GitCheckout& checkout)
    : options_(std::move(options)),
      client_(client),
      executor_(executor),
      containers_(containers),
      checkout_(checkout) {}

AgentDaemon::~AgentDaemon() {
  shutdown();
  abandon_.request_stop();
}

int AgentDaemon::running_jobs() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(running_.size());
}

void AgentDaemon::shutdown() {
  taking_.request_stop();
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

void AgentDaemon::cancel_running() {
  taking_.request_stop();
  std::lock_guard lock(mu_);
  cancel_requested_ = true;
  for (auto& [id, job] : running_) {
    job->shut_down = true;
    job->stop.request_stop();
  }
  cv_.notify_all();
}

Status AgentDaemon::run() {
  GANTRY_TRY(make_dirs(join_path(options_.state_dir, "jobs"), 0700));
  std::vector<std::jthread> workers;
  for (int i = 0; i < std::max(1, options_.concurrency); ++i) {
    workers.emplace_back([this, i] { worker(i); });
  }
  log()->info("agent started concurrency={} state={}", options_.concurrency, options_.state_dir);
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return taking_.stop_requested(); });
    if (!running_.empty()) {
      log()->info("agent stopping, waiting for running jobs jobs={} grace={}s", running_.size(),
                  options_.grace.count());
    }
    bool done = cv_.wait_for(lock, options_.grace, [&] { return running_.empty(); });
    if (!done) {
      lock.unlock();
      log()->warn("grace period over, stopping running jobs jobs={}", running_jobs());
      cancel_running();
      lock.lock();
      if (!cv_.wait_for(lock, options_.report_grace, [&] { return running_.empty(); })) {
        log()->warn("giving up on reporting jobs={}", running_.size());
        abandon_.request_stop();
      }
    }
  }
  workers.clear();  // joins: idle workers return from their long-poll within poll_wait
  log()->info("agent stopped");
  std::lock_guard lock(mu_);
  if (fatal_) return *fatal_;
  return ok_status();
}

void AgentDaemon::worker(int index) {
  Backoff backoff(options_.backoff);
  bool outage_logged = false;
  while (!taking_.stop_requested()) {
    auto lease = client_.request_job(options_.poll_wait);
    if (!lease.ok()) {
      const Error& e = lease.error();
      if (e.code() == ErrorCode::kUnauthenticated) {
        log()->error("controller refused the agent token, stopping: {}", e.message());
        std::lock_guard lock(mu_);
        if (!fatal_) fatal_ = e;
        taking_.request_stop();
        cv_.notify_all();
        return;
      }
      if (!outage_logged) {
        log()->warn("cannot reach controller, retrying with backoff worker={} error=\"{}\"",
                    index, e.message());
        outage_logged = true;
      }
      wait_for(backoff.next(), taking_.get_token());
      continue;
    }
    if (outage_logged) log()->info("controller reachable again worker={}", index);
    outage_logged = false;
    backoff.reset();
    if (!lease->has_value()) continue;
    if (taking_.stop_requested()) {
      // It came while shutting down: the lease is ours now, so run it within the grace rather
      // than leave it to lapse.
      log()->info("job arrived during shutdown, running it job={}", (*lease)->job_id);
    }
    run_job(std::move(**lease));
  }
}

void AgentDaemon::run_job(Lease lease) {
  auto job = std::make_shared<RunningJob>();
  job->id = lease.job_id;
  job->attempt = lease.attempt;
  {
    std::lock_guard lock(mu_);
    running_[job->id] = job;
    if (cancel_requested_) {
      job->shut_down = true;
      job->stop.request_stop();
    }
  }
  log()->info("job leased job={} attempt={}", job->id, job->attempt);
  std::string dir = join_path(join_path(options_.state_dir, "jobs"),
                              std::to_string(job->id) + "-" + std::to_string(job->attempt));
  auto finish_run = [&] {
    (void)remove_all(dir);
    std::lock_guard lock(mu_);
    running_.erase(job->id);
    cv_.notify_all();
  };
  (void)remove_all(dir);
  if (auto st = make_dirs(dir, 0700); !st.ok()) {
    log()->error("cannot make job dir job={} error=\"{}\"", job->id, st.error().message());
    finish_run();
    return;
  }

  // Heartbeats from the start: the first one acknowledges the lease at once (docs/api.md), and
  // checkout and image pulls can take longer than a lease.
  std::jthread heartbeat([this, job, interval = lease.heartbeat](std::stop_token hb_stop) {
    do {
      auto reply = client_.heartbeat(job->id, job->attempt);
      if (!reply.ok()) {
        if (!is_transient(reply.error())) {
          log()->warn("heartbeat failed job={} error=\"{}\"", job->id, reply.error().message());
        }
        continue;  // the next tick tries again; the lease outlasts a few missed beats
      }
      if (reply->stale) {
        log()->warn("lease lost, stopping job job={} attempt={}", job->id, job->attempt);
        job->stale = true;
        job->stop.request_stop();
        return;
      }
      if (reply->cancel && !job->canceled) {
        log()->info("job canceled by the controller job={}", job->id);
        job->canceled = true;
        job->stop.request_stop();
      }
    } while (wait_for(interval, hb_stop));
  });

  JobLogAppender appender(client_, job->id, job->attempt);
  LogUploaderOptions up_opts;
  up_opts.backoff = options_.backoff;
  auto uploader = LogUploader::start(join_path(dir, "log.spool"), appender, up_opts);
  if (!uploader.ok()) {
    log()->error("cannot spool log job={} error=\"{}\"", job->id, uploader.error().message());
    heartbeat = {};
    finish_run();
    return;
  }
  UploadingLogSink sink(**uploader);
  schema::JobResult result = execute(*job, lease, sink);
  if (auto e = sink.error(); e && result.status == schema::JobStatus::kSuccess) {
    result = system_failure(e->message(), result.started_at);
  }
  if (!job->stale) report(*job, std::move(result), **uploader);
  heartbeat.request_stop();
  heartbeat.join();
  uploader->reset();
  finish_run();
}

schema::JobResult AgentDaemon::execute(RunningJob& job, const Lease& lease, LogSink& log_sink) {
  std::string started = rfc3339_now(TimePrecision::kMillis);
  auto failed = [&](const std::string& message) {
    log_sink.write("\x1b[31;1mERROR: Job failed (system failure): " + message + "\x1b[0;m\n");
    return system_failure(message, started);
  };
  auto spec = schema::job_spec_from_json(lease.spec);
  if (!spec.ok()) return failed("the controller sent a bad job spec: " + spec.error().message());
  if (spec->default_image.empty()) spec->default_image = options_.default_image;
  std::string dir = join_path(join_path(options_.state_dir, "jobs"),
                              std::to_string(job.id) + "-" + std::to_string(job.attempt));
  std::string src = join_path(dir, "src");
  if (lease.repo_url.empty()) return failed("the job's lease names no repository");
  std::string sha = spec->commit_sha;
  log_sink.write("\x1b[32;1mGetting source from Git repository\x1b[0;m\n");
  log_sink.write("Checking out " + sha.substr(0, 8) + " as detached HEAD (ref is " + spec->ref +
                 ")...\n");
  if (auto st = checkout_.checkout(lease.repo_url, sha, src); !st.ok()) {
    return failed(st.error().message());
  }
  HttpArtifactStore artifacts(client_, job.id, job.attempt, abandon_.get_token(), options_.backoff);
  JobEnvironment env;
  env.source_dir = src;
  env.log = &log_sink;
  env.artifacts = &artifacts;
  env.cache_dir = join_path(options_.state_dir, "cache");
  env.work_dir = join_path(options_.state_dir, "builds");
  env.remover = &remover_;
  env.containers = containers_;
  env.network = options_.network;
  env.bridge = options_.bridge;
  schema::JobResult result = executor_.run(*spec, env, job.stop.get_token());
  if (job.shut_down && !job.canceled && result.status != schema::JobStatus::kSuccess) {
    // Not the user's doing: report a system failure so `retry:` may run it again elsewhere.
    result.status = schema::JobStatus::kFailed;
    result.failure_reason = schema::FailureReason::kRunnerSystemFailure;
    result.message = "the agent shut down before the job finished";
  }
  return result;
}

void AgentDaemon::report(RunningJob& job, schema::JobResult result, LogUploader& uploader) {
  auto summary = uploader.finish(abandon_.get_token());
  Backoff backoff(options_.backoff);
  for (;;) {
    if (!summary.ok()) {
      log()->error("log upload failed, not reporting job={} error=\"{}\"", job.id,
                   summary.error().message());
      return;
    }
    result.log_bytes = summary->size;
    result.log_sha256 = summary->sha256;
    auto reply = client_.finish(job.id, job.attempt, schema::job_result_to_json(result));
    if (!reply.ok()) {
      if (is_transient(reply.error()) && wait_for(backoff.next(), abandon_.get_token())) continue;
      log()->error("cannot report job result job={} error=\"{}\"", job.id, reply.error().message());
      return;
    }
    if (reply->stale) {
      log()->warn("result not taken: the lease is gone job={} attempt={}", job.id, job.attempt);
      return;
    }
    if (!reply->accepted) {
      log()->warn("controller lost part of the log, sending it again job={} from={}", job.id,
                  reply->log_size);
      summary = uploader.resend_from(reply->log_size, abandon_.get_token());
      continue;
    }
    log()->info("job finished job={} attempt={} status={} log_bytes={}", job.id, job.attempt,
                reply->status.empty() ? std::string(schema::job_status_name(result.status))
                                      : reply->status,
                result.log_bytes);
    return;
  }
}

}  // namespace gantry::agent
