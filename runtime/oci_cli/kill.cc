// `gantry runtime kill [--all]`: a signal to the init, or to the container's whole cgroup.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/logging.h"
#include "common/unique_fd.h"
#include "runtime/oci_cli/args.h"
#include "runtime/oci_cli/container.h"

namespace gantry::runtime::oci_cli {

Status kill(const RuntimeOptions& rt, const std::string& id, int signal, bool all) {
  StateStore store(rt.root);
  GANTRY_ASSIGN_OR_RETURN(LockedContainer c, open_container(store, id));
  const std::string context = "kill container '" + id + "'";
  const ContainerState& s = c.state;
  if (s.status != ContainerStatus::kCreated && s.status != ContainerStatus::kRunning) {
    // runc lets --all reach what is left of a stopped container's cgroup; so do we.
    if (!(all && s.status == ContainerStatus::kStopped && !s.cgroup_path.empty())) {
      return Error(ErrorCode::kFailedPrecondition,
                   context + ": container is " + std::string(status_name(s.status)));
    }
  }
  if (all) {
    GANTRY_ASSIGN_OR_RETURN(auto cg, container_cgroup(s));
    auto st = cg->kill_all(signal);
    if (!st.ok()) return std::move(st).error().with_context(context);
  } else {
    // A pidfd pins the process, so a pid recycled since the status check is not signalled.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, s.pid, 0)));
    if (!pidfd) return sys_error("pidfd_open " + std::to_string(s.pid)).with_context(context);
    auto info = probe_process(s.pid);
    if (!info || info->start_time != s.init_start_time) {
      return Error(ErrorCode::kFailedPrecondition, context + ": container is stopped");
    }
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) != 0) {
      return sys_error("signal " + signal_name(signal) + " to pid " + std::to_string(s.pid))
          .with_context(context);
    }
  }
  logger("runtime")->debug("container signalled id={} signal={} all={}", id, signal, all);
  return ok_status();
}

}  // namespace gantry::runtime::oci_cli
