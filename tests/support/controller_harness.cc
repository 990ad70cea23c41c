#include "tests/support/controller_harness.h"

#include <gtest/gtest.h>

#include "common/digest.h"
#include "common/file.h"
#include "common/subprocess.h"

namespace gantry::testing {

namespace {

std::vector<std::string> git_argv(const std::string& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-C", dir, "-c", "user.name=t", "-c",
                                   "user.email=t@example.com"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

void run_git(const std::string& dir, std::vector<std::string> args) {
  auto r = run_subprocess(git_argv(dir, std::move(args)));
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->exit_code, 0) << r->err;
}

std::string git_rev(const std::string& dir, const std::string& rev) {
  auto r = run_subprocess(git_argv(dir, {"rev-parse", rev}));
  EXPECT_TRUE(r.ok() && r->exit_code == 0) << rev;
  return r.ok() ? first_line(r->out) : "";
}

void make_git_repo(const std::string& path, const std::map<std::string, std::string>& files) {
  ASSERT_TRUE(make_dirs(path).ok());
  run_git(path, {"init", "-q", "-b", "main"});
  for (const auto& [name, content] : files) {
    auto slash = name.rfind('/');
    if (slash != std::string::npos) {
      ASSERT_TRUE(make_dirs(join_path(path, name.substr(0, slash))).ok());
    }
    ASSERT_TRUE(write_file(join_path(path, name), content).ok());
  }
  run_git(path, {"add", "-A"});
  run_git(path, {"commit", "-q", "-m", "init"});
}

void make_bare_git_repo(const std::string& work, const std::string& bare,
                        const std::map<std::string, std::string>& files) {
  ASSERT_NO_FATAL_FAILURE(make_git_repo(work, files));
  run_git(work, {"clone", "-q", "--bare", work, bare});
}

void ApiClient::set_url(std::string url) {
  url_ = std::move(url);
  client_.close_connections();
}

ApiReply ApiClient::call(const std::string& method, const std::string& path,
                         const std::string& token, const std::string& body,
                         const http::Headers& headers) {
  http::ClientRequest req;
  req.method = method;
  req.url = url_ + path;
  req.headers = headers;
  if (!token.empty()) req.headers.set("Authorization", "Bearer " + token);
  req.body = body;
  auto r = client_.send(req);
  ApiReply out;
  if (!r.ok()) {
    ADD_FAILURE() << method << " " << path << ": " << r.error().message();
    return out;
  }
  out.status = r->status;
  out.raw = r->body;
  out.headers = r->headers;
  if (auto ct = r->headers.get("content-type"); ct && ct->find("json") != std::string::npos) {
    auto j = parse_json(r->body, "response");
    if (j.ok()) out.body = std::move(*j);
  }
  return out;
}

std::optional<Json> FakeAgent::poll(int wait) {
  ApiReply r = api_.call("POST", "/api/v1/agent/jobs/request?wait=" + std::to_string(wait), token_);
  if (r.status == 204) return std::nullopt;
  EXPECT_EQ(r.status, 200) << r.raw;
  if (r.status != 200) return std::nullopt;
  return r.body;
}

ApiReply FakeAgent::heartbeat(int64_t job, int attempt) {
  return api_.call("POST", "/api/v1/agent/jobs/" + std::to_string(job) + "/heartbeat", token_,
                   Json{{"attempt", attempt}}.dump());
}

ApiReply FakeAgent::append(int64_t job, int attempt, uint64_t offset, const std::string& data) {
  return api_.call("POST",
                   "/api/v1/agent/jobs/" + std::to_string(job) + "/log?attempt=" +
                       std::to_string(attempt) + "&offset=" + std::to_string(offset),
                   token_, data);
}

ApiReply FakeAgent::finish(int64_t job, int attempt, const std::string& log,
                           schema::JobStatus status, std::optional<int> exit_code) {
  schema::JobResult res;
  res.status = status;
  res.failure_reason = status == schema::JobStatus::kSuccess
                           ? schema::FailureReason::kNone
                           : schema::FailureReason::kScriptFailure;
  res.exit_code = exit_code;
  res.log_bytes = log.size();
  res.log_sha256 = sha256_hex(log);
  Json body{{"attempt", attempt}, {"result", schema::job_result_to_json(res)}};
  return api_.call("POST", "/api/v1/agent/jobs/" + std::to_string(job) + "/finish", token_,
                   body.dump());
}

ControllerHarness::ControllerHarness() : dir_("gantry-controller") {}

bool ControllerHarness::start() {
  controller::DaemonOptions o;
  o.port = 0;
  o.controller.data_dir = dir_.file("data");
  auto d = controller::Daemon::start(o);
  if (!d.ok()) {
    ADD_FAILURE() << "start controller: " << d.error().message();
    return false;
  }
  daemon_ = std::move(*d);
  url_ = daemon_->url();
  api_ = std::make_unique<ApiClient>(url_);
  auto admin = read_file(dir_.file("data/admin.token"));
  auto reg = read_file(dir_.file("data/registration.token"));
  if (!admin.ok() || !reg.ok()) {
    ADD_FAILURE() << "controller tokens missing";
    return false;
  }
  admin_ = first_line(*admin);
  registration_ = first_line(*reg);
  return true;
}

ApiReply ControllerHarness::admin(const std::string& method, const std::string& path,
                                  const Json& body) {
  return api_->call(method, path, admin_, body.is_null() ? "" : body.dump());
}

std::unique_ptr<FakeAgent> ControllerHarness::register_agent() {
  ApiReply r = api_->call("POST", "/api/v1/agent/register", registration_,
                          Json{{"name", "fake"}}.dump());
  EXPECT_EQ(r.status, 201) << r.raw;
  return std::make_unique<FakeAgent>(url_, r.body.value("token", ""));
}

}  // namespace gantry::testing
