// OciContainerManager: the ContainerManager over an OCI runtime command line. Each run is one
// `<runtime> run --bundle B ID` process (gantry runtime, runc or crun), which stays the
// container init's parent, forwards signals and reports the exit code; the manager supervises
// that process (deadline, stop token) and cleans up with `kill --all` and `delete --force`.
// Thread-safe: the table of started containers is behind a mutex; each started container has
// its own mutex so stop() and wait() from two threads finish it once.
#pragma once

#include <atomic>
#include <functional>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/container_manager.h"
#include "common/background_remover.h"
#include "common/child_process.h"
#include "runtime/image/image_store.h"

namespace gantry::agent {

class OciContainerManager final : public ContainerManager {
 public:
  OciContainerManager(ManagerOptions options, std::shared_ptr<runtime::image::ImageStore> store,
                      std::vector<std::string> runtime_argv, bool gantry_runtime);
  ~OciContainerManager() override;

  Result<runtime::image::ImageRecord> ensure_image(
      const std::string& ref, PullPolicy policy,
      const runtime::image::PullOptions& pull) override;
  Result<std::string> create(const ContainerConfig& config) override;
  Result<ContainerExit> run(const std::string& id, const ContainerIo& io,
                            std::optional<std::chrono::steady_clock::time_point> deadline,
                            std::stop_token stop) override;
  Status start(const std::string& id, const ContainerIo& io) override;
  Result<ContainerExit> stop(const std::string& id, std::chrono::milliseconds grace) override;
  Result<ContainerExit> wait(const std::string& id) override;
  Status remove(const std::string& id_or_name) override;
  Result<runtime::image::ImageConfig> image_config(
      const runtime::image::ImageRecord& record) override;
  Result<PodNetwork> create_pod_network(const std::string& id,
                                        const PodNetworkOptions& options) override;
  Status destroy_pod_network(const std::string& id) override;
  Result<std::vector<ContainerInfo>> list() override;
  Result<ContainerInfo> inspect(const std::string& id_or_name) override;

  // The snapshots (chain ids) the root filesystems of the containers under <root>/bundles are
  // made of: what `image prune` must keep (ImageStore::InUseSnapshots).
  static Result<std::set<std::string>> snapshots_in_use(const std::string& root);

 private:
  // A container whose runtime process this manager spawned and has not finished.
  struct Running {
    std::mutex mu;  // held while supervising / finishing
    ChildProcess child;
    std::stop_source stop;
    // Set by stop() just before it requests the stop; read by the supervising thread after it
    // wakes, so a stop(id, grace) during another thread's wait(id) gets its grace.
    std::atomic<std::chrono::milliseconds::rep> grace_ms{0};
    std::optional<Result<ContainerExit>> result;  // set once finished
    explicit Running(ChildProcess c) : child(std::move(c)) {}
  };

  std::string bundles_dir() const;
  std::string bundle_dir(const std::string& id) const;
  Result<std::string> resolve(const std::string& id_or_name);
  Result<ContainerInfo> load_info(const std::string& id) const;
  std::vector<std::string> runtime_cmd(std::vector<std::string> args) const;
  // The OCI runtime's `run` for `id`, spawned with `io`; the container must never have run.
  Result<ChildProcess> spawn_run(const std::string& id, const ContainerIo& io);
  // Waits for the runtime process; on deadline or stop: SIGTERM, grace() (asked once the wait
  // ends), SIGKILL of the cgroup.
  ContainerExit supervise(const std::string& id, ChildProcess& child,
                          std::optional<std::chrono::steady_clock::time_point> deadline,
                          std::stop_token stop,
                          const std::function<std::chrono::milliseconds()>& grace);
  // Reaps, reads the exit, deletes the container from the runtime, records exit.json.
  Result<ContainerExit> finish(const std::string& id, ChildProcess& child, ContainerExit how);
  Status runtime_delete(const std::string& id);
  Result<ContainerExit> finish_started(const std::shared_ptr<Running>& r, const std::string& id);
  // The container this process started and still supervises; null when there is none.
  std::shared_ptr<Running> find_running(const std::string& id);

  ManagerOptions options_;
  std::shared_ptr<runtime::image::ImageStore> store_;
  std::vector<std::string> runtime_argv_;  // the runtime's command line up to the subcommand
  bool gantry_runtime_;                    // `gantry runtime` (overlay by annotation, stats)
  std::string runtime_root_;
  std::string init_executable_;  // other runtimes: the static gantry run as the init reaper
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Running>> running_;
  BackgroundRemover remover_;  // removed bundles; finishes them when the manager goes
};

}  // namespace gantry::agent
