#include "runtime/oci_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "common/file.h"
#include "runtime/capabilities.h"
#include "runtime/rlimits.h"
#include "runtime/seccomp/profile.h"

namespace gantry::runtime {

namespace {

constexpr std::array<std::string_view, 4> kSeccompFlags = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};

constexpr std::array<std::string_view, 8> kPropagations = {
    "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"};

template <typename Names>
bool one_of(const Names& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

// The seccomp profile's own action list leaves out SCMP_ACT_NOTIFY, which is valid OCI but
// unsupported: checked separately so the error says so.
bool known_seccomp_action(std::string_view action) {
  return action == "SCMP_ACT_NOTIFY" || one_of(known_seccomp_actions(), action);
}

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string index_path(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
std::string field_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// Walks a config document, naming the field path in every error.
class ConfigParser {
 public:
  explicit ConfigParser(std::string_view source) : source_(source) {}

  Error invalid(const std::string& path, std::string_view msg) const {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(source_) + ": " + path + ": " + std::string(msg));
  }
  Error unsupported(const std::string& path, std::string_view msg) const {
    return Error(ErrorCode::kUnimplemented,
                 std::string(source_) + ": " + path + ": " + std::string(msg));
  }

  // The member `key` of object `obj`, or nullptr when absent or null.
  static const Json* get(const Json& obj, std::string_view key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  Status object(const Json& j, const std::string& path) const {
    if (!j.is_object()) return type_error(j, path, "an object");
    return ok_status();
  }
  Status array(const Json& j, const std::string& path) const {
    if (!j.is_array()) return type_error(j, path, "an array");
    return ok_status();
  }
  Result<std::string> string(const Json& j, const std::string& path) const {
    if (!j.is_string()) return type_error(j, path, "a string");
    return j.get<std::string>();
  }
  Result<bool> boolean(const Json& j, const std::string& path) const {
    if (!j.is_boolean()) return type_error(j, path, "a boolean");
    return j.get<bool>();
  }
  template <typename T>
  Result<T> integer(const Json& j, const std::string& path) const {
    if (!j.is_number_integer()) return type_error(j, path, "an integer");
    if (j.is_number_unsigned()) {
      auto v = j.get<uint64_t>();
      if (!std::in_range<T>(v)) return out_of_range(path, std::to_string(v));
      return static_cast<T>(v);
    }
    auto v = j.get<int64_t>();
    if (!std::in_range<T>(v)) return out_of_range(path, std::to_string(v));
    return static_cast<T>(v);
  }
  Result<std::vector<std::string>> strings(const Json& j, const std::string& path) const {
    GANTRY_TRY(array(j, path));
    std::vector<std::string> out;
    for (size_t i = 0; i < j.size(); ++i) {
      GANTRY_ASSIGN_OR_RETURN(auto s, string(j[i], index_path(path, i)));
      out.push_back(std::move(s));
    }
    return out;
  }
  Result<std::map<std::string, std::string>> string_map(const Json& j,
                                                        const std::string& path) const {
    GANTRY_TRY(object(j, path));
    std::map<std::string, std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) {
      GANTRY_ASSIGN_OR_RETURN(auto v, string(it.value(), field_path(path, it.key())));
      out.emplace(it.key(), std::move(v));
    }
    return out;
  }

  // Optional-member helpers: leave `out` alone when the member is absent.
  Status opt_string(const Json& obj, std::string_view key, const std::string& path,
                    std::string& out) const {
    if (const Json* j = get(obj, key)) {
      GANTRY_ASSIGN_OR_RETURN(out, string(*j, field_path(path, key)));
    }
    return ok_status();
  }
  Status opt_bool(const Json& obj, std::string_view key, const std::string& path,
                  bool& out) const {
    if (const Json* j = get(obj, key)) {
      GANTRY_ASSIGN_OR_RETURN(out, boolean(*j, field_path(path, key)));
    }
    return ok_status();
  }
  template <typename T>
  Status opt_int(const Json& obj, std::string_view key, const std::string& path,
                 std::optional<T>& out) const {
    if (const Json* j = get(obj, key)) {
      GANTRY_ASSIGN_OR_RETURN(out, integer<T>(*j, field_path(path, key)));
    }
    return ok_status();
  }
  Status opt_strings(const Json& obj, std::string_view key, const std::string& path,
                     std::vector<std::string>& out) const {
    if (const Json* j = get(obj, key)) {
      GANTRY_ASSIGN_OR_RETURN(out, strings(*j, field_path(path, key)));
    }
    return ok_status();
  }
  // A field Gantry cannot honour: an error when present with a non-empty value.
  Status reject(const Json& obj, std::string_view key, const std::string& path,
                std::string_view why) const {
    const Json* j = get(obj, key);
    if (j == nullptr) return ok_status();
    // Json::empty() is false for every string, so strings are checked by their text.
    bool empty = j->is_string() ? j->get_ref<const std::string&>().empty()
                                : (j->is_array() || j->is_object()) && j->empty();
    if (j->is_boolean() && !j->get<bool>()) empty = true;
    if (empty) return ok_status();
    return unsupported(field_path(path, key), why);
  }

  Result<ContainerSpec> parse(const Json& config, const std::string& bundle) const;
  Status parse_process(const Json& j, Process& process) const;

 private:
  Error type_error(const Json& j, const std::string& path, std::string_view want) const {
    return invalid(path, "expected " + std::string(want) + ", got " + j.type_name());
  }
  Error out_of_range(const std::string& path, const std::string& v) const {
    return invalid(path, "value " + v + " out of range");
  }

  Status parse_root(const Json& j, const std::string& bundle, ContainerSpec& spec) const;
  Status parse_mounts(const Json& j, ContainerSpec& spec) const;
  Status parse_capabilities(const Json& j, const std::string& path, Capabilities& caps) const;
  Status parse_hooks(const Json& j, Hooks& hooks) const;
  Status parse_hook_list(const Json& j, const std::string& path, std::vector<Hook>& out) const;
  Status parse_linux(const Json& j, ContainerSpec& spec) const;
  Status parse_id_mappings(const Json& j, const std::string& path,
                           std::vector<IdMapping>& out) const;
  Status parse_devices(const Json& j, const std::string& path,
                       std::vector<DeviceNode>& out) const;
  Status parse_resources(const Json& j, const std::string& path, Resources& out) const;
  Result<Seccomp> parse_seccomp(const Json& j, const std::string& path) const;
  Status apply_gantry_annotations(ContainerSpec& spec) const;

  std::string_view source_;
};

bool is_absolute(std::string_view p) { return !p.empty() && p[0] == '/'; }

Status ConfigParser::parse_root(const Json& j, const std::string& bundle,
                                ContainerSpec& spec) const {
  GANTRY_TRY(object(j, "root"));
  const Json* path = get(j, "path");
  if (path == nullptr) return invalid("root.path", "required");
  GANTRY_ASSIGN_OR_RETURN(std::string p, string(*path, "root.path"));
  if (p.empty()) return invalid("root.path", "must not be empty");
  spec.root.path = is_absolute(p) ? p : join_path(bundle, p);
  GANTRY_TRY(opt_bool(j, "readonly", "root", spec.root.readonly));
  return ok_status();
}

Status ConfigParser::parse_mounts(const Json& j, ContainerSpec& spec) const {
  GANTRY_TRY(array(j, "mounts"));
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string path = index_path("mounts", i);
    const Json& m = j[i];
    GANTRY_TRY(object(m, path));
    Mount mount;
    const Json* dest = get(m, "destination");
    if (dest == nullptr) return invalid(field_path(path, "destination"), "required");
    GANTRY_ASSIGN_OR_RETURN(mount.destination, string(*dest, field_path(path, "destination")));
    if (!is_absolute(mount.destination)) {
      return invalid(field_path(path, "destination"),
                     "must be an absolute path, got " + q(mount.destination));
    }
    GANTRY_TRY(opt_string(m, "type", path, mount.type));
    GANTRY_TRY(opt_string(m, "source", path, mount.source));
    GANTRY_TRY(opt_strings(m, "options", path, mount.options));
    GANTRY_TRY(reject(m, "uidMappings", path, "id-mapped mounts are not supported"));
    GANTRY_TRY(reject(m, "gidMappings", path, "id-mapped mounts are not supported"));
    bool bind = mount.type == "bind" ||
                std::any_of(mount.options.begin(), mount.options.end(),
                            [](const std::string& o) { return o == "bind" || o == "rbind"; });
    if (bind && mount.source.empty()) {
      return invalid(field_path(path, "source"), "required for a bind mount");
    }
    spec.mounts.push_back(std::move(mount));
  }
  return ok_status();
}

Status ConfigParser::parse_capabilities(const Json& j, const std::string& path,
                                        Capabilities& caps) const {
  GANTRY_TRY(object(j, path));
  std::pair<const char*, std::vector<std::string>*> sets[] = {
      {"bounding", &caps.bounding},   {"effective", &caps.effective},
      {"inheritable", &caps.inheritable}, {"permitted", &caps.permitted},
      {"ambient", &caps.ambient}};
  for (auto& [key, out] : sets) {
    GANTRY_TRY(opt_strings(j, key, path, *out));
    for (size_t i = 0; i < out->size(); ++i) {
      if (!capability_from_name((*out)[i])) {
        return invalid(index_path(field_path(path, key), i),
                       "unknown capability " + q((*out)[i]));
      }
    }
  }
  return ok_status();
}

Status ConfigParser::parse_process(const Json& j, Process& process) const {
  const std::string path = "process";
  GANTRY_TRY(object(j, path));
  GANTRY_TRY(opt_bool(j, "terminal", path, process.terminal));
  if (const Json* cs = get(j, "consoleSize")) {
    const std::string p = "process.consoleSize";
    GANTRY_TRY(object(*cs, p));
    ConsoleSize size;
    const Json* h = get(*cs, "height");
    const Json* w = get(*cs, "width");
    if (h == nullptr) return invalid(p + ".height", "required");
    if (w == nullptr) return invalid(p + ".width", "required");
    GANTRY_ASSIGN_OR_RETURN(size.height, integer<uint32_t>(*h, p + ".height"));
    GANTRY_ASSIGN_OR_RETURN(size.width, integer<uint32_t>(*w, p + ".width"));
    process.console_size = size;
  }
  const Json* user = get(j, "user");
  if (user == nullptr) return invalid("process.user", "required");
  {
    const std::string p = "process.user";
    GANTRY_TRY(object(*user, p));
    const Json* uid = get(*user, "uid");
    const Json* gid = get(*user, "gid");
    if (uid == nullptr) return invalid(p + ".uid", "required");
    if (gid == nullptr) return invalid(p + ".gid", "required");
    GANTRY_ASSIGN_OR_RETURN(process.user.uid, integer<uint32_t>(*uid, p + ".uid"));
    GANTRY_ASSIGN_OR_RETURN(process.user.gid, integer<uint32_t>(*gid, p + ".gid"));
    GANTRY_TRY(opt_int(*user, "umask", p, process.user.umask));
    if (process.user.umask && *process.user.umask > 0777) {
      return invalid(p + ".umask", "must be at most 0777");
    }
    if (const Json* groups = get(*user, "additionalGids")) {
      GANTRY_TRY(array(*groups, p + ".additionalGids"));
      for (size_t i = 0; i < groups->size(); ++i) {
        GANTRY_ASSIGN_OR_RETURN(
            uint32_t g, integer<uint32_t>((*groups)[i], index_path(p + ".additionalGids", i)));
        process.user.additional_gids.push_back(g);
      }
    }
  }
  const Json* args = get(j, "args");
  if (args == nullptr) return invalid("process.args", "required");
  GANTRY_ASSIGN_OR_RETURN(process.args, strings(*args, "process.args"));
  if (process.args.empty()) return invalid("process.args", "must not be empty");
  GANTRY_TRY(opt_strings(j, "env", path, process.env));
  for (size_t i = 0; i < process.env.size(); ++i) {
    const std::string& e = process.env[i];
    if (e.find('=') == std::string::npos || e[0] == '=') {
      return invalid(index_path("process.env", i), "expected KEY=value, got " + q(e));
    }
  }
  const Json* cwd = get(j, "cwd");
  if (cwd == nullptr) return invalid("process.cwd", "required");
  GANTRY_ASSIGN_OR_RETURN(process.cwd, string(*cwd, "process.cwd"));
  if (!is_absolute(process.cwd)) {
    return invalid("process.cwd", "must be an absolute path, got " + q(process.cwd));
  }
  if (const Json* caps = get(j, "capabilities")) {
    GANTRY_TRY(parse_capabilities(*caps, "process.capabilities", process.capabilities));
  }
  if (const Json* rl = get(j, "rlimits")) {
    GANTRY_TRY(array(*rl, "process.rlimits"));
    std::set<std::string> seen;
    for (size_t i = 0; i < rl->size(); ++i) {
      const std::string p = index_path("process.rlimits", i);
      const Json& r = (*rl)[i];
      GANTRY_TRY(object(r, p));
      Rlimit limit;
      const Json* type = get(r, "type");
      const Json* soft = get(r, "soft");
      const Json* hard = get(r, "hard");
      if (type == nullptr) return invalid(p + ".type", "required");
      if (soft == nullptr) return invalid(p + ".soft", "required");
      if (hard == nullptr) return invalid(p + ".hard", "required");
      GANTRY_ASSIGN_OR_RETURN(limit.type, string(*type, p + ".type"));
      if (!rlimit_from_name(limit.type)) {
        return invalid(p + ".type", "unknown rlimit " + q(limit.type));
      }
      if (!seen.insert(limit.type).second) {
        return invalid(p + ".type", "duplicate rlimit " + q(limit.type));
      }
      GANTRY_ASSIGN_OR_RETURN(limit.soft, integer<uint64_t>(*soft, p + ".soft"));
      GANTRY_ASSIGN_OR_RETURN(limit.hard, integer<uint64_t>(*hard, p + ".hard"));
      if (limit.soft > limit.hard) {
        return invalid(p, "soft limit " + std::to_string(limit.soft) +
                              " is above the hard limit " + std::to_string(limit.hard));
      }
      process.rlimits.push_back(std::move(limit));
    }
  }
  GANTRY_TRY(opt_bool(j, "noNewPrivileges", path, process.no_new_privileges));
  GANTRY_TRY(opt_string(j, "apparmorProfile", path, process.apparmor_profile));
  if (!process.apparmor_profile.empty()) {
    return unsupported("process.apparmorProfile",
                       "AppArmor is not supported (profile " +
                           q(process.apparmor_profile) + ")");
  }
  GANTRY_TRY(reject(j, "selinuxLabel", path, "SELinux labels are not supported"));
  GANTRY_TRY(opt_int(j, "oomScoreAdj", path, process.oom_score_adj));
  if (process.oom_score_adj && (*process.oom_score_adj < -1000 || *process.oom_score_adj > 1000)) {
    return invalid("process.oomScoreAdj", "must be between -1000 and 1000");
  }
  GANTRY_TRY(reject(j, "scheduler", path, "scheduling policies are not supported"));
  GANTRY_TRY(reject(j, "ioPriority", path, "I/O priorities are not supported"));
  GANTRY_TRY(reject(j, "execCPUAffinity", path, "exec CPU affinity is not supported"));
  return ok_status();
}

Status ConfigParser::parse_hook_list(const Json& j, const std::string& path,
                                     std::vector<Hook>& out) const {
  GANTRY_TRY(array(j, path));
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string p = index_path(path, i);
    const Json& h = j[i];
    GANTRY_TRY(object(h, p));
    Hook hook;
    const Json* hp = get(h, "path");
    if (hp == nullptr) return invalid(p + ".path", "required");
    GANTRY_ASSIGN_OR_RETURN(hook.path, string(*hp, p + ".path"));
    if (!is_absolute(hook.path)) {
      return invalid(p + ".path", "must be an absolute path, got " + q(hook.path));
    }
    GANTRY_TRY(opt_strings(h, "args", p, hook.args));
    GANTRY_TRY(opt_strings(h, "env", p, hook.env));
    GANTRY_TRY(opt_int(h, "timeout", p, hook.timeout));
    if (hook.timeout && *hook.timeout <= 0) {
      return invalid(p + ".timeout", "must be greater than zero");
    }
    out.push_back(std::move(hook));
  }
  return ok_status();
}

Status ConfigParser::parse_hooks(const Json& j, Hooks& hooks) const {
  GANTRY_TRY(object(j, "hooks"));
  std::pair<const char*, std::vector<Hook>*> kinds[] = {
      {"prestart", &hooks.prestart},
      {"createRuntime", &hooks.create_runtime},
      {"createContainer", &hooks.create_container},
      {"startContainer", &hooks.start_container},
      {"poststart", &hooks.poststart},
      {"poststop", &hooks.poststop}};
  for (auto& [key, out] : kinds) {
    if (const Json* list = get(j, key))
      GANTRY_TRY(parse_hook_list(*list, field_path("hooks", key), *out));
  }
  return ok_status();
}

Status ConfigParser::parse_id_mappings(const Json& j, const std::string& path,
                                       std::vector<IdMapping>& out) const {
  GANTRY_TRY(array(j, path));
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string p = index_path(path, i);
    GANTRY_TRY(object(j[i], p));
    IdMapping m;
    std::pair<const char*, uint32_t*> fields[] = {
        {"containerID", &m.container_id}, {"hostID", &m.host_id}, {"size", &m.size}};
    for (auto& [key, dst] : fields) {
      const Json* v = get(j[i], key);
      if (v == nullptr) return invalid(field_path(p, key), "required");
      GANTRY_ASSIGN_OR_RETURN(*dst, integer<uint32_t>(*v, field_path(p, key)));
    }
    if (m.size == 0) return invalid(p + ".size", "must be greater than zero");
    out.push_back(m);
  }
  return ok_status();
}

Status ConfigParser::parse_devices(const Json& j, const std::string& path,
                                   std::vector<DeviceNode>& out) const {
  GANTRY_TRY(array(j, path));
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string p = index_path(path, i);
    const Json& d = j[i];
    GANTRY_TRY(object(d, p));
    DeviceNode dev;
    const Json* dp = get(d, "path");
    const Json* type = get(d, "type");
    if (dp == nullptr) return invalid(p + ".path", "required");
    if (type == nullptr) return invalid(p + ".type", "required");
    GANTRY_ASSIGN_OR_RETURN(dev.path, string(*dp, p + ".path"));
    if (!is_absolute(dev.path)) {
      return invalid(p + ".path", "must be an absolute path, got " + q(dev.path));
    }
    GANTRY_ASSIGN_OR_RETURN(std::string t, string(*type, p + ".type"));
    if (t != "c" && t != "b" && t != "u" && t != "p") {
      return invalid(p + ".type", "unknown device type " + q(t) + " (want c, b, u or p)");
    }
    dev.type = t[0];
    std::optional<int64_t> major, minor;
    GANTRY_TRY(opt_int(d, "major", p, major));
    GANTRY_TRY(opt_int(d, "minor", p, minor));
    if (dev.type != 'p' && (!major || !minor)) {
      return invalid(p, "major and minor are required for a " + t + " device");
    }
    dev.major = major.value_or(0);
    dev.minor = minor.value_or(0);
    GANTRY_TRY(opt_int(d, "fileMode", p, dev.file_mode));
    GANTRY_TRY(opt_int(d, "uid", p, dev.uid));
    GANTRY_TRY(opt_int(d, "gid", p, dev.gid));
    out.push_back(std::move(dev));
  }
  return ok_status();
}

Status ConfigParser::parse_resources(const Json& j, const std::string& path,
                                     Resources& out) const {
  GANTRY_TRY(object(j, path));
  if (const Json* mem = get(j, "memory")) {
    const std::string p = path + ".memory";
    GANTRY_TRY(object(*mem, p));
    GANTRY_TRY(opt_int(*mem, "limit", p, out.memory_limit));
    GANTRY_TRY(opt_int(*mem, "reservation", p, out.memory_reservation));
    GANTRY_TRY(opt_int(*mem, "swap", p, out.memory_swap));
    GANTRY_TRY(reject(*mem, "kernel", p, "kernel memory limits are not supported"));
    GANTRY_TRY(reject(*mem, "kernelTCP", p, "kernel TCP memory limits are not supported"));
    GANTRY_TRY(reject(*mem, "swappiness", p, "swappiness is not supported"));
    GANTRY_TRY(reject(*mem, "disableOOMKiller", p, "disabling the OOM killer is not supported"));
    if (out.memory_limit && out.memory_swap && *out.memory_swap >= 0 &&
        *out.memory_limit >= 0 && *out.memory_swap < *out.memory_limit) {
      return invalid(p + ".swap", "memory+swap limit " + std::to_string(*out.memory_swap) +
                                      " is below the memory limit " +
                                      std::to_string(*out.memory_limit));
    }
  }
  if (const Json* cpu = get(j, "cpu")) {
    const std::string p = path + ".cpu";
    GANTRY_TRY(object(*cpu, p));
    GANTRY_TRY(opt_int(*cpu, "shares", p, out.cpu_shares));
    GANTRY_TRY(opt_int(*cpu, "quota", p, out.cpu_quota));
    GANTRY_TRY(opt_int(*cpu, "period", p, out.cpu_period));
    GANTRY_TRY(opt_string(*cpu, "cpus", p, out.cpuset_cpus));
    GANTRY_TRY(opt_string(*cpu, "mems", p, out.cpuset_mems));
    GANTRY_TRY(reject(*cpu, "realtimeRuntime", p, "real-time CPU scheduling is not supported"));
    GANTRY_TRY(reject(*cpu, "realtimePeriod", p, "real-time CPU scheduling is not supported"));
    GANTRY_TRY(reject(*cpu, "burst", p, "CPU burst is not supported"));
    GANTRY_TRY(reject(*cpu, "idle", p, "SCHED_IDLE cgroups are not supported"));
  }
  if (const Json* pids = get(j, "pids")) {
    const std::string p = path + ".pids";
    GANTRY_TRY(object(*pids, p));
    const Json* limit = get(*pids, "limit");
    if (limit == nullptr) return invalid(p + ".limit", "required");
    GANTRY_ASSIGN_OR_RETURN(out.pids_limit, integer<int64_t>(*limit, p + ".limit"));
  }
  if (const Json* devs = get(j, "devices")) {
    const std::string p = path + ".devices";
    GANTRY_TRY(array(*devs, p));
    for (size_t i = 0; i < devs->size(); ++i) {
      const std::string dp = index_path(p, i);
      const Json& d = (*devs)[i];
      GANTRY_TRY(object(d, dp));
      DeviceRule rule;
      const Json* allow = get(d, "allow");
      if (allow == nullptr) return invalid(dp + ".allow", "required");
      GANTRY_ASSIGN_OR_RETURN(rule.allow, boolean(*allow, dp + ".allow"));
      GANTRY_TRY(opt_string(d, "type", dp, rule.type));
      if (rule.type != "a" && rule.type != "c" && rule.type != "b") {
        return invalid(dp + ".type", "unknown device type " + q(rule.type) +
                                         " (want a, c or b)");
      }
      GANTRY_TRY(opt_int(d, "major", dp, rule.major));
      GANTRY_TRY(opt_int(d, "minor", dp, rule.minor));
      GANTRY_TRY(opt_string(d, "access", dp, rule.access));
      if (rule.access.empty() ||
          rule.access.find_first_not_of("rwm") != std::string::npos) {
        return invalid(dp + ".access",
                       "expected a combination of r, w and m, got " + q(rule.access));
      }
      out.devices.push_back(std::move(rule));
    }
  }
  if (const Json* unified = get(j, "unified")) {
    GANTRY_ASSIGN_OR_RETURN(out.unified, string_map(*unified, path + ".unified"));
    for (const auto& [key, value] : out.unified) {
      if (key.empty() || key.find('/') != std::string::npos || key.find('.') == std::string::npos) {
        return invalid(path + ".unified", "bad cgroup file name " + q(key));
      }
    }
  }
  GANTRY_TRY(reject(j, "blockIO", path, "block I/O limits are not supported"));
  GANTRY_TRY(reject(j, "hugepageLimits", path, "hugepage limits are not supported"));
  GANTRY_TRY(reject(j, "network", path, "network class and priorities are not supported"));
  GANTRY_TRY(reject(j, "rdma", path, "RDMA limits are not supported"));
  return ok_status();
}

Result<Seccomp> ConfigParser::parse_seccomp(const Json& j, const std::string& path) const {
  GANTRY_TRY(object(j, path));
  Seccomp sc;
  const Json* def = get(j, "defaultAction");
  if (def == nullptr) return invalid(path + ".defaultAction", "required");
  GANTRY_ASSIGN_OR_RETURN(sc.default_action, string(*def, path + ".defaultAction"));
  if (!known_seccomp_action(sc.default_action)) {
    return invalid(path + ".defaultAction", "unknown action " + q(sc.default_action));
  }
  if (sc.default_action == "SCMP_ACT_NOTIFY") {
    return unsupported(path + ".defaultAction", "seccomp user notification is not supported");
  }
  GANTRY_TRY(opt_int(j, "defaultErrnoRet", path, sc.default_errno_ret));
  GANTRY_TRY(opt_strings(j, "architectures", path, sc.architectures));
  for (size_t i = 0; i < sc.architectures.size(); ++i) {
    if (!one_of(known_seccomp_architectures(), sc.architectures[i])) {
      return invalid(index_path(path + ".architectures", i),
                     "unknown architecture " + q(sc.architectures[i]));
    }
  }
  GANTRY_TRY(opt_strings(j, "flags", path, sc.flags));
  for (size_t i = 0; i < sc.flags.size(); ++i) {
    if (!one_of(kSeccompFlags, sc.flags[i])) {
      return invalid(index_path(path + ".flags", i), "unknown flag " + q(sc.flags[i]));
    }
  }
  GANTRY_TRY(reject(j, "listenerPath", path, "seccomp user notification is not supported"));
  GANTRY_TRY(reject(j, "listenerMetadata", path, "seccomp user notification is not supported"));
  if (const Json* calls = get(j, "syscalls")) {
    GANTRY_TRY(array(*calls, path + ".syscalls"));
    for (size_t i = 0; i < calls->size(); ++i) {
      const std::string p = index_path(path + ".syscalls", i);
      const Json& c = (*calls)[i];
      GANTRY_TRY(object(c, p));
      SeccompSyscall call;
      const Json* names = get(c, "names");
      const Json* action = get(c, "action");
      if (names == nullptr) return invalid(p + ".names", "required");
      if (action == nullptr) return invalid(p + ".action", "required");
      GANTRY_ASSIGN_OR_RETURN(call.names, strings(*names, p + ".names"));
      if (call.names.empty()) return invalid(p + ".names", "must not be empty");
      GANTRY_ASSIGN_OR_RETURN(call.action, string(*action, p + ".action"));
      if (!known_seccomp_action(call.action)) {
        return invalid(p + ".action", "unknown action " + q(call.action));
      }
      if (call.action == "SCMP_ACT_NOTIFY") {
        return unsupported(p + ".action", "seccomp user notification is not supported");
      }
      GANTRY_TRY(opt_int(c, "errnoRet", p, call.errno_ret));
      if (const Json* args = get(c, "args")) {
        GANTRY_TRY(array(*args, p + ".args"));
        for (size_t k = 0; k < args->size(); ++k) {
          const std::string ap = index_path(p + ".args", k);
          const Json& a = (*args)[k];
          GANTRY_TRY(object(a, ap));
          SeccompArg arg;
          const Json* index = get(a, "index");
          const Json* value = get(a, "value");
          const Json* op = get(a, "op");
          if (index == nullptr) return invalid(ap + ".index", "required");
          if (value == nullptr) return invalid(ap + ".value", "required");
          if (op == nullptr) return invalid(ap + ".op", "required");
          GANTRY_ASSIGN_OR_RETURN(arg.index, integer<uint32_t>(*index, ap + ".index"));
          if (arg.index > 5) return invalid(ap + ".index", "must be between 0 and 5");
          GANTRY_ASSIGN_OR_RETURN(arg.value, integer<uint64_t>(*value, ap + ".value"));
          if (const Json* two = get(a, "valueTwo")) {
            GANTRY_ASSIGN_OR_RETURN(arg.value_two, integer<uint64_t>(*two, ap + ".valueTwo"));
          }
          GANTRY_ASSIGN_OR_RETURN(arg.op, string(*op, ap + ".op"));
          if (!one_of(known_seccomp_operators(), arg.op)) {
            return invalid(ap + ".op", "unknown operator " + q(arg.op));
          }
          call.args.push_back(std::move(arg));
        }
      }
      sc.syscalls.push_back(std::move(call));
    }
  }
  return sc;
}

Status ConfigParser::parse_linux(const Json& j, ContainerSpec& spec) const {
  const std::string path = "linux";
  GANTRY_TRY(object(j, path));
  if (const Json* nss = get(j, "namespaces")) {
    GANTRY_TRY(array(*nss, "linux.namespaces"));
    for (size_t i = 0; i < nss->size(); ++i) {
      const std::string p = index_path("linux.namespaces", i);
      const Json& n = (*nss)[i];
      GANTRY_TRY(object(n, p));
      const Json* type = get(n, "type");
      if (type == nullptr) return invalid(p + ".type", "required");
      GANTRY_ASSIGN_OR_RETURN(std::string name, string(*type, p + ".type"));
      auto t = parse_namespace_type(name);
      if (!t.ok()) return invalid(p + ".type", "unknown namespace " + q(name));
      if (spec.has_namespace(*t)) return invalid(p + ".type", "duplicate namespace " + q(name));
      NamespaceSpec ns{*t, ""};
      GANTRY_TRY(opt_string(n, "path", p, ns.path));
      if (!ns.path.empty() && !is_absolute(ns.path)) {
        return invalid(p + ".path", "must be an absolute path, got " + q(ns.path));
      }
      spec.namespaces.push_back(std::move(ns));
    }
  }
  if (const Json* m = get(j, "uidMappings")) {
    GANTRY_TRY(parse_id_mappings(*m, "linux.uidMappings", spec.uid_mappings));
  }
  if (const Json* m = get(j, "gidMappings")) {
    GANTRY_TRY(parse_id_mappings(*m, "linux.gidMappings", spec.gid_mappings));
  }
  bool new_userns = false;
  for (const auto& ns : spec.namespaces) {
    if (ns.type == NamespaceType::kUser && ns.path.empty()) new_userns = true;
  }
  if (new_userns && (spec.uid_mappings.empty() || spec.gid_mappings.empty())) {
    return invalid("linux.uidMappings", "a new user namespace needs uid and gid mappings");
  }
  if (!new_userns && (!spec.uid_mappings.empty() || !spec.gid_mappings.empty())) {
    return invalid("linux.uidMappings",
                   "id mappings need a new user namespace in linux.namespaces");
  }
  if (const Json* devs = get(j, "devices")) {
    GANTRY_TRY(parse_devices(*devs, "linux.devices", spec.devices));
  }
  GANTRY_TRY(opt_string(j, "cgroupsPath", path, spec.cgroups_path));
  if (!spec.cgroups_path.empty()) {
    if (spec.cgroups_path.find(':') != std::string::npos) {
      return unsupported("linux.cgroupsPath", "systemd cgroup paths (slice:prefix:name) are "
                                              "not supported, got " + q(spec.cgroups_path));
    }
    for (size_t pos = 0; pos <= spec.cgroups_path.size();) {
      size_t end = spec.cgroups_path.find('/', pos);
      if (end == std::string::npos) end = spec.cgroups_path.size();
      std::string_view part(spec.cgroups_path.data() + pos, end - pos);
      if (part == "..") {
        return invalid("linux.cgroupsPath", "must not contain '..', got " +
                                                q(spec.cgroups_path));
      }
      pos = end + 1;
    }
  }
  if (const Json* res = get(j, "resources")) {
    GANTRY_TRY(parse_resources(*res, "linux.resources", spec.resources));
  }
  if (const Json* sc = get(j, "seccomp")) {
    GANTRY_ASSIGN_OR_RETURN(spec.seccomp, parse_seccomp(*sc, "linux.seccomp"));
  }
  GANTRY_TRY(opt_string(j, "rootfsPropagation", path, spec.rootfs_propagation));
  if (!spec.rootfs_propagation.empty() && !one_of(kPropagations, spec.rootfs_propagation)) {
    return invalid("linux.rootfsPropagation",
                   "unknown propagation " + q(spec.rootfs_propagation));
  }
  GANTRY_TRY(opt_strings(j, "maskedPaths", path, spec.masked_paths));
  GANTRY_TRY(opt_strings(j, "readonlyPaths", path, spec.readonly_paths));
  for (auto [key, list] : {std::pair{"maskedPaths", &spec.masked_paths},
                           std::pair{"readonlyPaths", &spec.readonly_paths}}) {
    for (size_t i = 0; i < list->size(); ++i) {
      if (!is_absolute((*list)[i])) {
        return invalid(index_path(field_path(path, key), i),
                       "must be an absolute path, got " + q((*list)[i]));
      }
    }
  }
  if (const Json* sysctl = get(j, "sysctl")) {
    GANTRY_ASSIGN_OR_RETURN(spec.sysctl, string_map(*sysctl, "linux.sysctl"));
  }
  GANTRY_TRY(reject(j, "mountLabel", path, "SELinux mount labels are not supported"));
  GANTRY_TRY(reject(j, "intelRdt", path, "Intel RDT is not supported"));
  GANTRY_TRY(reject(j, "personality", path, "execution domains (personality) are not supported"));
  GANTRY_TRY(reject(j, "timeOffsets", path, "time namespace offsets are not supported"));
  GANTRY_TRY(reject(j, "memoryPolicy", path, "NUMA memory policies are not supported"));
  return ok_status();
}

Status ConfigParser::apply_gantry_annotations(ContainerSpec& spec) const {
  auto take = [&](std::string_view key) -> std::string {
    auto it = spec.annotations.find(std::string(key));
    return it == spec.annotations.end() ? std::string() : it->second;
  };
  spec.etc_hosts_file = take(kAnnotationHostsFile);
  spec.resolv_conf_file = take(kAnnotationResolvConf);
  std::string lower = take(kAnnotationOverlayLower);
  spec.root.overlay_upper = take(kAnnotationOverlayUpper);
  spec.root.overlay_work = take(kAnnotationOverlayWork);
  const std::string ann = "annotations.";
  for (auto [key, value] : {std::pair{kAnnotationHostsFile, &spec.etc_hosts_file},
                            std::pair{kAnnotationResolvConf, &spec.resolv_conf_file},
                            std::pair{kAnnotationOverlayUpper, &spec.root.overlay_upper},
                            std::pair{kAnnotationOverlayWork, &spec.root.overlay_work}}) {
    if (!value->empty() && !is_absolute(*value)) {
      return invalid(ann + std::string(key), "must be an absolute path, got " + q(*value));
    }
  }
  if (!lower.empty()) {
    size_t pos = 0;
    while (pos <= lower.size()) {
      size_t end = lower.find(':', pos);
      if (end == std::string::npos) end = lower.size();
      std::string dir = lower.substr(pos, end - pos);
      if (!is_absolute(dir)) {
        return invalid(ann + std::string(kAnnotationOverlayLower),
                       "each layer must be an absolute path, got " + q(dir));
      }
      spec.root.overlay_lower.push_back(std::move(dir));
      pos = end + 1;
    }
    if (spec.root.overlay_upper.empty() || spec.root.overlay_work.empty()) {
      return invalid(ann + std::string(kAnnotationOverlayLower),
                     "an overlay root needs upper and work dirs too");
    }
  } else if (!spec.root.overlay_upper.empty() || !spec.root.overlay_work.empty()) {
    return invalid(ann + std::string(kAnnotationOverlayUpper),
                   "upper and work dirs need lower layers");
  }
  // "true" or "false" (absent: false).
  auto flag = [&](std::string_view key, bool& out) -> Status {
    std::string value = take(key);
    if (value.empty()) return ok_status();
    if (value != "true" && value != "false") {
      return invalid(ann + std::string(key), "must be \"true\" or \"false\", got " + q(value));
    }
    out = value == "true";
    return ok_status();
  };
  GANTRY_TRY(flag(kAnnotationOverlayVolatile, spec.root.overlay_volatile));
  if (spec.root.overlay_volatile && lower.empty()) {
    return invalid(ann + std::string(kAnnotationOverlayVolatile),
                   "applies to an overlay root only (no lower layers given)");
  }
  GANTRY_TRY(flag(kAnnotationInit, spec.init_reaper));
  return ok_status();
}

Result<ContainerSpec> ConfigParser::parse(const Json& config, const std::string& bundle) const {
  if (!config.is_object()) {
    return Error(ErrorCode::kInvalidArgument, std::string(source_) +
                                                  ": expected a JSON object, got " +
                                                  config.type_name());
  }
  ContainerSpec spec;
  spec.bundle = bundle;
  const Json* version = get(config, "ociVersion");
  if (version == nullptr) return invalid("ociVersion", "required");
  GANTRY_ASSIGN_OR_RETURN(spec.oci_version, string(*version, "ociVersion"));
  if (spec.oci_version.rfind("1.", 0) != 0) {
    return unsupported("ociVersion", "unsupported version " + q(spec.oci_version) +
                                         " (want 1.x)");
  }
  const Json* root = get(config, "root");
  if (root == nullptr) return invalid("root", "required");
  GANTRY_TRY(parse_root(*root, bundle, spec));
  if (const Json* mounts = get(config, "mounts")) GANTRY_TRY(parse_mounts(*mounts, spec));
  const Json* process = get(config, "process");
  if (process == nullptr) return invalid("process", "required");
  GANTRY_TRY(parse_process(*process, spec.process));
  GANTRY_TRY(opt_string(config, "hostname", "", spec.hostname));
  GANTRY_TRY(opt_string(config, "domainname", "", spec.domainname));
  if (const Json* hooks = get(config, "hooks")) GANTRY_TRY(parse_hooks(*hooks, spec.hooks));
  if (const Json* ann = get(config, "annotations")) {
    GANTRY_ASSIGN_OR_RETURN(spec.annotations, string_map(*ann, "annotations"));
  }
  const Json* linux_section = get(config, "linux");
  if (linux_section == nullptr) return invalid("linux", "required on Linux");
  GANTRY_TRY(parse_linux(*linux_section, spec));
  if (!spec.hostname.empty() && !spec.has_namespace(NamespaceType::kUts)) {
    return invalid("hostname", "setting the hostname needs a uts namespace");
  }
  GANTRY_TRY(apply_gantry_annotations(spec));
  return spec;
}

Json hook_list_json(const std::vector<Hook>& hooks) {
  Json out = Json::array();
  for (const auto& h : hooks) {
    Json j = {{"path", h.path}};
    if (!h.args.empty()) j["args"] = h.args;
    if (!h.env.empty()) j["env"] = h.env;
    if (h.timeout) j["timeout"] = *h.timeout;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

Result<NamespaceType> parse_namespace_type(std::string_view name) {
  for (auto t : {NamespaceType::kMount, NamespaceType::kPid, NamespaceType::kUts,
                 NamespaceType::kIpc, NamespaceType::kNetwork, NamespaceType::kCgroup,
                 NamespaceType::kUser, NamespaceType::kTime}) {
    if (namespace_type_name(t) == name) return t;
  }
  return Error(ErrorCode::kInvalidArgument, "unknown namespace " + q(name));
}

Result<ContainerSpec> parse_oci_config(const Json& config, const std::string& bundle,
                                       std::string_view source) {
  return ConfigParser(source).parse(config, bundle);
}

Result<Process> parse_oci_process(const Json& process, std::string_view source) {
  Process p;
  GANTRY_TRY(ConfigParser(source).parse_process(process, p));
  return p;
}

Result<ContainerSpec> load_oci_config(const std::string& bundle_dir) {
  std::string bundle = bundle_dir;
  if (!is_absolute(bundle)) {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return sys_error("getcwd");
    bundle = join_path(cwd, bundle);
  }
  while (bundle.size() > 1 && bundle.back() == '/') bundle.pop_back();
  if (!is_directory(bundle)) {
    return Error(ErrorCode::kNotFound, "bundle " + q(bundle) + ": no such directory");
  }
  const std::string config_path = join_path(bundle, "config.json");
  auto text = read_file(config_path);
  if (!text.ok()) {
    if (text.error().sys_errno() == ENOENT) {
      return Error(ErrorCode::kNotFound, "bundle " + q(bundle) + ": no config.json");
    }
    return std::move(text).error();
  }
  GANTRY_ASSIGN_OR_RETURN(Json config, parse_json(*text, "config.json"));
  GANTRY_ASSIGN_OR_RETURN(ContainerSpec spec, parse_oci_config(config, bundle));
  if (!is_directory(spec.root.path)) {
    return Error(ErrorCode::kNotFound,
                 "config.json: root.path: rootfs " + q(spec.root.path) +
                     " does not exist or is not a directory");
  }
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    bool bind = m.type == "bind" ||
                std::any_of(m.options.begin(), m.options.end(),
                            [](const std::string& o) { return o == "bind" || o == "rbind"; });
    if (!bind) continue;
    std::string src = is_absolute(m.source) ? m.source : join_path(bundle, m.source);
    struct stat st;
    if (::lstat(src.c_str(), &st) != 0) {
      return Error(ErrorCode::kNotFound, "config.json: " + index_path("mounts", i) +
                                             ".source: " + q(src) + " does not exist");
    }
  }
  const std::pair<const char*, const std::vector<Hook>*> kinds[] = {
      {"prestart", &spec.hooks.prestart},
      {"createRuntime", &spec.hooks.create_runtime},
      {"poststart", &spec.hooks.poststart},
      {"poststop", &spec.hooks.poststop}};
  // createContainer and startContainer hooks run inside the container's mount namespace, so
  // their paths are checked there, not here.
  for (const auto& [kind, list] : kinds) {
    for (size_t i = 0; i < list->size(); ++i) {
      if (::access((*list)[i].path.c_str(), X_OK) != 0) {
        return Error(ErrorCode::kNotFound,
                     "config.json: " + index_path(std::string("hooks.") + kind, i) + ".path: " +
                         q((*list)[i].path) + " is not an executable file");
      }
    }
  }
  return spec;
}

Json to_oci_config(const ContainerSpec& spec) {
  Json config;
  config["ociVersion"] = spec.oci_version;
  const Process& p = spec.process;
  Json process = {{"terminal", p.terminal}};
  if (p.console_size) {
    process["consoleSize"] = {{"height", p.console_size->height},
                              {"width", p.console_size->width}};
  }
  Json user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
  if (p.user.umask) user["umask"] = *p.user.umask;
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  process["user"] = std::move(user);
  process["args"] = p.args;
  process["env"] = p.env;
  process["cwd"] = p.cwd;
  const Capabilities& c = p.capabilities;
  Json caps = Json::object();
  if (!c.bounding.empty()) caps["bounding"] = c.bounding;
  if (!c.effective.empty()) caps["effective"] = c.effective;
  if (!c.inheritable.empty()) caps["inheritable"] = c.inheritable;
  if (!c.permitted.empty()) caps["permitted"] = c.permitted;
  if (!c.ambient.empty()) caps["ambient"] = c.ambient;
  if (!caps.empty()) process["capabilities"] = std::move(caps);
  if (!p.rlimits.empty()) {
    Json rl = Json::array();
    for (const auto& r : p.rlimits)
      rl.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    process["rlimits"] = std::move(rl);
  }
  process["noNewPrivileges"] = p.no_new_privileges;
  if (!p.apparmor_profile.empty()) process["apparmorProfile"] = p.apparmor_profile;
  if (p.oom_score_adj) process["oomScoreAdj"] = *p.oom_score_adj;
  config["process"] = std::move(process);

  config["root"] = {{"path", spec.root.path}, {"readonly", spec.root.readonly}};
  if (!spec.hostname.empty()) config["hostname"] = spec.hostname;
  if (!spec.domainname.empty()) config["domainname"] = spec.domainname;
  Json mounts = Json::array();
  for (const auto& m : spec.mounts) {
    Json j = {{"destination", m.destination}};
    if (!m.type.empty()) j["type"] = m.type;
    if (!m.source.empty()) j["source"] = m.source;
    if (!m.options.empty()) j["options"] = m.options;
    mounts.push_back(std::move(j));
  }
  config["mounts"] = std::move(mounts);

  const Hooks& h = spec.hooks;
  Json hooks = Json::object();
  const std::pair<const char*, const std::vector<Hook>*> kinds[] = {
      {"prestart", &h.prestart},          {"createRuntime", &h.create_runtime},
      {"createContainer", &h.create_container}, {"startContainer", &h.start_container},
      {"poststart", &h.poststart},        {"poststop", &h.poststop}};
  for (const auto& [key, list] : kinds) {
    if (!list->empty()) hooks[key] = hook_list_json(*list);
  }
  if (!hooks.empty()) config["hooks"] = std::move(hooks);

  std::map<std::string, std::string> annotations = spec.annotations;
  auto annotate = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) annotations[std::string(key)] = value;
  };
  annotate(kAnnotationHostsFile, spec.etc_hosts_file);
  annotate(kAnnotationResolvConf, spec.resolv_conf_file);
  if (spec.init_reaper) annotate(kAnnotationInit, "true");
  if (!spec.root.overlay_lower.empty()) {
    std::string lower;
    for (const auto& l : spec.root.overlay_lower) lower += (lower.empty() ? "" : ":") + l;
    annotate(kAnnotationOverlayLower, lower);
    annotate(kAnnotationOverlayUpper, spec.root.overlay_upper);
    annotate(kAnnotationOverlayWork, spec.root.overlay_work);
    if (spec.root.overlay_volatile) annotate(kAnnotationOverlayVolatile, "true");
  }
  if (!annotations.empty()) config["annotations"] = annotations;

  Json linux_section = Json::object();
  Json nss = Json::array();
  for (const auto& ns : spec.namespaces) {
    Json j = {{"type", namespace_type_name(ns.type)}};
    if (!ns.path.empty()) j["path"] = ns.path;
    nss.push_back(std::move(j));
  }
  linux_section["namespaces"] = std::move(nss);
  auto mappings = [](const std::vector<IdMapping>& list) {
    Json out = Json::array();
    for (const auto& m : list) {
      out.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
    }
    return out;
  };
  if (!spec.uid_mappings.empty()) linux_section["uidMappings"] = mappings(spec.uid_mappings);
  if (!spec.gid_mappings.empty()) linux_section["gidMappings"] = mappings(spec.gid_mappings);
  if (!spec.devices.empty()) {
    Json devs = Json::array();
    for (const auto& d : spec.devices) {
      Json j = {{"path", d.path}, {"type", std::string(1, d.type)}};
      if (d.type != 'p') {
        j["major"] = d.major;
        j["minor"] = d.minor;
      }
      if (d.file_mode) j["fileMode"] = *d.file_mode;
      if (d.uid) j["uid"] = *d.uid;
      if (d.gid) j["gid"] = *d.gid;
      devs.push_back(std::move(j));
    }
    linux_section["devices"] = std::move(devs);
  }
  if (!spec.cgroups_path.empty()) linux_section["cgroupsPath"] = spec.cgroups_path;

  const Resources& r = spec.resources;
  Json res = Json::object();
  Json mem = Json::object();
  if (r.memory_limit) mem["limit"] = *r.memory_limit;
  if (r.memory_reservation) mem["reservation"] = *r.memory_reservation;
  if (r.memory_swap) mem["swap"] = *r.memory_swap;
  if (!mem.empty()) res["memory"] = std::move(mem);
  Json cpu = Json::object();
  if (r.cpu_shares) cpu["shares"] = *r.cpu_shares;
  if (r.cpu_quota) cpu["quota"] = *r.cpu_quota;
  if (r.cpu_period) cpu["period"] = *r.cpu_period;
  if (!r.cpuset_cpus.empty()) cpu["cpus"] = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) cpu["mems"] = r.cpuset_mems;
  if (!cpu.empty()) res["cpu"] = std::move(cpu);
  if (r.pids_limit) res["pids"] = {{"limit", *r.pids_limit}};
  if (!r.devices.empty()) {
    Json devs = Json::array();
    for (const auto& d : r.devices) {
      Json j = {{"allow", d.allow}, {"type", d.type}, {"access", d.access}};
      if (d.major) j["major"] = *d.major;
      if (d.minor) j["minor"] = *d.minor;
      devs.push_back(std::move(j));
    }
    res["devices"] = std::move(devs);
  }
  if (!r.unified.empty()) res["unified"] = r.unified;
  if (!res.empty()) linux_section["resources"] = std::move(res);

  if (spec.seccomp) {
    const Seccomp& s = *spec.seccomp;
    Json sc = {{"defaultAction", s.default_action}};
    if (s.default_errno_ret) sc["defaultErrnoRet"] = *s.default_errno_ret;
    if (!s.architectures.empty()) sc["architectures"] = s.architectures;
    if (!s.flags.empty()) sc["flags"] = s.flags;
    Json calls = Json::array();
    for (const auto& call : s.syscalls) {
      Json j = {{"names", call.names}, {"action", call.action}};
      if (call.errno_ret) j["errnoRet"] = *call.errno_ret;
      if (!call.args.empty()) {
        Json args = Json::array();
        for (const auto& a : call.args) {
          Json aj = {{"index", a.index}, {"value", a.value}, {"op", a.op}};
          if (a.value_two != 0) aj["valueTwo"] = a.value_two;
          args.push_back(std::move(aj));
        }
        j["args"] = std::move(args);
      }
      calls.push_back(std::move(j));
    }
    sc["syscalls"] = std::move(calls);
    linux_section["seccomp"] = std::move(sc);
  }
  if (!spec.rootfs_propagation.empty())
    linux_section["rootfsPropagation"] = spec.rootfs_propagation;
  if (!spec.masked_paths.empty()) linux_section["maskedPaths"] = spec.masked_paths;
  if (!spec.readonly_paths.empty()) linux_section["readonlyPaths"] = spec.readonly_paths;
  if (!spec.sysctl.empty()) linux_section["sysctl"] = spec.sysctl;
  if (!spec.mount_label.empty()) linux_section["mountLabel"] = spec.mount_label;
  config["linux"] = std::move(linux_section);
  return config;
}

}  // namespace gantry::runtime
