// Job artifacts on the controller, stored by content: artifacts/sha256/<hex>, written to a temp
// file and renamed, so a reader never sees half an archive and two jobs with the same archive
// share one file. Which job has which digest is the store's business (jobs table).
// Thread-safe (no shared state beyond the file system).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry::controller {

struct StoredArtifact {
  std::string digest;  // "sha256:<hex>"
  uint64_t size = 0;
};

class ArtifactStore {
 public:
  explicit ArtifactStore(std::string dir) : dir_(std::move(dir)) {}

  // Stores `data`; when `expected_digest` is not empty and differs, kInvalidArgument naming both.
  Result<StoredArtifact> put(std::string_view data, std::string_view expected_digest = "");
  // The file holding `digest`; kNotFound when it is not stored.
  Result<std::string> path(std::string_view digest) const;

 private:
  std::string dir_;
};

}  // namespace gantry::controller
