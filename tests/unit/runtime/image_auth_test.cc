#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "common/base64.h"
#include "common/http/server.h"
#include "runtime/image/auth.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime::image {
namespace {

TEST(ImageAuthTest, ParsesBearerChallengeWithQuotedCommas) {
  auto c = parse_challenges(
      {R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push")"});
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].scheme, "bearer");
  EXPECT_EQ((*c)[0].params.at("realm"), "https://auth.example/token");
  EXPECT_EQ((*c)[0].params.at("service"), "registry.example");
  EXPECT_EQ((*c)[0].params.at("scope"), "repository:team/app:pull,push");
}

TEST(ImageAuthTest, ParsesSeveralChallengesAndEscapes) {
  auto c = parse_challenges(
      {R"(Basic realm="a \"quoted\" realm", charset=UTF-8, Bearer realm=https://t/x,error="invalid_token")",
       "Negotiate"});
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[0].scheme, "basic");
  EXPECT_EQ((*c)[0].params.at("realm"), "a \"quoted\" realm");
  EXPECT_EQ((*c)[0].params.at("charset"), "UTF-8");
  EXPECT_EQ((*c)[1].scheme, "bearer");
  EXPECT_EQ((*c)[1].params.at("realm"), "https://t/x");
  EXPECT_EQ((*c)[1].params.at("error"), "invalid_token");
  EXPECT_EQ((*c)[2].scheme, "negotiate");
  EXPECT_TRUE((*c)[2].params.empty());
}

TEST(ImageAuthTest, RejectsMalformedChallengesNamingTheOffset) {
  auto c = parse_challenges({R"(Bearer realm="https://unterminated)"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), "www-authenticate: unterminated quoted string at offset 13");
  EXPECT_FALSE(parse_challenges({"Bearer realm=\"x\" junk"}).ok());
  EXPECT_FALSE(parse_challenges({"=x"}).ok());
}

TEST(ImageAuthTest, DockerConfigAuthFieldAndUsernamePassword) {
  std::string config = R"({"auths": {
      "https://index.docker.io/v1/": {"auth": ")" +
                       base64_encode("hub:hubpass") + R"("},
      "registry.example:5000": {"username": "alice", "password": "s3cret"},
      "http://other.example/v1/": {"auth": ")" +
                       base64_encode("bob:p:with:colons") + R"("},
      "helper.example": {}
  }})";
  auto hub = parse_docker_config(config, "docker.io", "config.json");
  ASSERT_TRUE(hub.ok()) << hub.error().message();
  ASSERT_TRUE(hub->has_value());
  EXPECT_EQ((*hub)->username, "hub");
  EXPECT_EQ((*hub)->password, "hubpass");
  auto ex = parse_docker_config(config, "registry.example:5000", "config.json");
  ASSERT_TRUE(ex.ok() && ex->has_value());
  EXPECT_EQ((*ex)->username, "alice");
  EXPECT_EQ((*ex)->password, "s3cret");
  auto other = parse_docker_config(config, "other.example", "config.json");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->password, "p:with:colons");
  auto none = parse_docker_config(config, "helper.example", "config.json");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto missing = parse_docker_config(config, "nowhere.example", "config.json");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(ImageAuthTest, DockerConfigErrorsNameTheFileAndEntry) {
  auto bad = parse_docker_config(R"({"auths": {"r.example": {"auth": "!!!"}}})", "r.example",
                                 "/home/u/.docker/config.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("/home/u/.docker/config.json: auths['r.example'].auth"),
            std::string::npos)
      << bad.error().message();
  auto nocolon = parse_docker_config(
      R"({"auths": {"r.example": {"auth": ")" + base64_encode("nocolon") + R"("}}})", "r.example",
      "c.json");
  ASSERT_FALSE(nocolon.ok());
  EXPECT_NE(nocolon.error().message().find("username:password"), std::string::npos);
  EXPECT_FALSE(parse_docker_config("{not json", "r", "c.json").ok());
}

TEST(ImageAuthTest, LoadsDockerConfigFromFileAndMissingFileIsNoCredentials) {
  testing::TempDir dir;
  std::ofstream(dir.file("config.json"))
      << R"({"auths": {"127.0.0.1:5000": {"username": "u", "password": "p"}}})";
  auto c = load_docker_credentials(dir.file("config.json"), "127.0.0.1:5000");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->username, "u");
  auto none = load_docker_credentials(dir.file("absent.json"), "127.0.0.1:5000");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(ImageAuthTest, DockerConfigPathFollowsDockerConfigVariable) {
  const char* old = std::getenv("DOCKER_CONFIG");
  std::string saved = old ? old : "";
  setenv("DOCKER_CONFIG", "/etc/dc", 1);
  EXPECT_EQ(default_docker_config_path(), "/etc/dc/config.json");
  if (old)
    setenv("DOCKER_CONFIG", saved.c_str(), 1);
  else
    unsetenv("DOCKER_CONFIG");
}

// A token endpoint that records what it was asked and answers with a token per scope.
struct TokenServer {
  std::mutex mu;
  std::vector<http::Request> seen;
  std::string required_basic;  // when set, other credentials get 401
  std::unique_ptr<http::Server> server;

  TokenServer() {
    server = *http::Server::start({}, [this](const http::Request& r) {
      std::lock_guard lock(mu);
      seen.push_back(r);
      if (!required_basic.empty() && r.headers.get("Authorization") != required_basic) {
        return http::text_response(401, "{\"details\":\"bad creds\"}");
      }
      std::string scope;
      for (auto& [k, v] : http::parse_query(r.query())) {
        if (k == "scope") scope = v;
      }
      return http::text_response(200, R"({"token":"tok-)" + scope + R"(","expires_in":300})",
                                 "application/json");
    });
  }
};

http::ClientResponse unauthorized(const std::string& challenge) {
  http::ClientResponse r;
  r.status = 401;
  r.headers.add("WWW-Authenticate", challenge);
  return r;
}

TEST(ImageAuthTest, FetchesAnonymousBearerTokenPerScope) {
  TokenServer ts;
  Authenticator auth("127.0.0.1:5000", std::nullopt);
  http::Client client;
  std::string challenge = "Bearer realm=\"" + ts.server->url() +
                          "/token\",service=\"test-registry\",scope=\"repository:a/b:pull\"";
  EXPECT_EQ(auth.authorization("repository:a/b:pull"), "");
  ASSERT_TRUE(
      auth.on_unauthorized(client, unauthorized(challenge), "repository:a/b:pull", "a/b").ok());
  EXPECT_EQ(auth.authorization("repository:a/b:pull"), "Bearer tok-repository:a/b:pull");
  EXPECT_EQ(auth.authorization("repository:c:pull"), "");
  ASSERT_EQ(ts.seen.size(), 1u);
  EXPECT_EQ(ts.seen[0].path(), "/token");
  EXPECT_EQ(ts.seen[0].query(), "service=test-registry&scope=repository%3Aa%2Fb%3Apull");
  EXPECT_FALSE(ts.seen[0].headers.has("Authorization"));
}

TEST(ImageAuthTest, SendsCredentialsToTheTokenServerAndReportsRefusal) {
  TokenServer ts;
  ts.required_basic = "Basic " + base64_encode("alice:right");
  http::Client client;
  std::string challenge = "Bearer realm=\"" + ts.server->url() + "/token\",service=\"s\"";
  Authenticator good("127.0.0.1:5000", Credentials{"alice", "right"});
  ASSERT_TRUE(good.on_unauthorized(client, unauthorized(challenge), "repository:x:pull", "x").ok());
  EXPECT_EQ(good.authorization("repository:x:pull"), "Bearer tok-repository:x:pull");

  Authenticator wrong("127.0.0.1:5000", Credentials{"alice", "wrong"});
  Status st = wrong.on_unauthorized(client, unauthorized(challenge), "repository:x:pull", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(st.error().message(), "authentication failed for '127.0.0.1:5000/x': token server '" +
                                      ts.server->url() +
                                      "/token' refused the credentials of user 'alice' (401)");
}

TEST(ImageAuthTest, BasicChallengeUsesCredentialsOrSaysTheyAreNeeded) {
  http::Client client;
  Authenticator with("r:5000", Credentials{"u", "p"});
  ASSERT_TRUE(
      with.on_unauthorized(client, unauthorized("Basic realm=\"reg\""), "repository:x:pull", "x")
          .ok());
  EXPECT_EQ(with.authorization("repository:x:pull"), "Basic " + base64_encode("u:p"));
  Authenticator without("r:5000", std::nullopt);
  Status st = without.on_unauthorized(client, unauthorized("Basic realm=\"reg\""),
                                      "repository:x:pull", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(st.error().message().find("authentication required for 'r:5000/x'"), std::string::npos);
}

}  // namespace
}  // namespace gantry::runtime::image
