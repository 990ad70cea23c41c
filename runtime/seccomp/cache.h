// A cache of compiled seccomp filters in a directory under the runtime root, as crun keeps one:
// every job of an agent runs the same (default) profile, and compiling it with libseccomp is
// most of a container's start-up CPU. An entry is keyed by the validated profile's canonical
// text plus the native architecture, libseccomp's version and API level; the file holds the
// whole key and is used only when it parses, matches exactly and its program checks out, so a
// name collision, a short write or a corrupt file is a miss and gets rebuilt. Thread-compatible;
// processes sharing the directory are safe (entries are replaced atomically).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "runtime/container_spec.h"
#include "runtime/seccomp/compile.h"
#include "runtime/seccomp/profile.h"

namespace gantry::runtime {

// PURE: the canonical text of `profile` compiled in `environment` (seccomp_environment()).
// Two profiles that compile to the same filter in the same environment may differ in key
// (rule order, say); two with the same key always compile to the same filter.
std::string seccomp_cache_key(const SeccompProfile& profile, std::string_view environment);

// PURE: the file name of the entry for `key` ("<16 hex>.json"; a hash, not an identity).
std::string seccomp_cache_file_name(std::string_view key);

// PURE: an entry's file content, and back. decode fails with kNotFound when the entry holds
// another key and kInvalidArgument when it is not a well-formed entry.
std::string encode_seccomp_cache_entry(std::string_view key, const CompiledSeccomp& compiled);
Result<CompiledSeccomp> decode_seccomp_cache_entry(std::string_view data, std::string_view key);

enum class SeccompCacheOutcome {
  kHit,      // loaded from the cache
  kMiss,     // no entry: compiled and stored
  kRebuilt,  // an entry was there but unusable (corrupt, another key): compiled and replaced
};

struct CachedSeccomp {
  CompiledSeccomp compiled;
  SeccompCacheOutcome outcome = SeccompCacheOutcome::kMiss;
  // Why the compiled filter could not be stored ("" when it was, or on a hit). Not an error:
  // the filter is good, the next container compiles it again. For the caller to log.
  std::string store_error;
};

// Validates `seccomp` and returns its compiled filter from `cache_dir` (created 0700 when
// missing), compiling and storing it on a miss. Validation and compile errors are returned as
// compile_seccomp() returns them; problems with the cache itself never fail the call.
Result<CachedSeccomp> compile_seccomp_cached(const Seccomp& seccomp, const std::string& cache_dir);

}  // namespace gantry::runtime
