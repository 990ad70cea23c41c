// `gantry runtime list`: runc's table, or a JSON array of states.
#include <sys/stat.h>

#include <string_view>

#include "common/file.h"
#include "common/text_table.h"
#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

namespace {

// The name of `uid` in /etc/passwd. Read directly, as runc does, rather than through NSS: the
// runtime is a static executable and must not load NSS modules.
std::string user_name(uid_t uid, const std::string& passwd) {
  size_t start = 0;
  while (start < passwd.size()) {
    size_t end = passwd.find('\n', start);
    if (end == std::string::npos) end = passwd.size();
    std::string_view line(passwd.data() + start, end - start);
    start = end + 1;
    // name:password:uid:...
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    size_t c3 = c2 == std::string_view::npos ? c2 : line.find(':', c2 + 1);
    if (c3 == std::string_view::npos) continue;
    if (line.substr(c2 + 1, c3 - c2 - 1) == std::to_string(uid)) {
      return std::string(line.substr(0, c1));
    }
  }
  return "#" + std::to_string(uid);
}

std::string owner_of(const std::string& path, const std::string& passwd) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  return user_name(st.st_uid, passwd);
}

}  // namespace

Result<std::string> list(const RuntimeOptions& rt, ListFormat format) {
  StateStore store(rt.root);
  GANTRY_ASSIGN_OR_RETURN(auto ids, store.ids());
  std::vector<std::vector<std::string>> rows;
  Json array = Json::array();
  auto passwd_or = read_file("/etc/passwd");
  std::string passwd = passwd_or.ok() ? *passwd_or : "";
  for (const auto& id : ids) {
    auto c = open_container(store, id);
    if (!c.ok()) {
      if (c.error().code() == ErrorCode::kNotFound) continue;  // deleted meanwhile
      return std::move(c).error();
    }
    const ContainerState& s = c->state;
    bool alive = s.status == ContainerStatus::kCreated || s.status == ContainerStatus::kRunning;
    std::string owner = owner_of(store.dir(id), passwd);
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
  return format_table({"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}, rows, 4);
}

}  // namespace gantry::runtime::oci_cli
