#include "runtime/cgroups/detect.h"

#include <algorithm>

#include "common/file.h"

namespace gantry::runtime {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The v1 options that are mount flags rather than controller names.
bool is_v1_mount_option(std::string_view opt) {
  static constexpr std::string_view kOptions[] = {
      "rw",   "ro",  "noprefix",    "clone_children", "xattr", "cpuset_v2_mode",
      "none", "all", "favordynmods"};
  if (std::find(std::begin(kOptions), std::end(kOptions), opt) != std::end(kOptions)) return true;
  return opt.starts_with("release_agent=");
}

}  // namespace

bool CgroupV1Hierarchy::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

const CgroupV1Hierarchy* CgroupLayout::v1_hierarchy(std::string_view controller) const {
  for (const auto& h : v1)
    if (h.has(controller)) return &h;
  return nullptr;
}

std::string_view cgroup_mode_name(CgroupLayout::Mode mode) {
  switch (mode) {
    case CgroupLayout::Mode::kV1:
      return "v1";
    case CgroupLayout::Mode::kHybrid:
      return "hybrid";
    case CgroupLayout::Mode::kV2:
      return "v2";
  }
  return "unknown";
}

Result<CgroupLayout> parse_cgroup_layout(std::string_view mountinfo) {
  CgroupLayout layout;
  bool any = false;
  int line_no = 0;
  for (std::string_view line : split(mountinfo, '\n')) {
    ++line_no;
    if (line.empty()) continue;
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;  // not a mount line we understand; not cgroup
    auto tail = split(line.substr(dash + 3), ' ');
    if (tail.empty()) continue;
    std::string_view fstype = tail[0];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    auto head = split(line.substr(0, dash), ' ');
    if (head.size() < 6 || tail.size() < 3) {
      return Error(ErrorCode::kInvalidArgument, "parse mountinfo line " + std::to_string(line_no) +
                                                    ": malformed " + std::string(fstype) +
                                                    " entry '" + std::string(line) + "'");
    }
    std::string mount_point = unescape_octal(head[4]);
    any = true;
    if (fstype == "cgroup2") {
      if (layout.unified_mount.empty() || mount_point == "/sys/fs/cgroup")
        layout.unified_mount = mount_point;
      continue;
    }
    CgroupV1Hierarchy h;
    h.mount_point = mount_point;
    for (std::string_view opt : split(tail[2], ',')) {
      if (opt.empty() || is_v1_mount_option(opt)) continue;
      if (opt.starts_with("name=")) {
        h.name = std::string(opt.substr(5));
      } else {
        h.controllers.emplace_back(opt);
      }
    }
    if (h.controllers.empty() && h.name.empty()) {
      return Error(ErrorCode::kInvalidArgument, "parse mountinfo line " + std::to_string(line_no) +
                                                    ": cgroup mount at '" + mount_point +
                                                    "' names no controller and no name=");
    }
    std::sort(h.controllers.begin(), h.controllers.end());
    bool seen = std::any_of(layout.v1.begin(), layout.v1.end(), [&](const auto& other) {
      return other.controllers == h.controllers && other.name == h.name;
    });
    if (!seen) layout.v1.push_back(std::move(h));
  }
  if (!any) return Error(ErrorCode::kNotFound, "no cgroup file system is mounted");
  bool v1_controllers = std::any_of(layout.v1.begin(), layout.v1.end(),
                                    [](const auto& h) { return !h.controllers.empty(); });
  if (!v1_controllers && !layout.unified_mount.empty()) {
    layout.mode = CgroupLayout::Mode::kV2;
  } else if (layout.unified_mount.empty()) {
    layout.mode = CgroupLayout::Mode::kV1;
  } else {
    layout.mode = CgroupLayout::Mode::kHybrid;
  }
  return layout;
}

Result<CgroupLayout> detect_cgroup_layout() {
  GANTRY_ASSIGN_OR_RETURN(std::string text, read_file("/proc/self/mountinfo"));
  auto layout = parse_cgroup_layout(text);
  if (!layout.ok()) return std::move(layout).error().with_context("detect cgroup layout");
  return layout;
}

}  // namespace gantry::runtime
