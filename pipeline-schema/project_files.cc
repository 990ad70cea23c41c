#include "pipeline-schema/project_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <functional>

#include "common/file.h"

namespace gantry::schema {

namespace {

// `**` may match across directories and `*` within one; backtracking over both stays linear
// enough for project paths (short strings, few stars).
bool match_from(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p[0] == '*') {
      bool deep = p.size() > 1 && p[1] == '*';
      std::string_view rest = p.substr(deep ? 2 : 1);
      for (std::size_t i = 0; i <= s.size(); ++i) {
        if (match_from(rest, s.substr(i))) return true;
        if (i < s.size() && !deep && s[i] == '/') break;
      }
      return false;
    }
    if (s.empty() || p[0] != s[0]) return false;
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

}  // namespace

std::string normalize_project_path(std::string_view path) {
  std::string out;
  while (!path.empty() && path[0] == '/') path.remove_prefix(1);
  while (path.substr(0, 2) == "./") path.remove_prefix(2);
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  return out;
}

bool has_wildcard(std::string_view pattern) { return pattern.find('*') != std::string_view::npos; }

bool wildcard_match(std::string_view pattern, std::string_view path) {
  std::string p = normalize_project_path(pattern);
  return match_from(p, path);
}

Result<std::string> DiskProjectFiles::read(const std::string& path) const {
  return read_file(join_path(root_, path));
}

bool DiskProjectFiles::exists(const std::string& path) const {
  struct stat st;
  return ::stat(join_path(root_, path).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string wildcard_base_dir(std::string_view pattern) {
  std::string p = normalize_project_path(pattern);
  auto star = p.find('*');
  if (star == std::string::npos) star = p.size();
  auto slash = p.rfind('/', star);
  return slash == std::string::npos ? "" : p.substr(0, slash);
}

std::vector<std::string> DiskProjectFiles::list(const std::string& under) const {
  std::vector<std::string> files;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    auto entries = list_dir(rel.empty() ? root_ : join_path(root_, rel));
    if (!entries.ok()) return;
    for (const auto& name : *entries) {
      std::string child = rel.empty() ? name : rel + "/" + name;
      std::string full = join_path(root_, child);
      struct stat st;
      if (::lstat(full.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (name[0] != '.') walk(child);
      } else if (S_ISREG(st.st_mode)) {
        files.push_back(child);
      }
    }
  };
  walk(normalize_project_path(under));
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::string> FakeProjectFiles::read(const std::string& path) const {
  auto it = files_.find(path);
  if (it == files_.end()) {
    return Error(ErrorCode::kNotFound, "read '" + path + "': no such file or directory");
  }
  return it->second;
}

std::vector<std::string> FakeProjectFiles::list(const std::string& under) const {
  std::string prefix = normalize_project_path(under);
  if (!prefix.empty()) prefix += "/";
  std::vector<std::string> out;
  for (const auto& [path, _] : files_)
    if (path.rfind(prefix, 0) == 0) out.push_back(path);
  return out;
}

}  // namespace gantry::schema
