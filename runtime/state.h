// ContainerState: what `gantry runtime` knows about one container between commands — the OCI
// state (ociVersion, id, status, pid, bundle, annotations) plus Gantry's own bookkeeping (the
// init's start time, so a recycled pid is not mistaken for it; the cgroup path). StateStore
// keeps it under the runtime root (layout in runtime/paths.h), replaced atomically; a
// per-container lock file serialises commands. The live status is derived, never trusted from
// disk. StateStore does file I/O; ContainerState functions are pure. Thread-compatible.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace gantry::runtime {

enum class ContainerStatus { kCreating, kCreated, kRunning, kStopped };

std::string_view status_name(ContainerStatus status);
Result<ContainerStatus> parse_status(std::string_view name);

struct ContainerState {
  std::string oci_version = "1.0.2";
  std::string id;
  ContainerStatus status = ContainerStatus::kCreating;
  pid_t pid = 0;       // host pid of the init; 0 while creating
  std::string bundle;  // absolute
  std::map<std::string, std::string> annotations;
  // Gantry's own fields, kept in state.json but not part of the OCI state.
  uint64_t init_start_time = 0;  // field 22 of /proc/<pid>/stat when the init was made
  std::string cgroup_path;       // relative to the cgroup root(s), e.g. "/gantry/job-42"
  std::string created;           // RFC 3339 UTC
  // The bundle's config.json as create read it: start, delete and exec use its hooks and
  // process even if the bundle changes or goes away afterwards.
  Json config;
};

// The OCI state document: what `state` prints and what hooks read on stdin.
Json oci_state_json(const ContainerState& state);
// state.json: the OCI state plus Gantry's fields.
Json state_file_json(const ContainerState& state);
Result<ContainerState> parse_state_file(const Json& json, std::string_view source);

// What /proc says about a pid: its start time (clock ticks since boot) and state letter.
struct ProcessInfo {
  uint64_t start_time = 0;
  char state = '?';  // 'R', 'S', 'Z', ...
};
// Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses).
Result<ProcessInfo> parse_proc_stat(std::string_view text);
// Reads /proc/<pid>/stat; nullopt when the process does not exist.
std::optional<ProcessInfo> probe_process(pid_t pid);

// The live status: `init` is what /proc says about state.pid now (nullopt: gone).
// A zombie or a pid reused by another process (different start time) counts as stopped; a
// live init is "created" while the exec fifo exists, "running" after.
ContainerStatus derive_status(const ContainerState& stored, const std::optional<ProcessInfo>& init,
                              bool exec_fifo_exists);

// Container state under one runtime root. Each method is one step; callers hold lock() across
// a read-modify-write.
class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string dir(std::string_view id) const;

  // Makes the container's directory, reserving the id. kAlreadyExists if the id is in use.
  Status reserve(std::string_view id) const;
  // Takes the container's exclusive lock (blocking). kNotFound if there is no such container.
  Result<UniqueFd> lock(std::string_view id) const;
  Status save(const ContainerState& state) const;
  // Reads state.json and fills in the live status. A reserved container with no state.json yet
  // reads as creating. kNotFound if there is no such container.
  Result<ContainerState> load(std::string_view id) const;
  // Ids of every container under the root, sorted (none when the root does not exist).
  Result<std::vector<std::string>> ids() const;
  // Removes the container's directory and everything in it.
  Status remove(std::string_view id) const;

 private:
  std::string root_;
};

}  // namespace gantry::runtime
