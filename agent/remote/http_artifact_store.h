// HttpArtifactStore: the agent's ArtifactStore (agent/job_executor.h): a job's artifacts go to
// the controller (PUT …/agent/jobs/{id}/artifacts for the leased attempt) and the artifacts of
// the jobs it depends on come from the locators in its JobSpec (API paths). Transient failures
// (controller restarting) are retried with capped backoff until the job's stop token fires.
// One object per job attempt; thread-safe as its ControllerClient is.
#pragma once

#include <functional>
#include <stop_token>

#include "agent/job_executor.h"
#include "agent/remote/backoff.h"
#include "agent/remote/controller_client.h"

namespace gantry::agent {

class HttpArtifactStore : public ArtifactStore {
 public:
  HttpArtifactStore(ControllerClient& client, int64_t job_id, int attempt, std::stop_token stop,
                    BackoffPolicy backoff = {})
      : client_(client), job_id_(job_id), attempt_(attempt), stop_(stop), backoff_(backoff) {}

  // Uploads the archive; the locator is the API path other jobs download it from.
  Result<std::string> put(const schema::JobSpec& spec, const std::string& archive_path) override;
  // kNotFound when the dependency stored no artifacts (empty locator) or they are gone.
  Status get(const schema::DependencyArtifacts& dep, const std::string& dest_path) override;

 private:
  ControllerClient& client_;
  int64_t job_id_;
  int attempt_;
  std::stop_token stop_;
  BackoffPolicy backoff_;
};

// Runs `call` until it succeeds, fails with a non-transient error, or `stop` is requested;
// transient errors (kUnavailable, kDeadlineExceeded) wait with capped exponential backoff.
template <typename T>
Result<T> retry_transient(const std::function<Result<T>()>& call, std::stop_token stop,
                          BackoffPolicy policy = {}) {
  Backoff backoff(policy);
  for (;;) {
    Result<T> r = call();
    if (r.ok()) return r;
    auto code = r.error().code();
    if (code != ErrorCode::kUnavailable && code != ErrorCode::kDeadlineExceeded) return r;
    if (!wait_for(backoff.next(), stop)) return r;
  }
}

}  // namespace gantry::agent
