// `gantry agent`: runs this machine as an agent of a controller (agent/remote/agent_daemon.h):
// registers on first start with the controller's registration token and keeps the agent token
// it gets in `<state dir>/agent.json` (root only), resumes with it later, then polls for jobs
// and runs them until SIGTERM/SIGINT (stop taking jobs, let running ones finish within
// --grace; a second signal stops them at once). `gantry agent ls` lists the controller's agents.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "agent/container_manager.h"
#include "agent/job_executor.h"
#include "agent/remote/agent_daemon.h"
#include "agent/remote/agent_identity.h"
#include "agent/remote/api_transport.h"
#include "agent/remote/controller_client.h"
#include "agent/remote/git_checkout.h"
#include "agent/remote/http_artifact_store.h"
#include "cli/command.h"
#include "common/file.h"
#include "common/logging.h"

namespace gantry::cli {

namespace {

struct AgentOptions {
  std::string controller;
  std::string token;
  std::string name;
  std::vector<std::string> labels;
  int concurrency = 1;
  std::string oci_runtime;
  std::string network = "bridge";
  std::string bridge, subnet;  // --network bridge: which bridge network
  std::string state_dir;
  std::string default_image;
  int grace_seconds = 300;
  int poll_wait_seconds = 10;
  int services_timeout = 30;
};

// Signals reach a pipe (async-signal-safe); a thread turns them into daemon calls.
int g_signal_pipe[2] = {-1, -1};

void on_signal(int) {
  int saved = errno;
  char b = 's';
  (void)!::write(g_signal_pipe[1], &b, 1);
  errno = saved;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

Result<agent::AgentIdentity> register_or_resume(const AgentOptions& o, const std::string& state_dir,
                                                std::stop_token stop) {
  std::string path = agent::identity_path(state_dir);
  GANTRY_ASSIGN_OR_RETURN(auto stored, agent::load_identity(path));
  std::string controller = o.controller.empty() ? env_or("GANTRY_CONTROLLER", "") : o.controller;
  while (!controller.empty() && controller.back() == '/') controller.pop_back();
  if (stored) {
    if (!controller.empty() && controller != stored->controller) {
      return Error(ErrorCode::kFailedPrecondition,
                   "'" + path + "' belongs to controller '" + stored->controller + "', not '" +
                       controller + "': use another --state-dir, or delete it to register again");
    }
    GANTRY_ASSIGN_OR_RETURN(auto transport,
                            agent::HttpApiTransport::create(stored->controller, stored->token));
    agent::ControllerClient client(*transport);
    auto me = agent::retry_transient<Json>([&] { return client.me(); }, stop);
    if (!me.ok()) {
      if (me.error().code() == ErrorCode::kUnauthenticated) {
        return Error(ErrorCode::kUnauthenticated,
                     "controller '" + stored->controller + "' refused the agent token in '" + path +
                         "': delete that file and start again with the registration token");
      }
      return me.error();
    }
    if (!o.labels.empty() || !o.name.empty()) {
      GANTRY_TRY(client.update_me(o.name, o.labels));
    }
    logger("agent")->info("resumed agent id={} controller={}", stored->id, stored->controller);
    return *stored;
  }
  if (controller.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "no controller: pass --controller URL or set GANTRY_CONTROLLER");
  }
  std::string reg = o.token.empty() ? env_or("GANTRY_REGISTRATION_TOKEN", "") : o.token;
  if (reg.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "first start: pass --token with the controller's registration token (its data "
                 "dir's 'registration.token')");
  }
  GANTRY_ASSIGN_OR_RETURN(auto transport, agent::HttpApiTransport::create(controller, reg));
  auto registered = agent::retry_transient<agent::Registration>(
      [&] { return agent::register_agent(*transport, o.name, o.labels); }, stop);
  if (!registered.ok()) return registered.error();
  agent::AgentIdentity id{registered->id, registered->token, controller,
                          registered->name.empty() ? o.name : registered->name};
  GANTRY_TRY(agent::save_identity(path, id));
  logger("agent")->info("registered agent id={} name={} token_file={}", id.id, id.name, path);
  return id;
}

int run_agent(const AgentOptions& o, const CommandContext& ctx) {
  std::string state_dir = o.state_dir.empty() ? join_path(ctx.global.root, "agent") : o.state_dir;
  if (o.concurrency < 1) {
    return report_error(Error(ErrorCode::kInvalidArgument, "--concurrency must be at least 1"));
  }
  auto network = agent::parse_network_mode(o.network);
  if (!network.ok()) return report_error(network.error().with_context("--network"));
  agent::BridgeConfig bridge = agent::bridge_config_for(o.bridge, o.subnet);
  if (*network == agent::NetworkMode::kBridge) {
    if (auto st = agent::check_bridge_config(bridge); !st.ok()) {
      return report_error(st.error().with_context("--bridge/--subnet"));
    }
  } else if (!o.bridge.empty() || !o.subnet.empty()) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "--bridge and --subnet need --network bridge"));
  }

  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) return report_error(sys_error("pipe"));
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  // Registration retries while the controller is down; a signal then ends the wait.
  std::stop_source startup;
  std::atomic<agent::AgentDaemon*> daemon_ptr{nullptr};
  std::jthread watcher([&] {
    int signals = 0;
    char b;
    while (::read(g_signal_pipe[0], &b, 1) == 1) {
      if (b == 'q') return;
      ++signals;
      startup.request_stop();
      if (auto* d = daemon_ptr.load()) {
        if (signals == 1) {
          logger("agent")->info("signal received: no new jobs, running ones get the grace period");
          d->shutdown();
        } else {
          logger("agent")->info("second signal: stopping running jobs");
          d->cancel_running();
        }
      }
    }
  });
  auto quit_watcher = [&] {
    char q = 'q';
    (void)!::write(g_signal_pipe[1], &q, 1);
    watcher.join();
  };

  auto identity = register_or_resume(o, state_dir, startup.get_token());
  if (!identity.ok()) {
    quit_watcher();
    return report_error(identity.error());
  }
  auto transport = agent::HttpApiTransport::create(identity->controller, identity->token);
  agent::ManagerOptions mopts;
  mopts.root = ctx.global.root;
  mopts.oci_runtime = o.oci_runtime;
  auto containers = agent::ContainerManager::open(mopts);
  if (!transport.ok() || !containers.ok()) {
    quit_watcher();
    return report_error(!transport.ok() ? transport.error() : containers.error());
  }
  agent::ControllerClient client(**transport);
  agent::ContainerJobExecutorOptions xo;
  xo.service_wait_timeout_seconds = std::max(0, o.services_timeout);
  auto executor = agent::make_container_job_executor(xo);
  agent::GitCheckout checkout(join_path(state_dir, "mirrors"));
  agent::AgentDaemonOptions dopts;
  dopts.state_dir = state_dir;
  dopts.concurrency = o.concurrency;
  dopts.poll_wait = std::chrono::seconds(std::clamp(o.poll_wait_seconds, 1, 30));
  dopts.grace = std::chrono::seconds(std::max(0, o.grace_seconds));
  dopts.network = *network;
  dopts.bridge = bridge;
  dopts.default_image = o.default_image;
  agent::AgentDaemon daemon(dopts, client, *executor, containers->get(), checkout);
  daemon_ptr = &daemon;
  if (startup.stop_requested()) daemon.shutdown();
  Status st = daemon.run();
  daemon_ptr = nullptr;
  quit_watcher();
  return st.ok() ? 0 : report_error(st.error());
}

}  // namespace

void add_agent_ls_command(CLI::App& agent_command, CommandContext& ctx);

void setup_agent_command(CLI::App& command, CommandContext& ctx) {
  auto o = std::make_shared<AgentOptions>();
  command.add_option("--controller", o->controller,
                     "Controller URL (default: $GANTRY_CONTROLLER, then the one registered with)");
  command.add_option("--token", o->token,
                     "The controller's registration token, needed on the first start only");
  command.add_option("--name", o->name, "Agent name shown by the controller");
  command.add_option("--labels", o->labels, "Labels, comma-separated: jobs whose tags are all "
                                            "among them may run here")
      ->delimiter(',');
  command.add_option("--concurrency", o->concurrency, "Jobs run at once")->capture_default_str();
  command.add_option(
      "--oci-runtime", o->oci_runtime,
      "OCI runtime for job containers: crun, runc or a path (default: gantry's own)");
  command.add_option("--network", o->network, "Job network: bridge, none or host")
      ->capture_default_str();
  command.add_option("--bridge", o->bridge, "--network bridge: the bridge (default gantry0)");
  command.add_option("--subnet", o->subnet,
                     "--network bridge: the bridge's subnet (default 10.89.0.0/16)");
  command.add_option("--state-dir", o->state_dir,
                     "Agent state: token, git mirrors, job dirs, caches (default: <root>/agent)");
  command.add_option("--default-image", o->default_image, "Image for jobs that name none");
  command.add_option("--grace", o->grace_seconds,
                     "Seconds running jobs get to finish after SIGTERM before they are stopped")
      ->capture_default_str();
  command.add_option("--poll-wait", o->poll_wait_seconds,
                     "Seconds one job request waits at the controller (1-30)")
      ->capture_default_str();
  command.add_option("--wait-for-services-timeout", o->services_timeout,
                     "Seconds a job's services get to open their exposed ports before its script "
                     "starts (GitLab's wait_for_services_timeout)")
      ->capture_default_str();
  add_agent_ls_command(command, ctx);
  command.callback([o, &ctx, &command] {
    if (command.got_subcommand("ls")) return;
    ctx.exit_code = run_agent(*o, ctx);
  });
}

}  // namespace gantry::cli
