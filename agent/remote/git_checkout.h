// GitCheckout: the agent's source checkout. One bare mirror per repository URL under
// `<mirrors dir>/<hash>-<name>.git`, fetched only when the wanted commit is missing (refs first,
// then the commit by id), and a clean tree of that commit per job, cloned from the mirror (objects
// hard-linked, so a checkout costs the size of the tree) with `origin` pointing at the real URL.
// `git` runs through Boost.Process (common/subprocess.h), never asking for credentials on a
// terminal. Thread-safe: jobs of one repository take turns on its mirror (in-process mutex plus a
// file lock for other processes sharing the directory); different repositories run in parallel.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"

namespace gantry::agent {

struct CheckoutOptions {
  std::chrono::milliseconds git_timeout{std::chrono::minutes(30)};
};

class GitCheckout {
 public:
  explicit GitCheckout(std::string mirrors_dir, CheckoutOptions options = {});

  // Makes `dest` (must not exist) a clean checkout of commit `sha` of `url`, detached at it as
  // GitLab's runner leaves it (jobs learn the ref from CI_COMMIT_REF_NAME).
  // Errors name the URL and the commit, with git's own message (kNotFound for a missing commit,
  // kUnavailable when the repository cannot be reached).
  Status checkout(const std::string& url, const std::string& sha, const std::string& dest);

  // The mirror directory used for `url` (for tests and operators).
  std::string mirror_path(const std::string& url) const;

 private:
  Status update_mirror(const std::string& url, const std::string& sha, const std::string& mirror);
  std::mutex& lock_for(const std::string& mirror);

  std::string mirrors_dir_;
  CheckoutOptions options_;
  std::mutex map_mu_;
  std::map<std::string, std::unique_ptr<std::mutex>> locks_;
};

}  // namespace gantry::agent
