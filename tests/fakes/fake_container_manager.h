// FakeContainerManager: a ContainerManager with state and no containers, for unit tests of the
// JobExecutor. Images are names in a set (plus names that "pull" successfully); every create()
// records its config; every run() plays the next scripted Step: writes its output to the
// caller's fd (in the given chunks) and returns its exit or error. start() plays the
// `services` behaviour of the container's image: writes its output, then either exits at once
// (`exits`) or runs until stop(); wait() blocks until then. Pod networks are names (netns_path
// "": probes run in the caller's namespace). `events` records every call in order.
// Thread-safe (services are waited for from other threads).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/container_manager.h"

namespace gantry::testing {

class FakeContainerManager : public agent::ContainerManager {
 public:
  struct Step {
    std::vector<std::string> output;  // written in these chunks
    agent::ContainerExit exit;
    std::optional<Error> error;       // run() fails with this instead
    // Called with the host path of the container's project dir before returning (to make files).
    std::function<void(const std::string& project_dir)> effect;
  };

  std::set<std::string> present;   // images already in the store
  std::set<std::string> pullable;  // images a pull can get
  std::deque<Step> steps;          // consumed by run()
  std::vector<agent::ContainerConfig> created;
  std::vector<std::string> removed;
  std::set<std::string> live;  // created and not removed
  std::map<std::string, runtime::image::ImageConfig> configs;  // by image ref; default empty

  struct ServiceBehavior {
    std::string output;                       // written at start
    std::optional<agent::ContainerExit> exits;  // set: ends at once with this; else until stop()
    std::optional<Error> start_error;           // start() fails with this
  };
  std::map<std::string, ServiceBehavior> services;  // by image ref
  // "create <id> <image>", "run <id>", "start <id>", "stop <id>", "remove <id>",
  // "pod create <id>", "pod destroy <id>", in call order.
  std::vector<std::string> events;
  std::set<std::string> pods;  // created and not destroyed
  std::vector<std::string> events_snapshot() const;
  // Ends a started service that runs until stop(), as if its command ended with `exit`.
  void end_service(const std::string& id, agent::ContainerExit exit);

  Result<runtime::image::ImageRecord> ensure_image(
      const std::string& ref, agent::PullPolicy policy,
      const runtime::image::PullOptions& pull) override;
  Result<std::string> create(const agent::ContainerConfig& config) override;
  Result<agent::ContainerExit> run(const std::string& id, const agent::ContainerIo& io,
                                   std::optional<std::chrono::steady_clock::time_point> deadline,
                                   std::stop_token stop) override;
  Status start(const std::string& id, const agent::ContainerIo& io) override;
  Result<agent::ContainerExit> stop(const std::string& id,
                                    std::chrono::milliseconds grace) override;
  Result<agent::ContainerExit> wait(const std::string& id) override;
  Status remove(const std::string& id_or_name) override;
  Result<runtime::image::ImageConfig> image_config(
      const runtime::image::ImageRecord& record) override;
  Result<agent::PodNetwork> create_pod_network(const std::string& id,
                                               const agent::PodNetworkOptions& options) override;
  Status destroy_pod_network(const std::string& id) override;
  Result<std::vector<agent::ContainerInfo>> list() override;
  Result<agent::ContainerInfo> inspect(const std::string& id_or_name) override;

 private:
  const agent::ContainerConfig* config_of(const std::string& id) const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, agent::ContainerExit> ended_;  // started containers that have ended
  std::set<std::string> running_;                      // started, not ended
  int next_id_ = 0;
};

}  // namespace gantry::testing
