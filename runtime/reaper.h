// The init reaper (LaunchRequest::init_reaper): when a job's own command is not an init, the
// container's pid 1 stays Gantry's. It forks the command, forwards every catchable signal to
// it, reaps every zombie re-parented to it, and exits with the command's status (128+N when a
// signal N ended it). Child-only code: no allocation, errors via init_fail().
#pragma once

namespace gantry::runtime {

// Forks; the command side calls `exec_command(arg)` (which must not return). Never returns.
[[noreturn]] void run_reaper(int sync_fd, void (*exec_command)(const void*), const void* arg);

}  // namespace gantry::runtime
