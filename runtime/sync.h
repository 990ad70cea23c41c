// The parent <-> child protocol of container creation: fixed-size messages over one
// AF_UNIX SOCK_SEQPACKET socketpair (close-on-exec, so a successful execve reads as EOF).
// Used by runtime/launcher.cc (parent) and runtime/init.cc (child). The child side only
// fills and sends a stack struct: no allocation, no exceptions, async-signal-safe.
//
//   parent (gantry runtime)                          child (container init)
//   ───────────────────────                          ──────────────────────
//   plan, compile seccomp, create cgroup
//   [setns into joined namespaces, then back]
//   clone(CLONE_NEW*) ─────────────────────────────▶ blocks in recv()
//     (clone3 into the cgroup on cgroup2)
//   uid_map/gid_map
//   kGo ───────────────────────────────────────────▶ setns(user), setresuid(0), hostname,
//   cgroup add_process (unless cloned into it),      root + config mounts up to the first that
//   oom_score_adj, hook state                        needs the cgroup namespace (cgroup2)
//   kCgroupJoined ─────────────────────────────────▶ unshare(cgroup), the rest of the mounts,
//                                                    devices
//            ◀──────────────────────────────────── kRunHooks        (only when the spec has
//   prestart + createRuntime hooks                                   runtime-side hooks)
//   kHooksDone ────────────────────────────────────▶ createContainer hooks, pivot_root,
//                                                    sysctl, readonly/masked paths, ro root,
//                                                    console, rlimits, user, caps, NNP
//            ◀──────────────────────────────────── kReady
//   kCreate: return (child blocks opening exec.fifo; `start` opens the other end)
//   kRun:    wait for EOF (exec'd) or kError ─────── startContainer hooks, seccomp, execve
//
//   At any point: ◀── kError{step, errno, index, path}, then the child _exit()s; the parent
//   kills and reaps it, destroys the cgroup and returns an Error naming the step and path.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace gantry::runtime {

enum class SyncType : uint32_t {
  kGo = 1,         // parent -> child: uid/gid maps written
  kRunHooks = 2,   // child -> parent: namespaces and mounts exist; run runtime-side hooks
  kHooksDone = 3,  // parent -> child
  kReady = 4,      // child -> parent: set up; about to wait on exec.fifo (create) or exec (run)
  kError = 5,      // child -> parent: a step failed
  // parent -> child: the child is in its cgroup (the first v1 cgroup.procs write waits for an
  // RCU grace period, some ms, which the child spends on its mounts meanwhile)
  kCgroupJoined = 6,
};

// What the child was doing when it failed. The parent turns it into a phrase (step_name()).
enum class InitStep : int32_t {
  kNone = 0,
  kReceive,           // reading from the sync socket
  kSetnsUser,         // joining the user namespace by path
  kSetnsTime,
  kSetresuid,         // becoming root inside a new user namespace
  kUnshareCgroup,
  kSethostname,
  kSetdomainname,
  kRootPropagation,   // mount(NULL, "/", MS_REC|<propagation>)
  kMountOverlay,
  kBindRoot,
  kOpenRoot,
  kMkdirMountpoint,   // index: mount op
  kResolveMountpoint, // index: mount op
  kStatBindSource,    // index: mount op
  kMount,             // index: mount op
  kRemount,           // index: mount op
  kPropagation,       // index: mount op
  kSymlink,           // index: symlink
  kMknod,             // index: device
  kBindDevice,        // index: device
  kChownDevice,       // index: device
  kPivotRoot,
  kSysctl,            // index: sysctl
  kReadonlyPath,      // index: readonly path
  kMaskPath,          // index: masked path
  kRemountRootReadonly,
  kHookCreateContainer,  // index: hook; status: how it ended when it ran
  kHookStartContainer,
  kSetsid,
  kConsole,
  kConsoleSend,
  kOpenExecFifo,
  kRlimit,            // index: rlimit
  kSetgroups,
  kSetgid,
  kSetuid,
  kCapabilities,
  kNoNewPrivs,
  kSeccomp,
  kChdir,
  kUmask,
  kLookupExecutable,
  kExec,
  kFork,              // init reaper: forking the command
  kSetns,             // exec: joining the container's namespace (index: which)
};

struct SyncMessage {
  SyncType type = SyncType::kGo;
  InitStep step = InitStep::kNone;
  int32_t err = 0;     // errno of the failed call
  int32_t index = -1;  // which plan entry (mount, device, ...) the step was working on
  int32_t status = 0;  // hooks: exit status, or -N when signal N ended it
  char path[512] = {}; // a path the child computed itself (truncated), else empty
};

// Parent side of the socket (the child uses raw send/recv). receive_sync() reports EOF —
// the child exec'd or died — as a message of type 0.
Status send_sync(int fd, SyncType type);
Result<SyncMessage> receive_sync(int fd);

}  // namespace gantry::runtime
