// AgentDaemon: the body of `gantry agent`. `concurrency` workers each long-poll the controller
// for a job, check out its commit (GitCheckout), run it with the JobExecutor, stream its log
// (LogUploader), upload its artifacts (HttpArtifactStore) and report its result, while a thread
// per job renews the lease with heartbeats and turns the controller's "cancel" into the job's
// stop token. Every call to the controller outlives a controller restart: transient failures are
// retried with capped exponential backoff. shutdown() (SIGTERM) stops taking jobs and lets the
// running ones finish within `grace`; then they are stopped and reported as failed with
// runner_system_failure (so `retry:` can requeue them). Methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "agent/job_executor.h"
#include "agent/remote/backoff.h"
#include "agent/remote/controller_client.h"
#include "agent/remote/git_checkout.h"

namespace gantry::agent {

struct AgentDaemonOptions {
  std::string state_dir;  // agent.json, mirrors/, jobs/, cache/, builds/
  int concurrency = 1;
  // How long one long-poll may be held; also the longest a SIGTERM waits for idle workers.
  std::chrono::seconds poll_wait{10};
  std::chrono::seconds grace{std::chrono::minutes(5)};
  // After the grace, how long stopped jobs get to upload their log and report.
  std::chrono::seconds report_grace{30};
  NetworkMode network = NetworkMode::kBridge;
  BridgeConfig bridge;        // the bridge network of kBridge
  std::string default_image;  // for jobs without `image:`
  BackoffPolicy backoff;
};

class AgentDaemon {
 public:
  // Borrowed: all must outlive the daemon. `containers` is handed to the executor.
  AgentDaemon(AgentDaemonOptions options, ControllerClient& client, JobExecutor& executor,
              ContainerManager* containers, GitCheckout& checkout);
  ~AgentDaemon();

  // Runs the workers until shutdown() and every running job is done. Returns an error only when
  // the controller refuses the agent (kUnauthenticated: the token was revoked).
  Status run();

  // Stop taking jobs; running ones get `grace` to finish. Safe from a signal-watching thread.
  void shutdown();
  // Stop every running job now (a second SIGTERM, or the grace is over).
  void cancel_running();

  int running_jobs() const;

 private:
  struct RunningJob;
  void worker(int index);
  void run_job(Lease lease);
  schema::JobResult execute(RunningJob& job, const Lease& lease, LogSink& log);
  void report(RunningJob& job, schema::JobResult result, class LogUploader& uploader);

  const AgentDaemonOptions options_;
  ControllerClient& client_;
  JobExecutor& executor_;
  ContainerManager* containers_;
  GitCheckout& checkout_;

  std::stop_source taking_;     // stopped by shutdown(): no new long-polls
  std::stop_source abandon_;    // stopped when even reporting must end
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, std::shared_ptr<RunningJob>> running_;
  std::optional<Error> fatal_;
  bool cancel_requested_ = false;
  BackgroundRemover remover_;  // finished jobs' workspaces
};

}  // namespace gantry::agent
