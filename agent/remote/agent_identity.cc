#include "agent/remote/agent_identity.h"

#include <sys/stat.h>

#include <cstdio>

#include "common/file.h"
#include "common/json.h"

namespace gantry::agent {

std::string identity_path(const std::string& state_dir) {
  return join_path(state_dir, "agent.json");
}

Result<std::optional<AgentIdentity>> load_identity(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<AgentIdentity>{};
    return sys_error("stat '" + path + "'");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Error(ErrorCode::kPermissionDenied,
                 "agent token file '" + path + "' is accessible by others (mode " + mode +
                     "); it holds a secret: chmod 600 it, or delete it to register again");
  }
  GANTRY_ASSIGN_OR_RETURN(Json j, read_json_file(path));
  AgentIdentity id;
  auto field = [&](const char* name, std::string& out) -> Status {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "agent token file '" + path + "': field '" + name +
                       "' is missing or not a non-empty string");
    }
    out = it->get<std::string>();
    return ok_status();
  };
  if (!j.is_object()) {
    return Error(ErrorCode::kInvalidArgument,
                 "agent token file '" + path + "': not a JSON object");
  }
  GANTRY_TRY(field("id", id.id));
  GANTRY_TRY(field("token", id.token));
  GANTRY_TRY(field("controller", id.controller));
  if (auto it = j.find("name"); it != j.end() && it->is_string()) id.name = it->get<std::string>();
  return std::optional<AgentIdentity>(std::move(id));
}

Status save_identity(const std::string& path, const AgentIdentity& identity) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    if (!is_directory(dir)) GANTRY_TRY(make_dirs(dir, 0700));
  }
  Json j = {{"id", identity.id},
            {"token", identity.token},
            {"controller", identity.controller},
            {"name", identity.name}};
  return write_file_atomic(path, j.dump(2) + "\n", 0600);
}

}  // namespace gantry::agent
