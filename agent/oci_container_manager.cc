#include "agent/oci_container_manager.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "agent/container_files.h"
#include "common/file.h"
#include "common/file_lock.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/scratch_file.h"
#include "common/subprocess.h"
#include "common/time_format.h"
#include "common/unique_fd.h"
#include "runtime/default_spec.h"
#include "runtime/image/reference.h"
#include "runtime/image/run_config.h"
#include "runtime/launch_plan.h"
#include "runtime/oci_config.h"
#include "runtime/paths.h"
#include "runtime/state.h"

namespace gantry::agent {

namespace image = runtime::image;
using Clock = std::chrono::steady_clock;

namespace {

// After SIGKILL of the cgroup, how long the runtime process gets to notice and exit before it
// is killed itself (a wedged runtime must not hang the agent).
constexpr std::chrono::seconds kKillGrace{10};
// Where the init reaper is bind-mounted in containers of other runtimes; its name makes the
// gantry executable act as `gantry-init`.
constexpr std::string_view kInitPath = "/run/gantry-init";
// A removed bundle is renamed to this prefix + its id, then deleted in the background.
constexpr std::string_view kRemovingPrefix = ".removing-";

bool is_hex_id(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(),
                                       [](char c) { return std::isxdigit(c) && !std::isupper(c); });
}

Status check_container_name(std::string_view name) {
  bool ok =
      !name.empty() && name.size() <= 128 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-')
      ok = false;
  }
  if (!ok) {
    return Error(ErrorCode::kInvalidArgument,
                 "container name '" + std::string(name) +
                     "': want letters, digits, '_', '.' or '-', starting with a letter or digit");
  }
  return ok_status();
}

Json exit_to_json(const ContainerExit& e) {
  return Json{{"exit_code", e.exit_code},   {"signal", e.signal},
              {"timed_out", e.timed_out},   {"canceled", e.canceled},
              {"oom_killed", e.oom_killed}};
}

ContainerExit exit_from_json(const Json& j) {
  ContainerExit e;
  e.exit_code = j.value("exit_code", 0);
  e.signal = j.value("signal", 0);
  e.timed_out = j.value("timed_out", false);
  e.canceled = j.value("canceled", false);
  e.oom_killed = j.value("oom_killed", false);
  return e;
}

// Runs an OCI runtime housekeeping command (kill, delete); its output is only for the log.
Result<SubprocessResult> run_runtime(const std::vector<std::string>& argv) {
  SubprocessOptions o;
  o.merge_stderr = true;
  o.timeout = std::chrono::seconds(60);
  return run_subprocess(argv, o);
}

// The executable that runs `gantry runtime`: the small static `gantry` front when it is installed
// beside this program (the build tree) or in ../../bin (an install with gantry-cli in
// libexec/gantry), else this program itself. The front starts in well under a millisecond;
// the full CLI spends tens of milliseconds in the dynamic loader, once per container.
Result<std::string> own_runtime_executable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return sys_error("readlink '/proc/self/exe'");
  std::string self(buf, static_cast<size_t>(n));
  std::string dir = self.substr(0, self.rfind('/'));
  for (std::string candidate : {dir + "/gantry", dir + "/../../bin/gantry"}) {
    if (candidate != self && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return self;
}

// Does the ELF executable at `path` run without a dynamic loader (no PT_INTERP), so that it
// runs in any container's root filesystem?
bool is_static_executable(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  Elf64_Ehdr eh;
  if (::pread(fd.get(), &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return false;
  }
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    off_t at = static_cast<off_t>(eh.e_phoff + i * sizeof ph);
    if (::pread(fd.get(), &ph, sizeof ph, at) != static_cast<ssize_t>(sizeof ph)) return false;
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<ContainerManager>> ContainerManager::open(ManagerOptions options) {
  if (options.root.empty()) {
    return Error(ErrorCode::kInvalidArgument, "container manager: empty state root");
  }
  image::UnpackOptions unpack;
  unpack.privileged = ::geteuid() == 0;
  GANTRY_ASSIGN_OR_RETURN(auto store, image::ImageStore::open(options.root, unpack));
  GANTRY_TRY(make_dirs(join_path(options.root, "bundles"), 0711));
  std::vector<std::string> argv;
  bool gantry = true;
  std::string rt_root = runtime::paths::runtime_root(options.root);
  if (options.oci_runtime.empty()) {
    GANTRY_ASSIGN_OR_RETURN(std::string exe, own_runtime_executable());
    argv = {std::move(exe)};
  } else {
    std::string exe = options.oci_runtime;
    std::string base = exe.substr(exe.rfind('/') == std::string::npos ? 0 : exe.rfind('/') + 1);
    gantry = base.starts_with("gantry");
    argv = {exe};
  }
  if (gantry) {
    argv.insert(argv.end(), {"--root", options.root, "runtime", "--root", rt_root});
  } else {
    argv.insert(argv.end(), {"--root", rt_root});
  }
  return std::unique_ptr<ContainerManager>(
      new OciContainerManager(std::move(options), std::move(store), std::move(argv), gantry));
}

OciContainerManager::OciContainerManager(ManagerOptions options,
                                         std::shared_ptr<image::ImageStore> store,
                                         std::vector<std::string> runtime_argv,
                                         bool gantry_runtime)
    : options_(std::move(options)),
      store_(std::move(store)),
      runtime_argv_(std::move(runtime_argv)),
      gantry_runtime_(gantry_runtime),
      runtime_root_(runtime::paths::runtime_root(options_.root)) {
  if (!gantry_runtime_) {
    auto exe = options_.init_executable.empty() ? own_runtime_executable()
                                                : Result<std::string>(options_.init_executable);
    if (exe.ok() && is_static_executable(*exe)) {
      init_executable_ = *exe;
    } else {
      logger("agent")->warn(
          "no static gantry executable ({}) to run as the init: containers run by {} that "
          "ask for one get none (their command is pid 1)",
          exe.ok() ? *exe : exe.error().message(), runtime_argv_.front());
    }
  }
  // Bundles whose removal a crash interrupted.
  auto names = list_dir(bundles_dir());
  if (!names.ok()) return;
  for (const auto& n : *names) {
    if (n.starts_with(kRemovingPrefix)) remover_.remove(join_path(bundles_dir(), n));
  }
}

OciContainerManager::~OciContainerManager() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, r] : running_) ids.push_back(id);
  }
  for (const auto& id : ids) {
    auto st = stop(id, std::chrono::milliseconds(0));
    if (!st.ok())
      logger("agent")->warn("stop container id={} error=\"{}\"", id, st.error().message());
  }
}

std::string OciContainerManager::bundles_dir() const { return join_path(options_.root, "bundles"); }

std::string OciContainerManager::bundle_dir(const std::string& id) const {
  return join_path(bundles_dir(), id);
}

std::vector<std::string> OciContainerManager::runtime_cmd(std::vector<std::string> args) const {
  std::vector<std::string> argv = runtime_argv_;
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<image::ImageRecord> OciContainerManager::ensure_image(const std::string& ref,
                                                             PullPolicy policy,
                                                             const image::PullOptions& pull) {
  auto found = store_->find(ref);
  if (!found.ok() && found.error().code() != ErrorCode::kNotFound) return std::move(found).error();
  if (found.ok() && policy != PullPolicy::kAlways) return found;
  if (policy == PullPolicy::kNever) {
    return Error(ErrorCode::kNotFound,
                 "image '" + ref + "' is not present and the pull policy is 'never'");
  }
  GANTRY_ASSIGN_OR_RETURN(image::Reference parsed, image::parse_reference(ref));
  image::Puller puller(store_);
  logger("agent")->info("pulling image ref={}", parsed.str());
  GANTRY_ASSIGN_OR_RETURN(image::PullResult pulled, puller.pull(parsed, pull));
  return pulled.record;
}

Result<image::ImageConfig> OciContainerManager::image_config(const image::ImageRecord& record) {
  return store_->config(record);
}

Result<PodNetwork> OciContainerManager::create_pod_network(const std::string& id,
                                                          const PodNetworkOptions& options) {
  return agent::create_pod_network(options_.root, id, options);
}

Status OciContainerManager::destroy_pod_network(const std::string& id) {
  return agent::destroy_pod_network(options_.root, id);
}

Result<std::string> OciContainerManager::create(const ContainerConfig& config) {
  // Everything that can be checked without the image first: bad input makes nothing.
  if (!config.name.empty()) GANTRY_TRY(check_container_name(config.name));
  if (!config.hostname.empty()) GANTRY_TRY(check_host_name(config.hostname));
  for (const auto& e : config.extra_hosts) {
    for (const auto& n : e.names) GANTRY_TRY(check_host_name(n));
  }
  for (const auto& v : config.run.volumes) {
    if (!path_exists(v.source)) {
      return Error(ErrorCode::kNotFound, "volume '" + v.source + ":" + v.destination +
                                             "': source '" + v.source + "' does not exist");
    }
  }
  if (config.network.mode == ContainerNetwork::Mode::kJoin &&
      !path_exists(config.network.netns_path)) {
    return Error(ErrorCode::kNotFound,
                 "network namespace '" + config.network.netns_path + "' does not exist");
  }

  // The lease keeps `image prune` out until container.json names the snapshots this container's
  // root is made of (snapshots_in_use()).
  GANTRY_ASSIGN_OR_RETURN(auto lease, store_->content().lease());
  GANTRY_ASSIGN_OR_RETURN(image::ImageRecord record,
                          ensure_image(config.image, config.pull_policy, config.pull));
  GANTRY_ASSIGN_OR_RETURN(image::ImageConfig image_config, store_->config(record));
  GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> lowers, store_->lower_dirs(record));
  auto passwd = image::read_image_file(lowers, "/etc/passwd");
  auto group = image::read_image_file(lowers, "/etc/group");

  // Reserve the id and the name together under the bundles lock.
  std::string id, dir;
  {
    GANTRY_ASSIGN_OR_RETURN(FileLock lock,
                            FileLock::take(join_path(bundles_dir(), ".lock")));
    if (!config.name.empty()) {
      GANTRY_ASSIGN_OR_RETURN(auto all, list());
      for (const auto& c : all) {
        if (c.name == config.name) {
          return Error(ErrorCode::kAlreadyExists, "container name '" + config.name +
                                                      "' is in use by container '" + c.id + "'");
        }
      }
    }
    for (int attempt = 0;; ++attempt) {
      id = random_hex(6);
      dir = bundle_dir(id);
      if (::mkdir(dir.c_str(), 0711) == 0) break;
      if (errno != EEXIST || attempt > 8) return sys_error("mkdir '" + dir + "'");
    }
    ContainerInfo info;
    info.id = id;
    info.name = config.name;
    auto st = write_scratch_file(join_path(dir, "container.json"),
                                 Json{{"id", id},
                                      {"name", config.name},
                                      {"snapshots", record.chain_ids},
                                      {"state", "creating"}}
                                     .dump(),
                                 0644);
    if (!st.ok()) {
      (void)remove_all(dir);
      return std::move(st).error();
    }
  }

  auto built = [&]() -> Status {
    std::string hostname = !config.hostname.empty() ? config.hostname
                           : !config.name.empty()   ? config.name
                                                    : id;
    image::ContainerRunOptions options = config.run;
    options.network = config.network.mode == ContainerNetwork::Mode::kHost
                          ? image::NetworkMode::kHost
                          : image::NetworkMode::kNone;
    options.hostname = hostname;
    image::RunRootfs rootfs{lowers, join_path(dir, "upper"), join_path(dir, "work"),
                            join_path(dir, "rootfs")};
    for (const auto& d : {rootfs.upper, rootfs.work, rootfs.rootfs}) GANTRY_TRY(make_dirs(d, 0755));
    GANTRY_ASSIGN_OR_RETURN(
        runtime::ContainerSpec spec,
        image::make_run_spec(runtime::default_container_spec(), image_config, options, rootfs,
                             passwd.ok() ? *passwd : "", group.ok() ? *group : ""));
    if (config.network.mode == ContainerNetwork::Mode::kJoin) {
      for (auto& ns : spec.namespaces) {
        if (ns.type == runtime::NamespaceType::kNetwork) ns.path = config.network.netns_path;
      }
    }
    spec.bundle = dir;

    // /etc/hosts, /etc/hostname, /etc/resolv.conf: plain bind mounts, which every OCI
    // runtime understands.
    std::string address = config.network.address;
    if (address.empty() && config.network.mode == ContainerNetwork::Mode::kJoin) {
      address = "127.0.0.1";
    }
    auto host_resolv = read_file("/etc/resolv.conf");
    std::string resolv = render_resolv_conf(host_resolv.ok() ? *host_resolv : "",
                                            config.network.mode == ContainerNetwork::Mode::kHost);
    // A bundle does not outlive a crash (its container does not), so none of its files is
    // synced: an fsync each was most of the time spent making a job's container.
    GANTRY_TRY(write_scratch_file(join_path(dir, "hosts"),
                                  render_hosts_file(hostname, address, config.extra_hosts), 0644));
    GANTRY_TRY(write_scratch_file(join_path(dir, "hostname"), hostname + "\n", 0644));
    GANTRY_TRY(write_scratch_file(join_path(dir, "resolv.conf"), resolv, 0644));
    for (const char* f : {"hosts", "hostname", "resolv.conf"}) {
      spec.mounts.push_back(runtime::Mount{std::string("/etc/") + f, "bind", join_path(dir, f),
                                           {"rbind", "nosuid", "nodev", "ro"}});
    }

    if (!gantry_runtime_ && spec.init_reaper) {
      // runc and crun ignore io.gantry.init: the static gantry executable goes in as the
      // container's init instead, as `docker run --init` puts tini in.
      if (!init_executable_.empty()) {
        spec.mounts.push_back(runtime::Mount{std::string(kInitPath), "bind", init_executable_,
                                             {"rbind", "nosuid", "nodev", "ro"}});
        spec.process.args.insert(spec.process.args.begin(), {std::string(kInitPath), "--"});
      }
      spec.init_reaper = false;
    }
    if (!gantry_runtime_) {
      // runc and crun know nothing of Gantry's overlay annotations: mount the root here.
      GANTRY_ASSIGN_OR_RETURN(
          std::string data,
          runtime::overlay_options(spec.root.overlay_lower, spec.root.overlay_upper,
                                   spec.root.overlay_work,
                                   spec.root.overlay_volatile &&
                                       runtime::kernel_has_overlay_volatile()));
      if (::mount("overlay", rootfs.rootfs.c_str(), "overlay", 0, data.c_str()) != 0) {
        return sys_error("mount overlay at '" + rootfs.rootfs + "'");
      }
      spec.root.overlay_lower.clear();
      spec.root.overlay_upper.clear();
      spec.root.overlay_work.clear();
    }
    GANTRY_TRY(write_scratch_file(join_path(dir, "config.json"),
                                  runtime::to_oci_config(spec).dump(2), 0644));
    Json labels = Json::object();
    for (const auto& [k, v] : config.labels) labels[k] = v;
    Json info{{"id", id},
              {"name", config.name},
              {"image", config.image},
              {"image_digest", record.digest},
              {"snapshots", record.chain_ids},
              {"command", spec.process.args},
              {"labels", labels},
              {"created", rfc3339_now(TimePrecision::kNanosTrimmed)},
              {"host_overlay", !gantry_runtime_},
              {"state", "created"}};
    return write_scratch_file(join_path(dir, "container.json"), info.dump(2), 0644);
  }();
  if (!built.ok()) {
    (void)::umount2(join_path(dir, "rootfs").c_str(), MNT_DETACH);
    (void)remove_all(dir);
    return std::move(built).error().with_context("create container from '" + config.image + "'");
  }
  logger("agent")->info("container created id={} image={}", id, config.image);
  return id;
}

Result<std::set<std::string>> OciContainerManager::snapshots_in_use(const std::string& root) {
  std::set<std::string> used;
  std::string bundles = join_path(root, "bundles");
  if (!path_exists(bundles)) return used;
  GANTRY_ASSIGN_OR_RETURN(auto names, list_dir(bundles));
  for (const auto& n : names) {
    if (n.starts_with(".")) continue;  // .lock, or a removed bundle on its way out
    std::string file = join_path(join_path(bundles, n), "container.json");
    if (!path_exists(file)) continue;  // a bundle whose removal was interrupted
    GANTRY_ASSIGN_OR_RETURN(Json j, read_json_file(file));
    if (!j.contains("snapshots") || !j["snapshots"].is_array()) {
      return Error(ErrorCode::kFailedPrecondition,
                   "'" + file + "' does not say which image layers the container uses; "
                   "remove the container first");
    }
    for (const auto& c : j["snapshots"]) used.insert(c.get<std::string>());
  }
  return used;
}

Result<ContainerInfo> OciContainerManager::load_info(const std::string& id) const {
  std::string dir = bundle_dir(id);
  GANTRY_ASSIGN_OR_RETURN(Json j, read_json_file(join_path(dir, "container.json")));
  ContainerInfo info;
  info.id = j.value("id", id);
  info.name = j.value("name", "");
  info.image = j.value("image", "");
  info.image_digest = j.value("image_digest", "");
  if (j.contains("command") && j["command"].is_array()) {
    for (const auto& a : j["command"]) info.command.push_back(a.get<std::string>());
  }
  if (j.contains("labels") && j["labels"].is_object()) {
    for (const auto& [k, v] : j["labels"].items()) info.labels[k] = v.get<std::string>();
  }
  info.created = j.value("created", "");
  info.bundle = dir;
  std::string state = j.value("state", "created");
  auto exit = read_json_file(join_path(dir, "exit.json"));
  if (exit.ok()) {
    info.status = "exited";
    info.exit = exit_from_json(*exit);
  } else if (state == "creating") {
    info.status = "creating";
  } else if (path_exists(runtime::paths::state_file(
                 runtime::paths::container_dir(runtime_root_, id)))) {
    info.status = "running";
  } else {
    info.status = "created";
  }
  return info;
}

Result<std::vector<ContainerInfo>> OciContainerManager::list() {
  std::string dir = bundles_dir();
  GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> names, list_dir(dir));
  std::vector<ContainerInfo> out;
  for (const auto& n : names) {
    if (n.empty() || n[0] == '.') continue;
    auto info = load_info(n);
    if (info.ok()) out.push_back(std::move(*info));  // a bundle being removed: skip it
  }
  std::sort(out.begin(), out.end(), [](const ContainerInfo& a, const ContainerInfo& b) {
    return a.created != b.created ? a.created < b.created : a.id < b.id;
  });
  return out;
}

Result<std::string> OciContainerManager::resolve(const std::string& id_or_name) {
  if (id_or_name.empty()) return Error(ErrorCode::kInvalidArgument, "empty container id");
  if (is_hex_id(id_or_name) && is_directory(bundle_dir(id_or_name))) return id_or_name;
  GANTRY_ASSIGN_OR_RETURN(auto all, list());
  for (const auto& c : all) {
    if (c.name == id_or_name) return c.id;
  }
  std::vector<std::string> matches;
  for (const auto& c : all) {
    if (c.id.starts_with(id_or_name)) matches.push_back(c.id);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.size() > 1) {
    return Error(ErrorCode::kInvalidArgument,
                 "container '" + id_or_name + "' is ambiguous: " +
                     std::to_string(matches.size()) + " containers have this id prefix");
  }
  return Error(ErrorCode::kNotFound, "no such container '" + id_or_name + "'");
}

Result<ContainerInfo> OciContainerManager::inspect(const std::string& id_or_name) {
  GANTRY_ASSIGN_OR_RETURN(std::string id, resolve(id_or_name));
  return load_info(id);
}

Result<ChildProcess> OciContainerManager::spawn_run(const std::string& id, const ContainerIo& io) {
  GANTRY_ASSIGN_OR_RETURN(ContainerInfo info, load_info(id));
  if (info.status != "created") {
    return Error(ErrorCode::kFailedPrecondition,
                 "container '" + id + "' is " + info.status + "; only a created container runs");
  }
  std::string dir = bundle_dir(id);
  std::vector<std::string> args = {"run", "--bundle", dir};
  if (gantry_runtime_) {
    (void)::unlink(join_path(dir, "stats.json").c_str());
    args.insert(args.end(), {"--stats-file", join_path(dir, "stats.json")});
  }
  args.push_back(id);
  ChildStdio stdio{io.stdin_fd, io.output_fd, io.error_fd >= 0 ? io.error_fd : io.output_fd};
  auto child = ChildProcess::spawn(runtime_cmd(args), stdio);
  if (!child.ok()) return std::move(child).error().with_context("run container '" + id + "'");
  logger("agent")->info("container starting id={} runtime_pid={}", id, child->pid());
  return child;
}

ContainerExit OciContainerManager::supervise(
    const std::string& id, ChildProcess& child, std::optional<Clock::time_point> deadline,
    std::stop_token stop, const std::function<std::chrono::milliseconds()>& grace_of) {
  ContainerExit how;
  auto w = child.wait(deadline, stop);
  if (w == ChildProcess::WaitResult::kExited) return how;
  how.timed_out = w == ChildProcess::WaitResult::kDeadline;
  how.canceled = w == ChildProcess::WaitResult::kStopped;
  auto log = logger("agent");
  log->info("stopping container id={} reason={}", id, how.timed_out ? "timeout" : "cancel");
  auto quiet = [&](std::vector<std::string> args) {
    auto r = run_runtime(runtime_cmd(std::move(args)));
    if (r.ok() && r->exit_code != 0) log->debug("runtime said: {}", r->out);
  };
  std::chrono::milliseconds grace = grace_of();
  if (grace.count() > 0) {
    quiet({"kill", id, "TERM"});
    if (child.wait(Clock::now() + grace) == ChildProcess::WaitResult::kExited) return how;
  }
  // A container stopped just after start() may not exist yet for `kill` (the runtime is still
  // creating it): send the kill again until the runtime process exits.
  auto give_up = Clock::now() + kKillGrace;
  for (std::chrono::milliseconds pause(20); Clock::now() < give_up;
       pause = std::min(pause * 2, std::chrono::milliseconds(1000))) {
    quiet({"kill", "--all", id, "KILL"});
    if (child.wait(std::min(give_up, Clock::now() + pause)) == ChildProcess::WaitResult::kExited) {
      return how;
    }
  }
  // The runtime did not notice its container died (or never made it): end it; delete --force
  // then cleans up whatever it left.
  log->warn("runtime process did not exit after SIGKILL of its container id={} pid={}", id,
            child.pid());
  (void)child.signal(SIGKILL);
  return how;
}

Status OciContainerManager::runtime_delete(const std::string& id) {
  if (!path_exists(runtime::paths::container_dir(runtime_root_, id))) return ok_status();
  GANTRY_ASSIGN_OR_RETURN(SubprocessResult r, run_runtime(runtime_cmd({"delete", "--force", id})));
  if (r.exit_code != 0 && path_exists(runtime::paths::container_dir(runtime_root_, id))) {
    std::string msg = r.out;
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return Error(ErrorCode::kIo, "delete container '" + id + "' from the OCI runtime: " + msg);
  }
  return ok_status();
}

Result<ContainerExit> OciContainerManager::finish(const std::string& id, ChildProcess& child,
                                                  ContainerExit how) {
  ChildExit ce = child.reap();
  ContainerExit out = how;
  out.exit_code = ce.exit_code;
  std::string dir = bundle_dir(id);
  Status ran = ok_status();
  if (gantry_runtime_) {
    auto stats = read_json_file(join_path(dir, "stats.json"));
    if (stats.ok()) {
      out.exit_code = stats->value("exit_code", ce.exit_code);
      out.oom_killed = stats->value("oom_killed", false);
    } else if (!how.timed_out && !how.canceled) {
      ran = Error(ErrorCode::kIo, "run container '" + id + "': the OCI runtime failed (exit code " +
                                      std::to_string(ce.exit_code) +
                                      ") before the container ran; its message is in the output");
    }
  }
  if (out.exit_code > 128 && out.exit_code < 128 + 65) out.signal = out.exit_code - 128;
  Status deleted = runtime_delete(id);
  GANTRY_TRY(write_scratch_file(join_path(dir, "exit.json"), exit_to_json(out).dump(), 0644));
  logger("agent")->info(
      "container exited id={} exit_code={} timed_out={} canceled={} oom_killed={}", id,
      out.exit_code, out.timed_out, out.canceled, out.oom_killed);
  GANTRY_TRY(ran);
  GANTRY_TRY(deleted);
  return out;
}

Result<ContainerExit> OciContainerManager::run(const std::string& id, const ContainerIo& io,
                                               std::optional<Clock::time_point> deadline,
                                               std::stop_token stop) {
  {
    std::lock_guard lock(mu_);
    if (running_.count(id)) {
      return Error(ErrorCode::kFailedPrecondition, "container '" + id + "' is running already");
    }
  }
  GANTRY_ASSIGN_OR_RETURN(ChildProcess child, spawn_run(id, io));
  ContainerExit how = supervise(id, child, deadline, stop,
                                [&] { return io.stop_grace.value_or(options_.stop_grace); });
  return finish(id, child, how);
}

Status OciContainerManager::start(const std::string& id, const ContainerIo& io) {
  std::lock_guard lock(mu_);
  if (running_.count(id)) {
    return Error(ErrorCode::kFailedPrecondition, "container '" + id + "' is running already");
  }
  GANTRY_ASSIGN_OR_RETURN(ChildProcess child, spawn_run(id, io));
  running_[id] = std::make_shared<Running>(std::move(child));
  return ok_status();
}

Result<ContainerExit> OciContainerManager::finish_started(const std::shared_ptr<Running>& r,
                                                          const std::string& id) {
  std::lock_guard lock(r->mu);
  if (!r->result) {
    ContainerExit how = supervise(id, r->child, std::nullopt, r->stop.get_token(),
                                  [&] { return std::chrono::milliseconds(r->grace_ms.load()); });
    r->result = finish(id, r->child, how);
    std::lock_guard table(mu_);
    running_.erase(id);
  }
  return *r->result;
}

std::shared_ptr<OciContainerManager::Running> OciContainerManager::find_running(
    const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = running_.find(id);
  return it != running_.end() ? it->second : nullptr;
}

Result<ContainerExit> OciContainerManager::wait(const std::string& id) {
  std::shared_ptr<Running> r = find_running(id);
  if (!r) {
    GANTRY_ASSIGN_OR_RETURN(ContainerInfo info, load_info(id));
    if (info.exit) return *info.exit;
    return Error(ErrorCode::kFailedPrecondition,
                 "container '" + id + "' was not started by this process");
  }
  return finish_started(r, id);
}

Result<ContainerExit> OciContainerManager::stop(const std::string& id,
                                                std::chrono::milliseconds grace) {
  std::shared_ptr<Running> r = find_running(id);
  if (!r) {
    GANTRY_ASSIGN_OR_RETURN(ContainerInfo info, load_info(id));
    if (info.exit) return *info.exit;
    if (info.status == "running") {
      // Started by another process (`gantry container run` elsewhere): stop it through the
      // runtime; that process sees the exit and records it.
      if (grace.count() > 0) (void)run_runtime(runtime_cmd({"kill", id, "TERM"}));
      GANTRY_ASSIGN_OR_RETURN(auto k, run_runtime(runtime_cmd({"kill", "--all", id, "KILL"})));
      if (k.exit_code != 0) {
        return Error(ErrorCode::kIo, "stop container '" + id + "': " + k.out);
      }
      return ContainerExit{128 + SIGKILL, SIGKILL, false, true, false};
    }
    return Error(ErrorCode::kFailedPrecondition, "container '" + id + "' is not running");
  }
  r->grace_ms.store(grace.count());
  r->stop.request_stop();
  return finish_started(r, id);
}

Status OciContainerManager::remove(const std::string& id_or_name) {
  auto resolved = resolve(id_or_name);
  if (!resolved.ok()) {
    // A full id that is gone already: removing it again is fine.
    if (resolved.error().code() == ErrorCode::kNotFound && is_hex_id(id_or_name)) {
      return runtime_delete(id_or_name);
    }
    return std::move(resolved).error();
  }
  const std::string& id = *resolved;
  bool started_here;
  {
    std::lock_guard lock(mu_);
    started_here = running_.count(id) > 0;
  }
  if (started_here) (void)stop(id, std::chrono::milliseconds(0));
  GANTRY_TRY(runtime_delete(id));
  std::string dir = bundle_dir(id);
  std::string rootfs = join_path(dir, "rootfs");
  if (::umount2(rootfs.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return sys_error("remove container '" + id + "': unmount '" + rootfs + "'");
  }
  // The bundle gives up its name at once (the id is free, list() no longer sees it); its files
  // are deleted on the remover's thread, off the caller's time.
  std::string removing = join_path(bundles_dir(), std::string(kRemovingPrefix) + id);
  if (::rename(dir.c_str(), removing.c_str()) == 0) {
    remover_.remove(removing);
  } else if (errno != ENOENT) {
    if (auto st = remove_all(dir); !st.ok()) {
      return std::move(st).error().with_context("remove container '" + id + "'");
    }
  }
  logger("agent")->info("container removed id={}", id);
  return ok_status();
}

}  // namespace gantry::agent
