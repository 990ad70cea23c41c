// Helpers the `gantry runtime` commands share: finding a container and taking its lock,
// getting back its spec and cgroup from the saved state, and tearing it down. Internal to
// runtime/oci_cli/. Not thread-safe (the commands are single-threaded processes).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "runtime/cgroups/manager.h"
#include "runtime/container_spec.h"
#include "runtime/oci_cli/commands.h"
#include "runtime/state.h"

namespace gantry::runtime::oci_cli {

// A container with its lock held for as long as this lives.
struct LockedContainer {
  UniqueFd lock;
  ContainerState state;
};

// Validates the id, takes the container's lock and loads its live state.
Result<LockedContainer> open_container(const StateStore& store, const std::string& id);

// The spec create saved with the container.
Result<ContainerSpec> saved_spec(const ContainerState& state);

// The manager of the container's cgroup.
Result<std::unique_ptr<CgroupManager>> container_cgroup(const ContainerState& state);

// The state JSON hooks get, with `status` in place of the live one.
std::string hook_state(const ContainerState& state, ContainerStatus status);

// Kills whatever is left in the container's cgroup, removes the cgroup and the state
// directory, then runs the poststop hooks (failures there are warnings). `spec`: the
// container's spec when the caller has it (else it is parsed from the saved state).
Status destroy_container(const StateStore& store, const ContainerState& state,
                         const ContainerSpec* spec = nullptr);

// create's work, shared with run: the container made and saved, its lock still held.
// kCreate leaves the init waiting on the exec fifo ("created"); kStartNow (run) lets it exec
// its process at once, so the saved state says "running", and skips the fifo round trip.
enum class CreateMode { kCreate, kStartNow };
struct CreatedContainer {
  LockedContainer container;
  std::unique_ptr<CgroupManager> cgroup;
  ContainerSpec spec;  // as read from the bundle's config.json
};
Result<CreatedContainer> create_and_lock(const StateStore& store, const CreateOptions& options,
                                         CreateMode mode = CreateMode::kCreate);

// Releases a created container and runs its poststart hooks (failures there are warnings).
Status start_locked(const StateStore& store, const ContainerState& state);

// The poststart hooks of a container that has just started (failures there are warnings).
void run_poststart_hooks(const ContainerState& state, const ContainerSpec& spec);

// Reaps `pid` if it is this process's child and has exited; never blocks.
void reap_if_child(pid_t pid);

}  // namespace gantry::runtime::oci_cli
