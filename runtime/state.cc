#include "runtime/state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>

#include "common/file.h"
#include "common/scratch_file.h"
#include "runtime/paths.h"

namespace gantry::runtime {

namespace {

Error no_such_container(std::string_view id) {
  return Error(ErrorCode::kNotFound, "container '" + std::string(id) + "' does not exist");
}

}  // namespace

std::string_view status_name(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::kCreating: return "creating";
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kStopped: return "stopped";
  }
  return "unknown";
}

Result<ContainerStatus> parse_status(std::string_view name) {
  for (auto s : {ContainerStatus::kCreating, ContainerStatus::kCreated, ContainerStatus::kRunning,
                 ContainerStatus::kStopped}) {
    if (status_name(s) == name) return s;
  }
  return Error(ErrorCode::kInvalidArgument, "unknown container status '" + std::string(name) + "'");
}

Json oci_state_json(const ContainerState& state) {
  Json j = {{"ociVersion", state.oci_version},
            {"id", state.id},
            {"status", status_name(state.status)},
            {"bundle", state.bundle}};
  // pid only while the init exists: not once stopped (the number may belong to another
  // process by then), but already while creating, for prestart and createRuntime hooks.
  if (state.pid > 0 && state.status != ContainerStatus::kStopped) {
    j["pid"] = state.pid;
  }
  if (!state.annotations.empty()) j["annotations"] = state.annotations;
  return j;
}

Json state_file_json(const ContainerState& state) {
  Json j = {{"ociVersion", state.oci_version},
            {"id", state.id},
            {"status", status_name(state.status)},
            {"pid", state.pid},
            {"bundle", state.bundle},
            {"annotations", state.annotations},
            {"gantry",
             {{"initStartTime", state.init_start_time},
              {"cgroupPath", state.cgroup_path},
              {"created", state.created}}}};
  if (!state.config.is_null()) j["config"] = state.config;
  return j;
}

Result<ContainerState> parse_state_file(const Json& json, std::string_view source) {
  auto bad = [&](const std::string& what) {
    return Error(ErrorCode::kInternal, std::string(source) + ": " + what);
  };
  try {
    if (!json.is_object()) return bad("expected an object");
    ContainerState s;
    s.oci_version = json.at("ociVersion").get<std::string>();
    s.id = json.at("id").get<std::string>();
    GANTRY_ASSIGN_OR_RETURN(s.status, parse_status(json.at("status").get<std::string>()));
    s.pid = json.at("pid").get<pid_t>();
    s.bundle = json.at("bundle").get<std::string>();
    s.annotations = json.at("annotations").get<std::map<std::string, std::string>>();
    const Json& g = json.at("gantry");
    s.init_start_time = g.at("initStartTime").get<uint64_t>();
    s.cgroup_path = g.at("cgroupPath").get<std::string>();
    s.created = g.at("created").get<std::string>();
    if (auto it = json.find("config"); it != json.end()) s.config = *it;
    return s;
  } catch (const Json::exception& e) {
    return bad(std::string("malformed state: ") + e.what());
  }
}

Result<ProcessInfo> parse_proc_stat(std::string_view text) {
  // "pid (comm) S ppid ..." — comm may contain ") ", so split at the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) {
    return Error(ErrorCode::kInvalidArgument, "malformed /proc stat line");
  }
  std::string_view rest = text.substr(close + 2);  // starts at field 3 (state)
  ProcessInfo info;
  info.state = rest[0];
  // Field 22 (starttime) is the 20th field from field 3.
  int field = 3;
  size_t pos = 0;
  while (field < 22) {
    pos = rest.find(' ', pos);
    if (pos == std::string_view::npos) {
      return Error(ErrorCode::kInvalidArgument, "malformed /proc stat line: too few fields");
    }
    ++pos;
    ++field;
  }
  size_t end = rest.find(' ', pos);
  std::string_view value = rest.substr(pos, end == std::string_view::npos ? rest.size() - pos
                                                                          : end - pos);
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), info.start_time);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return Error(ErrorCode::kInvalidArgument, "malformed /proc stat line: bad start time");
  }
  return info;
}

std::optional<ProcessInfo> probe_process(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok()) return std::nullopt;
  auto info = parse_proc_stat(*text);
  if (!info.ok()) return std::nullopt;
  return *info;
}

ContainerStatus derive_status(const ContainerState& stored, const std::optional<ProcessInfo>& init,
                              bool exec_fifo_exists) {
  if (stored.status == ContainerStatus::kCreating && stored.pid <= 0) {
    return ContainerStatus::kCreating;
  }
  if (!init || init->state == 'Z' || init->state == 'X' ||
      init->start_time != stored.init_start_time) {
    return ContainerStatus::kStopped;
  }
  return exec_fifo_exists ? ContainerStatus::kCreated : ContainerStatus::kRunning;
}

std::string StateStore::dir(std::string_view id) const {
  return paths::container_dir(root_, id);
}

Status StateStore::reserve(std::string_view id) const {
  GANTRY_TRY(make_dirs(root_, 0711));
  std::string d = dir(id);
  if (::mkdir(d.c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return Error(ErrorCode::kAlreadyExists, "container '" + std::string(id) + "' already exists");
    }
    return sys_error("mkdir '" + d + "'");
  }
  return ok_status();
}

Result<UniqueFd> StateStore::lock(std::string_view id) const {
  std::string d = dir(id);
  std::string path = paths::lock_file(d);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) {
    if (errno == ENOENT) return no_such_container(id);
    return sys_error("open '" + path + "'");
  }
  // A POSIX record lock, not flock(): it belongs to this process and is not inherited by the
  // container's init, which is cloned while create holds the lock and outlives create.
  struct flock lk = {};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  while (::fcntl(fd.get(), F_SETLKW, &lk) != 0) {
    if (errno != EINTR) return sys_error("lock '" + path + "'");
  }
  // delete may have removed the directory while we waited for the lock.
  if (!is_directory(d)) return no_such_container(id);
  return fd;
}

Status StateStore::save(const ContainerState& state) const {
  // No fsync: the state describes processes that a reboot ends, so it need not survive one
  // (runc and crun do not sync theirs either).
  return write_scratch_file(paths::state_file(dir(state.id)), state_file_json(state).dump(2), 0600);
}

Result<ContainerState> StateStore::load(std::string_view id) const {
  std::string d = dir(id);
  if (!is_directory(d)) return no_such_container(id);
  std::string file = paths::state_file(d);
  auto text = read_file(file);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) {
      ContainerState creating;
      creating.id = std::string(id);
      creating.status = ContainerStatus::kCreating;
      return creating;
    }
    return std::move(text).error();
  }
  GANTRY_ASSIGN_OR_RETURN(Json json, parse_json(*text, "'" + file + "'"));
  GANTRY_ASSIGN_OR_RETURN(ContainerState state, parse_state_file(json, "'" + file + "'"));
  state.status = derive_status(state, probe_process(state.pid),
                               path_exists(paths::exec_fifo(d)));
  return state;
}

Result<std::vector<std::string>> StateStore::ids() const {
  if (!is_directory(root_)) return std::vector<std::string>{};
  GANTRY_ASSIGN_OR_RETURN(auto names, list_dir(root_));
  std::vector<std::string> out;
  for (auto& n : names) {
    // Dot names (the seccomp cache) are never container ids.
    if (!n.empty() && n[0] != '.' && is_directory(dir(n))) out.push_back(std::move(n));
  }
  return out;
}

Status StateStore::remove(std::string_view id) const { return remove_all(dir(id)); }

}  // namespace gantry::runtime
