// Job caches (`cache:`) as GitLab's runner keeps them, but on this machine: one tar archive per
// project and key under the cache dir, restored into the workspace before the script and saved
// after it, living across runs:
//   <cache dir>/<project slug>/<escaped key>.tar    the cache
//   <cache dir>/<project slug>/<escaped key>.lock   flock: shared to restore, exclusive to save
// Saving writes a temp file and renames it over the old archive, under the exclusive lock, so
// parallel jobs never see a half-written cache. cache_key() runs git for key:files; CacheStore
// is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "pipeline-schema/pipeline.h"
#include "pipeline-schema/variables.h"

namespace gantry::agent {

// The key of `cache`: `key:` expanded with the job's variables ("default" when unset);
// `key:files` as GitLab computes it: the newest commit at `revision` (HEAD when empty) that
// changed each file, in the git work tree `project_dir` (last_commit_for_path), and the key is
// the SHA-1 hex of those commit ids, sorted, unique, joined by '-' — or "default" when no file
// has a commit (missing, untracked, or `project_dir` is not a repository). `key:prefix`,
// expanded, comes first with a '-'. Uncommitted edits do not change the key, as on GitLab.
// kInvalidArgument when the expanded key is empty after trimming or only dots, or contains
// '/' (GitLab's rules).
Result<std::string> cache_key(const schema::Cache& cache, const schema::VariableSet& vars,
                              const std::string& project_dir, const std::string& revision = "");

// The id of the newest commit reachable from `revision` (HEAD when empty) that changed `file`
// (`git log -1 -- FILE` in `dir`); nullopt when there is none or git cannot tell.
std::optional<std::string> last_commit_for_path(const std::string& dir,
                                                const std::string& revision,
                                                const std::string& file);

// PURE: the key:files digest of those commits ("default" when none), without the prefix.
std::string key_files_digest(const std::vector<std::optional<std::string>>& commits);

// Whether a cache with `when` is saved for a job that succeeded (or not).
bool cache_saved(schema::When when, bool job_succeeded);
// `policy`: pull-push (default), pull, push.
bool cache_pulls(const schema::Cache& cache);
bool cache_pushes(const schema::Cache& cache);

class CacheStore {
 public:
  CacheStore(std::string cache_dir, std::string project);

  // Extracts the archive of `key` into `project_dir`. Returns false (and touches nothing) when
  // there is no such cache.
  Result<bool> restore(const std::string& key, const std::string& project_dir) const;

  // Replaces the archive of `key` with `paths` (relative to `project_dir`).
  Status save(const std::string& key, const std::string& project_dir,
              const std::vector<std::string>& paths) const;

  // The archive's path for `key` (for messages and tests).
  std::string archive_path(const std::string& key) const;

 private:
  std::string dir_;
};

}  // namespace gantry::agent
