#include "agent/path_select.h"

#include <algorithm>
#include <set>

#include "pipeline-schema/glob.h"

namespace gantry::agent {

namespace {

std::vector<std::string> split_segments(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool is_under(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

}  // namespace

std::optional<std::string> normalize_artifact_pattern(std::string_view pattern,
                                                      std::string_view project_dir) {
  std::string p(pattern);
  if (!p.empty() && p[0] == '/') {
    std::string dir(project_dir);
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (p == dir) return std::string();
    if (!is_under(p, dir)) return std::nullopt;
    p = p.substr(dir.size() + 1);
  }
  std::vector<std::string> out;
  for (auto& seg : split_segments(p)) {
    if (seg == ".") continue;
    if (seg == "..") {
      if (out.empty()) return std::nullopt;
      out.pop_back();
      continue;
    }
    out.push_back(std::move(seg));
  }
  std::string joined;
  for (const auto& s : out) {
    if (!joined.empty()) joined += '/';
    joined += s;
  }
  return joined;
}

PathSelection select_paths(const std::vector<WorkspaceEntry>& entries,
                           const std::vector<std::string>& patterns,
                           const std::vector<std::string>& exclude, bool include_untracked,
                           const std::vector<std::string>& untracked,
                           std::string_view project_dir) {
  PathSelection sel;
  std::set<std::string> chosen;
  std::vector<std::string> sorted;  // for finding what lies below a matched directory
  sorted.reserve(entries.size());
  for (const auto& e : entries) sorted.push_back(e.path);
  std::sort(sorted.begin(), sorted.end());
  for (const auto& raw : patterns) {
    auto pattern = normalize_artifact_pattern(raw, project_dir);
    if (!pattern) {
      sel.warnings.push_back(raw + ": artifact path is not a subpath of project directory " +
                             std::string(project_dir));
      continue;
    }
    bool any = false;
    if (pattern->empty()) {  // "." or the project dir itself: everything
      for (const auto& e : entries) chosen.insert(e.path);
      any = !entries.empty();
    } else {
      for (const auto& e : entries) {
        if (!schema::glob_match(*pattern, e.path)) continue;
        any = true;
        chosen.insert(e.path);
        if (e.is_dir) {
          std::string prefix = e.path + "/";
          for (auto it = std::lower_bound(sorted.begin(), sorted.end(), prefix);
               it != sorted.end() && it->compare(0, prefix.size(), prefix) == 0; ++it) {
            chosen.insert(*it);
          }
        }
      }
    }
    if (!any) {
      sel.warnings.push_back(raw +
                             ": no matching files. Ensure that the artifact path is relative to "
                             "the working directory (" + std::string(project_dir) + ")");
    }
  }
  if (include_untracked) {
    for (const auto& u : untracked) chosen.insert(u);
  }
  std::vector<std::string> excl;
  for (const auto& raw : exclude) {
    auto p = normalize_artifact_pattern(raw, project_dir);
    if (p) excl.push_back(*p);
  }
  for (const auto& path : chosen) {
    bool dropped = std::any_of(excl.begin(), excl.end(),
                               [&](const std::string& x) { return schema::glob_match(x, path); });
    if (!dropped) sel.paths.push_back(path);
  }
  return sel;
}

}  // namespace gantry::agent
