// `gantry container run|ls|rm`: containers from images, as `docker run/ps/rm` (the agent's
// ContainerManager does the work). `run` pulls as needed, runs with the terminal's stdout and
// stderr, turns SIGINT/SIGTERM into a stop (SIGTERM, --stop-timeout, SIGKILL of the cgroup),
// and exits with the container's code: 128+N for a signal, 124 on --timeout, 125 when Gantry
// itself failed (bad option, image missing, runtime error), as Docker does.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "agent/container_manager.h"
#include "agent/network.h"
#include "cli/command.h"
#include "common/json.h"
#include "common/text_table.h"
#include "runtime/image/auth.h"
#include "runtime/image/reference.h"

namespace gantry::cli {

namespace image = runtime::image;

namespace {

constexpr int kGantryFailed = 125;  // docker run's code for the daemon's own errors
constexpr int kTimedOut = 124;      // timeout(1)'s

Result<std::unique_ptr<agent::ContainerManager>> open_manager(const CommandContext& ctx,
                                                              const std::string& oci_runtime,
                                                              int stop_timeout) {
  agent::ManagerOptions o;
  o.root = ctx.global.root;
  o.oci_runtime = oci_runtime;
  o.stop_grace = std::chrono::seconds(stop_timeout);
  return agent::ContainerManager::open(std::move(o));
}

// Turns the first SIGINT/SIGTERM into a stop request while it lives. The signals are blocked
// in every thread (the runtime process gets a clean mask) and taken by sigwait here.
class StopOnSignal {
 public:
  StopOnSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR2);  // ours: time to go
    ::pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] {
      for (;;) {
        int sig = 0;
        if (::sigwait(&set_, &sig) != 0) continue;
        if (sig == SIGUSR2) return;
        if (!stop_.stop_requested()) {
          std::fprintf(stderr, "gantry: %s: stopping the container\n", ::strsignal(sig));
          stop_.request_stop();
        }
      }
    });
  }
  ~StopOnSignal() {
    ::pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
    // A SIGUSR2 that raced in stays pending and blocked; take it before unblocking.
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    timespec zero{0, 0};
    while (::sigtimedwait(&usr2, nullptr, &zero) > 0) {
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  std::stop_token token() const { return stop_.get_token(); }

 private:
  sigset_t set_, old_;
  std::stop_source stop_;
  std::thread thread_;
};

struct RunArgs {
  bool rm = false;
  bool interactive = false;
  bool init = false;
  std::string name;
  std::string network = "none";
  std::string bridge, subnet;  // --network bridge: which bridge network
  std::vector<std::string> env;
  std::vector<std::string> volumes;
  std::vector<std::string> add_hosts;
  std::string memory, cpus;
  int64_t pids_limit = 0;
  int timeout = 0;
  int stop_timeout = 10;
  std::string user, workdir, hostname;
  std::optional<std::string> entrypoint;
  std::string pull = "missing";
  bool insecure = false;
  std::string ca;
  std::string oci_runtime;
  std::vector<std::string> labels;
};

// Flags → ContainerConfig; every error names the flag and the value.
Result<agent::ContainerConfig> make_config(const RunArgs& a, const std::vector<std::string>& rest) {
  if (rest.empty()) return Error(ErrorCode::kInvalidArgument, "container run: missing IMAGE");
  agent::ContainerConfig c;
  c.image = rest[0];
  c.run.cmd.assign(rest.begin() + 1, rest.end());
  GANTRY_ASSIGN_OR_RETURN(c.pull_policy, agent::parse_pull_policy(a.pull));
  c.pull.registry.insecure = a.insecure;
  c.pull.registry.ca_file = a.ca;
  if (a.entrypoint) {
    // Docker's --entrypoint is one program; "" clears the image's entrypoint.
    c.run.entrypoint = a.entrypoint->empty() ? std::vector<std::string>{}
                                             : std::vector<std::string>{*a.entrypoint};
  }
  c.run.env = a.env;
  c.run.init = a.init;
  c.run.user = a.user;
  c.run.working_dir = a.workdir;
  for (const auto& v : a.volumes) {
    GANTRY_ASSIGN_OR_RETURN(image::Volume vol, image::parse_volume(v));
    c.run.volumes.push_back(std::move(vol));
  }
  if (!a.memory.empty()) {
    GANTRY_ASSIGN_OR_RETURN(c.run.memory_bytes, image::parse_memory_size(a.memory));
  }
  if (!a.cpus.empty()) {
    GANTRY_ASSIGN_OR_RETURN(c.run.cpus, image::parse_cpus(a.cpus));
  }
  if (a.pids_limit != 0) c.run.pids_limit = a.pids_limit;
  if (a.network == "none") {
    c.network.mode = agent::ContainerNetwork::Mode::kNone;
  } else if (a.network == "host") {
    c.network.mode = agent::ContainerNetwork::Mode::kHost;
  } else if (a.network.starts_with("ns:")) {
    c.network.mode = agent::ContainerNetwork::Mode::kJoin;
    c.network.netns_path = a.network.substr(3);
  } else if (a.network == "bridge") {
    // run_container makes the pod network and fills in the path and address.
    c.network.mode = agent::ContainerNetwork::Mode::kJoin;
    GANTRY_TRY(agent::check_bridge_config(agent::bridge_config_for(a.bridge, a.subnet)));
  } else {
    return Error(ErrorCode::kInvalidArgument,
                 "--network '" + a.network + "': want 'none', 'host', 'bridge' or 'ns:PATH'");
  }
  if ((!a.bridge.empty() || !a.subnet.empty()) && a.network != "bridge") {
    return Error(ErrorCode::kInvalidArgument, "--bridge and --subnet need --network bridge");
  }
  for (const auto& h : a.add_hosts) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == h.size()) {
      return Error(ErrorCode::kInvalidArgument, "--add-host '" + h + "': want NAME:ADDRESS");
    }
    c.extra_hosts.push_back({h.substr(colon + 1), {h.substr(0, colon)}});
  }
  for (const auto& l : a.labels) {
    auto eq = l.find('=');
    c.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  c.name = a.name;
  c.hostname = a.hostname;
  if (a.timeout < 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "--timeout '" + std::to_string(a.timeout) + "': must be positive");
  }
  if (a.stop_timeout < 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "--stop-timeout '" + std::to_string(a.stop_timeout) + "': must be positive");
  }
  GANTRY_ASSIGN_OR_RETURN(image::Reference ref, image::parse_reference(c.image));
  GANTRY_ASSIGN_OR_RETURN(c.pull.registry.credentials,
                          image::load_docker_credentials(image::default_docker_config_path(),
                                                         ref.domain));
  c.pull.progress = [](const image::PullEvent& e) {
    using K = image::PullEvent::Kind;
    if (e.kind == K::kResolved) std::fprintf(stderr, "pulling manifest %s\n", e.text.c_str());
    if (e.kind == K::kLayerDone) std::fprintf(stderr, "downloaded %s\n", e.digest.c_str());
    if (e.kind == K::kUnpacking) std::fprintf(stderr, "unpacking layers\n");
  };
  return c;
}

int run_container(const CommandContext& ctx, const RunArgs& a,
                  const std::vector<std::string>& rest) {
  auto config = make_config(a, rest);
  if (!config.ok()) {
    report_error(config.error());
    return kGantryFailed;
  }
  auto manager = open_manager(ctx, a.oci_runtime, a.stop_timeout);
  if (!manager.ok()) {
    report_error(manager.error());
    return kGantryFailed;
  }
  auto& m = **manager;
  StopOnSignal signals;  // also covers the pull: Ctrl-C there ends the command cleanly
  // --network bridge: a pod network of this command's own, gone when the command ends.
  struct PodGuard {
    std::string root, id;
    ~PodGuard() {
      if (id.empty()) return;
      if (auto st = agent::destroy_pod_network(root, id); !st.ok()) report_error(st.error());
    }
  } pod_guard{ctx.global.root, ""};
  if (a.network == "bridge") {
    agent::PodNetworkOptions po;
    po.mode = agent::PodNetworkMode::kBridge;
    po.bridge = agent::bridge_config_for(a.bridge, a.subnet);
    // Named for this process: one left by an earlier process of the same pid is stale.
    std::string pod_id = "container-" + std::to_string(::getpid());
    (void)agent::destroy_pod_network(ctx.global.root, pod_id);
    auto pod = agent::create_pod_network(ctx.global.root, pod_id, po);
    if (!pod.ok()) {
      report_error(pod.error().with_context("container run: --network bridge"));
      return kGantryFailed;
    }
    pod_guard.id = pod_id;
    config->network = {agent::ContainerNetwork::Mode::kJoin, pod->netns_path, pod->address};
  }
  auto id = m.create(*config);
  if (!id.ok()) {
    report_error(id.error());
    return kGantryFailed;
  }
  agent::ContainerIo io;
  io.stdin_fd = a.interactive ? STDIN_FILENO : -1;
  io.output_fd = STDOUT_FILENO;
  io.error_fd = STDERR_FILENO;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (a.timeout > 0) deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.timeout);
  int code;
  auto exit = m.run(*id, io, deadline, signals.token());
  if (!exit.ok()) {
    report_error(exit.error());
    code = kGantryFailed;
  } else {
    code = exit->exit_code;
    if (exit->oom_killed) {
      std::fprintf(stderr,
                   "gantry: container '%s' was killed by the OOM killer (memory limit %s)\n",
                   id->c_str(), a.memory.empty() ? "none" : a.memory.c_str());
    }
    if (exit->timed_out) {
      std::fprintf(stderr, "gantry: container '%s' timed out after %ds and was stopped\n",
                   id->c_str(), a.timeout);
      code = kTimedOut;
    }
  }
  if (a.rm) {
    if (auto st = m.remove(*id); !st.ok()) {
      report_error(st.error());
      if (code == 0) code = kGantryFailed;
    }
  }
  return code;
}

std::string ago(const std::string& rfc3339) {
  std::tm tm{};
  if (rfc3339.size() < 19 || !::strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return "?";
  time_t then = ::timegm(&tm);
  long s = static_cast<long>(::time(nullptr) - then);
  auto count = [](long n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s") + " ago";
  };
  if (s < 1) return "Less than a second ago";  // docker's words
  if (s < 60) return count(s, "second");
  if (s < 3600) return count(s / 60, "minute");
  if (s < 86400) return count(s / 3600, "hour");
  return count(s / 86400, "day");
}

std::string status_text(const agent::ContainerInfo& c) {
  if (c.status != "exited" || !c.exit) return c.status;
  std::string s = "exited (" + std::to_string(c.exit->exit_code) + ")";
  if (c.exit->timed_out) s += " timed out";
  if (c.exit->canceled) s += " stopped";
  if (c.exit->oom_killed) s += " oom-killed";
  return s;
}

Json info_json(const agent::ContainerInfo& c) {
  Json labels = Json::object();
  for (const auto& [k, v] : c.labels) labels[k] = v;
  Json j{{"id", c.id},          {"name", c.name},     {"image", c.image},
         {"image_digest", c.image_digest}, {"command", c.command}, {"labels", labels},
         {"created", c.created}, {"status", c.status}, {"bundle", c.bundle}};
  if (c.exit) {
    j["exit"] = {{"exit_code", c.exit->exit_code}, {"signal", c.exit->signal},
                 {"timed_out", c.exit->timed_out}, {"canceled", c.exit->canceled},
                 {"oom_killed", c.exit->oom_killed}};
  }
  return j;
}

std::string truncate(std::string s, size_t n) {
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

}  // namespace

void setup_container_command(CLI::App& command, CommandContext& ctx) {
  command.require_subcommand(1);

  auto a = std::make_shared<RunArgs>();
  CLI::App* run = command.add_subcommand("run", "Run a command in a new container from an image");
  run->prefix_command();  // IMAGE and everything after it are the image and its command
  run->add_flag("--rm", a->rm, "Remove the container when it exits (also on error or Ctrl-C)");
  run->add_flag("-i,--interactive", a->interactive, "Give the container this terminal's stdin");
  run->add_flag("--init", a->init,
                "Run a reaper as pid 1 that forwards signals to the command and reaps orphans "
                "(Gantry's runtime only)");
  run->add_option("--name", a->name, "Name the container (unique under --root)");
  run->add_option("--network", a->network,
                  "none (loopback only), host, bridge (own address on a bridge, NAT out), or "
                  "ns:PATH to join")
      ->capture_default_str();
  run->add_option("--bridge", a->bridge, "--network bridge: the bridge (default gantry0)");
  run->add_option("--subnet", a->subnet,
                  "--network bridge: the bridge's subnet (default 10.89.0.0/16)");
  run->add_option("-e,--env", a->env, "Set an environment variable (K=V; K alone sets it empty)")
      ->allow_extra_args(false);
  run->add_option("-v,--volume", a->volumes, "Bind mount SRC:DST[:ro|rw] (absolute paths)")
      ->allow_extra_args(false);
  run->add_option("--add-host", a->add_hosts, "Add NAME:ADDRESS to /etc/hosts")
      ->allow_extra_args(false);
  run->add_option("--hostname", a->hostname, "Container host name (default: name or id)");
  run->add_option("--memory", a->memory, "Memory limit (e.g. 512m, 1g)");
  run->add_option("--cpus", a->cpus, "CPU limit in CPUs (e.g. 1.5)");
  run->add_option("--pids-limit", a->pids_limit, "Maximum number of processes");
  run->add_option("--timeout", a->timeout, "Stop the container after S seconds (exit 124)");
  run->add_option("--stop-timeout", a->stop_timeout,
                  "Seconds between SIGTERM and SIGKILL when stopping")
      ->capture_default_str();
  run->add_option("-u,--user", a->user, "User: name|uid[:group|gid] (default: the image's)");
  run->add_option("-w,--workdir", a->workdir, "Working directory (default: the image's)");
  run->add_option("--entrypoint", a->entrypoint, "Replace the image's entrypoint (\"\" clears it)");
  run->add_option("--pull", a->pull, "Pull policy: missing, always or never")
      ->capture_default_str();
  run->add_flag("--insecure", a->insecure, "Allow plain http and unverified https to the registry");
  run->add_option("--ca", a->ca, "Extra CA certificate (PEM) to trust for the registry");
  run->add_option("-l,--label", a->labels, "Set a label K=V on the container")
      ->allow_extra_args(false);
  run->add_option("--oci-runtime", a->oci_runtime,
                  "OCI runtime to use: a path or name of runc/crun (default: gantry runtime)");
  run->callback([&ctx, a, run] { ctx.exit_code = run_container(ctx, *a, run->remaining()); });

  auto json = std::make_shared<bool>(false);
  CLI::App* ls = command.add_subcommand("ls", "List containers");
  ls->alias("ps");
  ls->add_flag("--json", *json, "Print a JSON array");
  ls->callback([&ctx, json] {
    auto m = open_manager(ctx, "", 10);
    if (!m.ok()) {
      ctx.exit_code = report_error(m.error());
      return;
    }
    auto all = (*m)->list();
    if (!all.ok()) {
      ctx.exit_code = report_error(all.error());
      return;
    }
    if (*json) {
      Json out = Json::array();
      for (const auto& c : *all) out.push_back(info_json(c));
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : *all) {
      std::string cmd;
      for (const auto& arg : c.command) cmd += (cmd.empty() ? "" : " ") + arg;
      rows.push_back({c.id, truncate(c.image, 28), truncate("\"" + cmd + "\"", 24), ago(c.created),
                      status_text(c), c.name});
    }
    std::fputs(format_table({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAME"},
                            rows, 3)
                   .c_str(),
               stdout);
  });

  struct RmArgs {
    std::vector<std::string> ids;
    bool force = false;
    std::string oci_runtime;
  };
  auto r = std::make_shared<RmArgs>();
  CLI::App* rm = command.add_subcommand("rm", "Remove containers (their bundle and state)");
  rm->add_option("ID", r->ids, "Container ids, unique id prefixes or names")->required();
  rm->add_flag("-f,--force", r->force, "Remove running containers too (killed first)");
  rm->add_option("--oci-runtime", r->oci_runtime,
                 "The OCI runtime the containers were run with (default: gantry runtime)");
  rm->callback([&ctx, r] {
    auto m = open_manager(ctx, r->oci_runtime, 10);
    if (!m.ok()) {
      ctx.exit_code = report_error(m.error());
      return;
    }
    for (const auto& id : r->ids) {
      Status st = [&]() -> Status {
        GANTRY_ASSIGN_OR_RETURN(agent::ContainerInfo info, (*m)->inspect(id));
        if (info.status == "running" && !r->force) {
          return Error(ErrorCode::kFailedPrecondition,
                       "container '" + info.id + "' is running: stop it first or use --force");
        }
        GANTRY_TRY((*m)->remove(info.id));
        std::printf("%s\n", info.id.c_str());
        return ok_status();
      }();
      if (!st.ok()) ctx.exit_code = report_error(st.error());
    }
  });
}

}  // namespace gantry::cli
