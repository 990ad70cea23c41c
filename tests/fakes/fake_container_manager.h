// FakeContainerManager: a ContainerManager with state and no containers, for unit tests of the
// JobExecutor. Images are names in a set (plus names that "pull" successfully); every create()
// records its config; every run() plays the next scripted Step: writes its output to the
// caller's fd (in the given chunks) and returns its exit or error. Detached start/stop/wait are
// not faked (kUnimplemented). Thread-compatible.
#pragma once

#include <deque>
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

  Result<runtime::image::ImageRecord> ensure_image(const std::string& ref,
                                                   agent::PullPolicy policy,
                                                   const runtime::image::PullOptions& pull) override;
  Result<std::string> create(const agent::ContainerConfig& config) override;
  Result<agent::ContainerExit> run(const std::string& id, const agent::ContainerIo& io,
                                   std::optional<std::chrono::steady_clock::time_point> deadline,
                                   std::stop_token stop) override;
  Status start(const std::string& id, const agent::ContainerIo& io) override;
  Result<agent::ContainerExit> stop(const std::string& id, std::chrono::milliseconds grace) override;
  Result<agent::ContainerExit> wait(const std::string& id) override;
  Status remove(const std::string& id_or_name) override;
  Result<std::vector<agent::ContainerInfo>> list() override;
  Result<agent::ContainerInfo> inspect(const std::string& id_or_name) override;

 private:
  int next_id_ = 0;
};

}  // namespace gantry::testing
