// Push webhooks against a real controller on 127.0.0.1: a project mirrors a local bare git
// repository; the test pushes commits and tags to it and sends what GitLab and GitHub send
// (token header, HMAC signature), then checks which pipelines exist. Also: the dashboard's
// files are served without a token, while the API still wants one.
#include <gtest/gtest.h>

#include "common/digest.h"
#include "common/file.h"
#include "tests/support/controller_harness.h"

namespace gantry::controller {
namespace {

using testing::ApiReply;

const char* kPipelineFile = R"(workflow:
  rules:
    - if: $CI_COMMIT_BRANCH == "nobuild"
      when: never
    - when: always
build:
  script: [make]
)";

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.start());
    work_ = h_.dir().file("work");
    bare_ = h_.dir().file("demo.git");
    testing::make_bare_git_repo(work_, bare_, {{".gantry-ci.yml", kPipelineFile}});
    testing::run_git(work_, {"remote", "add", "origin", bare_});
    ApiReply r = h_.admin("POST", "/api/v1/projects",
                          Json{{"name", "demo"}, {"repo_url", bare_}, {"webhook_secret", kSecret}});
    ASSERT_EQ(r.status, 201) << r.raw;
  }

  // A new commit on `branch`, pushed to the bare repository; returns its sha.
  std::string push_commit(const std::string& branch, const std::string& file) {
    testing::run_git(work_, {"checkout", "-q", "-B", branch});
    EXPECT_TRUE(write_file(join_path(work_, file), file + "\n").ok());
    testing::run_git(work_, {"add", "-A"});
    testing::run_git(work_, {"commit", "-q", "-m", "change " + file});
    testing::run_git(work_, {"push", "-q", "origin", branch});
    return testing::git_rev(work_, "HEAD");
  }

  std::string push_body(const std::string& ref, const std::string& after) {
    return Json{{"object_kind", "push"}, {"ref", ref}, {"before", std::string(40, '0')},
                {"after", after}, {"repository", {{"name", "demo"}}}}
        .dump();
  }

  ApiReply gitlab_hook(const std::string& body, const std::string& token,
                       const std::string& event = "Push Hook",
                       const std::string& project = "demo") {
    http::Headers hdr;
    hdr.set("X-Gitlab-Token", token);
    hdr.set("X-Gitlab-Event", event);
    hdr.set("Content-Type", "application/json");
    return h_.api().call("POST", "/api/v1/projects/" + project + "/hooks/push", "", body, hdr);
  }

  ApiReply github_hook(const std::string& body, const std::string& signature,
                       const std::string& event = "push") {
    http::Headers hdr;
    hdr.set("X-Hub-Signature-256", signature);
    hdr.set("X-GitHub-Event", event);
    hdr.set("Content-Type", "application/json");
    return h_.api().call("POST", "/api/v1/projects/demo/hooks/push", "", body, hdr);
  }

  size_t pipeline_count() {
    ApiReply r = h_.admin("GET", "/api/v1/pipelines?project=demo");
    EXPECT_EQ(r.status, 200);
    return r.body.value("pipelines", Json::array()).size();
  }

  static constexpr const char* kSecret = "hook-secret-1234";
  testing::ControllerHarness h_;
  std::string work_;
  std::string bare_;
};

TEST_F(WebhookTest, GitLabPushCreatesAPushPipelineAtTheCommit) {
  std::string sha = push_commit("main", "a.txt");
  ApiReply r = gitlab_hook(push_body("refs/heads/main", sha), kSecret);
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body.value("source", ""), "push");
  EXPECT_EQ(r.body.value("ref", ""), "main");
  EXPECT_EQ(r.body.value("sha", ""), sha);
  EXPECT_FALSE(r.body.value("tag", true));
  EXPECT_EQ(r.body.value("status", ""), "pending");
  ASSERT_EQ(r.body.at("jobs").size(), 1u);
}

TEST_F(WebhookTest, PushOfAnOlderCommitBuildsThatCommitNotTheHead) {
  std::string first = push_commit("main", "a.txt");
  std::string second = push_commit("main", "b.txt");
  ASSERT_NE(first, second);
  ApiReply r = gitlab_hook(push_body("refs/heads/main", first), kSecret);
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body.value("sha", ""), first);
}

TEST_F(WebhookTest, TagPushCreatesATagPipeline) {
  std::string sha = push_commit("main", "a.txt");
  testing::run_git(work_, {"tag", "v1.0"});
  testing::run_git(work_, {"push", "-q", "origin", "v1.0"});
  ApiReply r = gitlab_hook(push_body("refs/tags/v1.0", sha), kSecret, "Tag Push Hook");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_TRUE(r.body.value("tag", false));
  EXPECT_EQ(r.body.value("ref", ""), "v1.0");
  EXPECT_EQ(r.body.value("source", ""), "push");
}

TEST_F(WebhookTest, GitHubSignedPushCreatesAPipelineAndPingIsAnswered) {
  std::string sha = push_commit("feature", "f.txt");
  std::string body = push_body("refs/heads/feature", sha);
  ApiReply r = github_hook(body, "sha256=" + hmac_sha256_hex(kSecret, body));
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body.value("ref", ""), "feature");
  EXPECT_EQ(r.body.value("sha", ""), sha);

  std::string ping = R"({"zen":"Design for failure.","hook_id":7})";
  ApiReply p = github_hook(ping, "sha256=" + hmac_sha256_hex(kSecret, ping), "ping");
  EXPECT_EQ(p.status, 200) << p.raw;
  EXPECT_EQ(p.body.value("ignored", ""), "ping");
  EXPECT_EQ(pipeline_count(), 1u);
}

TEST_F(WebhookTest, WrongOrMissingCredentialsAre401AndCreateNothing) {
  std::string sha = push_commit("main", "a.txt");
  std::string body = push_body("refs/heads/main", sha);
  EXPECT_EQ(gitlab_hook(body, "not-the-secret").status, 401);
  EXPECT_EQ(github_hook(body, "sha256=" + hmac_sha256_hex("not-the-secret", body)).status, 401);
  EXPECT_EQ(github_hook(body, "sha256=" + hmac_sha256_hex(kSecret, body + "x")).status, 401);
  ApiReply none = h_.api().call("POST", "/api/v1/projects/demo/hooks/push", "", body);
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.body.value("error", "").find("X-Gitlab-Token"), std::string::npos) << none.raw;
  // The admin token is not a webhook credential.
  EXPECT_EQ(
      h_.api().call("POST", "/api/v1/projects/demo/hooks/push", h_.admin_token(), body).status,
      401);
  // An unknown project answers as a wrong secret does.
  ApiReply unknown = gitlab_hook(body, kSecret, "Push Hook", "nope");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(pipeline_count(), 0u);
}

TEST_F(WebhookTest, MalformedBodiesAre400WithAMessage) {
  ApiReply r = gitlab_hook("{\"ref\": \"refs/heads/main\", ", kSecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.value("code", ""), "bad_request");
  EXPECT_NE(r.body.value("error", "").find("GitLab push event"), std::string::npos) << r.raw;
  ApiReply no_sha = gitlab_hook(R"({"ref":"refs/heads/main"})", kSecret);
  EXPECT_EQ(no_sha.status, 400);
  EXPECT_NE(no_sha.body.value("error", "").find("'after'"), std::string::npos) << no_sha.raw;
  ApiReply unknown_commit =
      gitlab_hook(push_body("refs/heads/main", std::string(40, 'a')), kSecret);
  EXPECT_EQ(unknown_commit.status, 400) << unknown_commit.raw;
  EXPECT_EQ(pipeline_count(), 0u);
}

TEST_F(WebhookTest, BranchDeletionAndFilteredPushesCreateNothing) {
  ApiReply del = gitlab_hook(push_body("refs/heads/old", std::string(40, '0')), kSecret);
  EXPECT_EQ(del.status, 200) << del.raw;
  EXPECT_EQ(del.body.value("ignored", ""), "branch 'old' deleted");
  std::string sha = push_commit("nobuild", "n.txt");
  ApiReply filtered = gitlab_hook(push_body("refs/heads/nobuild", sha), kSecret);
  EXPECT_EQ(filtered.status, 200) << filtered.raw;
  EXPECT_TRUE(filtered.body.at("pipeline").is_null());
  EXPECT_EQ(pipeline_count(), 0u);
}

TEST_F(WebhookTest, SecretIsShownOnceAndCanBeReplaced) {
  ApiReply created = h_.admin("POST", "/api/v1/projects",
                              Json{{"name", "other"}, {"repo_url", bare_}});
  ASSERT_EQ(created.status, 201) << created.raw;
  std::string generated = created.body.value("webhook_secret", "");
  EXPECT_EQ(generated.rfind("gantry-hook-", 0), 0u) << created.raw;
  ApiReply shown = h_.admin("GET", "/api/v1/projects/other");
  EXPECT_FALSE(shown.body.contains("webhook_secret")) << shown.raw;
  EXPECT_TRUE(shown.body.value("webhook_secret_set", false));
  EXPECT_EQ(shown.body.value("webhook_path", ""), "/api/v1/projects/other/hooks/push");

  ApiReply set = h_.admin("PUT", "/api/v1/projects/demo/webhook-secret",
                          Json{{"secret", "replaced-secret"}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body.value("webhook_secret", ""), "replaced-secret");
  std::string sha = push_commit("main", "a.txt");
  EXPECT_EQ(gitlab_hook(push_body("refs/heads/main", sha), kSecret).status, 401);
  EXPECT_EQ(gitlab_hook(push_body("refs/heads/main", sha), "replaced-secret").status, 201);

  ApiReply bad = h_.admin("PUT", "/api/v1/projects/demo/webhook-secret", Json{{"secret", "a b"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.value("error", "").find("field 'secret'"), std::string::npos) << bad.raw;
}

TEST_F(WebhookTest, DashboardIsServedWithoutATokenButTheApiIsNot) {
  ApiReply index = h_.api().call("GET", "/", "");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.headers.get("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_NE(index.raw.find("/ui/app.js"), std::string::npos);
  EXPECT_NE(index.headers.get("Content-Security-Policy").value_or("").find("script-src 'self'"),
            std::string::npos);
  ApiReply js = h_.api().call("GET", "/ui/ansi.js", "");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers.get("Content-Type").value_or(""), "text/javascript; charset=utf-8");
  http::Headers cond;
  cond.set("If-None-Match", js.headers.get("ETag").value_or("none"));
  EXPECT_EQ(h_.api().call("GET", "/ui/ansi.js", "", "", cond).status, 304);
  EXPECT_EQ(h_.api().call("GET", "/ui/missing.js", "").status, 404);
  EXPECT_EQ(h_.api().call("GET", "/api/v1/projects", "").status, 401);
  EXPECT_EQ(h_.api().call("GET", "/api/v1/nothing-here", "").status, 401);
}

}  // namespace
}  // namespace gantry::controller
