// Which workspace files an `artifacts:` or `cache:` entry takes, as GitLab's runner decides:
// `paths` are globs relative to the project directory (`*`, `?`, `[a-z]`, `{a,b}`, `**` for any
// number of directories); a matched directory is taken with everything below it; `exclude`
// globs drop single matched entries (not recursive, as GitLab documents: exclude `dir/**/*`
// to drop a directory's contents); `untracked` adds git's untracked files. A path that leaves
// the project directory is refused with a warning; a path that matched nothing is a warning.
// PURE; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::agent {

// One file, directory or symlink of the workspace, relative to the project dir ('/'-separated).
struct WorkspaceEntry {
  std::string path;
  bool is_dir = false;
};

struct PathSelection {
  std::vector<std::string> paths;     // sorted, unique: what goes into the archive
  std::vector<std::string> warnings;  // one line each, e.g. "out/: no matching files"
};

// `pattern` cleaned for matching: "./" prefixes, duplicate and trailing slashes removed, `.`
// segments dropped, `..` resolved. nullopt when it leaves the project directory (or is absolute
// outside `project_dir`; an absolute path inside it is made relative).
std::optional<std::string> normalize_artifact_pattern(std::string_view pattern,
                                                      std::string_view project_dir);

// `entries` is the whole workspace; `untracked` what `git ls-files -o --exclude-standard` said
// (used only when `include_untracked`).
PathSelection select_paths(const std::vector<WorkspaceEntry>& entries,
                           const std::vector<std::string>& patterns,
                           const std::vector<std::string>& exclude, bool include_untracked,
                           const std::vector<std::string>& untracked,
                           std::string_view project_dir);

}  // namespace gantry::agent
