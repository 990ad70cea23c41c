// The agent's identity on disk: after its first registration an agent keeps the id and token the
// controller gave it in `<state dir>/agent.json` (mode 0600, readable by root only) and resumes
// with them on every later start, so the registration token is needed once. A file that others
// can read is refused, as ssh refuses a private key with loose permissions. Thread-safe (no state).
#pragma once

#include <optional>
#include <string>

#include "common/result.h"

namespace gantry::agent {

struct AgentIdentity {
  std::string id;          // the controller's id of this agent
  std::string token;       // the agent token (a bearer token for every protocol call)
  std::string controller;  // the controller URL it was issued by
  std::string name;
};

// `<state_dir>/agent.json`.
std::string identity_path(const std::string& state_dir);

// The stored identity, nullopt when the file does not exist. Errors: unreadable, malformed
// (naming the field), or readable/writable by group or others (kPermissionDenied, naming the
// mode and the fix).
Result<std::optional<AgentIdentity>> load_identity(const std::string& path);

// Writes atomically with mode 0600 (the directory is created 0700 when missing).
Status save_identity(const std::string& path, const AgentIdentity& identity);

}  // namespace gantry::agent
