// ControllerClient: the agent's side of the agent protocol (docs/api.md, "The agent protocol"),
// one method per call, over an ApiTransport that carries the agent token. Answers are decoded
// into plain structs; the JobSpec and JobResult travel as their JSON (pipeline-schema/job_spec.h
// converts them). Thread-safe when the transport is (HttpApiTransport is).
//
//  agent                                               controller
//    │ POST /api/v1/agent/register (registration token)  │  once; the token is kept in agent.json
//    │ ────────────────────────────────────────────────▶ │ 201 {id, token}
//    │ POST /api/v1/agent/jobs/request?wait=30  × N      │  one long-poll per free worker
//    │ ◀──────────────────────────────────────────────── │ 200 {job_id, attempt, spec} | 204
//    │ POST …/jobs/{id}/heartbeat {attempt}   (a thread) │ {cancel} | 409 stale_attempt
//    │ POST …/jobs/{id}/log?attempt=A&offset=O  <bytes>  │ 200 {size} | 409 {size}: resume there
//    │ GET  …/jobs/{dep}/artifacts  → tar                │  dependencies, before the script
//    │ PUT  …/jobs/{id}/artifacts?attempt=A   <tar>      │ 201 {digest, size}
//    │ POST …/jobs/{id}/finish {attempt, result}         │ 200 | 409 log_incomplete {size}
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/remote/api_transport.h"
#include "agent/remote/log_uploader.h"
#include "common/json.h"
#include "common/result.h"

namespace gantry::agent {

struct Registration {
  std::string id;
  std::string name;
  std::string token;
};

// Registers a new agent; `transport` carries the registration token.
Result<Registration> register_agent(ApiTransport& transport, const std::string& name,
                                    const std::vector<std::string>& labels);

struct Lease {
  int64_t job_id = 0;
  int attempt = 0;
  std::chrono::seconds lease{60};
  std::chrono::seconds heartbeat{10};
  std::string repo_url;  // the project's repository, for the checkout
  Json spec;             // the JobSpec's JSON form
};

struct HeartbeatReply {
  bool stale = false;   // 409 stale_attempt: the job is no longer ours; stop, report nothing
  bool cancel = false;  // the job was canceled: stop it, then report
  std::string status;
};

struct FinishReply {
  bool accepted = false;
  bool stale = false;       // the attempt is no longer current; nothing more to do
  uint64_t log_size = 0;    // when refused with log_incomplete: the controller's log size
  std::string status;       // the job's resulting status when accepted
};

struct ArtifactsInfo {
  std::string digest;
  uint64_t size = 0;
};

class ControllerClient {
 public:
  explicit ControllerClient(ApiTransport& transport) : transport_(transport) {}

  // GET /agent/me: checks a stored token (kUnauthenticated when the controller does not know it).
  Result<Json> me();
  // PATCH /agent/me: keeps the controller's name and labels in step with the command line.
  Status update_me(const std::string& name, const std::vector<std::string>& labels);

  // Long-polls for a job for up to `wait`; nullopt when none came (204).
  Result<std::optional<Lease>> request_job(std::chrono::seconds wait);
  Result<HeartbeatReply> heartbeat(int64_t job_id, int attempt);
  // Appends at `offset`; a 409 offset_mismatch is a refusal carrying the log's size, not an error.
  Result<AppendReply> append_log(int64_t job_id, int attempt, uint64_t offset,
                                 std::string_view data);
  Result<ArtifactsInfo> upload_artifacts(int64_t job_id, int attempt,
                                         const std::string& archive_path);
  // Downloads what a JobSpec's DependencyArtifacts::locator names (an API path) into `dest`.
  Status download_artifacts(const std::string& locator, const std::string& dest);
  Result<FinishReply> finish(int64_t job_id, int attempt, const Json& result);

  ApiTransport& transport() { return transport_; }

 private:
  ApiTransport& transport_;
};

// The LogAppender of one job attempt, for its LogUploader.
class JobLogAppender : public LogAppender {
 public:
  JobLogAppender(ControllerClient& client, int64_t job_id, int attempt)
      : client_(client), job_id_(job_id), attempt_(attempt) {}
  Result<AppendReply> append(uint64_t offset, std::string_view data) override {
    return client_.append_log(job_id_, attempt_, offset, data);
  }

 private:
  ControllerClient& client_;
  int64_t job_id_;
  int attempt_;
};

}  // namespace gantry::agent
