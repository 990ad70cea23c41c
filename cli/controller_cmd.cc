// `gantry controller`: runs the controller (HTTP API, scheduler, SQLite store) until SIGTERM or
// SIGINT, then shuts down gracefully (held long-polls answered, in-flight requests finished).
// On the first start it creates the admin and agent registration tokens, prints them once and
// keeps them, readable by root only, in DATA/admin.token and DATA/registration.token.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "cli/command.h"
#include "common/fd_limit.h"
#include "common/file.h"
#include "common/logging.h"
#include "controller/daemon.h"

namespace gantry::cli {

namespace {

struct ControllerCliOptions {
  std::string listen = "127.0.0.1:8080";
  std::string data;
  int lease_seconds = 60;
  int heartbeat_seconds = 10;
  uint64_t max_log_bytes = 64ull << 20;
  uint64_t max_artifact_bytes = 512ull << 20;
  int threads = 2;
  int64_t job_timeout_seconds = 3600;
  int64_t job_timeout_grace_seconds = 600;
};

int run_controller(const ControllerCliOptions& o, const CommandContext& ctx) {
  auto listen = controller::parse_listen_address(o.listen);
  if (!listen.ok()) return report_error(listen.error());
  if (o.lease_seconds < 1 || o.heartbeat_seconds < 1 || o.heartbeat_seconds >= o.lease_seconds) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "--heartbeat-seconds must be at least 1 and below --lease-seconds"));
  }
  controller::DaemonOptions d;
  d.address = listen->first;
  d.port = listen->second;
  d.threads = o.threads;
  d.controller.data_dir = o.data.empty() ? join_path(ctx.global.root, "controller") : o.data;
  d.controller.lease = std::chrono::seconds(o.lease_seconds);
  d.controller.heartbeat = std::chrono::seconds(o.heartbeat_seconds);
  d.controller.max_log_bytes = o.max_log_bytes;
  d.controller.max_artifact_bytes = o.max_artifact_bytes;
  d.controller.default_job_timeout = std::chrono::seconds(o.job_timeout_seconds);
  d.controller.job_timeout_grace = std::chrono::seconds(o.job_timeout_grace_seconds);

  // Signals are taken by this thread alone (sigwait below); every thread started from here
  // inherits the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  // One connection per idle agent (its long-poll) and per log follower: a service's default
  // soft limit of 1024 fds would cap the controller at about a thousand agents.
  if (auto limit = raise_open_files_limit(); !limit.ok()) {
    logger("api")->warn("open files limit not raised error={}", limit.error().message());
  } else {
    logger("api")->debug("open files limit soft={} hard={}", limit->soft, limit->hard);
  }

  auto daemon = controller::Daemon::start(d);
  if (!daemon.ok()) return report_error(daemon.error().with_context("controller"));
  if (const auto& tokens = (*daemon)->controller().bootstrap_tokens()) {
    std::printf("admin token: %s\n", tokens->admin.c_str());
    std::printf("agent registration token: %s\n", tokens->registration.c_str());
    std::printf("(shown once; kept in %s/admin.token and %s/registration.token)\n",
                d.controller.data_dir.c_str(), d.controller.data_dir.c_str());
  }
  std::printf("controller listening on %s\n", (*daemon)->url().c_str());
  std::printf("dashboard: %s/ (sign in with the admin token)\n", (*daemon)->url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "gantry: controller stopping (%s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*daemon)->stop();
  return 0;
}

}  // namespace

void setup_controller_command(CLI::App& command, CommandContext& ctx) {
  auto opts = std::make_shared<ControllerCliOptions>();
  command.add_option("--listen", opts->listen, "ADDR:PORT to serve the API on (port 0: any)")
      ->capture_default_str();
  command.add_option("--data", opts->data,
                     "Data dir: database, logs, artifacts, mirrors, tokens "
                     "(default: <root>/controller)");
  command.add_option("--lease-seconds", opts->lease_seconds,
                     "A leased job fails as agent_lost when no heartbeat comes for this long")
      ->capture_default_str();
  command.add_option("--heartbeat-seconds", opts->heartbeat_seconds,
                     "How often agents are told to send heartbeats")
      ->capture_default_str();
  command.add_option("--max-log-bytes", opts->max_log_bytes,
                     "Log size cap: the head and the tail are kept (0: no cap)")
      ->capture_default_str();
  command.add_option("--max-artifact-bytes", opts->max_artifact_bytes,
                     "Largest artifacts archive accepted from an agent")
      ->capture_default_str();
  command.add_option("--job-timeout-seconds", opts->job_timeout_seconds,
                     "Timeout of a job that sets none (its `timeout:` wins)")
      ->check(CLI::Range(int64_t{1}, int64_t{30} * 24 * 3600))
      ->capture_default_str();
  command.add_option("--job-timeout-grace-seconds", opts->job_timeout_grace_seconds,
                     "A running job is failed (job_execution_timeout) this long after its "
                     "timeout when its agent has not reported it")
      ->check(CLI::Range(int64_t{0}, int64_t{24} * 3600))
      ->capture_default_str();
  command.add_option("--threads", opts->threads, "HTTP server threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  command.callback([opts, &ctx] { ctx.exit_code = run_controller(*opts, ctx); });
}

}  // namespace gantry::cli
