#include "tests/fakes/fake_container_manager.h"

#include <unistd.h>

namespace gantry::testing {

Result<runtime::image::ImageRecord> FakeContainerManager::ensure_image(
    const std::string& ref, agent::PullPolicy policy, const runtime::image::PullOptions&) {
  bool have = present.count(ref) > 0;
  if (policy == agent::PullPolicy::kNever && !have) {
    return Error(ErrorCode::kNotFound, "image '" + ref + "' is not present and pull policy is never");
  }
  if (policy == agent::PullPolicy::kAlways || !have) {
    if (pullable.count(ref) == 0) {
      return Error(ErrorCode::kNotFound, "pull image '" + ref + "': manifest unknown");
    }
    present.insert(ref);
  }
  runtime::image::ImageRecord r;
  r.name = ref;
  r.digest = "sha256:" + std::string(64, 'a');
  return r;
}

Result<std::string> FakeContainerManager::create(const agent::ContainerConfig& config) {
  created.push_back(config);
  std::string id = "fake" + std::to_string(++next_id_);
  live.insert(id);
  return id;
}

Result<agent::ContainerExit> FakeContainerManager::run(
    const std::string& id, const agent::ContainerIo& io,
    std::optional<std::chrono::steady_clock::time_point>, std::stop_token) {
  if (steps.empty()) return Error(ErrorCode::kInternal, "fake: no step scripted for " + id);
  Step step = std::move(steps.front());
  steps.pop_front();
  for (const auto& chunk : step.output) {
    if (io.output_fd >= 0) {
      ssize_t n = ::write(io.output_fd, chunk.data(), chunk.size());
      (void)n;
    }
  }
  if (step.effect) {
    for (const auto& v : created.back().run.volumes) {
      if (!v.readonly) step.effect(v.source);
    }
  }
  if (step.error) return *step.error;
  return step.exit;
}

Status FakeContainerManager::start(const std::string&, const agent::ContainerIo&) {
  return Error(ErrorCode::kUnimplemented, "fake: start");
}
Result<agent::ContainerExit> FakeContainerManager::stop(const std::string&,
                                                        std::chrono::milliseconds) {
  return Error(ErrorCode::kUnimplemented, "fake: stop");
}
Result<agent::ContainerExit> FakeContainerManager::wait(const std::string&) {
  return Error(ErrorCode::kUnimplemented, "fake: wait");
}

Status FakeContainerManager::remove(const std::string& id) {
  removed.push_back(id);
  live.erase(id);
  return ok_status();
}

Result<std::vector<agent::ContainerInfo>> FakeContainerManager::list() {
  std::vector<agent::ContainerInfo> out;
  for (const auto& id : live) {
    agent::ContainerInfo i;
    i.id = id;
    out.push_back(i);
  }
  return out;
}

Result<agent::ContainerInfo> FakeContainerManager::inspect(const std::string& id) {
  if (live.count(id) == 0) return Error(ErrorCode::kNotFound, "no container '" + id + "'");
  agent::ContainerInfo i;
  i.id = id;
  return i;
}

}  // namespace gantry::testing
