#include "runtime/image/run_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "common/file.h"
#include "common/unique_fd.h"

namespace gantry::runtime::image {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string_view env_key(std::string_view kv) { return kv.substr(0, kv.find('=')); }

void set_env(std::vector<std::string>& env, const std::string& kv) {
  auto key = env_key(kv);
  for (auto& e : env)
    if (env_key(e) == key) {
      e = kv;
      return;
    }
  env.push_back(kv);
}

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t i = s.find(sep, start);
    out.push_back(s.substr(start, i == std::string_view::npos ? i : i - start));
    if (i == std::string_view::npos) return out;
    start = i + 1;
  }
}

// Lines of a colon-separated database as fields; comments and short lines skipped.
std::vector<std::vector<std::string_view>> records(std::string_view text, size_t min_fields) {
  std::vector<std::vector<std::string_view>> out;
  for (auto line : split(text, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    auto f = split(line, ':');
    if (f.size() >= min_fields) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

Result<RunConfig> resolve_run_config(const ImageConfig& config, const RunOverrides& o) {
  RunConfig run;
  std::vector<std::string> entry = o.entrypoint ? *o.entrypoint : config.entrypoint;
  std::vector<std::string> cmd = !o.cmd.empty() ? o.cmd
                                 : o.entrypoint ? std::vector<std::string>{}
                                                : config.cmd;
  run.args = entry;
  run.args.insert(run.args.end(), cmd.begin(), cmd.end());
  if (run.args.empty())
    return Error(ErrorCode::kInvalidArgument,
                 "no command to run: the image has no Entrypoint or Cmd and none was given");
  run.env = config.env;
  if (std::none_of(run.env.begin(), run.env.end(),
                   [](const std::string& e) { return env_key(e) == "PATH"; }))
    run.env.insert(run.env.begin(), std::string(kDefaultPath));
  for (const auto& kv : o.env) {
    if (kv.empty() || kv.front() == '=')
      return Error(ErrorCode::kInvalidArgument, "environment entry " + q(kv) + ": no name");
    set_env(run.env, kv.find('=') == std::string::npos ? kv + "=" : kv);
  }
  run.cwd = !o.working_dir.empty() ? o.working_dir : config.working_dir;
  if (run.cwd.empty()) run.cwd = "/";
  if (run.cwd.front() != '/')
    return Error(ErrorCode::kInvalidArgument,
                 "working directory " + q(run.cwd) + " must be an absolute path");
  run.user = !o.user.empty() ? o.user : config.user;
  return run;
}

Result<User> resolve_user(std::string_view spec, std::string_view passwd, std::string_view group) {
  User u;
  if (spec.empty()) return u;
  auto colon = spec.find(':');
  std::string_view user = spec.substr(0, colon);
  std::optional<std::string_view> grp;
  if (colon != std::string_view::npos) grp = spec.substr(colon + 1);
  if (user.empty() || (grp && grp->empty()))
    return Error(ErrorCode::kInvalidArgument, "user " + q(spec) + ": expected user[:group]");

  auto users = records(passwd, 4);
  std::string_view user_name;
  std::optional<uint32_t> primary;
  if (auto id = parse_id(user)) {
    u.uid = *id;
    for (const auto& r : users)
      if (parse_id(r[2]) == id) {
        user_name = r[0];
        primary = parse_id(r[3]);
        break;
      }
  } else {
    bool found = false;
    for (const auto& r : users)
      if (r[0] == user) {
        auto uid = parse_id(r[2]);
        if (!uid) continue;
        u.uid = *uid;
        primary = parse_id(r[3]);
        user_name = r[0];
        found = true;
        break;
      }
    if (!found)
      return Error(ErrorCode::kNotFound,
                   "user " + q(user) + " not found in the image's /etc/passwd");
  }
  auto groups = records(group, 3);
  if (grp) {
    if (auto id = parse_id(*grp)) {
      u.gid = *id;
    } else {
      bool found = false;
      for (const auto& r : groups)
        if (r[0] == *grp && parse_id(r[2])) {
          u.gid = *parse_id(r[2]);
          found = true;
          break;
        }
      if (!found)
        return Error(ErrorCode::kNotFound,
                     "group " + q(*grp) + " not found in the image's /etc/group");
    }
  } else {
    u.gid = primary.value_or(0);
  }
  if (!user_name.empty()) {
    for (const auto& r : groups) {
      if (r.size() < 4) continue;
      auto gid = parse_id(r[2]);
      if (!gid || *gid == u.gid) continue;
      for (auto member : split(r[3], ','))
        if (member == user_name) u.additional_gids.push_back(*gid);
    }
  }
  return u;
}

void apply_run_config(const RunConfig& run, const User& user, Process& process) {
  process.args = run.args;
  process.env = run.env;
  process.cwd = run.cwd;
  auto umask = process.user.umask;
  process.user = user;
  if (!user.umask) process.user.umask = umask;
}

Result<std::string> read_image_file(const std::vector<std::string>& lower_dirs,
                                    const std::string& path) {
  std::vector<std::string> comps;
  for (auto c : split(path, '/'))
    if (!c.empty() && c != ".") comps.emplace_back(c);
  if (comps.empty() || std::find(comps.begin(), comps.end(), "..") != comps.end())
    return Error(ErrorCode::kInvalidArgument, "image file " + q(path) + ": bad path");
  auto not_found = [&] {
    return Error(ErrorCode::kNotFound, "image file " + q(path) + " not found");
  };
  for (auto layer = lower_dirs.rbegin(); layer != lower_dirs.rend(); ++layer) {
    UniqueFd dir(::open(layer->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return sys_error("open layer " + q(*layer));
    bool stop = false, missing = false;
    for (size_t i = 0; i + 1 < comps.size() && !missing; ++i) {
      struct stat st;
      if (::fstatat(dir.get(), comps[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        missing = true;
        break;
      }
      if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return not_found();  // whited out
      if (!S_ISDIR(st.st_mode)) {
        missing = true;
        break;
      }
      UniqueFd next(::openat(dir.get(), comps[i].c_str(),
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) return sys_error("open " + q(*layer + "/" + comps[i]));
      char v = 0;
      if (::fgetxattr(next.get(), "trusted.overlay.opaque", &v, 1) == 1 && v == 'y') stop = true;
      dir = std::move(next);
    }
    if (!missing) {
      struct stat st;
      const char* name = comps.back().c_str();
      if (::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return not_found();
        if (!S_ISREG(st.st_mode))
          return Error(ErrorCode::kUnimplemented,
                       "image file " + q(path) + " is not a regular file in its layer");
        UniqueFd fd(::openat(dir.get(), name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return sys_error("open image file " + q(path));
        return read_file("/proc/self/fd/" + std::to_string(fd.get()));
      }
    }
    if (stop) return not_found();
  }
  return not_found();
}

}  // namespace gantry::runtime::image
