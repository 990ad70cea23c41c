#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/http/message.h"

namespace gantry::http {
namespace {

TEST(HttpHeadersTest, NamesAreCaseInsensitiveAndKeepRepeats) {
  Headers h;
  h.add("WWW-Authenticate", "Bearer realm=\"a\"");
  h.add("www-authenticate", "Basic realm=\"b\"");
  h.add("Content-Type", "text/plain");
  EXPECT_EQ(h.get("content-type"), "text/plain");
  EXPECT_EQ(h.get_all("Www-Authenticate").size(), 2u);
  h.set("CONTENT-TYPE", "application/json");
  EXPECT_EQ(h.get_all("content-type"), std::vector<std::string>{"application/json"});
  h.remove("www-AUTHENTICATE");
  EXPECT_FALSE(h.has("WWW-Authenticate"));
  EXPECT_FALSE(h.get("missing").has_value());
}

TEST(HttpUrlTest, ParsesSchemeHostPortAndTarget) {
  auto u = parse_url("https://Registry.Example.com:5443/v2/x/manifests/latest?n=1#frag");
  ASSERT_TRUE(u.ok()) << u.error().message();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "registry.example.com");
  EXPECT_EQ(u->port, 5443);
  EXPECT_EQ(u->target, "/v2/x/manifests/latest?n=1");
  EXPECT_EQ(u->authority(), "registry.example.com:5443");

  auto d = parse_url("http://127.0.0.1");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->target, "/");
  EXPECT_EQ(d->authority(), "127.0.0.1");

  auto v6 = parse_url("http://[::1]:8080/a");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->authority(), "[::1]:8080");
  EXPECT_EQ(v6->str(), "http://[::1]:8080/a");
}

TEST(HttpUrlTest, RejectsMalformedUrlsNamingTheProblem) {
  EXPECT_NE(parse_url("ftp://x/").error().message().find("not http or https"), std::string::npos);
  EXPECT_NE(parse_url("x/y").error().message().find("no scheme"), std::string::npos);
  EXPECT_NE(parse_url("http://h:99999/").error().message().find("invalid port '99999'"),
            std::string::npos);
  EXPECT_NE(parse_url("http://:80/").error().message().find("no host"), std::string::npos);
  EXPECT_FALSE(parse_url("http://u:p@h/").ok());
  EXPECT_FALSE(parse_url("http://h/a b").ok());
}

TEST(HttpUrlTest, ResolvesRedirectLocations) {
  auto base = *parse_url("http://a:5000/v2/repo/blobs/sha256:1?x=1");
  EXPECT_EQ(resolve_url(base, "https://cdn.example/b?sig=2")->str(), "https://cdn.example/b?sig=2");
  EXPECT_EQ(resolve_url(base, "//other:81/p")->str(), "http://other:81/p");
  EXPECT_EQ(resolve_url(base, "/abs/path")->str(), "http://a:5000/abs/path");
  EXPECT_EQ(resolve_url(base, "sibling")->str(), "http://a:5000/v2/repo/blobs/sibling");
  EXPECT_EQ(resolve_url(base, "../up?q=1")->str(), "http://a:5000/v2/repo/up?q=1");
  EXPECT_EQ(resolve_url(base, "../../../../../x")->str(), "http://a:5000/x");
  EXPECT_EQ(resolve_url(base, "?y=2")->str(), "http://a:5000/v2/repo/blobs/sha256:1?y=2");
}

TEST(HttpUrlTest, OriginComparesSchemeHostAndPort) {
  auto a = *parse_url("http://h:1/x");
  EXPECT_TRUE(a.same_origin(*parse_url("http://H:1/y")));
  EXPECT_FALSE(a.same_origin(*parse_url("http://h:2/x")));
  EXPECT_FALSE(a.same_origin(*parse_url("https://h:1/x")));
}

TEST(HttpQueryTest, EncodesAndDecodes) {
  EXPECT_EQ(url_encode("repository:lib/busybox:pull,push"),
            "repository%3Alib%2Fbusybox%3Apull%2Cpush");
  auto q = parse_query("scope=repository%3Aa%2Fb%3Apull&service=reg+istry&flag&empty=");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"scope", "repository:a/b:pull"}));
  EXPECT_EQ(q[1].second, "reg istry");
  EXPECT_EQ(q[2].first, "flag");
  EXPECT_EQ(q[3].second, "");
  EXPECT_FALSE(url_decode("%4").ok());
  EXPECT_FALSE(url_decode("%zz").ok());
}

TEST(Base64Test, RoundTripsBothAlphabets) {
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(base64_encode("a"), "YQ==");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(*base64_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(*base64_decode("+/8="), "\xfb\xff");
  EXPECT_EQ(*base64_decode("YQ=="), "a");
  EXPECT_EQ(*base64_decode(""), "");
  auto bad = base64_decode("YQ*=");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("offset 2"), std::string::npos);
  EXPECT_FALSE(base64_decode("Y").ok());
}

}  // namespace
}  // namespace gantry::http
