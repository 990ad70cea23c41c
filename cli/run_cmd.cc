// `gantry run [FILE]`: runs a pipeline on this machine. Plans it for the trigger the options
// describe (as `gantry plan`), then schedules its jobs as GitLab does (agent/scheduler.h) with up
// to --jobs at once, each in its own container through the JobExecutor. Output is live, one line
// per line of job output prefixed with the job's name; a summary table ends the run; logs and
// artifacts stay under <root>/runs/<n>/. Exit 0 iff the pipeline succeeded, 1 if it failed or is
// blocked by a manual job, 130 when canceled (SIGINT/SIGTERM; a second one also stops the
// canceled jobs' after_script), 2 for bad options.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stop_token>
#include <thread>

#include "agent/artifact_store.h"
#include "agent/container_manager.h"
#include "agent/executor_attempt_runner.h"
#include "agent/job_executor.h"
#include "agent/local_runner.h"
#include "agent/run_output.h"
#include "agent/scheduler.h"
#include "cli/command.h"
#include "cli/pipeline_options.h"
#include "common/file.h"
#include "common/subprocess.h"

namespace gantry::cli {

namespace {

struct RunOptions {
  std::shared_ptr<PipelineOptions> pipeline = std::make_shared<PipelineOptions>();
  std::vector<std::string> jobs;
  std::vector<std::string> secrets;
  std::string network = "bridge";
  std::string bridge, subnet;  // --network bridge: which bridge network
  unsigned parallelism = 0;
  std::string default_image;
  std::string oci_runtime;
  std::string color = "auto";
  std::int64_t services_timeout = 30;
  bool no_delay = false;
};

// SIGINT/SIGTERM → a byte on a pipe, read by a watcher thread. The handler only writes;
// everything else happens on the thread. The first signal cancels the pipeline (jobs stop, a
// canceled job's after_script still runs, up to 5 minutes); the second aborts those
// after_scripts at once; later ones are reported: cleanup is under way and must finish.
int g_signal_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &b, 1);
  errno = saved;
}

class SignalWatcher {
 public:
  SignalWatcher(std::stop_source& stop, std::stop_source& abort, agent::PrefixedOutput& out) {
    if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) return;
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    thread_ = std::thread([&stop, &abort, &out] {
      int count = 0;
      for (;;) {
        unsigned char b = 0;
        ssize_t n = ::read(g_signal_pipe[0], &b, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || b == 0) return;  // 0: the run is over
        std::string what = b == SIGINT ? "interrupt" : "terminate";
        if (count == 0) {
          out.message("gantry: " + what + ": canceling the pipeline, stopping every job");
          stop.request_stop();
        } else if (count == 1) {
          out.message("gantry: " + what + " again: stopping after_script, cleaning up");
          abort.request_stop();
        } else {
          out.message("gantry: still canceling: waiting for the jobs' containers to be removed");
        }
        ++count;
      }
    });
  }
  ~SignalWatcher() {
    if (!thread_.joinable()) return;
    unsigned char zero = 0;
    [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &zero, 1);
    thread_.join();
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::close(g_signal_pipe[0]);
    ::close(g_signal_pipe[1]);
    g_signal_pipe[0] = g_signal_pipe[1] = -1;
  }

 private:
  std::thread thread_;
  struct sigaction old_int_ = {}, old_term_ = {};
};

std::string absolute_path(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return path;
  return buf;
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The next run directory, <root>/runs/<n>, made atomically (mkdir fails if another run took n).
Result<std::pair<std::int64_t, std::string>> make_run_dir(const std::string& root) {
  std::string runs = join_path(root, "runs");
  GANTRY_TRY(make_dirs(runs));
  GANTRY_ASSIGN_OR_RETURN(auto entries, list_dir(runs));
  std::int64_t n = 0;
  for (const auto& e : entries) {
    char* end = nullptr;
    long long v = std::strtoll(e.c_str(), &end, 10);
    if (end && *end == '\0' && v > n) n = v;
  }
  for (;;) {
    ++n;
    std::string dir = join_path(runs, std::to_string(n));
    if (::mkdir(dir.c_str(), 0755) == 0) return std::make_pair(n, dir);
    if (errno != EEXIST) return sys_error("create run directory '" + dir + "'");
  }
}

// The current branch and commit of a git work tree, when the user gave neither.
void fill_from_git(const std::string& dir, PipelineOptions& o) {
  if (o.branch.empty() && o.tag.empty()) {
    auto r = run_subprocess({"git", "-C", dir, "symbolic-ref", "--quiet", "--short", "HEAD"});
    if (r.ok() && r->exit_code == 0 && !r->out.empty()) {
      o.branch = r->out.substr(0, r->out.find('\n'));
    }
  }
  if (o.sha.empty()) {
    auto r = run_subprocess({"git", "-C", dir, "rev-parse", "--verify", "--quiet", "HEAD"});
    if (r.ok() && r->exit_code == 0 && r->out.size() >= 40) o.sha = r->out.substr(0, 40);
  }
}

std::string display_status(const agent::ScheduledJob& j) {
  using agent::JobState;
  switch (j.state) {
    case JobState::kFailed: return j.allowed_failure ? "failed (allowed)" : "failed";
    case JobState::kCanceled: return j.attempts > 0 ? "canceled" : "canceled (not started)";
    case JobState::kCreated: return "not started";
    default: return std::string(agent::job_state_name(j.state));
  }
}

std::string outcome_note(const agent::AttemptOutcome& o) {
  std::string note = o.failure_reason;
  if (o.exit_code && *o.exit_code != 0) {
    note += (note.empty() ? "" : ", ") + std::string("exit code ") + std::to_string(*o.exit_code);
  }
  return note;
}

// Prints what happens as it happens; the job's own lines come through the log sink.
class ConsoleObserver : public agent::RunObserver {
 public:
  explicit ConsoleObserver(agent::PrefixedOutput& out) : out_(out) {}

  void job_started(const agent::ScheduledJob& j, int attempt) override {
    std::string line = "started";
    if (attempt > 1) {
      line += " (attempt " + std::to_string(attempt) + " of " +
              std::to_string(1 + (j.job->retry ? j.job->retry->max : 0)) + ")";
    }
    if (!j.note.empty() && attempt == 1 && j.job->when != schema::When::kDelayed) {
      line += ": " + j.note;
    }
    out_.note(j.job->name, line);
  }
  void job_finished(const agent::ScheduledJob& j, const agent::AttemptOutcome& o, bool retrying,
                    double seconds) override {
    std::string line;
    if (retrying) {
      line = "failed (" + outcome_note(o) + "), retrying";
    } else if (j.state == agent::JobState::kSuccess) {
      line = "succeeded";
    } else if (j.state == agent::JobState::kCanceled) {
      line = "canceled";
    } else {
      line = std::string(j.allowed_failure ? "failed, allowed to fail" : "failed") + " (" +
             outcome_note(o) + ")";
    }
    out_.note(j.job->name, line + " in " + agent::format_duration(seconds));
  }
  void job_not_run(const agent::ScheduledJob& j) override {
    std::string line = std::string(agent::job_state_name(j.state));
    if (!j.note.empty()) line += ": " + j.note;
    out_.note(j.job->name, line);
  }
  void job_scheduled(const agent::ScheduledJob& j, bool waits) override {
    std::string in = j.job->start_in.value_or("0 seconds");
    if (waits) {
      out_.note(j.job->name, "scheduled: when: delayed, starts in " + in +
                                 " (--no-delay starts delayed jobs at once)");
    } else {
      out_.note(j.job->name, "scheduled: when: delayed (start_in " + in +
                                 "), started at once (--no-delay)");
    }
  }
  void canceling() override {}

 private:
  agent::PrefixedOutput& out_;
};

int run_pipeline(RunOptions o, const GlobalOptions& global) {
  auto network = agent::parse_network_mode(o.network);
  if (!network.ok()) return report_error(network.error().with_context("run: --network"));
  agent::BridgeConfig bridge = agent::bridge_config_for(o.bridge, o.subnet);
  if (*network == agent::NetworkMode::kBridge) {
    if (auto st = agent::check_bridge_config(bridge); !st.ok()) {
      return report_error(st.error().with_context("run: --bridge/--subnet"));
    }
  } else if (!o.bridge.empty() || !o.subnet.empty()) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "run: --bridge and --subnet need --network bridge"));
  }
  if (o.services_timeout < 0) {
    return report_error(Error(ErrorCode::kInvalidArgument, "run: --wait-for-services-timeout " +
                                                               std::to_string(o.services_timeout) +
                                                               ": must be 0 or more seconds"));
  }
  if (o.color != "auto" && o.color != "always" && o.color != "never") {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "run: --color '" + o.color + "': expected auto, always or never"));
  }
  std::vector<std::string> masked;
  for (const auto& s : o.secrets) {
    auto kv = schema::parse_variable_assignment(s);
    if (!kv.ok()) return report_error(kv.error().with_context("run: --secret"));
    if (!kv->second.empty()) masked.push_back(kv->second);
    o.pipeline->vars.push_back(s);  // a trigger variable: visible to rules and every job
  }
  auto [dir, unused_file] = resolve_pipeline_paths(*o.pipeline);
  fill_from_git(dir, *o.pipeline);

  auto loaded = load_plan(*o.pipeline, "run");
  if (loaded.exit_code != 0) return loaded.exit_code;
  const schema::Plan& plan = loaded.plan;
  if (!plan.created) {
    std::fprintf(stderr, "gantry: run: no pipeline: %s\n", plan.stopped_reason.c_str());
    return 0;
  }

  std::optional<std::set<std::string>> selected;
  if (!o.jobs.empty()) {
    auto sel = agent::select_jobs(plan, o.jobs);
    if (!sel.ok()) return report_error(sel.error().with_context("run"));
    selected = *sel;
  }
  agent::Scheduler scheduler(plan, selected);

  std::vector<std::string> names;
  for (const auto& j : scheduler.jobs()) names.push_back(j.job->name);
  bool color = o.color == "always" ||
               (o.color == "auto" && ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr);
  agent::PrefixedOutput out(
      [](std::string_view s) {
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fflush(stdout);
      },
      names, color);

  // What gantry accepts but does not execute, said once per job before anything runs.
  for (const auto& sj : scheduler.jobs()) {
    const auto& j = *sj.job;
    for (const auto& k : j.skipped_keywords) {
      out.note(j.name, "warning: '" + k + "' is accepted but not executed by gantry");
    }
    if (j.is_trigger) {
      out.note(j.name, "warning: trigger job: the downstream pipeline is not run by gantry");
    }
    for (const auto& m : sj.missing_needs) {
      out.note(j.name, "warning: the artifacts of '" + m +
                           "' are missing: it is not part of this run (add --job '" + m + "')");
    }
  }

  auto run_dir = make_run_dir(global.root);
  if (!run_dir.ok()) return report_error(run_dir.error().with_context("run"));
  auto [run_number, run_path] = *run_dir;
  std::string artifacts_dir = join_path(run_path, "artifacts");
  if (auto st = make_dirs(artifacts_dir); !st.ok())
    return report_error(st.error().with_context("run"));

  agent::ManagerOptions mo;
  mo.root = global.root;
  mo.oci_runtime = o.oci_runtime;
  auto manager = agent::ContainerManager::open(mo);
  if (!manager.ok()) return report_error(manager.error().with_context("run"));

  std::string source_dir = absolute_path(loaded.project_dir);
  std::string project_name = basename_of(source_dir);
  agent::DirectoryArtifactStore artifacts(artifacts_dir);
  BackgroundRemover remover;  // jobs' workspaces, all gone before `gantry run` returns
  agent::JobEnvironment env;
  env.remover = &remover;
  env.source_dir = source_dir;
  env.artifacts = &artifacts;
  env.cache_dir = join_path(join_path(global.root, "cache"), agent::job_slug(project_name));
  env.work_dir = join_path(global.root, "builds");
  for (const auto* d : {&env.cache_dir, &env.work_dir}) {
    if (auto st = make_dirs(*d); !st.ok()) return report_error(st.error().with_context("run"));
  }
  std::stop_source abort;
  env.abort = abort.get_token();
  env.on_canceled_after_script = [&out](const schema::JobSpec& spec) {
    out.note(spec.job.name, "canceling: running after_script; press Ctrl-C again to stop it");
  };
  env.containers = manager->get();
  env.network = *network;
  env.bridge = bridge;

  agent::PipelineRunInfo info;
  info.pipeline_id = run_number;
  info.project_name = project_name;
  info.project_path = o.pipeline->project_path;
  info.commit_sha = loaded.trigger.sha;
  info.ref = loaded.trigger.ref();
  info.masked_values = masked;
  info.default_image = o.default_image;
  info.log_dir = run_path;

  agent::ContainerJobExecutorOptions xo;
  xo.service_wait_timeout_seconds = o.services_timeout;
  auto executor = agent::make_container_job_executor(xo);
  agent::ExecutorAttemptRunner attempts(*executor, env, info, out, names);
  ConsoleObserver observer(out);
  unsigned parallelism = o.parallelism;
  if (parallelism == 0) parallelism = std::max(1u, std::thread::hardware_concurrency());

  out.message("pipeline #" + std::to_string(run_number) + " for " +
              (loaded.trigger.is_tag() ? "tag '" : "branch '") + loaded.trigger.ref() + "': " +
              std::to_string(scheduler.jobs().size()) + " job(s), up to " +
              std::to_string(parallelism) + " at once");
  std::stop_source stop;
  agent::LocalRunner runner(scheduler, attempts, observer, parallelism);
  runner.set_start_delayed_at_once(o.no_delay);
  {
    SignalWatcher watcher(stop, abort, out);
    runner.run(stop.get_token());
  }

  std::vector<agent::SummaryRow> rows;
  for (size_t i = 0; i < scheduler.jobs().size(); ++i) {
    const auto& j = scheduler.jobs()[i];
    agent::SummaryRow row{j.job->name, j.job->stage, display_status(j), std::nullopt, ""};
    if (j.attempts > 0) {
      row.seconds = runner.durations()[i];
      if (j.last && j.state != agent::JobState::kSuccess) row.note = outcome_note(*j.last);
      if (j.attempts > 1) {
        row.note += (row.note.empty() ? "" : ", ") + std::to_string(j.attempts) + " attempts";
      }
    } else if (j.state == agent::JobState::kManual) {
      row.note = "run it with --job '" + j.job->name + "'";
    } else {
      row.note = j.note;
    }
    rows.push_back(std::move(row));
  }
  std::string table = agent::render_summary(rows);
  std::fwrite("\n", 1, 1, stdout);
  std::fwrite(table.data(), 1, table.size(), stdout);

  agent::PipelineStatus status = scheduler.status();
  std::string verdict = "pipeline " + std::string(agent::pipeline_status_name(status));
  if (status == agent::PipelineStatus::kSuccess && scheduler.has_warnings()) {
    verdict += " with warnings";
  }
  if (status == agent::PipelineStatus::kBlocked) {
    verdict += " by a manual job (run it with --job NAME)";
  }
  std::printf("\n%s; logs and artifacts in %s\n", verdict.c_str(), run_path.c_str());
  std::fflush(stdout);
  if (runner.canceled()) return 130;
  return status == agent::PipelineStatus::kSuccess || status == agent::PipelineStatus::kSkipped
             ? 0
             : 1;
}

}  // namespace

void setup_run_command(CLI::App& command, CommandContext& ctx) {
  auto opts = std::make_shared<RunOptions>();
  add_pipeline_options(command, opts->pipeline);
  command.add_option("--job", opts->jobs,
                     "Run only this job (a job's key runs all its instances; repeatable). Manual "
                     "jobs given here run; needs outside the selection are not run")
      ->allow_extra_args(false);
  command.add_option("--jobs,-j", opts->parallelism,
                     "Jobs run at once (default: the number of CPUs)");
  command.add_option("--secret", opts->secrets,
                     "A masked variable KEY=VALUE: given to every job, its value replaced by "
                     "[MASKED] in all output (repeatable)")
      ->allow_extra_args(false);
  command.add_option("--network", opts->network, "Job network: bridge, none or host")
      ->capture_default_str();
  command.add_option("--bridge", opts->bridge, "--network bridge: the bridge (default gantry0)");
  command.add_option("--subnet", opts->subnet,
                     "--network bridge: the bridge's subnet (default 10.89.0.0/16)");
  command.add_option("--default-image", opts->default_image,
                     "Image for jobs that name none");
  command.add_option("--oci-runtime", opts->oci_runtime,
                     "OCI runtime for the containers: this gantry (default), runc or crun");
  command.add_option("--wait-for-services-timeout", opts->services_timeout,
                     "Seconds a job's services get to open their exposed ports before its script "
                     "starts (GitLab's wait_for_services_timeout)")
      ->capture_default_str();
  command.add_flag("--no-delay", opts->no_delay,
                   "Start `when: delayed` jobs as soon as their turn comes instead of waiting "
                   "their start_in");
  command.add_option("--color", opts->color, "Colour job prefixes: auto, always, never")
      ->capture_default_str();
  command.callback([opts, &ctx] { ctx.exit_code = run_pipeline(*opts, ctx.global); });
}

}  // namespace gantry::cli
