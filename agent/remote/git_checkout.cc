#include "agent/remote/git_checkout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>

#include "common/digest.h"
#include "common/file.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "common/unique_fd.h"

extern char** environ;

namespace gantry::agent {

namespace {

// The agent's environment plus what keeps git from ever waiting for a person.
std::map<std::string, std::string> git_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env["GIT_TERMINAL_PROMPT"] = "0";
  env["GIT_ASKPASS"] = "true";
  env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
  env.erase("GIT_DIR");
  env.erase("GIT_WORK_TREE");
  return env;
}

// The last lines of git's stderr: the part that says what went wrong.
std::string git_message(const SubprocessResult& r) {
  std::string text(trim(r.err.empty() ? r.out : r.err));
  if (text.size() > 600) text = "…" + text.substr(text.size() - 600);
  if (r.timed_out) return "timed out" + (text.empty() ? "" : ": " + text);
  if (text.empty()) return "exit code " + std::to_string(r.exit_code);
  return text;
}

ErrorCode classify(const std::string& message) {
  for (const char* s : {"Could not resolve host", "Connection refused", "Connection timed out",
                        "unable to access", "Could not read from remote repository"}) {
    if (message.find(s) != std::string::npos) return ErrorCode::kUnavailable;
  }
  if (message.find("does not appear to be a git repository") != std::string::npos ||
      message.find("not found") != std::string::npos) {
    return ErrorCode::kNotFound;
  }
  return ErrorCode::kIo;
}

bool valid_sha(const std::string& sha) {
  if (sha.size() < 7 || sha.size() > 64) return false;
  for (char c : sha) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

GitCheckout::GitCheckout(std::string mirrors_dir, CheckoutOptions options)
    : mirrors_dir_(std::move(mirrors_dir)), options_(options) {}

std::string GitCheckout::mirror_path(const std::string& url) const {
  std::string name = url;
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (auto slash = name.find_last_of("/:"); slash != std::string::npos)
    name = name.substr(slash + 1);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, ".git") == 0)
    name.resize(name.size() - 4);
  std::string safe;
  for (char c : name) {
    safe +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  }
  if (safe.empty() || safe[0] == '.') safe = "repo" + safe;
  return join_path(mirrors_dir_, sha256_hex(url).substr(0, 16) + "-" + safe + ".git");
}

std::mutex& GitCheckout::lock_for(const std::string& mirror) {
  std::lock_guard lock(map_mu_);
  auto& m = locks_[mirror];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Status GitCheckout::update_mirror(const std::string& url, const std::string& sha,
                                  const std::string& mirror) {
  auto env = git_env();
  auto git = [&](std::vector<std::string> args) -> Result<SubprocessResult> {
    args.insert(args.begin(), "git");
    SubprocessOptions o;
    o.env = env;
    o.timeout = options_.git_timeout;
    return run_subprocess(args, o);
  };
  auto has_commit = [&]() -> Result<bool> {
    GANTRY_ASSIGN_OR_RETURN(auto r, git({"-C", mirror, "cat-file", "-e", sha + "^{commit}"}));
    return r.exit_code == 0;
  };
  if (!is_directory(mirror)) {
    std::string tmp = mirror + ".tmp";
    GANTRY_TRY(remove_all(tmp));
    GANTRY_ASSIGN_OR_RETURN(auto r, git({"clone", "--mirror", "--quiet", "--", url, tmp}));
    if (r.exit_code != 0) {
      (void)remove_all(tmp);
      std::string msg = git_message(r);
      return Error(classify(msg), "clone '" + url + "': " + msg);
    }
    if (::rename(tmp.c_str(), mirror.c_str()) != 0) return sys_error("rename '" + tmp + "'");
  }
  GANTRY_ASSIGN_OR_RETURN(bool present, has_commit());
  if (present) return ok_status();
  GANTRY_ASSIGN_OR_RETURN(auto fetch, git({"-C", mirror, "fetch", "--quiet", "--prune", "origin"}));
  if (fetch.exit_code != 0) {
    std::string msg = git_message(fetch);
    return Error(classify(msg), "fetch '" + url + "': " + msg);
  }
  GANTRY_ASSIGN_OR_RETURN(present, has_commit());
  if (present) return ok_status();
  // A commit no ref points at any more (a force-pushed branch, a merge request head).
  GANTRY_ASSIGN_OR_RETURN(auto by_id, git({"-C", mirror, "fetch", "--quiet", "origin", sha}));
  GANTRY_ASSIGN_OR_RETURN(present, has_commit());
  if (!present) {
    return Error(ErrorCode::kNotFound, "commit '" + sha + "' is not in '" + url + "'" +
                                           (by_id.exit_code != 0 ? ": " + git_message(by_id) : ""));
  }
  return ok_status();
}

Status GitCheckout::checkout(const std::string& url, const std::string& sha,
                             const std::string& dest) {
  auto ctx = [&](Error e) {
    return std::move(e).with_context("check out '" + sha + "' of '" + url + "'");
  };
  if (!valid_sha(sha)) {
    return ctx(Error(ErrorCode::kInvalidArgument, "not a commit id (hex, 7 to 64 digits)"));
  }
  if (path_exists(dest)) {
    return ctx(Error(ErrorCode::kAlreadyExists, "destination '" + dest + "' exists"));
  }
  if (auto st = make_dirs(mirrors_dir_, 0700); !st.ok()) return ctx(st.error());
  std::string mirror = mirror_path(url);
  {
    std::lock_guard in_process(lock_for(mirror));
    UniqueFd lock_fd(::open((mirror + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock_fd) return ctx(sys_error("open '" + mirror + ".lock'"));
    while (::flock(lock_fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return ctx(sys_error("lock '" + mirror + ".lock'"));
    }
    if (auto st = update_mirror(url, sha, mirror); !st.ok()) return ctx(st.error());
  }
  // Cloning from the mirror needs no lock: git reads a consistent set of refs and objects, and
  // objects are never removed by our fetches (no gc runs while jobs check out).
  auto env = git_env();
  auto git = [&](std::vector<std::string> args) -> Status {
    args.insert(args.begin(), "git");
    SubprocessOptions o;
    o.env = env;
    o.timeout = options_.git_timeout;
    GANTRY_ASSIGN_OR_RETURN(auto r, run_subprocess(args, o));
    if (r.exit_code != 0) {
      return Error(ErrorCode::kIo, "git " + args[1] + " " + args[2] + ": " + git_message(r));
    }
    return ok_status();
  };
  Status st = git({"clone", "--quiet", "--no-checkout", "--", mirror, dest});
  if (st.ok()) st = git({"-C", dest, "remote", "set-url", "origin", url});
  if (st.ok()) st = git({"-C", dest, "-c", "advice.detachedHead=false", "checkout", "--quiet",
                         "--force", "--detach", sha});
  if (!st.ok()) {
    (void)remove_all(dest);
    return ctx(st.error());
  }
  return ok_status();
}

}  // namespace gantry::agent
