// Push webhooks from GitLab and GitHub: who sent the request (its headers), whether it carries
// the project's secret (GitLab: X-Gitlab-Token equal to it; GitHub: X-Hub-Signature-256, the
// HMAC-SHA256 of the body), and what it asks for (a pipeline for a ref at a commit, or nothing:
// a ping, a deleted branch, another event). PURE: the controller creates the pipeline.
// Errors: kUnauthenticated for a missing or wrong secret, kInvalidArgument for a bad body.
#pragma once

#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/result.h"

namespace gantry::controller {

enum class HookSender { kGitLab, kGitHub };

// What a verified hook asks for.
struct HookAction {
  HookSender sender = HookSender::kGitLab;
  bool create = false;   // a pipeline for ref_name at sha
  std::string ref;       // the full ref as pushed: "refs/heads/main", "refs/tags/v1"
  std::string ref_name;  // "main", "v1"
  bool tag = false;
  std::string sha;       // the commit after the push (40 hex)
  std::string ignored;   // when !create: why nothing is created ("ping", "branch deleted", ...)
};

// A secret a project may use: 1-256 printable ASCII characters (it travels in a header).
Status validate_webhook_secret(std::string_view secret);

// Checks the request's credentials against `secret` (empty: the project has none, so every
// request is refused), then reads the event. The body is read only once the sender proved it
// knows the secret.
Result<HookAction> interpret_push_hook(const http::Headers& headers, std::string_view body,
                                       std::string_view secret);

// The parts of a push event's JSON body (GitLab's and GitHub's share them): ref, before, after.
// `where` names the body in errors.
Result<HookAction> parse_push_event(std::string_view body, std::string_view where);

}  // namespace gantry::controller
