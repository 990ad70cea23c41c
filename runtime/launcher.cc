#include "runtime/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "common/file.h"
#include "common/logging.h"
#include "common/unique_fd.h"
#include "runtime/clone_child.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/init.h"
#include "runtime/init_hooks.h"
#include "runtime/launch_cgroup.h"
#include "runtime/launch_plan.h"
#include "runtime/process_image.h"
#include "runtime/process_security.h"
#include "runtime/state.h"
#include "runtime/sync.h"

namespace gantry::runtime {

namespace {

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }


// Writes "container_id host_id size" lines, the format of /proc/<pid>/uid_map.
std::string id_map(const std::vector<IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) {
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
           std::to_string(m.size) + "\n";
  }
  return out;
}

Status write_proc_file(pid_t pid, const char* name, const std::string& data) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + in_quotes(path));
  if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    return sys_error("write " + in_quotes(path));
  }
  return ok_status();
}

const char* ns_proc_name(NamespaceType type) {
  switch (type) {
    case NamespaceType::kMount: return "mnt";
    case NamespaceType::kPid: return "pid";
    case NamespaceType::kUts: return "uts";
    case NamespaceType::kIpc: return "ipc";
    case NamespaceType::kNetwork: return "net";
    case NamespaceType::kCgroup: return "cgroup";
    case NamespaceType::kUser: return "user";
    case NamespaceType::kTime: return "time";
  }
  return "";
}

// Joins the plan's namespaces for the duration of clone(): a child inherits its parent's
// network, ipc, uts and cgroup namespaces, and a pid (or time) namespace joined by its parent
// becomes the child's. The destructor puts the parent back.
class NamespaceJoiner {
 public:
  Status join(const LaunchPlan& plan) {
    struct Target {
      UniqueFd fd;
      int flag;
      const char* name;
      std::string path;
    };
    std::vector<Target> targets;
    auto add = [&](const std::string& path, NamespaceType type) -> Status {
      UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) {
        return sys_error("open " + std::string(namespace_name(type)) + " namespace " +
                         in_quotes(path));
      }
      targets.push_back({std::move(fd), clone_flag_for(type), ns_proc_name(type), path});
      return ok_status();
    };
    for (const auto& j : plan.joins) GANTRY_TRY(add(j.path, j.type));
    if (!plan.join_time_ns.empty()) GANTRY_TRY(add(plan.join_time_ns, NamespaceType::kTime));
    for (auto& t : targets) {
      std::string own = std::string("/proc/self/ns/") + t.name;
      UniqueFd saved(::open(own.c_str(), O_RDONLY | O_CLOEXEC));
      if (!saved) return sys_error("open " + in_quotes(own));
      if (::setns(t.fd.get(), t.flag) != 0) {
        return sys_error("join " + std::string(t.name) + " namespace " + in_quotes(t.path));
      }
      saved_.push_back({std::move(saved), t.flag});
    }
    return ok_status();
  }
  ~NamespaceJoiner() { restore(); }
  void restore() {
    // setns back into our own namespaces, which we may always re-enter as root.
    for (auto& s : saved_) (void)::setns(s.fd.get(), s.flag);
    saved_.clear();
  }

 private:
  struct Saved {
    UniqueFd fd;
    int flag;
  };
  std::vector<Saved> saved_;
};

// Kills and reaps the child and removes the cgroup unless release()d.
class LaunchCleanup {
 public:
  ~LaunchCleanup() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    if (cgroup_ != nullptr && created_) (void)cgroup_->destroy();
    if (!fifo_.empty()) ::unlink(fifo_.c_str());
  }
  void set_pid(pid_t pid) { pid_ = pid; }
  void set_cgroup(CgroupManager* cg) {
    cgroup_ = cg;
    created_ = true;
  }
  void set_fifo(std::string path) { fifo_ = std::move(path); }
  void release() {
    pid_ = -1;
    cgroup_ = nullptr;
    fifo_.clear();
  }

 private:
  pid_t pid_ = -1;
  CgroupManager* cgroup_ = nullptr;
  bool created_ = false;
  std::string fifo_;
};

Error init_died(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) {
    if (WIFSIGNALED(status)) {
      return Error(ErrorCode::kInternal, "container init was killed by signal " +
                                             std::to_string(WTERMSIG(status)) + " during setup");
    }
    return Error(ErrorCode::kInternal, "container init exited with status " +
                                           std::to_string(WEXITSTATUS(status)) + " during setup");
  }
  return Error(ErrorCode::kInternal, "container init closed the sync socket during setup");
}

}  // namespace

Result<LaunchedContainer> launch_container(const LaunchRequest& request) {
  const ContainerSpec& spec = request.spec;
  std::string context = "create container " + in_quotes(request.id);
  if (request.id.empty()) return Error(ErrorCode::kInvalidArgument, "container id is empty");
  if (spec.process.args.empty()) {
    return Error(ErrorCode::kInvalidArgument, context + ": process.args is empty");
  }
  if (spec.process.terminal && request.console_socket.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 context + ": process.terminal needs a console socket");
  }
  if (!spec.process.apparmor_profile.empty()) {
    return Error(ErrorCode::kUnimplemented,
                 context + ": process.apparmorProfile: AppArmor is not supported");
  }

  // Before the cgroup exists, so that a bad capability or seccomp profile leaves nothing behind.
  auto sec_or = prepare_process_security(spec.process, spec.seccomp, request.seccomp_cache_dir);
  if (!sec_or.ok()) return std::move(sec_or).error().with_context(context);
  const ProcessSecurity& security = *sec_or;
  for (const auto& warning : security.warnings) {
    logger("runtime")->warn("security setting skipped id={} reason=\"{}\"", request.id, warning);
  }
  for (const auto& note : security.ignored) {
    logger("runtime")->debug("security setting ignored id={} reason=\"{}\"", request.id, note);
  }
  auto cg = make_launch_cgroup(request.id, spec);
  if (!cg.ok()) return std::move(cg).error().with_context(context);
  auto plan_or = make_launch_plan(spec, cg->host);
  if (!plan_or.ok()) return std::move(plan_or).error().with_context(context);
  const LaunchPlan& plan = *plan_or;

  // Everything the child reads is built now: it must not allocate.
  ProcessImage image = make_process_image(spec.process);
  std::vector<HookImage> create_container_hooks = make_hook_images(spec.hooks.create_container);
  std::vector<HookImage> start_container_hooks = make_hook_images(spec.hooks.start_container);
  bool runtime_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
  UniqueFd hook_state;
  if (!create_container_hooks.empty() || !start_container_hooks.empty()) {
    // Filled once the pid is known; the child inherits the fd at clone.
    hook_state.reset(::memfd_create("gantry-hook-state", MFD_CLOEXEC));
    if (!hook_state) return sys_error("memfd_create").with_context(context);
  }

  LaunchCleanup cleanup;
  UniqueFd console;
  if (spec.process.terminal) {
    auto c = connect_console_socket(request.console_socket);
    if (!c.ok()) return std::move(c).error().with_context(context);
    console = std::move(*c);
  }
  UniqueFd fifo;
  if (request.mode == LaunchRequest::Mode::kCreate) {
    std::string path = join_path(request.state_dir, "exec.fifo");
    if (::mkfifo(path.c_str(), 0622) != 0) {
      return sys_error("make exec fifo " + in_quotes(path)).with_context(context);
    }
    cleanup.set_fifo(path);
    // mkfifo honours the umask; the container's user must be able to open it for writing.
    if (::chmod(path.c_str(), 0622) != 0) {
      return sys_error("chmod exec fifo " + in_quotes(path)).with_context(context);
    }
    fifo.reset(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) return sys_error("open exec fifo " + in_quotes(path)).with_context(context);
  }

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return sys_error("socketpair").with_context(context);
  }
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]);

  InitArgs args;
  args.plan = &plan;
  args.sync_fd = child_sock.get();
  args.fifo_fd = fifo.get();
  args.console_fd = console.get();
  fill_process_args(spec.process, image, security, args);
  args.init_reaper = spec.init_reaper;
  args.create_container_hooks = create_container_hooks.data();
  args.create_container_hook_count = create_container_hooks.size();
  args.start_container_hooks = start_container_hooks.data();
  args.start_container_hook_count = start_container_hooks.size();
  args.runtime_hooks = runtime_hooks;
  args.hook_state_fd = hook_state.get();
  args.stdio[0] = request.stdin_fd;
  args.stdio[1] = request.stdout_fd;
  args.stdio[2] = request.stderr_fd;

  {
    auto st = cg->manager->create(spec.resources);
    if (!st.ok()) return std::move(st).error().with_context(context);
    cleanup.set_cgroup(cg->manager.get());
  }
  UniqueFd clone_target = cg->manager->open_clone_target();

  pid_t pid;
  bool in_cgroup = false;
  {
    NamespaceJoiner joiner;
    auto st = joiner.join(plan);
    if (!st.ok()) return std::move(st).error().with_context(context);
    // Like fork(): the child runs on a copy of this stack, with its new namespaces.
    ClonedChild child =
        clone_child(static_cast<unsigned long>(plan.clone_flags), clone_target.get());
    pid = child.pid;
    if (pid == 0) {
      ::close(parent_sock.get());
      run_init(args);
    }
    if (pid < 0) return sys_error("clone").with_context(context);
    in_cgroup = child.in_cgroup;
  }
  clone_target.reset();
  cleanup.set_pid(pid);
  child_sock.reset();
  fifo.reset();
  console.reset();

  if (plan.new_user_ns) {
    auto st = write_proc_file(pid, "uid_map", id_map(spec.uid_mappings));
    if (st.ok()) st = write_proc_file(pid, "gid_map", id_map(spec.gid_mappings));
    if (!st.ok()) return std::move(st).error().with_context(context);
  }
  // The child starts on its mounts now; it waits for kCgroupJoined before it needs its cgroup.
  {
    auto st = send_sync(parent_sock.get(), SyncType::kGo);
    if (!st.ok()) return std::move(st).error().with_context(context);
  }
  if (!in_cgroup) {
    auto st = cg->manager->add_process(pid);
    if (!st.ok()) {
      // A child that failed on its mounts meanwhile is gone from cgroup.procs' view: its own
      // error, if it sent one, is the one to report.
      pollfd p{parent_sock.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) == 1) {
        auto m = receive_sync(parent_sock.get());
        if (m.ok() && m->type == SyncType::kError) {
          return init_error(*m, &plan, security).with_context(context);
        }
      }
      return std::move(st).error().with_context(context);
    }
  }
  if (spec.process.oom_score_adj) {
    auto st = write_proc_file(pid, "oom_score_adj", std::to_string(*spec.process.oom_score_adj));
    if (!st.ok()) return std::move(st).error().with_context(context);
  }
  std::string state_json;
  if (runtime_hooks || hook_state) {
    ContainerState state;
    state.oci_version = spec.oci_version;
    state.id = request.id;
    state.status = ContainerStatus::kCreating;
    state.pid = pid;
    state.bundle = spec.bundle;
    state.annotations = spec.annotations;
    Json j = oci_state_json(state);
    // Hooks need the pid while creating too (a network hook finds the netns through it), and
    // runc passes it; the plain OCI state leaves it out until "created".
    j["pid"] = pid;
    state_json = j.dump();
  }
  if (hook_state) {
    if (::pwrite(hook_state.get(), state_json.data(), state_json.size(), 0) !=
        static_cast<ssize_t>(state_json.size())) {
      return sys_error("write hook state").with_context(context);
    }
    hook_state.reset();
  }
  // A child that failed meanwhile has closed its end: its error is waiting below, so a failed
  // send is not the error to report.
  (void)send_sync(parent_sock.get(), SyncType::kCgroupJoined);

  bool ready = false;
  for (;;) {
    auto m = receive_sync(parent_sock.get());
    if (!m.ok()) return std::move(m).error().with_context(context);
    if (m->type == SyncType::kError) return init_error(*m, &plan, security).with_context(context);
    if (m->type == SyncType::kRunHooks) {
      auto st = run_hooks("prestart", spec.hooks.prestart, state_json);
      if (st.ok()) st = run_hooks("createRuntime", spec.hooks.create_runtime, state_json);
      if (!st.ok()) return std::move(st).error().with_context(context);
      auto sent = send_sync(parent_sock.get(), SyncType::kHooksDone);
      if (!sent.ok()) return std::move(sent).error().with_context(context);
      continue;
    }
    if (m->type == SyncType::kReady) {
      ready = true;
      if (request.mode == LaunchRequest::Mode::kCreate) break;
      continue;  // run: wait for EOF (exec'd) or an exec error
    }
    if (m->type == static_cast<SyncType>(0)) {
      if (ready) break;
      return init_died(pid).with_context(context);
    }
    return Error(ErrorCode::kInternal, context + ": unexpected message from container init");
  }
  cleanup.release();
  LaunchedContainer out;
  out.pid = pid;
  out.cgroup = std::move(cg->manager);
  return out;
}

Status start_container(const std::string& state_dir, pid_t init_pid) {
  std::string path = join_path(state_dir, "exec.fifo");
  // Non-blocking, so an init that died before opening its end cannot hang us; poll() below
  // wakes on its byte or on the init exiting.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return Error(ErrorCode::kFailedPrecondition,
                   "start container: exec fifo " + in_quotes(path) +
                       " is gone: the container was started already", ENOENT);
    }
    return sys_error("start container: open exec fifo " + in_quotes(path));
  }
  UniqueFd pidfd;
  if (init_pid > 0) {
    pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, init_pid, 0)));
    if (!pidfd) return sys_error("start container: pidfd_open " + std::to_string(init_pid));
  }
  for (;;) {
    pollfd fds[2] = {{fd.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int n = ::poll(fds, pidfd ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("start container: poll");
    if (fds[0].revents & POLLIN) break;
    if (fds[1].revents & POLLIN) {
      return Error(ErrorCode::kFailedPrecondition,
                   "start container: its init exited before it was started");
    }
  }
  char byte;
  ssize_t r = ::read(fd.get(), &byte, 1);
  if (r != 1) {
    return Error(ErrorCode::kFailedPrecondition,
                 "start container: its init went away before it was started");
  }
  if (::unlink(path.c_str()) != 0) return sys_error("start container: remove " + in_quotes(path));
  return ok_status();
}

}  // namespace gantry::runtime
