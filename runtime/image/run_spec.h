// The ContainerSpec for `gantry container run`: a base spec (the secure default) plus an
// image's config (Env, Entrypoint/Cmd, WorkingDir, User via run_config.h) plus the user's
// options (-e, -v, --network, --memory, --cpus, --pids-limit), with the root an overlay of the
// image's snapshots. Also the parsers of those options' text, with errors naming the option
// and the value. PURE: no OS calls (the caller reads /etc/passwd and /etc/group); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "runtime/container_spec.h"
#include "runtime/image/manifest.h"

namespace gantry::runtime::image {

enum class NetworkMode { kNone, kHost };

struct Volume {
  std::string source;       // absolute host path
  std::string destination;  // absolute container path
  bool readonly = false;
};

struct CpuLimit {
  int64_t quota = 0;     // microseconds per period
  uint64_t period = 0;   // microseconds
};

struct ContainerRunOptions {
  std::optional<std::vector<std::string>> entrypoint;  // set: replaces the image's (and its Cmd)
  std::vector<std::string> cmd;                        // non-empty: replaces the image's Cmd
  std::vector<std::string> env;                        // "-e K=V" (a bare "K" sets K empty)
  std::string user;                                    // "": the image's
  std::string working_dir;                             // "": the image's
  std::vector<Volume> volumes;
  NetworkMode network = NetworkMode::kNone;
  std::optional<int64_t> memory_bytes;
  std::optional<CpuLimit> cpus;
  std::optional<int64_t> pids_limit;
  std::string hostname;                                // "": keep the base spec's
  bool init =
      false;  // Gantry's reaper as pid 1, the command its child (ContainerSpec::init_reaper)
};

// Where the container's root lives: an overlay of `lower_dirs` (lowest first) with a private
// upper and work dir, mounted at `rootfs` (all absolute).
struct RunRootfs {
  std::vector<std::string> lower_dirs;
  std::string upper;
  std::string work;
  std::string rootfs;
};

// "512m", "1g", "1.5G", "1048576", "64k", "2t" (binary units, an optional trailing "b").
// kInvalidArgument names the value; any positive size is accepted (the kernel has the last
// word on tiny limits).
Result<int64_t> parse_memory_size(std::string_view text);
// "1.5" → quota 150000 per period 100000 (Docker's --cpus). At least 0.01 (the kernel's 1 ms
// minimum quota), at most 5 decimals.
Result<CpuLimit> parse_cpus(std::string_view text);
// "SRC:DST", "SRC:DST:ro", "SRC:DST:rw"; both absolute, DST not "/". Existence of SRC is the
// caller's to check.
Result<Volume> parse_volume(std::string_view text);
// "none" or "host".
Result<NetworkMode> parse_network(std::string_view text);

// The spec to run: `base` with the image's config and `options` applied and the root set to
// `rootfs`. `passwd` and `group` are the image's /etc/passwd and /etc/group ("" if absent).
// kInvalidArgument (nothing to run, relative working dir, bad user spec) or kNotFound (user or
// group not in the image).
Result<ContainerSpec> make_run_spec(ContainerSpec base, const ImageConfig& config,
                                    const ContainerRunOptions& options, const RunRootfs& rootfs,
                                    std::string_view passwd, std::string_view group);

}  // namespace gantry::runtime::image
