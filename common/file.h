// File helpers over plain POSIX calls: whole-file reads, atomic writes (temp file + fsync +
// rename), directory creation and removal. Every error names the path. Thread-safe (no state).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace gantry {

Result<std::string> read_file(const std::string& path);

// Writes `data` to a temp file beside `path`, fsyncs it and renames it over `path`, so a reader
// sees the old or the new content, never a mix.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// Plain (non-atomic) write, truncating. For small kernel files (cgroup knobs, /proc).
Status write_file(const std::string& path, std::string_view data);

// mkdir -p. Existing directories are fine; an existing non-directory is an error.
Status make_dirs(const std::string& path, mode_t mode = 0755);

// rm -rf that does not cross mount points (a mount below `path` is an error, not a traversal).
Status remove_all(const std::string& path);

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

// Entries of a directory (names only, without "." and ".."), sorted.
Result<std::vector<std::string>> list_dir(const std::string& path);

// Joins path parts with single slashes: join_path("/a/", "/b") == "/a/b".
std::string join_path(std::string_view a, std::string_view b);

}  // namespace gantry
