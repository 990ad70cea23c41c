#include <errno.h>
#include <string.h>

#include "runtime/init.h"
#include "runtime/rlimits.h"

namespace gantry::runtime {

namespace {

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string in_root(const LaunchPlan& plan, const std::string& path) {
  return plan.rootfs + (path == "/" ? "" : path);
}

// Turns the child's {step, errno, index, path} into "mount 'proc' at '/…/rootfs/proc'".
std::string describe_step(const SyncMessage& m, const LaunchPlan* plan_ptr,
                          const ProcessSecurity& security) {
  static const LaunchPlan kNoPlan;
  const LaunchPlan& plan = plan_ptr ? *plan_ptr : kNoPlan;
  auto at = [&](size_t n, auto& list) { return m.index >= 0 && static_cast<size_t>(m.index) < n
                                                   ? &list[m.index] : nullptr; };
  std::string path(m.path, strnlen(m.path, sizeof m.path));
  const MountOp* mount = at(plan.mounts.size(), plan.mounts);
  const DeviceOp* dev = at(plan.devices.size(), plan.devices);
  switch (m.step) {
    case InitStep::kReceive: return "read from parent";
    case InitStep::kSetnsUser: return "join user namespace " + quoted(path);
    case InitStep::kSetnsTime: return "join time namespace " + quoted(path);
    case InitStep::kSetresuid: return "become root in the user namespace";
    case InitStep::kUnshareCgroup: return "unshare cgroup namespace";
    case InitStep::kSethostname: return "set hostname " + quoted(plan.hostname);
    case InitStep::kSetdomainname: return "set domainname " + quoted(plan.domainname);
    case InitStep::kRootPropagation: return "set propagation of '/'";
    case InitStep::kMountOverlay: return "mount overlay at " + quoted(path);
    case InitStep::kBindRoot: return "bind mount root " + quoted(path);
    case InitStep::kOpenRoot: return "open root " + quoted(path);
    case InitStep::kStatBindSource:
      if (mount) return "bind mount source " + quoted(mount->source);
      break;
    case InitStep::kMkdirMountpoint:
    case InitStep::kResolveMountpoint:
      if (mount) return "make mount point " + quoted(in_root(plan, mount->destination));
      break;
    case InitStep::kMount:
      if (mount) return describe_mount(*mount) + " at " + quoted(in_root(plan, mount->destination));
      break;
    case InitStep::kRemount:
      if (mount) return "remount " + quoted(in_root(plan, mount->destination));
      break;
    case InitStep::kPropagation:
      if (mount) return "set propagation of " + quoted(in_root(plan, mount->destination));
      break;
    case InitStep::kSymlink:
      if (m.index >= 0 && static_cast<size_t>(m.index) < plan.symlinks.size()) {
        return "symlink " + quoted(in_root(plan, plan.symlinks[m.index].link));
      }
      return "symlink " + quoted(in_root(plan, "/dev/ptmx"));
    case InitStep::kMknod:
      if (dev) return "mknod " + quoted(in_root(plan, dev->path));
      break;
    case InitStep::kBindDevice:
      if (dev) return "bind mount device " + quoted(dev->path);
      break;
    case InitStep::kChownDevice:
      if (dev) return "chown " + quoted(in_root(plan, dev->path));
      break;
    case InitStep::kPivotRoot: return "pivot_root to " + quoted(path);
    case InitStep::kSysctl:
      if (m.index >= 0 && static_cast<size_t>(m.index) < plan.sysctls.size()) {
        return "set sysctl " + quoted(plan.sysctls[m.index].key);
      }
      break;
    case InitStep::kReadonlyPath:
      if (m.index >= 0 && static_cast<size_t>(m.index) < plan.readonly_paths.size()) {
        return "make " + quoted(plan.readonly_paths[m.index]) + " read-only";
      }
      break;
    case InitStep::kMaskPath:
      if (m.index >= 0 && static_cast<size_t>(m.index) < plan.masked_paths.size()) {
        return "mask " + quoted(plan.masked_paths[m.index]);
      }
      break;
    case InitStep::kRemountRootReadonly: return "remount root read-only";
    case InitStep::kHookCreateContainer:
      return "createContainer hook[" + std::to_string(m.index) + "] " + quoted(path);
    case InitStep::kHookStartContainer:
      return "startContainer hook[" + std::to_string(m.index) + "] " + quoted(path);
    case InitStep::kSetsid: return "setsid";
    case InitStep::kConsole: return "set up terminal" + (path.empty() ? "" : " " + quoted(path));
    case InitStep::kConsoleSend: return "send terminal to console socket";
    case InitStep::kOpenExecFifo: return "open exec fifo";
    case InitStep::kRlimit:
      if (m.index >= 0 && static_cast<size_t>(m.index) < security.rlimits.count) {
        return "set rlimit " + quoted(rlimit_name(security.rlimits.entries[m.index].resource));
      }
      return "set rlimit";
    case InitStep::kSetgroups: return "set additional groups";
    case InitStep::kSetgid: return "set gid";
    case InitStep::kSetuid: return "switch to the process user";
    case InitStep::kCapabilities: return "set capabilities";
    case InitStep::kNoNewPrivs: return "set no_new_privs";
    case InitStep::kSeccomp: return "load seccomp filter";
    case InitStep::kChdir: return "change directory to " + quoted(path);
    case InitStep::kUmask: return "set umask";
    case InitStep::kLookupExecutable: return "find executable " + quoted(path) + " in PATH";
    case InitStep::kExec: return "exec " + quoted(path);
    case InitStep::kFork: return "fork the command";
    case InitStep::kSetns: return "join the container's namespaces";
    case InitStep::kNone: break;
  }
  return "container setup step " + std::to_string(static_cast<int>(m.step));
}



}  // namespace

Error init_error(const SyncMessage& m, const LaunchPlan* plan, const ProcessSecurity& security) {
  std::string what = describe_step(m, plan, security);
  if (m.err == 0 && m.status > 0) {
    return Error(ErrorCode::kFailedPrecondition,
                 what + ": exited with status " + std::to_string(m.status));
  }
  if (m.err == 0 && m.status < 0) {
    return Error(ErrorCode::kFailedPrecondition,
                 what + ": killed by signal " + std::to_string(-m.status));
  }
  if (m.err == ETIMEDOUT) return Error(ErrorCode::kDeadlineExceeded, what + ": timed out", m.err);
  return sys_error(what, m.err);
}

}  // namespace gantry::runtime
