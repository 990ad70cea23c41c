// ContainerManager: containers made from images (containerd's role). Makes a bundle from an
// image and run options, runs it through an OCI runtime CLI (`gantry runtime`, runc or crun,
// spawned with Boost.Process: container setup never forks out of this multi-threaded process),
// stops, waits, removes. Used by `gantry container`, the JobExecutor and services.
// Thread-safe: one manager may create, run and stop several containers at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "agent/network.h"
#include "common/result.h"
#include "runtime/image/content_store.h"
#include "runtime/image/puller.h"
#include "runtime/image/run_spec.h"

namespace gantry::agent {

// When to pull the image: GitLab's names ("if-not-present", "always", "never"); Docker's
// "missing" is accepted for if-not-present.
enum class PullPolicy { kIfNotPresent, kAlways, kNever };
Result<PullPolicy> parse_pull_policy(std::string_view text);

struct ContainerNetwork {
  enum class Mode {
    kNone,  // a new network namespace with loopback only
    kHost,  // the host's network namespace
    kJoin,  // an existing namespace at `netns_path` (a pod's: agent/network.h)
  };
  Mode mode = Mode::kNone;
  std::string netns_path;  // kJoin: e.g. "<root>/netns/<pod>"
  std::string address;     // the container's address for /etc/hosts; "" = 127.0.0.1 (kJoin)
};

// One /etc/hosts line: `address` then each of `names`.
struct HostEntry {
  std::string address;
  std::vector<std::string> names;
  bool operator==(const HostEntry&) const = default;
};

struct ContainerConfig {
  std::string image;  // a reference as a user types it ("alpine:3.19"), or a digest prefix
  PullPolicy pull_policy = PullPolicy::kIfNotPresent;
  runtime::image::PullOptions pull;  // registry auth, --insecure, --ca, progress
  // Command, entrypoint, env, user, workdir, volumes and limits. `run.network` and
  // `run.hostname` are ignored: `network` and `hostname` below decide those.
  runtime::image::ContainerRunOptions run;
  ContainerNetwork network;
  std::vector<HostEntry> extra_hosts;  // added to the container's /etc/hosts
  std::string hostname;                // "": the name, else the id
  std::string name;                    // "": none; else unique among this root's containers
  std::map<std::string, std::string> labels;  // stored; list() returns them
};

// Where a container's stdio goes. Both fds stay the caller's (the manager dup()s what it
// needs); make them O_CLOEXEC so other spawned processes don't hold a pipe open.
struct ContainerIo {
  int stdin_fd = -1;   // -1: /dev/null
  int output_fd = -1;  // stdout AND stderr, one fd so their order is kept; -1: /dev/null
  int error_fd = -1;   // set: stderr goes here instead (a terminal's stderr)
  // run(): replaces the manager's stop_grace for this container (0: SIGKILL at once).
  std::optional<std::chrono::milliseconds> stop_grace;
};

struct ContainerExit {
  int exit_code = 0;   // the command's exit code; 128+N when killed by signal N
  int signal = 0;      // N when killed by a signal, else 0
  bool timed_out = false;   // the deadline struck and the manager stopped it
  bool canceled = false;    // the stop token fired and the manager stopped it
  bool oom_killed = false;  // the kernel's OOM killer killed a process of the container
};

struct ContainerInfo {
  std::string id;
  std::string name;
  std::string image;         // as configured
  std::string image_digest;  // the image record's digest
  std::vector<std::string> command;  // the process args
  std::map<std::string, std::string> labels;
  std::string created;  // RFC 3339 UTC
  std::string status;   // "created", "running" or "exited"
  std::optional<ContainerExit> exit;  // when exited
  std::string bundle;   // the bundle directory
};

struct ManagerOptions {
  std::string root;  // the gantry state root (images, bundles, runtime state)
  // "" = this binary's `gantry runtime` (/proc/self/exe). Else a path or PATH name of an OCI
  // runtime: a basename starting with "gantry" is called as `<it> runtime …`, anything else
  // (runc, crun) as an OCI runtime CLI. For those the manager mounts the overlay root itself.
  std::string oci_runtime;
  // The static `gantry` executable that runs as the init reaper of containers that ask for one
  // (ContainerConfig's run.init) under other runtimes, bind-mounted as /run/gantry-init. "" =
  // the one beside this program; when there is none such containers get no init.
  std::string init_executable;
  // Between SIGTERM and SIGKILL of the whole cgroup when a deadline or cancel stops a container.
  std::chrono::milliseconds stop_grace{std::chrono::seconds(10)};
};

// On disk, under the state root (see runtime/paths.h for the rest):
//   <root>/bundles/<id>/        one container made by create(), removed by remove()
//     ├── container.json        ContainerInfo as created (config, name, labels, image)
//     ├── config.json           the OCI bundle config
//     ├── rootfs/ upper/ work/  overlay mount point, upper and work dirs
//     ├── hosts hostname resolv.conf   bind-mounted into the container
//     ├── stats.json            written by `gantry runtime run --stats-file` when it ends
//     └── exit.json             the ContainerExit once it has exited
//   <root>/containers/<id>/     the OCI runtime's state while it exists (runtime root)
class ContainerManager {
 public:
  static Result<std::unique_ptr<ContainerManager>> open(ManagerOptions options);
  virtual ~ContainerManager() = default;

  // The image `ref` names, pulled per `policy` (kNever: kNotFound if absent; kIfNotPresent:
  // pulled only when absent; kAlways: pulled, and a pull failure is an error). Errors of the
  // pull keep the registry's message: "pull image '…': …".
  virtual Result<runtime::image::ImageRecord> ensure_image(
      const std::string& ref, PullPolicy policy, const runtime::image::PullOptions& pull) = 0;

  // Pulls as needed, then makes the bundle; nothing runs yet. Returns the new id (12 hex).
  // kAlreadyExists for a name in use; kInvalidArgument / kNotFound for bad options (missing
  // volume source, user not in the image). On error nothing is left behind.
  virtual Result<std::string> create(const ContainerConfig& config) = 0;

  // Runs container `id` (made by create, never run) to its end. `deadline` passed or `stop`
  // requested: SIGTERM to its init, `stop_grace` (or io.stop_grace), then SIGKILL to its whole
  // cgroup. Always reaped and deleted from the OCI runtime afterwards (the bundle stays until
  // remove()).
  // An Error means the container could not run (the OCI runtime's own message went to
  // `io.output_fd`); the command's failure is an exit code, not an error.
  virtual Result<ContainerExit> run(
      const std::string& id, const ContainerIo& io,
      std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt,
      std::stop_token stop = {}) = 0;

  // Starts container `id` in the background (services); returns once the runtime is spawned.
  // wait() or stop() must follow before the manager goes away (its destructor stops what is
  // still running).
  virtual Status start(const std::string& id, const ContainerIo& io) = 0;
  // Stops a started container: SIGTERM, `grace`, SIGKILL of the whole cgroup; then as wait().
  virtual Result<ContainerExit> stop(const std::string& id, std::chrono::milliseconds grace) = 0;
  // Waits for a started container to end, reaps and deletes it from the OCI runtime.
  virtual Result<ContainerExit> wait(const std::string& id) = 0;

  // Stops it if running, deletes it from the OCI runtime, unmounts and removes the bundle.
  // `id_or_name` may be an id, a unique id prefix or a name. Idempotent for ids: removing a
  // gone id is ok (kNotFound only for a name or prefix that matches nothing).
  virtual Status remove(const std::string& id_or_name) = 0;

  // The config of an image ensure_image() returned (Env, Entrypoint, Cmd, ExposedPorts, ...).
  virtual Result<runtime::image::ImageConfig> image_config(
      const runtime::image::ImageRecord& record) = 0;

  // A pod network (agent/network.h) under this manager's root, for a job and its services,
  // loopback only or on a bridge (`options`); destroy is idempotent. Containers join it with
  // ContainerNetwork::Mode::kJoin.
  virtual Result<PodNetwork> create_pod_network(const std::string& id,
                                                const PodNetworkOptions& options) = 0;
  virtual Status destroy_pod_network(const std::string& id) = 0;

  // Every container under the root, oldest first.
  virtual Result<std::vector<ContainerInfo>> list() = 0;
  virtual Result<ContainerInfo> inspect(const std::string& id_or_name) = 0;
};

}  // namespace gantry::agent
