#include "controller/git_mirror.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "common/file.h"
#include "common/strings.h"
#include "common/subprocess.h"

namespace gantry::controller {

namespace {

constexpr auto kGitTimeout = std::chrono::minutes(10);

SubprocessOptions git_options() {
  SubprocessOptions o;
  o.timeout = kGitTimeout;
  std::map<std::string, std::string> env;
  for (const char* name : {"PATH", "HOME", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "http_proxy",
                           "https_proxy", "no_proxy"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  env["GIT_TERMINAL_PROMPT"] = "0";  // never wait for a password on stdin
  env["LC_ALL"] = "C";
  o.env = env;
  return o;
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  // git's last line says what failed ("fatal: ..."); earlier ones are progress.
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

Result<SubprocessResult> git(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_subprocess(argv, git_options());
}

bool is_hex_sha(const std::string& s) {
  return s.size() >= 7 && s.size() <= 40 &&
         s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string GitMirror::path(const std::string& key) const { return join_path(dir_, key + ".git"); }

std::mutex& GitMirror::lock_for(const std::string& key) {
  std::lock_guard lock(mu_);
  auto& m = locks_[key];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Status GitMirror::sync(const std::string& key, const std::string& url) {
  std::lock_guard lock(lock_for(key));
  std::string repo = path(key);
  GANTRY_TRY(make_dirs(dir_, 0750));
  if (!path_exists(join_path(repo, "HEAD"))) {
    std::string tmp = repo + ".tmp";
    GANTRY_TRY(remove_all(tmp));
    GANTRY_ASSIGN_OR_RETURN(auto r, git({"clone", "--mirror", "--quiet", "--", url, tmp}));
    if (r.exit_code != 0) {
      (void)remove_all(tmp);
      return Error(ErrorCode::kInvalidArgument,
                   "clone '" + url + "': " + last_line(r.err.empty() ? r.out : r.err));
    }
    if (::rename(tmp.c_str(), repo.c_str()) != 0) return sys_error("rename '" + tmp + "'");
    return ok_status();
  }
  // The URL may have changed since the mirror was made.
  GANTRY_ASSIGN_OR_RETURN(auto set, git({"-C", repo, "remote", "set-url", "origin", url}));
  if (set.exit_code != 0) {
    return Error(ErrorCode::kIo, "mirror '" + repo + "': " + last_line(set.err));
  }
  GANTRY_ASSIGN_OR_RETURN(auto r, git({"-C", repo, "fetch", "--prune", "--quiet", "origin"}));
  if (r.exit_code != 0) {
    return Error(ErrorCode::kUnavailable,
                 "fetch '" + url + "': " + last_line(r.err.empty() ? r.out : r.err));
  }
  return ok_status();
}

Result<ResolvedCommit> GitMirror::resolve(const std::string& key, const std::string& ref_in,
                                          const std::string& sha,
                                          const std::string& default_branch) {
  std::string repo = path(key);
  ResolvedCommit out;
  out.ref = ref_in.empty() ? default_branch : ref_in;
  std::vector<std::pair<std::string, bool>> kinds = {{"refs/heads/", false}, {"refs/tags/", true}};
  // A full ref ("refs/tags/v1", as push webhooks name them) is only that kind of ref.
  for (const auto& kind : std::vector(kinds)) {
    if (out.ref.rfind(kind.first, 0) == 0 && out.ref.size() > kind.first.size()) {
      out.ref = out.ref.substr(kind.first.size());
      out.tag = kind.second;
      kinds = {kind};
      break;
    }
  }
  std::string ref_sha;
  for (const auto& [prefix, is_tag] : kinds) {
    GANTRY_ASSIGN_OR_RETURN(auto r, git({"-C", repo, "rev-parse", "--verify", "--quiet",
                                         prefix + out.ref + "^{commit}"}));
    if (r.exit_code == 0) {
      ref_sha = trim(r.out);
      out.tag = is_tag;
      break;
    }
  }
  if (ref_sha.empty() && sha.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "ref '" + out.ref + "' is neither a branch nor a tag of the repository");
  }
  if (sha.empty()) {
    out.sha = ref_sha;
    return out;
  }
  if (!is_hex_sha(sha)) {
    return Error(ErrorCode::kInvalidArgument, "sha '" + sha + "' is not a hex commit id");
  }
  GANTRY_ASSIGN_OR_RETURN(auto r,
                          git({"-C", repo, "rev-parse", "--verify", "--quiet", sha + "^{commit}"}));
  if (r.exit_code != 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "commit '" + sha + "' is not in the repository");
  }
  out.sha = trim(r.out);
  return out;
}

Result<std::unique_ptr<GitTreeFiles>> GitTreeFiles::open(const std::string& repo,
                                                         const std::string& sha) {
  GANTRY_ASSIGN_OR_RETURN(auto r, git({"-C", repo, "ls-tree", "-r", "-z", "--name-only", sha}));
  if (r.exit_code != 0) {
    return Error(ErrorCode::kIo, "list files of commit '" + sha + "': " + last_line(r.err));
  }
  std::vector<std::string> files = split_nonempty(r.out, '\0');
  std::sort(files.begin(), files.end());
  return std::unique_ptr<GitTreeFiles>(new GitTreeFiles(repo, sha, std::move(files)));
}

bool GitTreeFiles::exists(const std::string& path) const {
  std::string p = schema::normalize_project_path(path);
  return std::binary_search(files_.begin(), files_.end(), p);
}

Result<std::string> GitTreeFiles::read(const std::string& path) const {
  std::string p = schema::normalize_project_path(path);
  if (!exists(p)) {
    return Error(ErrorCode::kNotFound, "'" + p + "' not found at commit " + sha_.substr(0, 12));
  }
  GANTRY_ASSIGN_OR_RETURN(auto r, git({"-C", repo_, "cat-file", "blob", sha_ + ":" + p}));
  if (r.exit_code != 0) {
    return Error(ErrorCode::kIo, "read '" + p + "' at " + sha_.substr(0, 12) + ": " +
                                     last_line(r.err));
  }
  return r.out;
}

std::vector<std::string> GitTreeFiles::list(const std::string& under) const {
  std::string base = schema::normalize_project_path(under);
  if (!base.empty() && base.back() != '/') base += '/';
  std::vector<std::string> out;
  for (const auto& f : files_) {
    if (!base.empty() && f.rfind(base, 0) != 0) continue;
    // Hidden directories below `under` are skipped, as DiskProjectFiles does.
    std::string rest = f.substr(base.size());
    bool hidden_dir = false;
    size_t seg = 0;
    for (size_t slash; (slash = rest.find('/', seg)) != std::string::npos; seg = slash + 1) {
      if (rest[seg] == '.') hidden_dir = true;
    }
    if (!hidden_dir) out.push_back(f);
  }
  return out;
}

}  // namespace gantry::controller
