// ControllerClient against a scripted transport: the protocol's answers as docs/api.md gives
// them (offset_mismatch with the log size, stale_attempt, log_incomplete, 204 for no job), the
// requests it sends, and the client settings' lookup order.
#include "agent/remote/controller_client.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <deque>
#include <map>

#include "agent/remote/client_config.h"
#include "common/file.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

class ScriptedTransport : public ApiTransport {
 public:
  Result<ApiResponse> send(const ApiRequest& request) override {
    requests.push_back(request);
    if (answers.empty()) return Error(ErrorCode::kUnavailable, "connect: connection refused");
    auto a = answers.front();
    answers.pop_front();
    return a;
  }
  std::string base_url() const override { return "http://127.0.0.1:1"; }
  void answer(int status, std::string body) {
    answers.push_back(ApiResponse{status, {}, std::move(body)});
  }

  std::vector<ApiRequest> requests;
  std::deque<ApiResponse> answers;
};

TEST(ControllerClientTest, AppendSendsOffsetAndAttemptAndReadsTheSize) {
  ScriptedTransport t;
  ControllerClient c(t);
  t.answer(200, R"({"size": 11})");
  auto r = c.append_log(31, 2, 5, "hello!");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(r->length, 11u);
  EXPECT_EQ(t.requests[0].method, "POST");
  EXPECT_EQ(t.requests[0].path, "/api/v1/agent/jobs/31/log?attempt=2&offset=5");
  EXPECT_EQ(t.requests[0].body, "hello!");
  EXPECT_EQ(t.requests[0].content_type, "application/octet-stream");
}

TEST(ControllerClientTest, OffsetMismatchIsARefusalWithTheLogSize) {
  ScriptedTransport t;
  ControllerClient c(t);
  t.answer(409, R"({"error": "job 31 log: chunk at offset 1024, log size is 1536",
                    "code": "offset_mismatch", "size": 1536})");
  auto r = c.append_log(31, 2, 1024, "x");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->accepted);
  EXPECT_EQ(r->length, 1536u);
}

TEST(ControllerClientTest, StaleAttemptOnAppendIsAPermanentError) {
  ScriptedTransport t;
  ControllerClient c(t);
  t.answer(409, R"J({"error": "job 31: attempt 1 is not the current lease (attempt 2)",
                    "code": "stale_attempt", "attempt": 2})J");
  auto r = c.append_log(31, 1, 0, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "append to the log of job 31: job 31: attempt 1 is not the current lease (attempt 2)");
}

TEST(ControllerClientTest, HeartbeatCancelAndStale) {
  ScriptedTransport t;
  ControllerClient c(t);
  t.answer(200, R"({"status": "canceled", "cancel": true, "lease_seconds": 60})");
  t.answer(409, R"({"error": "stale", "code": "stale_attempt"})");
  auto a = c.heartbeat(31, 2);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->cancel);
  EXPECT_FALSE(a->stale);
  EXPECT_EQ(t.requests[0].body, R"({"attempt":2})");
  auto b = c.heartbeat(31, 2);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->stale);
}

TEST(ControllerClientTest, RequestJobDecodesTheLeaseOrNothing) {
  ScriptedTransport t;
  ControllerClient c(t);
  t.answer(204, "");
  t.answer(200, R"({"job_id": 31, "attempt": 2, "lease_seconds": 60, "heartbeat_seconds": 5,
                    "repo_url": "/srv/git/demo.git", "spec": {"job_id": 31}})");
  auto none = c.request_job(std::chrono::seconds(7));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(t.requests[0].path, "/api/v1/agent/jobs/request?wait=7");
  EXPECT_EQ(t.requests[0].extra_time, std::chrono::seconds(7));
  auto lease = c.request_job(std::chrono::seconds(7));
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  ASSERT_TRUE(lease->has_value());
  EXPECT_EQ((*lease)->job_id, 31);
  EXPECT_EQ((*lease)->attempt, 2);
  EXPECT_EQ((*lease)->heartbeat, std::chrono::seconds(5));
  EXPECT_EQ((*lease)->repo_url, "/srv/git/demo.git");
  EXPECT_EQ((*lease)->spec["job_id"], 31);
}

TEST(ControllerClientTest, FinishLogIncompleteCarriesTheSize) {
  ScriptedTransport t;
  ControllerClient c(t);
  t.answer(409, R"({"error": "log incomplete", "code": "log_incomplete", "size": 4})");
  t.answer(200, R"({"status": "success"})");
  auto a = c.finish(31, 2, Json{{"status", "success"}});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->accepted);
  EXPECT_EQ(a->log_size, 4u);
  auto b = c.finish(31, 2, Json{{"status", "success"}});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->accepted);
  EXPECT_EQ(b->status, "success");
  EXPECT_EQ(Json::parse(t.requests[1].body),
            Json::parse(R"({"attempt": 2, "result": {"status": "success"}})"));
}

TEST(ControllerClientTest, ErrorsCarryTheControllersMessageAndCode) {
  ScriptedTransport t;
  t.answer(404, R"({"error": "project 'demo' not found", "code": "not_found"})");
  auto r = call_json(t, "show project 'demo'", "GET", "/api/v1/projects/demo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message(), "show project 'demo': project 'demo' not found");
  t.answer(401, R"({"error": "unauthorized", "code": "unauthorized"})");
  r = call_json(t, "list projects", "GET", "/api/v1/projects");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error().message().find("check --token or GANTRY_TOKEN"), std::string::npos);
  t.answer(502, "<html>bad gateway</html>");
  r = call_json(t, "list projects", "GET", "/api/v1/projects");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message(), "list projects: 502 Bad Gateway: <html>bad gateway</html>");
}

TEST(ControllerClientTest, RegisterReadsIdAndToken) {
  ScriptedTransport t;
  t.answer(201,
           R"({"id": 3, "name": "builder-1", "labels": ["linux"], "token": "gantry-agent-x"})");
  auto r = register_agent(t, "builder-1", {"linux"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->id, "3");
  EXPECT_EQ(r->token, "gantry-agent-x");
  EXPECT_EQ(Json::parse(t.requests[0].body),
            Json::parse(R"({"name": "builder-1", "labels": ["linux"]})"));
}

// ---- client settings -------------------------------------------------------------------------

struct Env {
  std::map<std::string, std::string> vars;
  std::function<std::optional<std::string>(const char*)> fn() const {
    return [this](const char* n) -> std::optional<std::string> {
      auto it = vars.find(n);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

TEST(ClientSettingsTest, FlagsThenEnvironmentThenConfigFile) {
  testing::TempDir dir;
  Env env;
  env.vars["HOME"] = dir.path();
  ASSERT_TRUE(make_dirs(dir.file(".config/gantry")).ok());
  ASSERT_TRUE(write_file_atomic(dir.file(".config/gantry/config.json"),
                                R"({"controller": "http://file:1", "token": "file-token"})", 0600)
                  .ok());
  auto s = resolve_client_settings("", "", env.fn());
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->controller, "http://file:1");
  EXPECT_EQ(s->token, "file-token");
  env.vars["GANTRY_TOKEN"] = "env-token";
  s = resolve_client_settings("", "", env.fn());
  EXPECT_EQ(s->token, "env-token");
  s = resolve_client_settings("http://flag:2", "flag-token", env.fn());
  EXPECT_EQ(s->controller, "http://flag:2");
  EXPECT_EQ(s->token, "flag-token");
}

TEST(ClientSettingsTest, MissingTokenSaysWhereToPutOne) {
  testing::TempDir dir;
  Env env;
  env.vars["GANTRY_CONFIG"] = dir.file("none.json");
  auto s = resolve_client_settings("http://c:1", "", env.fn());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(
      s.error().message().find("no token: pass --token TOKEN, set GANTRY_TOKEN, or put it in '" +
                               dir.file("none.json") + "'"),
      std::string::npos)
      << s.error().message();
  s = resolve_client_settings("", "t", env.fn());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ClientSettingsTest, RefusesAConfigTokenOthersCanRead) {
  testing::TempDir dir;
  Env env;
  env.vars["GANTRY_CONFIG"] = dir.file("c.json");
  ASSERT_TRUE(write_file_atomic(dir.file("c.json"), R"({"controller": "http://c:1", "token": "t"})",
                                0644)
                  .ok());
  auto s = resolve_client_settings("", "", env.fn());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(s.error().message().find("mode 0644"), std::string::npos) << s.error().message();
}

}  // namespace
}  // namespace gantry::agent
