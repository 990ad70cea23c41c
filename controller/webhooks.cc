#include "controller/webhooks.h"

#include <algorithm>

#include "common/digest.h"
#include "common/json.h"

namespace gantry::controller {

namespace {

constexpr std::string_view kZeroSha = "0000000000000000000000000000000000000000";

bool is_sha(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Error unauthorized(std::string message) {
  return Error(ErrorCode::kUnauthenticated, std::move(message));
}

Error bad_body(std::string_view where, std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::string(where) + ": " + message);
}

Result<std::string> string_member(const Json& j, const char* name, std::string_view where) {
  if (!j.contains(name)) return bad_body(where, std::string("field '") + name + "' is missing");
  const Json& v = j.at(name);
  if (!v.is_string()) {
    return bad_body(where, std::string("field '") + name + "' must be a string, got " +
                               v.type_name());
  }
  return v.get<std::string>();
}

HookAction ignore(HookSender sender, std::string why) {
  HookAction a;
  a.sender = sender;
  a.ignored = std::move(why);
  return a;
}

}  // namespace

Status validate_webhook_secret(std::string_view secret) {
  if (secret.empty() || secret.size() > 256) {
    return Error(ErrorCode::kInvalidArgument,
                 "webhook secret: must be 1 to 256 characters, got " +
                     std::to_string(secret.size()));
  }
  for (char c : secret) {
    if (c < 0x21 || c > 0x7e) {
      return Error(ErrorCode::kInvalidArgument,
                   "webhook secret: only printable ASCII characters without spaces are allowed");
    }
  }
  return ok_status();
}

Result<HookAction> parse_push_event(std::string_view body, std::string_view where) {
  auto parsed = parse_json(body, where);
  if (!parsed.ok()) return Error(ErrorCode::kInvalidArgument, parsed.error().message());
  const Json& j = *parsed;
  if (!j.is_object()) {
    return bad_body(where, std::string("expected a JSON object, got ") + j.type_name());
  }
  HookAction a;
  GANTRY_ASSIGN_OR_RETURN(a.ref, string_member(j, "ref", where));
  GANTRY_ASSIGN_OR_RETURN(a.sha, string_member(j, "after", where));
  if (a.ref.rfind("refs/heads/", 0) == 0) {
    a.ref_name = a.ref.substr(11);
  } else if (a.ref.rfind("refs/tags/", 0) == 0) {
    a.ref_name = a.ref.substr(10);
    a.tag = true;
  } else {
    return bad_body(where, "field 'ref': '" + a.ref +
                               "' is neither refs/heads/<branch> nor refs/tags/<tag>");
  }
  if (a.ref_name.empty()) return bad_body(where, "field 'ref': '" + a.ref + "' names nothing");
  if (!is_sha(a.sha)) {
    return bad_body(where, "field 'after': '" + a.sha + "' is not a 40-digit hex commit id");
  }
  if (a.sha == kZeroSha) {
    a.ignored = std::string(a.tag ? "tag '" : "branch '") + a.ref_name + "' deleted";
    return a;
  }
  a.create = true;
  return a;
}

Result<HookAction> interpret_push_hook(const http::Headers& headers, std::string_view body,
                                       std::string_view secret) {
  auto gitlab_token = headers.get("X-Gitlab-Token");
  auto github_signature = headers.get("X-Hub-Signature-256");
  HookSender sender;
  if (gitlab_token) {
    sender = HookSender::kGitLab;
    if (secret.empty() || !constant_time_equals(*gitlab_token, secret)) {
      return unauthorized("webhook: X-Gitlab-Token does not match the project's webhook secret");
    }
  } else if (github_signature) {
    sender = HookSender::kGitHub;
    std::string_view sig = *github_signature;
    if (sig.rfind("sha256=", 0) != 0) {
      return unauthorized("webhook: X-Hub-Signature-256 must be 'sha256=<hex>'");
    }
    sig.remove_prefix(7);
    std::string got(sig);
    std::transform(got.begin(), got.end(), got.begin(),
                   [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; });
    if (secret.empty() || !constant_time_equals(got, hmac_sha256_hex(secret, body))) {
      return unauthorized(
          "webhook: X-Hub-Signature-256 is not the HMAC-SHA256 of the body with the project's "
          "webhook secret");
    }
  } else {
    return unauthorized(
        "webhook: no X-Gitlab-Token or X-Hub-Signature-256 header (set the project's webhook "
        "secret in the sender)");
  }

  if (sender == HookSender::kGitHub) {
    std::string event = headers.get("X-GitHub-Event").value_or("");
    if (event == "ping") return ignore(sender, "ping");
    if (event != "push") {
      return ignore(sender, "event '" + event + "' is not a push");
    }
    GANTRY_ASSIGN_OR_RETURN(HookAction a, parse_push_event(body, "GitHub push event"));
    a.sender = sender;
    return a;
  }
  std::string event = headers.get("X-Gitlab-Event").value_or("");
  if (event != "Push Hook" && event != "Tag Push Hook") {
    return ignore(sender, "event '" + event + "' is not a push");
  }
  GANTRY_ASSIGN_OR_RETURN(HookAction a, parse_push_event(body, "GitLab push event"));
  a.sender = sender;
  if (a.tag != (event == "Tag Push Hook")) {
    return bad_body("GitLab push event",
                    "X-Gitlab-Event '" + event + "' does not fit ref '" + a.ref + "'");
  }
  return a;
}

}  // namespace gantry::controller
