#include "agent/workspace.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "common/file.h"
#include "common/strings.h"
#include "common/subprocess.h"

namespace gantry::agent {

namespace fs = std::filesystem;

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

Error fs_error(const std::string& what, const std::error_code& ec) {
  return Error(error_code_from_errno(ec.value()), what + ": " + ec.message(), ec.value());
}

// Is `dir` the top of a git work tree? (A subdirectory of one is copied as a plain directory:
// its .git is elsewhere.)
bool is_git_top(const std::string& dir) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / ".git", ec);
}

Result<std::vector<std::string>> git_z_list(const std::string& dir,
                                            const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  SubprocessOptions opts;
  // A workspace copied by root may belong to another user; git refuses such trees otherwise.
  opts.env = std::map<std::string, std::string>{
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"GIT_CONFIG_COUNT", "1"},
      {"GIT_CONFIG_KEY_0", "safe.directory"},
      {"GIT_CONFIG_VALUE_0", "*"},
      {"HOME", "/nonexistent"}};
  GANTRY_ASSIGN_OR_RETURN(auto r, run_subprocess(argv, opts));
  if (r.exit_code != 0) {
    std::string err = r.err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return Error(ErrorCode::kFailedPrecondition,
                 "git ls-files in " + q(dir) + ": exit code " + std::to_string(r.exit_code) +
                     (err.empty() ? "" : ": " + err));
  }
  return split_nonempty(r.out, '\0');
}

// Copies one entry (file, symlink or directory itself, not its contents), keeping its mode.
Status copy_entry(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  auto st = fs::symlink_status(from, ec);
  if (ec) return fs_error("copy " + q(from.string()) + ": stat", ec);
  fs::create_directories(to.parent_path(), ec);
  if (ec)
    return fs_error("copy " + q(from.string()) + ": create " + q(to.parent_path().string()), ec);
  if (fs::is_symlink(st)) {
    fs::copy_symlink(from, to, ec);
  } else if (fs::is_directory(st)) {
    fs::create_directory(to, from, ec);
  } else if (fs::is_regular_file(st)) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  } else {
    return ok_status();  // sockets, fifos, devices: not source
  }
  if (ec) return fs_error("copy " + q(from.string()) + " to " + q(to.string()), ec);
  return ok_status();
}

}  // namespace

Result<CopyStats> copy_source_tree(const std::string& source, const std::string& dest) {
  CopyStats stats;
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    return Error(ErrorCode::kNotFound, "copy sources: " + q(source) + " is not a directory");
  }
  if (is_git_top(source)) {
    stats.git = true;
    GANTRY_ASSIGN_OR_RETURN(
        auto files, git_z_list(source, {"ls-files", "-z", "-c", "-o", "--exclude-standard"}));
    for (const auto& rel : files) {
      fs::path from = fs::path(source) / rel;
      if (!fs::exists(fs::symlink_status(from, ec))) continue;  // tracked but deleted
      GANTRY_TRY(copy_entry(from, fs::path(dest) / rel));
      ++stats.files;
    }
    fs::copy(fs::path(source) / ".git", fs::path(dest) / ".git",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return fs_error("copy " + q(source + "/.git"), ec);
  } else {
    for (auto it = fs::recursive_directory_iterator(source, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      fs::path rel = it->path().lexically_relative(source);  // never resolves symlinks
      GANTRY_TRY(copy_entry(it->path(), fs::path(dest) / rel));
      ++stats.files;
    }
    if (ec) return fs_error("copy " + q(source), ec);
  }
  // The project dir itself gets the source's mode (a 0700 checkout stays private).
  struct stat st;
  if (::stat(source.c_str(), &st) == 0) ::chmod(dest.c_str(), st.st_mode & 07777);
  return stats;
}

Result<std::vector<WorkspaceEntry>> list_workspace(const std::string& dir) {
  std::vector<WorkspaceEntry> out;
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(dir, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = it->path().lexically_relative(dir).generic_string();
    bool is_dir = it->is_directory(ec) && !it->is_symlink(ec);
    if (rel == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    out.push_back({rel, is_dir});
  }
  if (ec) return fs_error("list " + q(dir), ec);
  std::sort(out.begin(), out.end(),
            [](const WorkspaceEntry& a, const WorkspaceEntry& b) { return a.path < b.path; });
  return out;
}

Result<std::vector<std::string>> git_untracked_files(const std::string& dir) {
  if (!is_git_top(dir)) return std::vector<std::string>{};
  return git_z_list(dir, {"ls-files", "-z", "-o", "--exclude-standard"});
}

}  // namespace gantry::agent
