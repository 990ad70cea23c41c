// Registry authentication: parsing `WWW-Authenticate` challenges (Bearer and Basic), credentials
// from the command line or Docker's config.json `auths`, and an Authenticator that turns a 401
// into an Authorization header: Basic from credentials, or a Bearer token fetched from the
// challenge's realm for `repository:<name>:pull` (anonymously or with credentials), cached per
// scope. Used by the registry client. Authenticator is thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/client.h"
#include "common/result.h"

namespace gantry::runtime::image {

struct Challenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lowercased: realm, service, scope, error
};

// Parses the challenges of one or more WWW-Authenticate values (RFC 7235: several challenges
// per value, quoted strings with escapes and commas). Malformed input is kInvalidArgument naming
// the offset: "www-authenticate: unterminated quoted string at offset 17".
Result<std::vector<Challenge>> parse_challenges(const std::vector<std::string>& values);

struct Credentials {
  std::string username;
  std::string password;  // or an identity (refresh) token when username is "<token>"
  bool empty() const { return username.empty() && password.empty(); }
};

// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
std::string default_docker_config_path();

// Credentials for `registry` ("host[:port]") from the text of a Docker config.json: its `auths`
// entry (keys may be "host", "https://host", "http://host/v1/"; docker.io is also found as
// "https://index.docker.io/v1/"), `auth` (base64 "user:password") or `username`/`password`.
// nullopt when there is no entry. `source` names the file in errors.
Result<std::optional<Credentials>> parse_docker_config(std::string_view json,
                                                       std::string_view registry,
                                                       std::string_view source);
// The same from a file; a missing file is nullopt.
Result<std::optional<Credentials>> load_docker_credentials(const std::string& path,
                                                           std::string_view registry);

class Authenticator {
 public:
  // `registry` is "host[:port]" (for messages and config lookups).
  Authenticator(std::string registry, std::optional<Credentials> credentials);

  // The Authorization header value to send for `scope`, or "" when none is known yet.
  std::string authorization(const std::string& scope) const;

  // Handles a 401 answer for a request within `scope` ("repository:team/app:pull"): picks the
  // challenge, and for Bearer fetches a token with `client` (the token endpoint gets
  // service and scope, and Basic credentials when there are some). Afterwards authorization()
  // has the new value. `repository` names the target in errors:
  //   "authentication failed for 'host/team/app': token server '…' refused the credentials".
  Status on_unauthorized(http::Client& client, const http::ClientResponse& response,
                         const std::string& scope, const std::string& repository);

  bool has_credentials() const { return credentials_.has_value(); }

 private:
  Status fetch_token(http::Client& client, const Challenge& challenge, const std::string& scope,
                     const std::string& repository);

  std::string registry_;
  std::optional<Credentials> credentials_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> by_scope_;  // scope → header value
  std::string basic_;                            // registry-wide Basic header, once challenged
};

}  // namespace gantry::runtime::image
