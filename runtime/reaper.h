// The init reaper: when a container's command is not an init, its pid 1 is Gantry's. It forks
// the command, forwards every catchable signal to it, reaps every zombie re-parented to it, and
// exits with the command's status (128+N when a signal N ended it).
// - In Gantry's runtime (LaunchRequest::init_reaper) the container's init does this itself.
// - Under other runtimes (runc, crun) the static `gantry` executable is bind-mounted into the
//   container and runs as `gantry-init -- CMD...` (what `docker run --init` does with tini).
// Child-only code: no allocation.
#pragma once

namespace gantry::runtime {

// Forks; the command side calls `exec_command(arg)` (which must not return). Errors via
// init_fail(). Never returns.
[[noreturn]] void run_reaper(int sync_fd, void (*exec_command)(const void*), const void* arg);

// `gantry-init [--] CMD [ARGS...]`: forks and execs CMD (looked up in PATH), then reaps as
// above. Errors go to stderr as "gantry-init: ..." with exit 127 (not found) or 126 (not
// executable), as a shell's. Never returns.
[[noreturn]] void run_init_command(int argc, char** argv);

}  // namespace gantry::runtime
