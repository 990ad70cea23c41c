// `gantry runtime exec`: another process in a running container, as `runc exec` starts one.
// The container's lock is held only while its state is read, so a long exec never blocks
// kill or delete of the container.
#include <charconv>

#include "runtime/exec.h"
#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

namespace {

Result<uint32_t> parse_id(std::string_view text, std::string_view what) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "--user: " + std::string(what) + " '" + std::string(text) +
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

Result<int> exec(const RuntimeOptions& rt, const ExecOptions& options) {
  const std::string context = "exec in container '" + options.id + "'";
  if (options.args.empty())
    return Error(ErrorCode::kInvalidArgument, context + ": no command given (exec ID -- CMD...)");
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
      return Error(ErrorCode::kFailedPrecondition,
                   context + ": container is " + std::string(status_name(c.state.status)) +
                       ", not running");
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
  request.process = spec.process;
  request.process.args = options.args;
  request.process.terminal = options.tty;
  if (!options.cwd.empty()) request.process.cwd = options.cwd;
  merge_env(request.process.env, options.env);
  if (!options.user.empty()) {
    std::string_view u = options.user;
    auto colon = u.find(':');
    GANTRY_ASSIGN_OR_RETURN(request.process.user.uid, parse_id(u.substr(0, colon), "uid"));
    if (colon != std::string_view::npos) {
      GANTRY_ASSIGN_OR_RETURN(request.process.user.gid, parse_id(u.substr(colon + 1), "gid"));
    }
    request.process.user.additional_gids.clear();
  }
  request.seccomp = spec.seccomp;
  request.cgroup = cgroup.get();
  request.console_socket = options.console_socket;
  auto code = exec_in_container(request);
  if (!code.ok()) return std::move(code).error().with_context(context);
  return *code;
}

}  // namespace gantry::runtime::oci_cli
