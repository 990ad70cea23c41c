// Push webhooks: who may send them (GitLab's token, GitHub's HMAC-SHA256 signature, compared in
// constant time), what a push asks for (branch, tag, deletion) and how bad bodies are named.
#include "controller/webhooks.h"

#include <gtest/gtest.h>

#include "common/digest.h"

namespace gantry::controller {
namespace {

const std::string kSecret = "s3cret-hook";
const std::string kSha = "3f2c8a1b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70";

std::string push_body(const std::string& ref, const std::string& after = kSha) {
  return R"({"object_kind":"push","before":"0000000000000000000000000000000000000000","after":")" +
         after + R"(","ref":")" + ref + R"(","commits":[]})";
}

http::Headers gitlab(const std::string& token, const std::string& event = "Push Hook") {
  http::Headers h;
  h.set("X-Gitlab-Token", token);
  h.set("X-Gitlab-Event", event);
  return h;
}

http::Headers github(const std::string& body, const std::string& secret,
                     const std::string& event = "push") {
  http::Headers h;
  h.set("X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(secret, body));
  h.set("X-GitHub-Event", event);
  return h;
}

TEST(HmacTest, MatchesRfc4231TestCase2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
  EXPECT_FALSE(constant_time_equals("", "a"));
}

TEST(WebhookTest, GitLabPushWithTheTokenCreatesABranchPipeline) {
  auto a = interpret_push_hook(gitlab(kSecret), push_body("refs/heads/main"), kSecret);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->sender, HookSender::kGitLab);
  EXPECT_TRUE(a->create);
  EXPECT_EQ(a->ref, "refs/heads/main");
  EXPECT_EQ(a->ref_name, "main");
  EXPECT_FALSE(a->tag);
  EXPECT_EQ(a->sha, kSha);
}

TEST(WebhookTest, GitLabTagPushCreatesATagPipeline) {
  auto a = interpret_push_hook(gitlab(kSecret, "Tag Push Hook"), push_body("refs/tags/v1.2"),
                               kSecret);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_TRUE(a->create);
  EXPECT_TRUE(a->tag);
  EXPECT_EQ(a->ref_name, "v1.2");
}

TEST(WebhookTest, GitLabWrongOrMissingTokenIsUnauthenticated) {
  auto wrong = interpret_push_hook(gitlab("s3cret-hooK"), push_body("refs/heads/main"), kSecret);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(wrong.error().message().find("X-Gitlab-Token"), std::string::npos);

  auto none = interpret_push_hook(http::Headers{}, push_body("refs/heads/main"), kSecret);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(none.error().message().find("X-Hub-Signature-256"), std::string::npos);
}

TEST(WebhookTest, AProjectWithoutASecretTakesNoHook) {
  auto a = interpret_push_hook(gitlab(""), push_body("refs/heads/main"), "");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), ErrorCode::kUnauthenticated);
  std::string body = push_body("refs/heads/main");
  auto g = interpret_push_hook(github(body, ""), body, "");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code(), ErrorCode::kUnauthenticated);
}

TEST(WebhookTest, GitHubSignedPushCreatesAPipeline) {
  std::string body = push_body("refs/heads/feature/x");
  auto a = interpret_push_hook(github(body, kSecret), body, kSecret);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->sender, HookSender::kGitHub);
  EXPECT_TRUE(a->create);
  EXPECT_EQ(a->ref_name, "feature/x");
}

TEST(WebhookTest, GitHubSignatureInUppercaseHexIsAccepted) {
  std::string body = push_body("refs/heads/main");
  http::Headers h = github(body, kSecret);
  std::string sig = *h.get("X-Hub-Signature-256");
  for (size_t i = 7; i < sig.size(); ++i) sig[i] = static_cast<char>(std::toupper(sig[i]));
  h.set("X-Hub-Signature-256", sig);
  EXPECT_TRUE(interpret_push_hook(h, body, kSecret).ok());
}

TEST(WebhookTest, GitHubSignatureOfAnotherBodyOrSecretIsRefused) {
  std::string body = push_body("refs/heads/main");
  auto tampered = interpret_push_hook(github(body, kSecret), body + " ", kSecret);
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().code(), ErrorCode::kUnauthenticated);
  auto other = interpret_push_hook(github(body, "other"), body, kSecret);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code(), ErrorCode::kUnauthenticated);
  http::Headers sha1;
  sha1.set("X-Hub-Signature-256", "sha1=abc");
  sha1.set("X-GitHub-Event", "push");
  auto bad_form = interpret_push_hook(sha1, body, kSecret);
  ASSERT_FALSE(bad_form.ok());
  EXPECT_NE(bad_form.error().message().find("sha256="), std::string::npos);
}

TEST(WebhookTest, GitHubPingIsAnsweredAndCreatesNothing) {
  std::string body = R"({"zen":"Keep it logically awesome.","hook_id":1})";
  auto a = interpret_push_hook(github(body, kSecret, "ping"), body, kSecret);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_FALSE(a->create);
  EXPECT_EQ(a->ignored, "ping");
}

TEST(WebhookTest, OtherEventsCreateNothing) {
  std::string body = R"({"action":"opened"})";
  auto a = interpret_push_hook(github(body, kSecret, "issues"), body, kSecret);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->create);
  EXPECT_NE(a->ignored.find("issues"), std::string::npos);
  auto g = interpret_push_hook(gitlab(kSecret, "Merge Request Hook"), body, kSecret);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->create);
}

TEST(WebhookTest, BranchDeletionCreatesNothing) {
  std::string body = push_body("refs/heads/old", "0000000000000000000000000000000000000000");
  auto a = interpret_push_hook(github(body, kSecret), body, kSecret);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_FALSE(a->create);
  EXPECT_EQ(a->ignored, "branch 'old' deleted");
}

TEST(WebhookTest, MalformedBodiesNameWhatIsWrong) {
  auto not_json = interpret_push_hook(gitlab(kSecret), "{\"ref\": ", kSecret);
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(not_json.error().message().find("GitLab push event"), std::string::npos);

  auto no_after = parse_push_event(R"({"ref":"refs/heads/main"})", "body");
  ASSERT_FALSE(no_after.ok());
  EXPECT_NE(no_after.error().message().find("'after'"), std::string::npos);

  auto bad_ref = parse_push_event(push_body("main"), "body");
  ASSERT_FALSE(bad_ref.ok());
  EXPECT_NE(bad_ref.error().message().find("'main'"), std::string::npos);

  auto bad_sha = parse_push_event(push_body("refs/heads/main", "xyz"), "body");
  ASSERT_FALSE(bad_sha.ok());
  EXPECT_NE(bad_sha.error().message().find("'xyz'"), std::string::npos);

  auto array = parse_push_event("[]", "body");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.error().code(), ErrorCode::kInvalidArgument);

  // A tag ref under the branch push event is a contradiction GitLab never sends.
  auto mismatch = interpret_push_hook(gitlab(kSecret), push_body("refs/tags/v1"), kSecret);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code(), ErrorCode::kInvalidArgument);
}

TEST(WebhookTest, TheBodyIsNotReadBeforeTheSenderIsVerified) {
  auto a = interpret_push_hook(gitlab("wrong"), "not json at all", kSecret);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), ErrorCode::kUnauthenticated);
}

TEST(WebhookTest, SecretsAreValidated) {
  EXPECT_TRUE(validate_webhook_secret("abc-DEF_123").ok());
  EXPECT_FALSE(validate_webhook_secret("").ok());
  EXPECT_FALSE(validate_webhook_secret("has space").ok());
  EXPECT_FALSE(validate_webhook_secret("new\nline").ok());
  EXPECT_FALSE(validate_webhook_secret(std::string(257, 'a')).ok());
}

}  // namespace
}  // namespace gantry::controller
