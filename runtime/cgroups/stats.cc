#include "runtime/cgroups/stats.h"

#include <charconv>

#include "common/strings.h"

namespace gantry::runtime {

namespace {

bool to_uint(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

Error bad(std::string_view file, std::string_view what) {
  return Error(ErrorCode::kInvalidArgument,
               "parse '" + std::string(file) + "': " + std::string(what));
}

template <typename F>
Status for_each_line(std::string_view text, F&& f) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(start, end - start));
    if (!line.empty()) GANTRY_TRY(f(line));
    start = end + 1;
  }
  return ok_status();
}

}  // namespace

Result<uint64_t> parse_cgroup_uint(std::string_view text, std::string_view file) {
  std::string_view t = trim(text);
  uint64_t v = 0;
  if (!to_uint(t, &v)) return bad(file, "want an unsigned number, got '" + std::string(t) + "'");
  return v;
}

Result<uint64_t> parse_cgroup_keyed(std::string_view text, std::string_view key,
                                    std::string_view file) {
  std::optional<uint64_t> found;
  GANTRY_TRY(for_each_line(text, [&](std::string_view line) -> Status {
    size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos || line.substr(0, sp) != key) return ok_status();
    std::string_view v = trim(line.substr(sp + 1));
    uint64_t n = 0;
    if (!to_uint(v, &n))
      return bad(file, "'" + std::string(key) + "' is not a number: '" + std::string(v) + "'");
    found = n;
    return ok_status();
  }));
  if (!found)
    return Error(ErrorCode::kNotFound,
                 "parse '" + std::string(file) + "': no '" + std::string(key) + "' entry");
  return *found;
}

Result<std::vector<pid_t>> parse_cgroup_procs(std::string_view text, std::string_view file) {
  std::vector<pid_t> pids;
  GANTRY_TRY(for_each_line(text, [&](std::string_view line) -> Status {
    uint64_t n = 0;
    if (!to_uint(line, &n) || n == 0 || n > static_cast<uint64_t>(INT32_MAX))
      return bad(file, "not a pid: '" + std::string(line) + "'");
    pids.push_back(static_cast<pid_t>(n));
    return ok_status();
  }));
  return pids;
}

Result<std::map<std::string, std::string>> parse_proc_cgroup(std::string_view text) {
  std::map<std::string, std::string> out;
  GANTRY_TRY(for_each_line(text, [&](std::string_view line) -> Status {
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos)
      return bad("/proc/<pid>/cgroup",
                 "want 'id:controllers:path', got '" + std::string(line) + "'");
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path(line.substr(c2 + 1));
    if (controllers.empty()) {
      out[""] = path;
      return ok_status();
    }
    size_t start = 0;
    while (start <= controllers.size()) {
      size_t end = controllers.find(',', start);
      if (end == std::string_view::npos) end = controllers.size();
      if (end > start) out[std::string(controllers.substr(start, end - start))] = path;
      start = end + 1;
    }
    return ok_status();
  }));
  return out;
}

}  // namespace gantry::runtime
