// DirectoryArtifactStore: the local ArtifactStore (agent/job_executor.h) of `gantry run`: one
// directory per pipeline run holding `<job-slug>-<job id>.tar` per job; the locator is the
// archive's file name. Archives are written to a temp file and renamed, so a reader never sees a
// half-written one. Thread-safe (no state beyond the directory).
#pragma once

#include <string>

#include "agent/job_executor.h"

namespace gantry::agent {

class DirectoryArtifactStore : public ArtifactStore {
 public:
  explicit DirectoryArtifactStore(std::string dir) : dir_(std::move(dir)) {}

  Result<std::string> put(const schema::JobSpec& spec, const std::string& archive_path) override;
  Status get(const schema::DependencyArtifacts& dep, const std::string& dest_path) override;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Copies a file (contents only) to `dest` through a temp file and rename. Errors name both paths.
Status copy_file_atomic(const std::string& src, const std::string& dest);

}  // namespace gantry::agent
