#include "agent/remote/client_config.h"

#include <sys/stat.h>

#include <cstdio>

#include "common/file.h"
#include "common/json.h"

namespace gantry::agent {

std::string client_config_path(
    const std::function<std::optional<std::string>(const char*)>& getenv) {
  if (auto p = getenv("GANTRY_CONFIG"); p && !p->empty()) return *p;
  if (auto x = getenv("XDG_CONFIG_HOME"); x && !x->empty()) return *x + "/gantry/config.json";
  if (auto h = getenv("HOME"); h && !h->empty()) return *h + "/.config/gantry/config.json";
  return "";
}

Result<ClientSettings> resolve_client_settings(
    const std::string& controller_flag, const std::string& token_flag,
    const std::function<std::optional<std::string>(const char*)>& getenv) {
  ClientSettings s;
  s.controller = controller_flag;
  s.token = token_flag;
  if (s.controller.empty()) s.controller = getenv("GANTRY_CONTROLLER").value_or("");
  if (s.token.empty()) s.token = getenv("GANTRY_TOKEN").value_or("");
  std::string path = client_config_path(getenv);
  if ((s.controller.empty() || s.token.empty()) && !path.empty() && path_exists(path)) {
    GANTRY_ASSIGN_OR_RETURN(Json j, read_json_file(path));
    if (!j.is_object()) {
      return Error(ErrorCode::kInvalidArgument, "config file '" + path + "': not a JSON object");
    }
    for (const char* key : {"controller", "token"}) {
      if (j.contains(key) && !j[key].is_string()) {
        return Error(ErrorCode::kInvalidArgument,
                     "config file '" + path + "': field '" + key + "' is not a string");
      }
    }
    if (s.token.empty() && j.contains("token")) {
      struct stat st;
      if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
        return Error(ErrorCode::kPermissionDenied,
                     "config file '" + path + "' holds a token but is accessible by others (mode " +
                         mode + "): chmod 600 it");
      }
      s.token = j["token"].get<std::string>();
    }
    if (s.controller.empty() && j.contains("controller"))
      s.controller = j["controller"].get<std::string>();
  }
  std::string where = path.empty() ? "" : ", or put it in '" + path + "'";
  if (s.controller.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "no controller: pass --controller URL, set GANTRY_CONTROLLER" + where);
  }
  if (s.token.empty()) {
    return Error(ErrorCode::kUnauthenticated,
                 "no token: pass --token TOKEN, set GANTRY_TOKEN" + where +
                     " (the controller's admin token is in its data dir, 'admin.token')");
  }
  return s;
}

}  // namespace gantry::agent
