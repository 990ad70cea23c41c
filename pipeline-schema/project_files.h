// ProjectFiles: read-only access to the files of the project whose pipeline is loaded, by
// paths relative to the project root. The seam between the pipeline schema and the OS:
// DiskProjectFiles reads a directory; tests use FakeProjectFiles (an in-memory map).
// Also GitLab's wildcard matching for `include:` and `rules:exists` paths. Thread-compatible.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gantry::schema {

class ProjectFiles {
 public:
  virtual ~ProjectFiles() = default;
  // Contents of `path` (relative, no leading '/'); kNotFound when it does not exist.
  virtual Result<std::string> read(const std::string& path) const = 0;
  virtual bool exists(const std::string& path) const = 0;
  // Every regular file under directory `under` ("" = the whole project), as project paths,
  // sorted. Hidden directories such as .git are skipped below `under`; hidden files are listed.
  virtual std::vector<std::string> list(const std::string& under = "") const = 0;
};

class DiskProjectFiles final : public ProjectFiles {
 public:
  explicit DiskProjectFiles(std::string root) : root_(std::move(root)) {}
  Result<std::string> read(const std::string& path) const override;
  bool exists(const std::string& path) const override;
  std::vector<std::string> list(const std::string& under = "") const override;

 private:
  std::string root_;
};

class FakeProjectFiles final : public ProjectFiles {
 public:
  void add(std::string path, std::string content) { files_[std::move(path)] = std::move(content); }
  Result<std::string> read(const std::string& path) const override;
  bool exists(const std::string& path) const override { return files_.count(path) > 0; }
  std::vector<std::string> list(const std::string& under = "") const override;

 private:
  std::map<std::string, std::string> files_;
};

// GitLab's wildcard paths (as in `include: 'configs/**/*.yml'`): `**` matches any characters
// including '/', `*` any characters except '/', everything else literally. A leading '/' on
// the pattern is ignored (paths are relative to the project root).
bool wildcard_match(std::string_view pattern, std::string_view path);
bool has_wildcard(std::string_view pattern);
// The directory part of a pattern before its first wildcard ("ci/jobs" for "ci/jobs/*.yml"),
// so a listing can start there instead of at the project root.
std::string wildcard_base_dir(std::string_view pattern);

// Normalizes a project path: strips a leading '/' and "./", collapses "//".
std::string normalize_project_path(std::string_view path);

}  // namespace gantry::schema
