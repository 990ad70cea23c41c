// LaunchPlan: everything the container's init will do, computed from a ContainerSpec before
// clone — clone flags, namespaces to join, the ordered mount operations with their flags and
// data, device nodes, /dev symlinks, sysctl writes, masked and read-only paths. PURE: no OS
// calls, so all of it is unit-tested without root. The launcher computes it in the parent; the
// child (runtime/init.cc) only walks it, reading strings it never has to allocate.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"

namespace gantry::runtime {

// The config.json `options` of one mount, split into what mount(2) takes.
struct MountOptions {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, ... (set)
  unsigned long clear = 0;        // flags an option asked to clear ("rw", "suid", "exec"...)
  unsigned long propagation = 0;  // MS_PRIVATE|MS_REC, MS_SLAVE, ... (0: leave as is)
  bool bind = false;              // "bind" or "rbind"
  bool recursive = false;         // "rbind"
  std::string data;               // everything else, comma-joined ("mode=755,size=65536k")
};

// Parses mount options. Unknown words go to `data` (filesystems take their own options);
// errors are for options Gantry recognises but cannot honour (idmap, tmpcopyup, ...).
Result<MountOptions> parse_mount_options(const std::vector<std::string>& options);

// The overlayfs option string for `lower` (lowest layer first, as in Root::overlay_lower):
// "lowerdir=<top>:...:<bottom>,upperdir=<upper>,workdir=<work>". Without upper: read-only
// overlay of the lowers. ':' and '\' in paths are escaped; a ',' is an error (mount(2) data
// cannot carry one), as is a string longer than one page. `volatile_upper` adds `volatile`
// (with an upper dir only; the caller checks that the kernel has it: Linux 5.10+).
Result<std::string> overlay_options(const std::vector<std::string>& lower,
                                    const std::string& upper, const std::string& work,
                                    bool volatile_upper = false);
// Whether this kernel's overlayfs takes `volatile` (Linux 5.10+).
bool kernel_has_overlay_volatile();

struct MountOp {
  enum class Kind {
    kMount,    // mount(source, dest, fstype, flags, data)
    kBind,     // mount(source, dest, MS_BIND[|MS_REC]); then remount with `flags` if any
    kRemount,  // mount(NULL, dest, NULL, MS_REMOUNT|flags, data): e.g. cgroup tmpfs ro
  };
  Kind kind = Kind::kMount;
  std::string source;       // fs source name, or the host path of a bind source
  std::string destination;  // absolute path inside the container (resolved in the rootfs)
  std::string fstype;
  unsigned long flags = 0;  // kMount: mount flags; kBind: flags of the read-only/... remount
  unsigned long propagation = 0;
  bool recursive = false;   // kBind: MS_REC
  std::string data;
};

struct DeviceOp {
  std::string path;  // absolute inside the container ("/dev/null")
  mode_t mode = 0;   // S_IFCHR|0666, ...
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool bind = false;  // in a user namespace mknod is denied: bind the host's node instead
};

struct SymlinkOp {
  std::string target;  // "/proc/self/fd"
  std::string link;    // "/dev/fd" (inside the container)
};

struct SysctlOp {
  std::string key;   // "net.ipv4.ip_forward" (for errors)
  std::string path;  // "/proc/sys/net/ipv4/ip_forward" (inside the container)
  std::string value;
};

struct NamespaceJoin {
  NamespaceType type;
  std::string path;
  int clone_flag = 0;  // CLONE_NEWNET, ...
};

// Where a cgroup v1 hierarchy of the container's cgroup lives on the host, for
// /sys/fs/cgroup inside: name "cpu,cpuacct" -> host "/sys/fs/cgroup/cpu,cpuacct/gantry/x".
struct CgroupMountSource {
  std::string name;
  std::string host_path;
};

// What the plan needs to know about the host (probed by the launcher, faked in tests).
struct PlanHost {
  bool cgroup_v2 = false;                          // whole /sys/fs/cgroup is cgroup2
  std::vector<CgroupMountSource> cgroup_v1_sources;  // v1: the container's cgroup dirs
  bool overlay_volatile = false;  // overlayfs takes `volatile` (Linux 5.10+)
};

struct LaunchPlan {
  int clone_flags = 0;            // CLONE_NEW* the clone creates (never CLONE_NEWCGROUP)
  bool new_user_ns = false;
  bool unshare_cgroup_ns = false; // the child unshares it once it is in its cgroup
  std::vector<NamespaceJoin> joins;  // setns() by the parent around clone, except user
  std::string join_user_ns;       // setns() by the child first thing
  std::string join_time_ns;       // setns() by the parent (time ns applies to children)

  std::string rootfs;             // host path of the root (a mount point after setup)
  std::string overlay_data;       // non-empty: mount an overlay at rootfs first
  unsigned long root_propagation = 0;  // on "/" before anything else
  bool readonly_root = false;

  std::vector<MountOp> mounts;    // in order, after the root
  // The first of `mounts` that needs the container's cgroup namespace (a fresh cgroup2 mount),
  // or -1: the child waits until it is in its cgroup before that mount, else after the mounts.
  int first_cgroup_ns_mount = -1;
  bool setup_dev = false;         // /dev is not bind-mounted: make devices and symlinks
  std::vector<DeviceOp> devices;
  std::vector<SymlinkOp> symlinks;
  bool ptmx_symlink = false;      // /dev/ptmx -> pts/ptmx (a devpts is mounted)

  std::vector<SysctlOp> sysctls;
  std::vector<std::string> readonly_paths;
  std::vector<std::string> masked_paths;
  std::string hostname;           // set when non-empty
  std::string domainname;
};

// Computes the plan, validating what the spec asks for. Errors name the field:
// "mounts[3] '/data': option 'idmap' is not supported".
Result<LaunchPlan> make_launch_plan(const ContainerSpec& spec, const PlanHost& host);

// The clone flag of a namespace type (CLONE_NEWNS, ...).
int clone_flag_for(NamespaceType type);
std::string_view namespace_name(NamespaceType type);

// A readable phrase for a mount op in errors: "mount 'proc'", "bind mount '/src'".
std::string describe_mount(const MountOp& op);

}  // namespace gantry::runtime
