#include <gtest/gtest.h>

#include "runtime/image/reference.h"

namespace gantry::runtime::image {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Reference parse_ok(std::string_view text) {
  auto r = parse_reference(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : Reference{};
}

TEST(ReferenceTest, BareNameIsDockerHubLibraryLatest) {
  Reference r = parse_ok("alpine");
  EXPECT_EQ(r.domain, "docker.io");
  EXPECT_EQ(r.path, "library/alpine");
  EXPECT_EQ(r.tag, "latest");
  EXPECT_EQ(r.digest, "");
  EXPECT_EQ(r.str(), "docker.io/library/alpine:latest");
  EXPECT_EQ(r.familiar(), "alpine:latest");
  EXPECT_EQ(r.registry_host(), "registry-1.docker.io");
}

TEST(ReferenceTest, NormalizesLikeDocker) {
  EXPECT_EQ(parse_ok("alpine:3.19").str(), "docker.io/library/alpine:3.19");
  EXPECT_EQ(parse_ok("team/app").str(), "docker.io/team/app:latest");
  EXPECT_EQ(parse_ok("docker.io/alpine").str(), "docker.io/library/alpine:latest");
  EXPECT_EQ(parse_ok("index.docker.io/library/alpine").str(), "docker.io/library/alpine:latest");
  EXPECT_EQ(parse_ok("docker.io/team/app:v1").familiar(), "team/app:v1");
  EXPECT_EQ(parse_ok("a/b/c/d").path, "a/b/c/d");
  EXPECT_EQ(parse_ok("my_app.v-2__x").path, "library/my_app.v-2__x");
  EXPECT_EQ(parse_ok("a---b").path, "library/a---b");
}

TEST(ReferenceTest, RegistriesWithPortsAndLocalhost) {
  Reference r = parse_ok("localhost:5000/x");
  EXPECT_EQ(r.domain, "localhost:5000");
  EXPECT_EQ(r.path, "x");
  EXPECT_EQ(r.tag, "latest");
  EXPECT_EQ(r.registry_host(), "localhost:5000");
  EXPECT_EQ(r.familiar(), "localhost:5000/x:latest");
  EXPECT_EQ(parse_ok("localhost/x").domain, "localhost");
  EXPECT_EQ(parse_ok("127.0.0.1:5000/a/b:tag").str(), "127.0.0.1:5000/a/b:tag");
  EXPECT_EQ(parse_ok("registry.example.com/team/app").domain, "registry.example.com");
  EXPECT_EQ(parse_ok("[::1]:5000/x:1").domain, "[::1]:5000");
  // A first component with uppercase is a registry host, not a path.
  EXPECT_EQ(parse_ok("Registry/x").domain, "Registry");
  // Without a slash, "name:5000" is a tag, as in Docker.
  EXPECT_EQ(parse_ok("localhost:5000").str(), "docker.io/library/localhost:5000");
}

TEST(ReferenceTest, DigestsWithAndWithoutTags) {
  Reference r = parse_ok("alpine@sha256:" + kHex);
  EXPECT_EQ(r.tag, "");
  EXPECT_EQ(r.digest, "sha256:" + kHex);
  EXPECT_EQ(r.str(), "docker.io/library/alpine@sha256:" + kHex);
  Reference both = parse_ok("localhost:5000/x:v2@sha256:" + kHex);
  EXPECT_EQ(both.tag, "v2");
  EXPECT_EQ(both.str(), "localhost:5000/x:v2@sha256:" + kHex);
}

TEST(ReferenceTest, RejectsMalformedWithClearMessages) {
  struct Case {
    std::string text, message;
  } cases[] = {
      {"", "image reference '': empty reference"},
      {"Alpine", "image reference 'Alpine': repository name must be lowercase"},
      {"team/App", "image reference 'team/App': repository name must be lowercase"},
      {"alpine:", "image reference 'alpine:': invalid tag ''"},
      {"alpine:-x", "image reference 'alpine:-x': invalid tag '-x'"},
      {"alpine:a" + std::string(128, 'b'), "invalid tag"},
      {"alpine@sha256:abc", "image reference 'alpine@sha256:abc': digest 'sha256:abc': "
                            "expected 64 lowercase hex digits"},
      {"alpine@md5:" + kHex.substr(0, 32), "unsupported algorithm 'md5'"},
      {"alpine@", "expected 'sha256:<hex>'"},
      {":tag", "image reference ':tag': missing repository name"},
      {"localhost:5000/", "missing repository path after the registry"},
      {"a//b", "image reference 'a//b': empty path component"},
      {"/a", "empty path component"},
      {"a/", "empty path component"},
      {"-a", "invalid path component '-a'"},
      {"a..b", "invalid path component 'a..b'"},
      {"a___b", "invalid path component 'a___b'"},
      {"a b", "contains whitespace"},
      {"exa_mple.com/x", "invalid registry 'exa_mple.com'"},
      {"host:port/x", "invalid registry 'host:port'"},
      {"host:123456/x", "invalid registry 'host:123456'"},
      {"-host.com/x", "invalid registry '-host.com'"},
      {kHex, "64-character hexadecimal names are reserved"},
      {"a/" + std::string(260, 'b'), "longer than 255 characters"},
  };
  for (const auto& c : cases) {
    auto r = parse_reference(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_NE(r.error().message().find(c.message), std::string::npos)
        << c.text << " gave: " << r.error().message();
  }
}

}  // namespace
}  // namespace gantry::runtime::image
