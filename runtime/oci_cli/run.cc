// `gantry runtime run`: create + start + wait + delete in one process, which stays the init's
// parent. Signals sent to this process are forwarded to the init; --timeout kills the whole
// cgroup. The container's exit code becomes ours (128+N for signal N). Without --detach the
// init execs as soon as it is set up (no exec fifo round trip); the hooks run at the same
// points as with create + start.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/file.h"
#include "common/logging.h"
#include "common/scratch_file.h"
#include "runtime/oci_cli/args.h"
#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

namespace {

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

int64_t now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Blocks the forwarded signals for this process while it lives and reads them from a signalfd.
class SignalForwarder {
 public:
  SignalForwarder() {
    sigemptyset(&set_);
    for (int s : kForwardedSignals) sigaddset(&set_, s);
    ::sigprocmask(SIG_BLOCK, &set_, &old_);
    fd_.reset(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  ~SignalForwarder() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  int fd() const { return fd_.get(); }
  // Forwards every pending signal to `pidfd`'s process.
  void forward(int pidfd) {
    signalfd_siginfo info;
    while (::read(fd_.get(), &info, sizeof info) == sizeof info) {
      ::syscall(SYS_pidfd_send_signal, pidfd, static_cast<int>(info.ssi_signo), nullptr, 0);
    }
  }

 private:
  sigset_t set_, old_;
  UniqueFd fd_;
};

Json usage_json(const std::string& id, const CgroupUsage& u, int exit_code, bool timed_out) {
  return Json{{"id", id},
              {"exit_code", exit_code},
              {"timed_out", timed_out},
              {"cpu_usage_ns", u.cpu_usage_ns},
              {"memory_peak_bytes", u.memory_peak_bytes},
              {"oom_kills", u.oom_kills},
              {"oom_killed", u.oom_killed()}};
}

}  // namespace

Result<RunOutcome> run(const RuntimeOptions& rt, const RunOptions& options) {
  StateStore store(rt.root);
  const std::string& id = options.create.id;
  RunOutcome outcome;
  if (options.detach) {
    GANTRY_ASSIGN_OR_RETURN(CreatedContainer created, create_and_lock(store, options.create));
    auto st = start_locked(store, created.container.state);
    if (!st.ok()) {
      (void)destroy_container(store, created.container.state, &created.spec);
      return std::move(st).error();
    }
    return outcome;
  }
  // Forward signals from before the init exists, so none is lost in between.
  SignalForwarder forwarder;
  GANTRY_ASSIGN_OR_RETURN(CreatedContainer created,
                          create_and_lock(store, options.create, CreateMode::kStartNow));
  ContainerState state = created.container.state;
  logger("runtime")->info("container started id={} pid={}", id, state.pid);
  run_poststart_hooks(state, created.spec);
  created.container.lock.reset();  // kill, state and exec from other processes may proceed

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, state.pid, 0)));
  if (!pidfd) {
    auto err = sys_error("pidfd_open " + std::to_string(state.pid));
    (void)destroy_container(store, state, &created.spec);
    return err.with_context("run container '" + id + "'");
  }
  const int64_t deadline =
      options.timeout_seconds ? now_ms() + int64_t{*options.timeout_seconds} * 1000 : -1;
  for (;;) {
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {forwarder.fd(), POLLIN, 0}};
    int wait = -1;
    if (deadline >= 0) wait = static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int n = ::poll(fds, forwarder.fd() >= 0 ? 2 : 1, wait);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && deadline >= 0 && now_ms() >= deadline) {
      outcome.timed_out = true;
      (void)created.cgroup->kill_all(SIGKILL);
      break;
    }
    if (fds[1].revents != 0) forwarder.forward(pidfd.get());
    if (fds[0].revents != 0) break;
  }
  int status = 0;
  while (::waitpid(state.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.exit_code = 128 + WTERMSIG(status);
  if (outcome.timed_out) {
    outcome.exit_code = 128 + SIGKILL;
    std::fprintf(stderr, "gantry: container '%s' timed out after %us and was killed\n",
                 id.c_str(), *options.timeout_seconds);
  }

  // Take the lock again: a concurrent delete may have removed the container meanwhile.
  auto relock = open_container(store, id);
  Status written = ok_status();
  auto log = logger("runtime");
  if (!options.stats_file.empty() || log->should_log(spdlog::level::info)) {
    // Usage is some ten cgroup file reads: only when someone looks at it.
    CgroupUsage usage;
    auto u = created.cgroup->usage();
    if (u.ok()) usage = *u;
    log->info(
        "container exited id={} exit_code={} timed_out={} cpu_ns={} memory_peak_bytes={} "
        "oom_killed={}",
        id, outcome.exit_code, outcome.timed_out, usage.cpu_usage_ns, usage.memory_peak_bytes,
        usage.oom_killed());
    if (!options.stats_file.empty() && !u.ok()) {
      written = std::move(u).error().with_context("read usage of container '" + id + "'");
    } else if (!options.stats_file.empty()) {
      // Read once by whoever started us, right after we exit: no fsync.
      written = write_scratch_file(
          options.stats_file, usage_json(id, usage, outcome.exit_code, outcome.timed_out).dump(2),
          0644);
    }
  }
  if (relock.ok()) GANTRY_TRY(destroy_container(store, state, &created.spec));
  GANTRY_TRY(written);
  return outcome;
}

}  // namespace gantry::runtime::oci_cli
