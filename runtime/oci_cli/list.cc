// `gantry runtime list`: runc's table, or a JSON array of states.
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>

#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

namespace {

std::string owner_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  struct passwd pw, *found = nullptr;
  char buf[1024];
  if (::getpwuid_r(st.st_uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "#" + std::to_string(st.st_uid);
}

}  // namespace

Result<std::string> list(const RuntimeOptions& rt, ListFormat format) {
  StateStore store(rt.root);
  GANTRY_ASSIGN_OR_RETURN(auto ids, store.ids());
  std::vector<std::vector<std::string>> rows = {
      {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  Json array = Json::array();
  for (const auto& id : ids) {
    auto c = open_container(store, id);
    if (!c.ok()) {
      if (c.error().code() == ErrorCode::kNotFound) continue;  // deleted meanwhile
      return std::move(c).error();
    }
    const ContainerState& s = c->state;
    bool alive = s.status == ContainerStatus::kCreated || s.status == ContainerStatus::kRunning;
    std::string owner = owner_of(store.dir(id));
    if (format == ListFormat::kJson) {
      Json j = oci_state_json(s);
      j["pid"] = alive ? s.pid : 0;
      j["created"] = s.created;
      j["owner"] = owner;
      array.push_back(std::move(j));
    } else {
      rows.push_back({id, std::to_string(alive ? s.pid : 0), std::string(status_name(s.status)),
                      s.bundle, s.created, owner});
    }
  }
  if (format == ListFormat::kJson) return array.dump() + "\n";
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 4, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace gantry::runtime::oci_cli
