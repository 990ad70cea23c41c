// A controller for tests: an in-process Daemon on 127.0.0.1:0 in a TempDir, its admin and
// registration tokens, a small JSON API client, a fake agent that speaks the agent protocol
// (lease, heartbeat, log chunks at offsets, finish) without containers, and local git
// repositories (plain or bare) to build projects from. Used by the controller API, webhook and
// dashboard tests; the agent daemon and e2e agent tests use its git repositories.
// Not thread-safe: one harness per test, driven from the test's thread (a FakeAgent may live on
// another thread, with its own client).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/json.h"
#include "controller/daemon.h"
#include "pipeline-schema/job_spec.h"
#include "tests/support/temp_dir.h"

namespace gantry::testing {

// Runs git with a test identity in `dir`; a failure is a test failure.
void run_git(const std::string& dir, std::vector<std::string> args);
// The output of `git -C dir rev-parse REV`.
std::string git_rev(const std::string& dir, const std::string& rev);
// A git repository at `path` with `files` committed on branch main.
void make_git_repo(const std::string& path, const std::map<std::string, std::string>& files);
// A bare repository at `bare` holding `files` on main, cloned from a work tree made at `work`:
// what a controller or agent clones from, as a hosted repository would be.
void make_bare_git_repo(const std::string& work, const std::string& bare,
                        const std::map<std::string, std::string>& files);

struct ApiReply {
  int status = 0;
  Json body;
  std::string raw;
  http::Headers headers;
};

class ApiClient {
 public:
  explicit ApiClient(std::string url) : url_(std::move(url)) {}
  // Points the client at another server, e.g. a restarted controller. Kept-alive connections
  // are closed, so that no request goes to the old one.
  void set_url(std::string url);
  // `headers` are added as given (Authorization from `token` when not empty).
  ApiReply call(const std::string& method, const std::string& path, const std::string& token,
                const std::string& body = "", const http::Headers& headers = {});

 private:
  std::string url_;
  http::Client client_;
};

class FakeAgent {
 public:
  FakeAgent(std::string url, std::string token) : api_(std::move(url)), token_(std::move(token)) {}
  // Its client and token, for calls it has no method for (artifacts, or a moved controller).
  ApiClient& api() { return api_; }
  const std::string& token() const { return token_; }

  // One long-poll; nullopt on 204.
  std::optional<Json> poll(int wait = 5);
  ApiReply heartbeat(int64_t job, int attempt);
  ApiReply append(int64_t job, int attempt, uint64_t offset, const std::string& data);
  // A result that is not a success is a script failure, as from an agent whose script exited
  // non-zero.
  ApiReply finish(int64_t job, int attempt, const std::string& log, schema::JobStatus status,
                  std::optional<int> exit_code = std::nullopt);

 private:
  ApiClient api_;
  std::string token_;
};

class ControllerHarness {
 public:
  ControllerHarness();
  // Starts the daemon; false (with a test failure added) when it could not.
  bool start();
  const std::string& url() const { return url_; }
  const std::string& admin_token() const { return admin_; }
  TempDir& dir() { return dir_; }
  controller::Daemon& daemon() { return *daemon_; }
  ApiClient& api() { return *api_; }

  ApiReply admin(const std::string& method, const std::string& path, const Json& body = nullptr);
  std::unique_ptr<FakeAgent> register_agent();

 private:
  TempDir dir_;
  std::unique_ptr<controller::Daemon> daemon_;
  std::unique_ptr<ApiClient> api_;
  std::string url_;
  std::string admin_;
  std::string registration_;
};

}  // namespace gantry::testing
