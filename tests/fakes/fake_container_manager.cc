#include "tests/fakes/fake_container_manager.h"

#include <signal.h>
#include <unistd.h>

namespace gantry::testing {

Result<runtime::image::ImageRecord> FakeContainerManager::ensure_image(
    const std::string& ref, agent::PullPolicy policy, const runtime::image::PullOptions&) {
  std::lock_guard lock(mu_);
  bool have = present.count(ref) > 0;
  if (policy == agent::PullPolicy::kNever && !have) {
    return Error(ErrorCode::kNotFound,
                 "image '" + ref + "' is not present and pull policy is never");
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

Result<runtime::image::ImageConfig> FakeContainerManager::image_config(
    const runtime::image::ImageRecord& record) {
  std::lock_guard lock(mu_);
  auto it = configs.find(record.name);
  return it == configs.end() ? runtime::image::ImageConfig{} : it->second;
}

Result<agent::PodNetwork> FakeContainerManager::create_pod_network(
    const std::string& id, const agent::PodNetworkOptions& options) {
  std::lock_guard lock(mu_);
  if (!pods.insert(id).second) return Error(ErrorCode::kAlreadyExists, "pod '" + id + "' exists");
  if (options.mode == agent::PodNetworkMode::kBridge) {
    events.push_back("pod create " + id + " bridge " + options.bridge.name);
    return agent::PodNetwork{id, "", "10.89.0.2", "10.89.0.1", options.bridge.name};
  }
  events.push_back("pod create " + id);
  return agent::PodNetwork{id, "", "127.0.0.1"};
}

Status FakeContainerManager::destroy_pod_network(const std::string& id) {
  std::lock_guard lock(mu_);
  pods.erase(id);
  events.push_back("pod destroy " + id);
  return ok_status();
}

Result<std::string> FakeContainerManager::create(const agent::ContainerConfig& config) {
  std::lock_guard lock(mu_);
  created.push_back(config);
  std::string id = "fake" + std::to_string(++next_id_);
  live.insert(id);
  events.push_back("create " + id + " " + config.image);
  return id;
}

const agent::ContainerConfig* FakeContainerManager::config_of(const std::string& id) const {
  if (id.rfind("fake", 0) != 0) return nullptr;
  size_t n = std::stoul(id.substr(4));
  return n >= 1 && n <= created.size() ? &created[n - 1] : nullptr;
}

Result<agent::ContainerExit> FakeContainerManager::run(
    const std::string& id, const agent::ContainerIo& io,
    std::optional<std::chrono::steady_clock::time_point>, std::stop_token) {
  Step step;
  std::vector<runtime::image::Volume> volumes;
  {
    std::lock_guard lock(mu_);
    events.push_back("run " + id);
    if (steps.empty()) return Error(ErrorCode::kInternal, "fake: no step scripted for " + id);
    step = std::move(steps.front());
    steps.pop_front();
    if (const auto* c = config_of(id)) volumes = c->run.volumes;
  }
  for (const auto& chunk : step.output) {
    if (io.output_fd >= 0) {
      ssize_t n = ::write(io.output_fd, chunk.data(), chunk.size());
      (void)n;
    }
  }
  if (step.effect) {
    for (const auto& v : volumes) {
      if (!v.readonly) step.effect(v.source);
    }
  }
  if (step.error) return *step.error;
  return step.exit;
}

Status FakeContainerManager::start(const std::string& id, const agent::ContainerIo& io) {
  std::lock_guard lock(mu_);
  events.push_back("start " + id);
  const auto* c = config_of(id);
  if (c == nullptr) return Error(ErrorCode::kNotFound, "fake: no container '" + id + "'");
  ServiceBehavior b;
  if (auto it = services.find(c->image); it != services.end()) b = it->second;
  if (b.start_error) return *b.start_error;
  if (!b.output.empty() && io.output_fd >= 0) {
    ssize_t n = ::write(io.output_fd, b.output.data(), b.output.size());
    (void)n;
  }
  if (b.exits) {
    ended_[id] = *b.exits;
  } else {
    running_.insert(id);
  }
  cv_.notify_all();
  return ok_status();
}

Result<agent::ContainerExit> FakeContainerManager::stop(const std::string& id,
                                                        std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  events.push_back("stop " + id);
  if (running_.erase(id) > 0) {
    agent::ContainerExit e;
    e.exit_code = 128 + SIGKILL;
    e.signal = SIGKILL;
    e.canceled = true;
    ended_[id] = e;
    cv_.notify_all();
  }
  auto it = ended_.find(id);
  if (it == ended_.end())
    return Error(ErrorCode::kFailedPrecondition, "fake: '" + id + "' not started");
  return it->second;
}

Result<agent::ContainerExit> FakeContainerManager::wait(const std::string& id) {
  std::unique_lock lock(mu_);
  if (running_.count(id) == 0 && ended_.count(id) == 0) {
    return Error(ErrorCode::kFailedPrecondition, "fake: '" + id + "' not started");
  }
  cv_.wait(lock, [&] { return ended_.count(id) > 0; });
  return ended_.at(id);
}

Status FakeContainerManager::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  events.push_back("remove " + id);
  removed.push_back(id);
  live.erase(id);
  return ok_status();
}

void FakeContainerManager::end_service(const std::string& id, agent::ContainerExit exit) {
  std::lock_guard lock(mu_);
  events.push_back("end " + id);
  if (running_.erase(id) > 0) ended_[id] = exit;
  cv_.notify_all();
}

std::vector<std::string> FakeContainerManager::events_snapshot() const {
  std::lock_guard lock(mu_);
  return events;
}

Result<std::vector<agent::ContainerInfo>> FakeContainerManager::list() {
  std::lock_guard lock(mu_);
  std::vector<agent::ContainerInfo> out;
  for (const auto& id : live) {
    agent::ContainerInfo i;
    i.id = id;
    out.push_back(i);
  }
  return out;
}

Result<agent::ContainerInfo> FakeContainerManager::inspect(const std::string& id) {
  std::lock_guard lock(mu_);
  if (live.count(id) == 0) return Error(ErrorCode::kNotFound, "no container '" + id + "'");
  agent::ContainerInfo i;
  i.id = id;
  return i;
}

}  // namespace gantry::testing
