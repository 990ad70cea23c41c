// Plain HTTP messages and URLs shared by Gantry's HTTP client and server (common/http/client.h,
// common/http/server.h) and by everything above them: handlers, the registry client, the agent.
// No Boost.Beast types: those stay in the adapters. Header names compare case-insensitively and
// keep their order and repeats. Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace gantry::http {

// ASCII case-insensitive comparison (header names, auth schemes).
bool iequals(std::string_view a, std::string_view b);

class Headers {
 public:
  // The first value of `name`, or nullopt.
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> get_all(std::string_view name) const;
  bool has(std::string_view name) const;
  // Replaces every value of `name` by one.
  void set(std::string name, std::string value);
  void add(std::string name, std::string value);
  void remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// A request as a server handler sees it.
struct Request {
  std::string method = "GET";
  std::string target = "/";  // origin form: path and query, as sent
  Headers headers;
  std::string body;
  std::string remote_address;  // "ip:port" of the peer

  std::string_view path() const;   // target without the query
  std::string_view query() const;  // after '?', or empty
};

// A response body made piece by piece (sent chunked): each call returns the next piece; an empty
// string ends the body; an error aborts the connection. Called on a server thread.
using BodyProducer = std::function<Result<std::string>()>;

// A response as a server handler returns it.
struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  BodyProducer stream;  // when set, sent instead of `body`
};

Response text_response(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");

// The standard reason phrase for a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

// An absolute http(s) URL, split for connecting.
struct Url {
  std::string scheme;        // "http" or "https"
  std::string host;          // IPv6 literals without brackets
  uint16_t port = 0;         // always set; the scheme's default when the URL has none
  std::string target = "/";  // path and query; never empty

  bool is_https() const { return scheme == "https"; }
  bool default_port() const { return port == (is_https() ? 443 : 80); }
  // "host" or "host:port" (port only when not the default), brackets for IPv6: the Host header.
  std::string authority() const;
  std::string str() const;
  // Two URLs with the same origin share connections and credentials.
  bool same_origin(const Url& other) const;
};

// Parses "http[s]://host[:port][/path][?query]"; user info and fragments are refused/dropped.
Result<Url> parse_url(std::string_view text);

// Resolves a Location header value against the URL that answered with it: absolute URLs,
// scheme-relative ("//host/p"), absolute paths ("/p") and relative paths ("p", "../p").
Result<Url> resolve_url(const Url& base, std::string_view reference);

// Percent-encodes everything but unreserved characters (RFC 3986), for query components.
std::string url_encode(std::string_view text);
// Decodes %XX and '+' (as a space, form style).
Result<std::string> url_decode(std::string_view text);
// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}; malformed escapes keep the raw text.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

}  // namespace gantry::http
