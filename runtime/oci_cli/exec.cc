// `gantry runtime exec`: another process in a running container, as `runc exec` starts one.
// The container's lock is held only while its state is read, so a long exec never blocks
// kill or delete of the container.
#include "runtime/exec.h"

#include <signal.h>

#include <charconv>

#include "common/file.h"
#include "runtime/oci_cli/container.h"
#include "runtime/oci_config.h"
#include "runtime/paths.h"

namespace gantry::runtime::oci_cli {

namespace {

Result<uint32_t> parse_id(std::string_view text, std::string_view what) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error(ErrorCode::kInvalidArgument, "--user: " + std::string(what) + " '" +
                                                  std::string(text) +
                                                  "' is not a number (expected UID[:GID])");
  }
  return v;
}

// Replaces KEY=... entries of `env` by those of `extra` with the same KEY, appends the rest.
void merge_env(std::vector<std::string>& env, const std::vector<std::string>& extra) {
  for (const auto& kv : extra) {
    std::string key = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (auto& e : env) {
      if (e.compare(0, key.size() + 1, key + "=") == 0) {
        e = kv;
        replaced = true;
      }
    }
    if (!replaced) env.push_back(kv);
  }
}

}  // namespace

// The process the options describe: --process FILE, or the container's own process with the
// command line's args, cwd, env, user and tty.
Result<Process> exec_process(const ExecOptions& options, const Process& container_process) {
  if (!options.process_file.empty()) {
    if (!options.args.empty() || !options.cwd.empty() || !options.env.empty() ||
        !options.user.empty() || options.tty) {
      return Error(ErrorCode::kInvalidArgument,
                   "--process '" + options.process_file +
                       "' describes the whole process: give no command, --cwd, --env, "
                       "--user or --tty with it");
    }
    GANTRY_ASSIGN_OR_RETURN(Json j, read_json_file(options.process_file));
    return parse_oci_process(j, options.process_file);
  }
  Process process = container_process;
  process.args = options.args;
  process.terminal = options.tty;
  if (!options.cwd.empty()) process.cwd = options.cwd;
  merge_env(process.env, options.env);
  if (!options.user.empty()) {
    std::string_view u = options.user;
    auto colon = u.find(':');
    GANTRY_ASSIGN_OR_RETURN(process.user.uid, parse_id(u.substr(0, colon), "uid"));
    if (colon != std::string_view::npos) {
      GANTRY_ASSIGN_OR_RETURN(process.user.gid, parse_id(u.substr(colon + 1), "gid"));
    }
    process.user.additional_gids.clear();
  }
  return process;
}

Result<int> exec(const RuntimeOptions& rt, const ExecOptions& options) {
  const std::string context = "exec in container '" + options.id + "'";
  if (options.args.empty() && options.process_file.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 context + ": no command given (exec ID -- CMD..., or --process FILE)");
  }
  if (options.tty && options.console_socket.empty())
    return Error(ErrorCode::kInvalidArgument, context + ": --tty needs --console-socket");
  for (const auto& kv : options.env) {
    if (kv.find('=') == std::string::npos || kv.front() == '=')
      return Error(ErrorCode::kInvalidArgument,
                   context + ": --env '" + kv + "': expected KEY=VALUE");
  }

  StateStore store(rt.root);
  ContainerState state;
  ContainerSpec spec;
  std::unique_ptr<CgroupManager> cgroup;
  {
    GANTRY_ASSIGN_OR_RETURN(LockedContainer c, open_container(store, options.id));
    if (c.state.status != ContainerStatus::kRunning) {
      return Error(
          ErrorCode::kFailedPrecondition,
          context + ": container is " + std::string(status_name(c.state.status)) + ", not running");
    }
    state = c.state;
    auto saved = saved_spec(state);
    if (!saved.ok()) return std::move(saved).error().with_context(context);
    spec = std::move(saved).value();
    if (!state.cgroup_path.empty()) {
      auto cg = container_cgroup(state);
      if (!cg.ok()) return std::move(cg).error().with_context(context);
      cgroup = std::move(cg).value();
    }
  }  // lock released here

  ExecRequest request;
  request.init_pid = state.pid;
  auto process = exec_process(options, spec.process);
  if (!process.ok()) return std::move(process).error().with_context(context);
  request.process = std::move(process).value();
  if (request.process.terminal && options.console_socket.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 context + ": the process asks for a terminal: give --console-socket");
  }
  request.seccomp = spec.seccomp;
  request.seccomp_cache_dir = paths::seccomp_cache_dir(store.root());
  request.cgroup = cgroup.get();
  request.console_socket = options.console_socket;
  auto pid = spawn_in_container(request);
  if (!pid.ok()) return std::move(pid).error().with_context(context);
  if (!options.pid_file.empty()) {
    auto st = write_file_atomic(options.pid_file, std::to_string(*pid), 0644);
    if (!st.ok()) {
      ::kill(*pid, SIGKILL);
      (void)wait_spawned(*pid);
      return std::move(st).error().with_context(context + ": --pid-file");
    }
  }
  if (options.detach) return 0;
  auto code = wait_spawned(*pid);
  if (!code.ok()) return std::move(code).error().with_context(context);
  return *code;
}

}  // namespace gantry::runtime::oci_cli
