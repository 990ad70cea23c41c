#include "runtime/image/auth.h"

#include <algorithm>
#include <cstdlib>

#include "common/base64.h"
#include "common/file.h"
#include "common/json.h"
#include "common/logging.h"

namespace gantry::runtime::image {

namespace {

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view text) : s_(text) {}

  Status parse(std::vector<Challenge>& out) {
    skip_separators();
    while (pos_ < s_.size()) {
      Challenge ch;
      std::string scheme = token();
      if (scheme.empty()) return bad("expected an auth scheme");
      ch.scheme = lower(scheme);
      bool first = true;
      for (;;) {
        skip_spaces();
        if (pos_ >= s_.size()) break;
        if (!first) {
          if (s_[pos_] != ',') return bad("expected ',' between parameters");
          skip_separators();
          if (pos_ >= s_.size()) break;
        }
        size_t mark = pos_;
        std::string name = token();
        if (name.empty()) return bad("expected a parameter name");
        skip_spaces();
        if (pos_ >= s_.size() || s_[pos_] != '=') {
          if (first) {
            // A token68 credential (e.g. Negotiate): not used by registries; skip it.
            first = false;
            continue;
          }
          pos_ = mark;  // the next challenge's scheme
          break;
        }
        first = false;
        ++pos_;  // '='
        skip_spaces();
        std::string value;
        if (pos_ < s_.size() && s_[pos_] == '"') {
          GANTRY_TRY(quoted(value));
        } else {
          value = bare_value();
        }
        ch.params[lower(name)] = value;
      }
      out.push_back(std::move(ch));
      skip_separators();
    }
    return ok_status();
  }

 private:
  Error bad(std::string_view what) const {
    return Error(ErrorCode::kInvalidArgument,
                 "www-authenticate: " + std::string(what) + " at offset " + std::to_string(pos_));
  }
  void skip_spaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  void skip_separators() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == ',')) ++pos_;
  }
  std::string token() {
    size_t start = pos_;
    while (pos_ < s_.size() && is_tchar(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  // Unquoted values are tokens by the RFC; realms like https://x are sent bare in practice.
  std::string bare_value() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != ' ' && s_[pos_] != '\t') ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  Status quoted(std::string& value) {
    size_t start = pos_;
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return ok_status();
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        c = s_[pos_++];
      }
      value += c;
    }
    pos_ = start;
    return bad("unterminated quoted string");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Docker's config keys: "host", "https://host", "http://host/v1/", ... → "host".
std::string config_key_host(std::string_view key) {
  size_t sep = key.find("://");
  if (sep != std::string_view::npos) key = key.substr(sep + 3);
  key = key.substr(0, key.find('/'));
  return lower(key);
}

std::string quote_error_body(const std::string& body) {
  std::string text = body.substr(0, 300);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

Result<std::vector<Challenge>> parse_challenges(const std::vector<std::string>& values) {
  std::vector<Challenge> out;
  for (const auto& v : values) {
    ChallengeParser p(v);
    GANTRY_TRY(p.parse(out));
  }
  return out;
}

std::string default_docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return join_path(dir, "config.json");
  }
  const char* home = std::getenv("HOME");
  return join_path(home != nullptr ? home : "/root", ".docker/config.json");
}

Result<std::optional<Credentials>> parse_docker_config(std::string_view json,
                                                       std::string_view registry,
                                                       std::string_view source) {
  GANTRY_ASSIGN_OR_RETURN(Json doc, parse_json(json, source));
  auto where = [&](const std::string& key) {
    return std::string(source) + ": auths['" + key + "']";
  };
  if (!doc.is_object()) {
    return Error(ErrorCode::kInvalidArgument, std::string(source) + ": not a json object");
  }
  auto auths = doc.find("auths");
  if (auths == doc.end()) return std::optional<Credentials>();
  if (!auths->is_object()) {
    return Error(ErrorCode::kInvalidArgument, std::string(source) + ": auths is not an object");
  }
  std::string want = lower(registry);
  std::vector<std::string> aliases = {want};
  if (want == "docker.io" || want == "registry-1.docker.io" || want == "index.docker.io") {
    aliases = {"docker.io", "index.docker.io", "registry-1.docker.io"};
  }
  for (const auto& [key, entry] : auths->items()) {
    std::string host = config_key_host(key);
    if (std::find(aliases.begin(), aliases.end(), host) == aliases.end()) continue;
    if (!entry.is_object()) {
      return Error(ErrorCode::kInvalidArgument, where(key) + ": not an object");
    }
    Credentials creds;
    if (auto a = entry.find("auth");
        a != entry.end() && a->is_string() && !a->get<std::string>().empty()) {
      auto decoded = base64_decode(a->get<std::string>());
      if (!decoded.ok()) return std::move(decoded).error().with_context(where(key) + ".auth");
      size_t colon = decoded->find(':');
      if (colon == std::string::npos) {
        return Error(ErrorCode::kInvalidArgument,
                     where(key) + ".auth: not base64 of 'username:password'");
      }
      creds.username = decoded->substr(0, colon);
      creds.password = decoded->substr(colon + 1);
    } else {
      auto str = [&](const char* name) -> Result<std::string> {
        auto it = entry.find(name);
        if (it == entry.end()) return std::string();
        if (!it->is_string()) {
          return Error(ErrorCode::kInvalidArgument, where(key) + "." + name + ": not a string");
        }
        return it->get<std::string>();
      };
      GANTRY_ASSIGN_OR_RETURN(creds.username, str("username"));
      GANTRY_ASSIGN_OR_RETURN(creds.password, str("password"));
      GANTRY_ASSIGN_OR_RETURN(std::string identity, str("identitytoken"));
      if (creds.empty() && !identity.empty()) {
        creds.username = "<token>";
        creds.password = identity;
      }
    }
    if (creds.empty()) continue;  // an entry managed by a credential helper
    return std::optional<Credentials>(std::move(creds));
  }
  return std::optional<Credentials>();
}

Result<std::optional<Credentials>> load_docker_credentials(const std::string& path,
                                                           std::string_view registry) {
  if (!path_exists(path)) return std::optional<Credentials>();
  GANTRY_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_docker_config(text, registry, path);
}

Authenticator::Authenticator(std::string registry, std::optional<Credentials> credentials)
    : registry_(std::move(registry)), credentials_(std::move(credentials)) {}

std::string Authenticator::authorization(const std::string& scope) const {
  std::lock_guard lock(mu_);
  auto it = by_scope_.find(scope);
  if (it != by_scope_.end()) return it->second;
  return basic_;
}

Status Authenticator::on_unauthorized(http::Client& client, const http::ClientResponse& response,
                                      const std::string& scope, const std::string& repository) {
  std::string target = registry_ + "/" + repository;
  auto challenges = parse_challenges(response.headers.get_all("WWW-Authenticate"));
  if (!challenges.ok()) {
    return std::move(challenges).error().with_context("authenticate to '" + target + "'");
  }
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const auto& c : *challenges) {
    if (c.scheme == "bearer" && bearer == nullptr) bearer = &c;
    if (c.scheme == "basic" && basic == nullptr) basic = &c;
  }
  if (bearer != nullptr) return fetch_token(client, *bearer, scope, repository);
  if (basic != nullptr) {
    if (!credentials_) {
      return Error(ErrorCode::kUnauthenticated,
                   "authentication required for '" + target +
                       "': the registry asks for a username and password (--username, "
                       "--password-stdin or docker login)");
    }
    std::string header =
        "Basic " + base64_encode(credentials_->username + ":" + credentials_->password);
    std::lock_guard lock(mu_);
    basic_ = header;
    return ok_status();
  }
  return Error(ErrorCode::kUnauthenticated,
               "authentication failed for '" + target +
                   "': 401 without a Bearer or Basic challenge we can answer");
}

Status Authenticator::fetch_token(http::Client& client, const Challenge& challenge,
                                  const std::string& scope, const std::string& repository) {
  std::string target = registry_ + "/" + repository;
  auto realm_it = challenge.params.find("realm");
  if (realm_it == challenge.params.end() || realm_it->second.empty()) {
    return Error(ErrorCode::kUnauthenticated,
                 "authentication failed for '" + target + "': bearer challenge has no realm");
  }
  const std::string& realm = realm_it->second;
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  std::string query;
  if (auto s = challenge.params.find("service"); s != challenge.params.end()) {
    query += "service=" + http::url_encode(s->second);
  }
  auto add_scope = [&](const std::string& sc) {
    if (!query.empty()) query += "&";
    query += "scope=" + http::url_encode(sc);
  };
  add_scope(scope);
  if (auto s = challenge.params.find("scope"); s != challenge.params.end() && s->second != scope) {
    add_scope(s->second);
  }
  http::ClientRequest req{.url = url + query};
  if (credentials_) {
    if (credentials_->username == "<token>") {
      // An identity token is exchanged with OAuth2 (POST form) — not what plain registries
      // use, so send it as the password of a Basic pair as docker does for refresh tokens.
      req.headers.set("Authorization",
                      "Basic " + base64_encode("<token>:" + credentials_->password));
    } else {
      req.headers.set("Authorization", "Basic " + base64_encode(credentials_->username + ":" +
                                                                credentials_->password));
    }
  }
  auto resp = client.send(req, 1 << 20);
  if (!resp.ok()) {
    return std::move(resp).error().with_context("authenticate to '" + target +
                                                "': fetch token from '" + realm + "'");
  }
  if (resp->status == 401 || resp->status == 403) {
    std::string who = credentials_
                          ? "refused the credentials of user '" + credentials_->username + "'"
                          : "refused anonymous access";
    return Error(ErrorCode::kUnauthenticated, "authentication failed for '" + target +
                                                  "': token server '" + realm + "' " + who + " (" +
                                                  std::to_string(resp->status) + ")");
  }
  if (resp->status != 200) {
    return Error(resp->status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kUnauthenticated,
                 "authentication failed for '" + target + "': token server '" + realm +
                     "' answered " + std::to_string(resp->status) + ": " +
                     quote_error_body(resp->body));
  }
  auto doc = parse_json(resp->body, "token response");
  if (!doc.ok()) return std::move(doc).error().with_context("authenticate to '" + target + "'");
  std::string token;
  for (const char* key : {"token", "access_token"}) {
    auto it = doc->find(key);
    if (it != doc->end() && it->is_string() && !it->get<std::string>().empty()) {
      token = it->get<std::string>();
      break;
    }
  }
  if (token.empty()) {
    return Error(ErrorCode::kUnauthenticated, "authentication failed for '" + target +
                                                  "': token response from '" + realm +
                                                  "' has no token");
  }
  std::string header = "Bearer " + token;
  std::lock_guard lock(mu_);
  by_scope_[scope] = header;
  return ok_status();
}

}  // namespace gantry::runtime::image
