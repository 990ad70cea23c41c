// A bare mirror of each project's repository on the controller, kept with `git` (through
// common/subprocess), from which the pipeline file of a commit is read without a checkout.
// GitMirror::sync clones or fetches; resolve() turns a ref and/or sha into a commit;
// GitTreeFiles serves the files of one commit to the pipeline loader (include: local,
// rules:exists). Thread-safe: syncs of one mirror are serialized, reads need no lock.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "pipeline-schema/project_files.h"

namespace gantry::controller {

struct ResolvedCommit {
  std::string sha;  // 40 hex
  std::string ref;  // branch or tag name
  bool tag = false;
};

class GitMirror {
 public:
  // `dir`: where the mirrors live (one `<key>.git` each).
  explicit GitMirror(std::string dir) : dir_(std::move(dir)) {}

  // Clones `url` (a local path, file://, http(s)://, ssh://) as a bare mirror under `key`, or
  // fetches into the existing one. Errors carry git's own message.
  Status sync(const std::string& key, const std::string& url);

  // The commit for `ref` (a branch, else a tag; "" = `default_branch`) and `sha` ("" = the
  // ref's head). A given sha must be a commit of the mirror. kInvalidArgument naming what was
  // not found.
  Result<ResolvedCommit> resolve(const std::string& key, const std::string& ref,
                                 const std::string& sha, const std::string& default_branch);

  std::string path(const std::string& key) const;

 private:
  std::mutex& lock_for(const std::string& key);

  std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<std::mutex>> locks_;
};

// The files of one commit of a bare repository.
class GitTreeFiles final : public schema::ProjectFiles {
 public:
  // Lists the commit's tree once (`git ls-tree -r`).
  static Result<std::unique_ptr<GitTreeFiles>> open(const std::string& repo,
                                                    const std::string& sha);
  Result<std::string> read(const std::string& path) const override;
  bool exists(const std::string& path) const override;
  std::vector<std::string> list(const std::string& under = "") const override;

 private:
  GitTreeFiles(std::string repo, std::string sha, std::vector<std::string> files)
      : repo_(std::move(repo)), sha_(std::move(sha)), files_(std::move(files)) {}
  std::string repo_;
  std::string sha_;
  std::vector<std::string> files_;  // sorted
};

}  // namespace gantry::controller
