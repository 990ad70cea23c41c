// A job's workspace: a private copy of the source tree that the job's container gets at
// CI_PROJECT_DIR, so nothing a job does reaches the sources. A git work tree is copied as
// `git ls-files -co --exclude-standard` says (tracked plus untracked-not-ignored files) and its
// .git directory, so `git` works in the job; any other directory is copied whole. Modes and
// symlinks are kept (symlinks are copied as links, never followed). Also the listing of a
// workspace that artifacts and caches select from. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/path_select.h"
#include "common/result.h"

namespace gantry::agent {

struct CopyStats {
  bool git = false;         // copied as a git work tree
  std::int64_t files = 0;   // entries copied (files, links, directories), .git excluded
};

// Copies `source` into the existing empty directory `dest`.
Result<CopyStats> copy_source_tree(const std::string& source, const std::string& dest);

// Every file, directory and symlink below `dir` (relative paths), .git excluded, sorted.
Result<std::vector<WorkspaceEntry>> list_workspace(const std::string& dir);

// `git ls-files -o --exclude-standard` in `dir`: untracked files that are not ignored. Empty
// when `dir` is not a git work tree.
Result<std::vector<std::string>> git_untracked_files(const std::string& dir);

}  // namespace gantry::agent
