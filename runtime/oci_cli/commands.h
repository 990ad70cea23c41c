// The `gantry runtime` commands (runc's command line and semantics), one testable function
// per command, one file per command in runtime/oci_cli/. cli/runtime_cmd.cc parses flags and
// calls these; the agent drives them through that binary. Each runs in the single-threaded
// `gantry runtime` process. Bad input fails before anything is made, and a failure part-way
// leaves nothing behind (no state dir, cgroup, process or mount).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "runtime/state.h"

namespace gantry::runtime::oci_cli {

struct RuntimeOptions {
  std::string root;  // runtime root: where container state lives (runtime/paths.h)
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;        // write the init's host pid here
  std::string console_socket;  // AF_UNIX socket that receives the pty master
};

// create: the container's init waits on the exec fifo; prestart, createRuntime and
// createContainer hooks have run (the launcher runs them). kAlreadyExists for an id in use.
Status create_container(const RuntimeOptions& rt, const CreateOptions& options);

// start: releases a created container, then runs its poststart hooks.
Status start(const RuntimeOptions& rt, const std::string& id);

// state: the OCI state document.
Result<Json> state(const RuntimeOptions& rt, const std::string& id);

// kill: `signal` to the init, or with `all` to every process in the container's cgroup.
Status kill(const RuntimeOptions& rt, const std::string& id, int signal, bool all);

// delete: removes a stopped (or created) container: cgroup, state, then poststop hooks.
// A running one needs `force`, which kills its whole cgroup first.
Status remove(const RuntimeOptions& rt, const std::string& id, bool force);

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  std::optional<uint32_t> timeout_seconds;  // kill the whole cgroup when hit
  std::string stats_file;                   // usage JSON written here at the end
};

struct RunOutcome {
  int exit_code = 0;  // the container's; 128+N when killed by signal N
  bool timed_out = false;
};

// run: create + start + wait + delete. With `detach`, returns once started (exit code 0).
Result<RunOutcome> run(const RuntimeOptions& rt, const RunOptions& options);

// list: every container under the root, as runc's table or a JSON array of states.
enum class ListFormat { kTable, kJson };
Result<std::string> list(const RuntimeOptions& rt, ListFormat format);

// exec: a new process in a running container's namespaces and cgroup, with the container's
// capabilities, rlimits, no_new_privileges and seccomp; its exit code (128+N for signal N).
struct ExecOptions {
  std::string id;
  std::vector<std::string> args;
  std::string cwd;                // empty: the container's process cwd
  std::vector<std::string> env;   // KEY=VALUE, added to (or replacing) the container's env
  std::string user;               // "UID[:GID]"; empty: the container's process user
  bool tty = false;               // needs console_socket
  std::string console_socket;
  // --process FILE: the whole process (an OCI `process` object, as containerd passes it),
  // instead of args/cwd/env/user/tty.
  std::string process_file;
  bool detach = false;   // return 0 once the process has exec'd; the caller reaps it
  std::string pid_file;  // the process's host pid, written once it has exec'd
};
// The process's exit code (128+N for signal N), or 0 with `detach` once it has started.
Result<int> exec(const RuntimeOptions& rt, const ExecOptions& options);

// events --stats: one usage object for the container's cgroup.
Result<Json> stats(const RuntimeOptions& rt, const std::string& id);

// spec: writes `<bundle>/config.json` with Gantry's secure defaults; refuses to overwrite.
Status write_spec(const std::string& bundle, bool rootless);

}  // namespace gantry::runtime::oci_cli
