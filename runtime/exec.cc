#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <vector>

#include "common/unique_fd.h"
#include "runtime/console.h"
#include "runtime/init.h"
#include "runtime/process_image.h"
#include "runtime/process_security.h"
#include "runtime/sync.h"

namespace gantry::runtime {

namespace {

struct NsKind {
  const char* name;
  int flag;
};

// The user namespace first: the others are owned by it, and joining it is what gives the
// rights to join them. pid is joined by the parent (it applies to children); mnt last, as it
// changes the root that later path lookups would use.
constexpr std::array<NsKind, 6> kChildOrder = {{{"user", CLONE_NEWUSER},
                                                {"ipc", CLONE_NEWIPC},
                                                {"uts", CLONE_NEWUTS},
                                                {"net", CLONE_NEWNET},
                                                {"cgroup", CLONE_NEWCGROUP},
                                                {"mnt", CLONE_NEWNS}}};

bool same_namespace(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Result<pid_t> spawn_in_container(const ExecRequest& request) {
  std::string context = "exec in container (init pid " + std::to_string(request.init_pid) + ")";
  if (request.init_pid <= 0) return Error(ErrorCode::kInvalidArgument, context + ": no init pid");
  if (request.process.args.empty()) {
    return Error(ErrorCode::kInvalidArgument, context + ": process.args is empty");
  }
  if (request.process.terminal && request.console_socket.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 context + ": process.terminal needs a console socket");
  }
  auto sec_or =
      prepare_process_security(request.process, request.seccomp, request.seccomp_cache_dir);
  if (!sec_or.ok()) return std::move(sec_or).error().with_context(context);
  const ProcessSecurity& security = *sec_or;
  ProcessImage image = make_process_image(request.process);

  std::string base = "/proc/" + std::to_string(request.init_pid) + "/ns/";
  std::vector<UniqueFd> ns_owned;
  std::vector<int> ns_fds, ns_flags;
  for (const auto& kind : kChildOrder) {
    std::string path = base + kind.name;
    if (same_namespace(path, std::string("/proc/self/ns/") + kind.name)) continue;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sys_error("open " + std::string(kind.name) + " namespace '" + path + "'")
                 .with_context(context);
    ns_fds.push_back(fd.get());
    ns_flags.push_back(kind.flag);
    ns_owned.push_back(std::move(fd));
  }
  UniqueFd pid_ns, own_pid_ns;
  if (!same_namespace(base + "pid", "/proc/self/ns/pid")) {
    pid_ns.reset(::open((base + "pid").c_str(), O_RDONLY | O_CLOEXEC));
    own_pid_ns.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!pid_ns || !own_pid_ns) {
      return sys_error("open pid namespace '" + base + "pid'").with_context(context);
    }
  }

  UniqueFd console;
  if (request.process.terminal) {
    auto c = connect_console_socket(request.console_socket);
    if (!c.ok()) return std::move(c).error().with_context(context);
    console = std::move(*c);
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return sys_error("socketpair").with_context(context);
  }
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]);

  InitArgs args;
  args.sync_fd = child_sock.get();
  args.console_fd = console.get();
  fill_process_args(request.process, image, security, args);
  args.stdio[0] = request.stdin_fd;
  args.stdio[1] = request.stdout_fd;
  args.stdio[2] = request.stderr_fd;

  if (pid_ns && ::setns(pid_ns.get(), CLONE_NEWPID) != 0) {
    return sys_error("join pid namespace '" + base + "pid'").with_context(context);
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(parent_sock.get());
    run_exec_child(args, ns_fds.data(), ns_flags.data(), ns_fds.size());
  }
  int fork_errno = errno;
  // Back to our own pid namespace for whatever this process forks later.
  if (own_pid_ns) (void)::setns(own_pid_ns.get(), CLONE_NEWPID);
  if (pid < 0) return sys_error("fork", fork_errno).with_context(context);
  child_sock.reset();
  console.reset();

  auto kill_and_reap = [&] {
    ::kill(pid, SIGKILL);
    (void)wait_exit_code(pid);
  };
  if (request.cgroup != nullptr) {
    auto st = request.cgroup->add_process(pid);
    if (!st.ok()) {
      kill_and_reap();
      return std::move(st).error().with_context(context);
    }
  }
  if (auto st = send_sync(parent_sock.get(), SyncType::kGo); !st.ok()) {
    kill_and_reap();
    return std::move(st).error().with_context(context);
  }
  bool ready = false;
  for (;;) {
    auto m = receive_sync(parent_sock.get());
    if (!m.ok()) {
      kill_and_reap();
      return std::move(m).error().with_context(context);
    }
    if (m->type == SyncType::kError) {
      kill_and_reap();
      return init_error(*m, nullptr, security).with_context(context);
    }
    if (m->type == SyncType::kReady) {
      ready = true;
      continue;
    }
    if (m->type == static_cast<SyncType>(0) && ready) break;  // exec'd
    int code = ready ? -1 : wait_exit_code(pid);
    if (ready) kill_and_reap();
    return Error(ErrorCode::kInternal,
                 context + ": process ended during setup (status " + std::to_string(code) + ")");
  }
  return pid;
}

Result<int> wait_spawned(pid_t pid) {
  int code = wait_exit_code(pid);
  if (code < 0) return sys_error("wait for exec'd process " + std::to_string(pid));
  return code;
}

Result<int> exec_in_container(const ExecRequest& request) {
  GANTRY_ASSIGN_OR_RETURN(pid_t pid, spawn_in_container(request));
  return wait_spawned(pid);
}

}  // namespace gantry::runtime
