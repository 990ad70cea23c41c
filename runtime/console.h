// The container's terminal (process.terminal), child side: opens a pty in the container's
// own devpts, makes the slave the controlling terminal and stdio, bind-mounts it over
// /dev/console, and sends the master to the console socket with SCM_RIGHTS (as runc and crun
// do, so a containerd-style caller receives it). Child-only: no allocation, errors via
// init_fail().
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace gantry::runtime {

// `socket_fd`: the connected console socket; closed when done. After setsid().
void setup_console(int socket_fd, unsigned short rows, unsigned short cols);

// Parent side: connects to the console socket before clone, so the child inherits it.
Result<UniqueFd> connect_console_socket(const std::string& path);

// Parent side helper for tests and callers: receives one fd sent with SCM_RIGHTS on `socket_fd`.
// Returns the fd or -errno.
int receive_fd(int socket_fd);

}  // namespace gantry::runtime
