#include "agent/remote/http_artifact_store.h"

namespace gantry::agent {

Result<std::string> HttpArtifactStore::put(const schema::JobSpec& spec,
                                           const std::string& archive_path) {
  (void)spec;  // the lease decides which job the archive belongs to
  GANTRY_TRY(retry_transient<ArtifactsInfo>(
      [&] { return client_.upload_artifacts(job_id_, attempt_, archive_path); }, stop_, backoff_));
  return "/api/v1/agent/jobs/" + std::to_string(job_id_) + "/artifacts";
}

Status HttpArtifactStore::get(const schema::DependencyArtifacts& dep,
                              const std::string& dest_path) {
  if (dep.locator.empty()) {
    return Error(ErrorCode::kNotFound, "job '" + dep.job + "' stored no artifacts");
  }
  auto r = retry_transient<bool>(
      [&]() -> Result<bool> {
        GANTRY_TRY(client_.download_artifacts(dep.locator, dest_path));
        return true;
      },
      stop_, backoff_);
  if (!r.ok()) return std::move(r).error().with_context("artifacts of job '" + dep.job + "'");
  return ok_status();
}

}  // namespace gantry::agent
