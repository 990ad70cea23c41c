// Tar archives of workspace files for artifacts and caches (libarchive; this is its only
// includer in agent/). create_tar() stores the given relative paths of a directory as a POSIX
// tar, keeping modes, mtimes and symlinks (never following them); extract_tar() unpacks one into
// a directory, refusing entries that would land outside it (absolute paths, `..`, paths through
// symlinks). Thread-compatible: separate calls are independent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace gantry::agent {

struct TarStats {
  std::int64_t entries = 0;
  std::int64_t bytes = 0;  // file content
};

// Archives `paths` (relative to `root`, '/'-separated; directories are stored as entries, not
// recursed: list their contents too) into a new file `out_path`.
Result<TarStats> create_tar(const std::string& root, const std::vector<std::string>& paths,
                            const std::string& out_path);

// Unpacks `tar_path` into the existing directory `dest`, overwriting files of the same name.
// Errors name the entry: "extract 'x.tar': entry '../a': ...".
Result<TarStats> extract_tar(const std::string& tar_path, const std::string& dest);

}  // namespace gantry::agent
