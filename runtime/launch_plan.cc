#include "runtime/launch_plan.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <string>

#include "common/kernel_version.h"

namespace gantry::runtime {

namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option clears the flag ("rw") instead of setting it ("ro")
  unsigned long flag;
};

constexpr std::array<FlagOption, 26> kFlagOptions = {{
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"lazytime", false, MS_LAZYTIME},
}};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr std::array<PropagationOption, 8> kPropagationOptions = {{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

// Recognised, valid in config.json, but not something Gantry does.
constexpr std::array<std::string_view, 10> kUnsupportedOptions = {
    "idmap", "ridmap", "tmpcopyup", "rro", "rrw", "rnosuid", "rnodev", "rnoexec",
    "rnoatime", "rrelatime"};

// Lexically cleans an absolute container path: "/a//b/./c/../d" -> "/a/b/d". ".." cannot climb
// above "/". Symlinks are the child's business (it resolves inside the rootfs).
std::string clean_path(std::string_view in) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < in.size()) {
    size_t j = in.find('/', i);
    if (j == std::string_view::npos) j = in.size();
    std::string_view part = in.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (auto p : parts) out.append("/").append(p);
  return out.empty() ? "/" : out;
}

Result<std::string> container_path(std::string_view field, std::string_view path) {
  if (path.empty()) {
    return Error(ErrorCode::kInvalidArgument, std::string(field) + ": empty path");
  }
  if (path.find('\0') != std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument, std::string(field) + ": path contains a NUL byte");
  }
  return clean_path(path);
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

void add_cgroup_mounts(const MountOptions& opts, const std::string& dest, const PlanHost& host,
                       LaunchPlan& plan) {
  unsigned long flags = opts.flags & ~opts.clear;
  if (host.cgroup_v2) {
    if (plan.unshare_cgroup_ns || host.cgroup_v1_sources.empty()) {
      // In its own cgroup namespace a fresh cgroup2 mount shows the container's subtree.
      if (plan.first_cgroup_ns_mount < 0) {
        plan.first_cgroup_ns_mount = static_cast<int>(plan.mounts.size());
      }
      plan.mounts.push_back({MountOp::Kind::kMount, "cgroup2", dest, "cgroup2", flags,
                             opts.propagation, false, ""});
    } else {
      plan.mounts.push_back({MountOp::Kind::kBind, host.cgroup_v1_sources.front().host_path,
                             dest, "", flags, opts.propagation, false, ""});
    }
    return;
  }
  // v1: a tmpfs holding one bind of the container's own cgroup per hierarchy, read-only at the
  // end when asked (as runc does); co-mounted hierarchies get a symlink per controller.
  unsigned long tmpfs_flags = (flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  plan.mounts.push_back(
      {MountOp::Kind::kMount, "tmpfs", dest, "tmpfs", tmpfs_flags, 0, false, "mode=755"});
  for (const auto& src : host.cgroup_v1_sources) {
    std::string sub = dest + "/" + src.name;
    plan.mounts.push_back({MountOp::Kind::kBind, src.host_path, sub, "",
                           flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, false, ""});
    if (src.name.find(',') != std::string::npos) {
      size_t i = 0;
      while (i <= src.name.size()) {
        size_t j = src.name.find(',', i);
        if (j == std::string::npos) j = src.name.size();
        std::string ctrl = src.name.substr(i, j - i);
        if (!ctrl.empty()) plan.symlinks.push_back({src.name, dest + "/" + ctrl});
        i = j + 1;
      }
    }
  }
  if (flags & MS_RDONLY) {
    plan.mounts.push_back({MountOp::Kind::kRemount, "", dest, "",
                           tmpfs_flags | MS_RDONLY, 0, false, "mode=755"});
  }
}

Status plan_namespaces(const ContainerSpec& spec, LaunchPlan& plan) {
  int seen = 0;
  for (size_t i = 0; i < spec.namespaces.size(); ++i) {
    const auto& ns = spec.namespaces[i];
    std::string field = "linux.namespaces[" + std::to_string(i) + "]";
    int flag = clone_flag_for(ns.type);
    int bit = 1 << static_cast<int>(ns.type);
    if (seen & bit) {
      return Error(ErrorCode::kInvalidArgument,
                   field + ": namespace '" + std::string(namespace_name(ns.type)) +
                       "' listed twice");
    }
    seen |= bit;
    if (ns.path.empty()) {
      switch (ns.type) {
        case NamespaceType::kCgroup: plan.unshare_cgroup_ns = true; break;
        case NamespaceType::kUser:
          plan.new_user_ns = true;
          plan.clone_flags |= flag;
          break;
        case NamespaceType::kTime:
          return Error(ErrorCode::kUnimplemented,
                       field + ": creating a time namespace is not supported");
        default: plan.clone_flags |= flag;
      }
      continue;
    }
    if (ns.path.front() != '/') {
      return Error(ErrorCode::kInvalidArgument,
                   field + ": namespace path " + quoted(ns.path) + " is not absolute");
    }
    switch (ns.type) {
      case NamespaceType::kUser: plan.join_user_ns = ns.path; break;
      case NamespaceType::kTime: plan.join_time_ns = ns.path; break;
      case NamespaceType::kMount:
        return Error(ErrorCode::kUnimplemented,
                     field + ": joining a mount namespace is not supported; the container's "
                             "root is set up in a new one");
      default: plan.joins.push_back({ns.type, ns.path, flag});
    }
  }
  if (!(plan.clone_flags & CLONE_NEWNS)) {
    return Error(ErrorCode::kInvalidArgument,
                 "linux.namespaces: a new mount namespace is required");
  }
  if (plan.new_user_ns && (spec.uid_mappings.empty() || spec.gid_mappings.empty())) {
    return Error(ErrorCode::kInvalidArgument,
                 "linux.uidMappings/gidMappings: a new user namespace needs both mappings");
  }
  if (!plan.new_user_ns && (!spec.uid_mappings.empty() || !spec.gid_mappings.empty())) {
    return Error(ErrorCode::kInvalidArgument,
                 "linux.uidMappings: mappings given without a new user namespace");
  }
  return ok_status();
}

// Sysctls a container may set only with its own namespace of that kind (runc's rules).
Status check_sysctl(const std::string& key, const ContainerSpec& spec) {
  auto starts = [&](std::string_view p) { return key.rfind(p, 0) == 0; };
  bool ipc = key == "kernel.msgmax" || key == "kernel.msgmnb" || key == "kernel.msgmni" ||
             key == "kernel.sem" || key == "kernel.shmall" || key == "kernel.shmmax" ||
             key == "kernel.shmmni" || key == "kernel.shm_rmid_forced" || starts("fs.mqueue.");
  if (ipc) {
    if (spec.has_namespace(NamespaceType::kIpc)) return ok_status();
    return Error(ErrorCode::kInvalidArgument,
                 "linux.sysctl " + quoted(key) + ": needs an ipc namespace");
  }
  if (starts("net.")) {
    for (const auto& ns : spec.namespaces)
      if (ns.type == NamespaceType::kNetwork) return ok_status();
    return Error(ErrorCode::kInvalidArgument,
                 "linux.sysctl " + quoted(key) + ": needs a network namespace");
  }
  if (key == "kernel.hostname" || key == "kernel.domainname") {
    if (spec.has_namespace(NamespaceType::kUts)) return ok_status();
    return Error(ErrorCode::kInvalidArgument,
                 "linux.sysctl " + quoted(key) + ": needs a uts namespace");
  }
  return Error(ErrorCode::kInvalidArgument,
               "linux.sysctl " + quoted(key) + ": not namespaced; a container may not set it");
}

}  // namespace

int clone_flag_for(NamespaceType type) {
  switch (type) {
    case NamespaceType::kMount: return CLONE_NEWNS;
    case NamespaceType::kPid: return CLONE_NEWPID;
    case NamespaceType::kUts: return CLONE_NEWUTS;
    case NamespaceType::kIpc: return CLONE_NEWIPC;
    case NamespaceType::kNetwork: return CLONE_NEWNET;
    case NamespaceType::kCgroup: return CLONE_NEWCGROUP;
    case NamespaceType::kUser: return CLONE_NEWUSER;
    case NamespaceType::kTime: return 0x80;  // CLONE_NEWTIME
  }
  return 0;
}

std::string_view namespace_name(NamespaceType type) { return namespace_type_name(type); }

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& opt : options) {
    if (opt == "bind" || opt == "rbind") {
      out.bind = true;
      out.recursive = out.recursive || opt == "rbind";
      continue;
    }
    auto flag = std::find_if(kFlagOptions.begin(), kFlagOptions.end(),
                             [&](const FlagOption& f) { return f.name == opt; });
    if (flag != kFlagOptions.end()) {
      if (flag->clear) {
        out.flags &= ~flag->flag;
        out.clear |= flag->flag;
      } else {
        out.flags |= flag->flag;
        out.clear &= ~flag->flag;
      }
      continue;
    }
    auto prop = std::find_if(kPropagationOptions.begin(), kPropagationOptions.end(),
                             [&](const PropagationOption& p) { return p.name == opt; });
    if (prop != kPropagationOptions.end()) {
      out.propagation = prop->flags;
      continue;
    }
    if (std::find(kUnsupportedOptions.begin(), kUnsupportedOptions.end(), opt) !=
        kUnsupportedOptions.end()) {
      return Error(ErrorCode::kUnimplemented, "option " + quoted(opt) + " is not supported");
    }
    if (opt.empty()) return Error(ErrorCode::kInvalidArgument, "empty option");
    if (opt.find(',') != std::string::npos) {
      return Error(ErrorCode::kInvalidArgument, "option " + quoted(opt) + " contains a ','");
    }
    if (!out.data.empty()) out.data += ',';
    out.data += opt;
  }
  return out;
}

Result<std::string> overlay_options(const std::vector<std::string>& lower,
                                    const std::string& upper, const std::string& work,
                                    bool volatile_upper) {
  if (lower.empty()) {
    return Error(ErrorCode::kInvalidArgument, "overlay: no lower directories");
  }
  if (upper.empty() != work.empty()) {
    return Error(ErrorCode::kInvalidArgument, "overlay: upper and work dirs go together");
  }
  auto escape = [](const std::string& p, std::string_view what) -> Result<std::string> {
    if (p.empty() || p.front() != '/') {
      return Error(ErrorCode::kInvalidArgument,
                   "overlay: " + std::string(what) + " " + quoted(p) + " is not absolute");
    }
    if (p.find(',') != std::string::npos) {
      return Error(ErrorCode::kInvalidArgument,
                   "overlay: " + std::string(what) + " " + quoted(p) + " contains a ','");
    }
    std::string out;
    for (char c : p) {
      if (c == ':' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  std::string data = "lowerdir=";
  // overlayfs lists the top layer first; the spec lists the lowest first.
  for (size_t i = lower.size(); i-- > 0;) {
    GANTRY_ASSIGN_OR_RETURN(std::string l, escape(lower[i], "lower dir"));
    data += l;
    if (i > 0) data += ':';
  }
  if (!upper.empty()) {
    GANTRY_ASSIGN_OR_RETURN(std::string u, escape(upper, "upper dir"));
    GANTRY_ASSIGN_OR_RETURN(std::string w, escape(work, "work dir"));
    data += ",upperdir=" + u + ",workdir=" + w;
    if (volatile_upper) data += ",volatile";
  }
  if (data.size() >= 4096) {
    return Error(ErrorCode::kInvalidArgument,
                 "overlay: " + std::to_string(lower.size()) +
                     " lower dirs make an option string longer than one page (" +
                     std::to_string(data.size()) + " bytes)");
  }
  return data;
}

bool kernel_has_overlay_volatile() { return running_kernel().at_least(5, 10); }

std::string describe_mount(const MountOp& op) {
  switch (op.kind) {
    case MountOp::Kind::kMount: return "mount " + quoted(op.source.empty() ? op.fstype : op.source);
    case MountOp::Kind::kBind: return "bind mount " + quoted(op.source);
    case MountOp::Kind::kRemount: return "remount";
  }
  return "mount";
}

Result<LaunchPlan> make_launch_plan(const ContainerSpec& spec, const PlanHost& host) {
  LaunchPlan plan;
  GANTRY_TRY(plan_namespaces(spec, plan));

  if (spec.root.path.empty() || spec.root.path.front() != '/') {
    return Error(ErrorCode::kInvalidArgument,
                 "root.path " + quoted(spec.root.path) + " is not an absolute path");
  }
  plan.rootfs = clean_path(spec.root.path);
  plan.readonly_root = spec.root.readonly;
  if (!spec.root.overlay_lower.empty()) {
    auto data = overlay_options(spec.root.overlay_lower, spec.root.overlay_upper,
                                spec.root.overlay_work,
                                spec.root.overlay_volatile && host.overlay_volatile);
    if (!data.ok()) return std::move(data).error().with_context("root");
    plan.overlay_data = std::move(*data);
  } else if (!spec.root.overlay_upper.empty()) {
    return Error(ErrorCode::kInvalidArgument, "root: overlay upper dir without lower dirs");
  }

  if (spec.rootfs_propagation.empty()) {
    plan.root_propagation = MS_SLAVE | MS_REC;
  } else {
    auto prop = std::find_if(kPropagationOptions.begin(), kPropagationOptions.end(),
                             [&](const PropagationOption& p) {
                               return p.name == spec.rootfs_propagation;
                             });
    if (prop == kPropagationOptions.end()) {
      return Error(ErrorCode::kInvalidArgument,
                   "linux.rootfsPropagation: unknown value " + quoted(spec.rootfs_propagation));
    }
    if (prop->flags & MS_SHARED) {
      return Error(ErrorCode::kUnimplemented,
                   "linux.rootfsPropagation " + quoted(spec.rootfs_propagation) +
                       ": a shared container root is not supported");
    }
    plan.root_propagation = prop->flags;
  }

  if (!spec.hostname.empty() || !spec.domainname.empty()) {
    if (!spec.has_namespace(NamespaceType::kUts)) {
      return Error(ErrorCode::kInvalidArgument,
                   "hostname: setting a hostname needs a uts namespace");
    }
    plan.hostname = spec.hostname;
    plan.domainname = spec.domainname;
  }

  bool dev_is_bind = false;
  bool have_devpts = false;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    std::string field = "mounts[" + std::to_string(i) + "]";
    GANTRY_ASSIGN_OR_RETURN(std::string dest, container_path(field, m.destination));
    field += " " + quoted(dest);
    auto opts = parse_mount_options(m.options);
    if (!opts.ok()) return std::move(opts).error().with_context(field);
    bool bind = opts->bind || m.type == "bind";
    if (bind) {
      if (m.source.empty() || m.source.front() != '/') {
        return Error(ErrorCode::kInvalidArgument,
                     field + ": bind source " + quoted(m.source) + " is not an absolute path");
      }
      if (!opts->data.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     field + ": option(s) " + quoted(opts->data) + " mean nothing to a bind mount");
      }
      if (dest == "/dev") dev_is_bind = true;
      // MS_BIND ignores every other flag: read-only and friends take a second remount.
      plan.mounts.push_back({MountOp::Kind::kBind, m.source, dest, "",
                             opts->flags & ~opts->clear & ~MS_REMOUNT, opts->propagation,
                             opts->recursive, ""});
      continue;
    }
    if (m.type.empty()) {
      return Error(ErrorCode::kInvalidArgument, field + ": no type and not a bind mount");
    }
    if (m.type == "cgroup" || m.type == "cgroup2") {
      add_cgroup_mounts(*opts, dest, host, plan);
      continue;
    }
    if (m.type == "devpts" && dest == "/dev/pts") have_devpts = true;
    plan.mounts.push_back({MountOp::Kind::kMount, m.source.empty() ? m.type : m.source, dest,
                           m.type, opts->flags & ~opts->clear, opts->propagation, false,
                           opts->data});
  }
  auto add_etc_file = [&](const std::string& src, const char* dest) -> Status {
    if (src.empty()) return ok_status();
    if (src.front() != '/') {
      return Error(ErrorCode::kInvalidArgument,
                   std::string(dest) + ": source " + quoted(src) + " is not an absolute path");
    }
    plan.mounts.push_back({MountOp::Kind::kBind, src, dest, "", MS_RDONLY | MS_NOSUID | MS_NODEV |
                           MS_NOEXEC, 0, false, ""});
    return ok_status();
  };
  GANTRY_TRY(add_etc_file(spec.etc_hosts_file, "/etc/hosts"));
  GANTRY_TRY(add_etc_file(spec.resolv_conf_file, "/etc/resolv.conf"));

  plan.setup_dev = !dev_is_bind;
  if (plan.setup_dev) {
    struct Default {
      const char* path;
      unsigned major, minor;
    };
    static constexpr Default kDefaults[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},
                                            {"/dev/full", 1, 7},   {"/dev/random", 1, 8},
                                            {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
    for (const auto& d : kDefaults) {
      bool overridden = std::any_of(spec.devices.begin(), spec.devices.end(),
                                    [&](const DeviceNode& n) { return n.path == d.path; });
      if (overridden) continue;
      plan.devices.push_back(
          {d.path, S_IFCHR | 0666, makedev(d.major, d.minor), 0, 0, plan.new_user_ns});
    }
    plan.symlinks.push_back({"/proc/self/fd", "/dev/fd"});
    plan.symlinks.push_back({"/proc/self/fd/0", "/dev/stdin"});
    plan.symlinks.push_back({"/proc/self/fd/1", "/dev/stdout"});
    plan.symlinks.push_back({"/proc/self/fd/2", "/dev/stderr"});
    plan.symlinks.push_back({"/proc/kcore", "/dev/core"});
    plan.ptmx_symlink = have_devpts;
  }
  for (size_t i = 0; i < spec.devices.size(); ++i) {
    const DeviceNode& d = spec.devices[i];
    std::string field = "linux.devices[" + std::to_string(i) + "]";
    GANTRY_ASSIGN_OR_RETURN(std::string path, container_path(field, d.path));
    if (path.rfind("/dev/", 0) != 0) {
      return Error(ErrorCode::kInvalidArgument,
                   field + ": device path " + quoted(d.path) + " is not under /dev");
    }
    mode_t type = 0;
    switch (d.type) {
      case 'c':
      case 'u': type = S_IFCHR; break;
      case 'b': type = S_IFBLK; break;
      case 'p': type = S_IFIFO; break;
      default:
        return Error(ErrorCode::kInvalidArgument,
                     field + ": unknown device type '" + std::string(1, d.type) + "'");
    }
    if (d.major < 0 || d.minor < 0 || d.major > 0xfff || d.minor > 0xfffff) {
      return Error(ErrorCode::kInvalidArgument, field + ": major/minor out of range");
    }
    mode_t perm = d.file_mode ? (*d.file_mode & 07777) : 0666;
    plan.devices.push_back({path, type | perm,
                            makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor)),
                            d.uid.value_or(0), d.gid.value_or(0), plan.new_user_ns});
  }

  for (const auto& [key, value] : spec.sysctl) {
    if (key.empty() || key.find("..") != std::string::npos || key.front() == '.' ||
        key.front() == '/' || key.find('\0') != std::string::npos) {
      return Error(ErrorCode::kInvalidArgument, "linux.sysctl: invalid key " + quoted(key));
    }
    GANTRY_TRY(check_sysctl(key, spec));
    std::string path = "/proc/sys/" + key;
    std::replace(path.begin() + 10, path.end(), '.', '/');
    plan.sysctls.push_back({key, path, value});
  }
  for (size_t i = 0; i < spec.readonly_paths.size(); ++i) {
    GANTRY_ASSIGN_OR_RETURN(std::string p, container_path("linux.readonlyPaths[" +
                                                              std::to_string(i) + "]",
                                                          spec.readonly_paths[i]));
    plan.readonly_paths.push_back(std::move(p));
  }
  for (size_t i = 0; i < spec.masked_paths.size(); ++i) {
    GANTRY_ASSIGN_OR_RETURN(std::string p, container_path("linux.maskedPaths[" +
                                                              std::to_string(i) + "]",
                                                          spec.masked_paths[i]));
    plan.masked_paths.push_back(std::move(p));
  }
  return plan;
}

}  // namespace gantry::runtime
