// ContainerSpec: what one container is — contract 3 of ARCHITECTURE.md. The OCI bundle's
// config.json maps onto it (runtime/oci_config.h); Gantry's own callers (container run, jobs)
// build one from secure defaults. Plain data: no OS calls, freely copyable, thread-compatible.
// Field meanings follow the OCI runtime spec (config.md, config-linux.md).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::runtime {

enum class NamespaceType { kMount, kPid, kUts, kIpc, kNetwork, kCgroup, kUser, kTime };

// The name config.json uses for a namespace type ("mount", "network", ...).
constexpr std::string_view namespace_type_name(NamespaceType type) {
  switch (type) {
    case NamespaceType::kMount: return "mount";
    case NamespaceType::kPid: return "pid";
    case NamespaceType::kUts: return "uts";
    case NamespaceType::kIpc: return "ipc";
    case NamespaceType::kNetwork: return "network";
    case NamespaceType::kCgroup: return "cgroup";
    case NamespaceType::kUser: return "user";
    case NamespaceType::kTime: return "time";
  }
  return "unknown";
}

struct NamespaceSpec {
  NamespaceType type;
  std::string path;  // empty: create a new one; else join the namespace at this path
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;  // absolute path inside the container
  std::string type;         // "bind", "proc", "tmpfs", ... ("" for bind when options say so)
  std::string source;
  std::vector<std::string> options;  // as in config.json: "ro", "nosuid", "rbind", "mode=755"...
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;  // "CAP_CHOWN"
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;  // "KEY=value"
  std::string cwd = "/";
  Capabilities capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;  // recorded; applying AppArmor is unsupported (error if set)
  std::optional<int> oom_score_adj;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // "SCMP_CMP_EQ", ...
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // "SCMP_ACT_ERRNO", ...
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;  // "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", ...
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // "SCMP_ARCH_X86_64"
  std::vector<std::string> flags;          // "SECCOMP_FILTER_FLAG_LOG", ...
  std::vector<SeccompSyscall> syscalls;
};

struct DeviceNode {
  std::string path;  // "/dev/fuse"
  char type = 'c';   // 'c', 'b', 'u', 'p'
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct DeviceRule {  // linux.resources.devices (cgroup device access)
  bool allow = false;
  std::string type = "a";  // "a", "c", "b"
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::string access = "rwm";
};

// linux.resources. Unset fields leave the kernel default. Units as in the OCI spec.
struct Resources {
  std::optional<int64_t> memory_limit;        // bytes
  std::optional<int64_t> memory_reservation;  // bytes
  std::optional<int64_t> memory_swap;         // memory+swap bytes (v1 semantics), -1 unlimited
  std::optional<uint64_t> cpu_shares;         // v1 shares (v2 weight converted from it)
  std::optional<int64_t> cpu_quota;           // microseconds per period, -1 unlimited
  std::optional<uint64_t> cpu_period;         // microseconds
  std::string cpuset_cpus;                    // "0-1"
  std::string cpuset_mems;
  std::optional<int64_t> pids_limit;          // <= 0: unlimited
  std::vector<DeviceRule> devices;
  std::map<std::string, std::string> unified;  // raw cgroup v2 files ("memory.high": "...")
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

// The container's root: either the bundle's rootfs directory, or an overlay of read-only
// layers (lowest first) with a per-container upper/work dir. `path` is where the root is
// mounted from the host's side (the bundle rootfs path, made absolute).
struct Root {
  std::string path;
  bool readonly = false;
  std::vector<std::string> overlay_lower;  // lowest layer first; empty: no overlay
  std::string overlay_upper;
  std::string overlay_work;
  // The upper dir does not outlive the container (a bundle made for one run): overlayfs may
  // skip syncing it (mount option `volatile`), which spares every container's exit a sync of
  // the whole filesystem under the upper dir.
  bool overlay_volatile = false;
};

struct ContainerSpec {
  std::string oci_version = "1.0.2";
  std::string bundle;  // absolute bundle directory
  Root root;
  std::string hostname;
  std::string domainname;
  Process process;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;

  // linux
  std::vector<NamespaceSpec> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::vector<DeviceNode> devices;
  std::string cgroups_path;  // "" : runtime picks "/gantry/<id>"
  Resources resources;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;  // "", "private", "rprivate", "slave", "rslave", "shared"...
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::map<std::string, std::string> sysctl;
  std::string mount_label;

  // Gantry extensions carried in annotations by Gantry's own callers: files bind-mounted
  // read-only over /etc/hosts and /etc/resolv.conf when set.
  std::string etc_hosts_file;
  std::string resolv_conf_file;
  // pid 1 is Gantry's reaper and process.args run as its child (what `docker run --init` does):
  // signals sent to the container reach the command, which as pid 1 would ignore those it has
  // no handler for (a shell's SIGTERM), and orphans are reaped.
  bool init_reaper = false;

  bool has_namespace(NamespaceType t) const {
    for (const auto& ns : namespaces)
      if (ns.type == t) return true;
    return false;
  }
};

}  // namespace gantry::runtime
