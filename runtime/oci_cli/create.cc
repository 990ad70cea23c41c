// `gantry runtime create`: validate everything, reserve the id, launch the init waiting on its
// exec fifo (the launcher runs prestart, createRuntime and createContainer hooks on the way),
// save the state. Any failure undoes it all.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "common/file.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "runtime/launcher.h"
#include "runtime/oci_cli/args.h"
#include "runtime/oci_cli/container.h"
#include "runtime/oci_config.h"
#include "runtime/paths.h"

namespace gantry::runtime::oci_cli {

namespace {

// Undoes a half-made container unless released: the init, its cgroup, the state directory.
class CreateRollback {
 public:
  CreateRollback(const StateStore& store, std::string id) : store_(store), id_(std::move(id)) {}
  ~CreateRollback() {
    if (released_) return;
    if (cgroup_ != nullptr) (void)cgroup_->destroy();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    (void)store_.remove(id_);
  }
  void set_launched(pid_t pid, CgroupManager* cgroup) {
    pid_ = pid;
    cgroup_ = cgroup;
  }
  void release() { released_ = true; }

 private:
  const StateStore& store_;
  std::string id_;
  pid_t pid_ = -1;
  CgroupManager* cgroup_ = nullptr;
  bool released_ = false;
};

}  // namespace

Result<CreatedContainer> create_and_lock(const StateStore& store, const CreateOptions& options,
                                         CreateMode mode) {
  GANTRY_TRY(validate_container_id(options.id));
  const std::string context = "create container '" + options.id + "'";
  auto loaded = load_oci_config(options.bundle);
  if (!loaded.ok()) return std::move(loaded).error().with_context(context);
  ContainerSpec spec = std::move(*loaded);
  if (!options.console_socket.empty() && !spec.process.terminal) {
    return Error(ErrorCode::kInvalidArgument,
                 context + ": --console-socket needs process.terminal true in config.json");
  }
  if (options.console_socket.empty() && spec.process.terminal) {
    return Error(ErrorCode::kInvalidArgument,
                 context + ": process.terminal is true: --console-socket is required");
  }

  auto reserved = store.reserve(options.id);
  if (!reserved.ok()) return std::move(reserved).error().with_context(context);
  LaunchedContainer launched;  // outlives the rollback, which uses its cgroup
  CreateRollback rollback(store, options.id);
  CreatedContainer out;
  {
    auto lock = store.lock(options.id);
    if (!lock.ok()) return std::move(lock).error().with_context(context);
    out.container.lock = std::move(*lock);
  }

  LaunchRequest request;
  request.id = options.id;
  request.spec = spec;
  request.state_dir = store.dir(options.id);
  request.seccomp_cache_dir = paths::seccomp_cache_dir(store.root());
  request.mode = mode == CreateMode::kCreate ? LaunchRequest::Mode::kCreate
                                             : LaunchRequest::Mode::kRun;
  request.console_socket = options.console_socket;
  GANTRY_ASSIGN_OR_RETURN(launched, launch_container(request));
  rollback.set_launched(launched.pid, launched.cgroup.get());

  ContainerState& state = out.container.state;
  state.id = options.id;
  state.oci_version = spec.oci_version;
  state.pid = launched.pid;
  state.bundle = spec.bundle;
  state.annotations = spec.annotations;
  state.cgroup_path = launched.cgroup->path();
  state.created = rfc3339_now(TimePrecision::kNanosTrimmed);
  state.config = to_oci_config(spec);
  // The init is our unreaped child: even one that has run and exited is still in /proc.
  auto info = probe_process(launched.pid);
  if (!info) {
    return Error(ErrorCode::kInternal, context + ": container init exited during create");
  }
  state.init_start_time = info->start_time;
  state.status =
      mode == CreateMode::kCreate ? ContainerStatus::kCreated : ContainerStatus::kRunning;
  {
    auto st = store.save(state);
    if (!st.ok()) return std::move(st).error().with_context(context);
  }
  if (!options.pid_file.empty()) {
    auto st = write_file_atomic(options.pid_file, std::to_string(launched.pid), 0644);
    if (!st.ok()) return std::move(st).error().with_context(context);
  }
  rollback.release();
  out.cgroup = std::move(launched.cgroup);
  out.spec = std::move(spec);
  logger("runtime")->info("container created id={} pid={} cgroup={}", state.id, state.pid,
                          state.cgroup_path);
  return out;
}

Status create_container(const RuntimeOptions& rt, const CreateOptions& options) {
  StateStore store(rt.root);
  GANTRY_TRY(create_and_lock(store, options));
  return ok_status();
}

}  // namespace gantry::runtime::oci_cli
