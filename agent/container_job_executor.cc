// The container JobExecutor: the phases of one job, each a function, in the order GitLab's
// runner runs them. The log lines mirror the runner's so a GitLab user reads them at a glance.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include "agent/cache.h"
#include "agent/container_manager.h"
#include "agent/coverage.h"
#include "agent/job_executor.h"
#include "agent/job_script.h"
#include "agent/masker.h"
#include "agent/output_pump.h"
#include "agent/path_select.h"
#include "agent/services.h"
#include "agent/tar_archive.h"
#include "agent/workspace.h"
#include "common/digest.h"
#include "common/file.h"
#include "common/logging.h"
#include "common/scratch_file.h"
#include "common/time_format.h"
#include "common/unique_fd.h"

namespace gantry::agent {

namespace {

using Clock = std::chrono::steady_clock;
using schema::FailureReason;
using schema::JobStatus;

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

// Go's time.Duration text, as the runner prints timeouts: "1h0m0s", "5m0s", "30s".
std::string go_duration(std::int64_t s) {
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h";
  if (s >= 60) out += std::to_string((s % 3600) / 60) + "m";
  out += std::to_string(s % 60) + "s";
  return out;
}

// Everything that reaches the LogSink goes through here: masked, counted and hashed.
class JobLog {
 public:
  JobLog(LogSink* sink, std::vector<std::string> masked)
      : sink_(sink), masker_(std::move(masked)) {}

  void write(std::string_view bytes) {
    std::lock_guard lock(mu_);
    emit(masker_.feed(bytes));
  }
  void line(std::string_view text) { write(std::string(text) + "\n"); }
  void info(std::string_view text) { line(text); }
  void section(std::string_view text) {
    line(std::string(kAnsiBoldGreen) + std::string(text) + std::string(kAnsiReset));
  }
  void warning(std::string_view text) {
    line(std::string(kAnsiBoldYellow) + "WARNING: " + std::string(text) + std::string(kAnsiReset));
  }
  void error(std::string_view text) {
    line(std::string(kAnsiBoldRed) + "ERROR: " + std::string(text) + std::string(kAnsiReset));
  }
  void finish() {
    std::lock_guard lock(mu_);
    emit(masker_.finish());
    if (coverage_ != nullptr) coverage_->finish();
  }
  // Every byte emitted from now on is also scanned for `coverage:` (the masked log, as GitLab
  // scans the trace it stored).
  void set_coverage(CoverageScanner* scanner) { coverage_ = scanner; }
  std::uint64_t bytes() const { return bytes_; }
  std::string sha256() { return hash_.finish_hex(); }

 private:
  void emit(const std::string& s) {
    if (s.empty()) return;
    bytes_ += s.size();
    hash_.update(s);
    if (coverage_ != nullptr) coverage_->feed(s);
    if (sink_ != nullptr) sink_->write(s);
  }

  std::mutex mu_;
  LogSink* sink_;
  StreamingMasker masker_;
  Sha256 hash_;
  std::uint64_t bytes_ = 0;
  CoverageScanner* coverage_ = nullptr;
};

// Service messages go to the job log; with CI_DEBUG_SERVICES, so does their output, a line at
// a time with the service's name in front (as the runner's "[service:…]" lines).
class JobServiceLog : public ServiceLog {
 public:
  explicit JobServiceLog(JobLog& log) : log_(log) {}
  void info(std::string_view line) override { log_.info(line); }
  void warning(std::string_view line) override { log_.warning(line); }
  void output(std::string_view service, std::string_view line) override {
    log_.line("[service:" + std::string(service) + "] " + std::string(line));
  }

 private:
  JobLog& log_;
};

struct Outcome {
  JobStatus status = JobStatus::kSuccess;
  FailureReason reason = FailureReason::kNone;
  std::optional<int> exit_code;
  std::string message;  // for the result and the final ERROR line

  bool ok() const { return status == JobStatus::kSuccess; }
  void fail(FailureReason r, std::string msg, JobStatus s = JobStatus::kFailed) {
    status = s;
    reason = r;
    message = std::move(msg);
  }
};

class ContainerJobExecutor : public JobExecutor {
 public:
  explicit ContainerJobExecutor(ContainerJobExecutorOptions options) : options_(options) {}

  schema::JobResult run(const schema::JobSpec& spec, JobEnvironment& env,
                        std::stop_token stop) override;

 private:
  ContainerJobExecutorOptions options_;
};

// One run of one job: the state the phases share.
class JobRun {
 public:
  JobRun(const ContainerJobExecutorOptions& options, const schema::JobSpec& spec,
         JobEnvironment& env, std::stop_token stop)
      : options_(options), spec_(spec), env_(env), stop_(std::move(stop)),
        log_(env.log, spec.masked_values), service_log_(log_) {}
  // Also on an exception out of run(): services and the pod network never outlive the job.
  ~JobRun() { stop_services(); }

  schema::JobResult run();

 private:
  Status prepare_image();
  Status prepare_workspace();
  Status prepare_network();
  void set_variables();
  Status start_services();
  Status wait_for_services();
  void stop_services();
  void restore_caches();
  Status download_artifacts();
  Result<ContainerExit> run_script(const std::string& phase,
                                   const std::vector<std::string>& commands,
                                   const schema::VariableSet& vars, Clock::time_point deadline,
                                   std::stop_token stop,
                                   std::optional<std::chrono::milliseconds> stop_grace = {});
  void step_script();
  void after_script();
  void save_caches();
  void upload_artifacts();
  void cleanup();
  Result<PathSelection> select(const std::vector<std::string>& paths,
                               const std::vector<std::string>& exclude, bool untracked);

  const ContainerJobExecutorOptions& options_;
  const schema::JobSpec& spec_;
  JobEnvironment& env_;
  std::stop_token stop_;
  JobLog log_;
  JobServiceLog service_log_;
  Outcome outcome_;

  std::string image_;
  std::int64_t timeout_seconds_ = 0;
  Clock::time_point deadline_;
  std::string workspace_;    // host: <work_dir>/job-<id>-XXXXXX
  std::string project_host_;  // host: <workspace>/project
  std::string scripts_host_;  // host: <workspace>/tmp
  std::string project_dir_;   // container: /builds/<project path>
  schema::VariableSet vars_;
  std::optional<std::string> artifacts_locator_;
  std::optional<CoverageScanner> coverage_;
  bool prepared_ = false;
  std::optional<PodNetwork> pod_;          // the job's and its services' network namespace
  std::unique_ptr<ServiceSet> services_;  // after pod_: destroyed (stopped) before it
};

schema::JobResult JobRun::run() {
  auto started = std::chrono::system_clock::now();
  auto started_steady = Clock::now();
  const auto& job = spec_.job;
  timeout_seconds_ = job.timeout_seconds.value_or(
      spec_.default_timeout_seconds.value_or(options_.default_timeout_seconds));
  deadline_ = started_steady + std::chrono::seconds(timeout_seconds_);

  if (job.coverage) {
    auto scanner = CoverageScanner::make(*job.coverage);
    if (scanner.ok()) {
      coverage_ = std::move(scanner).value();
      log_.set_coverage(&*coverage_);
    }
  }
  log_.info("Running with gantry, job " + std::to_string(spec_.job_id) + " '" + job.name +
            "' of pipeline " + std::to_string(spec_.pipeline_id));
  if (job.coverage && !coverage_) {
    log_.warning(CoverageScanner::make(*job.coverage).error().message());
  }
  if (!job.skipped_keywords.empty()) {
    std::string names;
    for (const auto& k : job.skipped_keywords) names += (names.empty() ? "" : ", ") + k;
    log_.warning("keywords accepted but not executed by gantry: " + names);
  }

  Status st = prepare_image();
  if (st.ok()) st = prepare_workspace();
  if (st.ok()) {
    set_variables();
    st = prepare_network();
    if (st.ok()) st = start_services();
  }
  // Past here the job is under way (GitLab's build stages): after_script will run. A service
  // that could not start fails the job while it is still being prepared, as the runner's.
  prepared_ = st.ok();
  if (st.ok()) {
    restore_caches();
    st = download_artifacts();
  }
  if (st.ok() && outcome_.ok()) st = wait_for_services();
  if (st.ok() && outcome_.ok()) step_script();
  if (!workspace_.empty()) {
    // after_script runs on every path once the job has its workspace, also when the job was
    // canceled or timed out (GitLab 17.0+), with a bound of its own.
    if (prepared_) after_script();
    stop_services();
    if (outcome_.status != JobStatus::kCanceled) save_caches();
    if (outcome_.status != JobStatus::kCanceled) upload_artifacts();
    cleanup();
  }
  stop_services();

  switch (outcome_.status) {
    case JobStatus::kSuccess:
      log_.section("Job succeeded");
      break;
    case JobStatus::kCanceled:
      log_.error("Job failed: canceled");
      break;
    case JobStatus::kFailed:
      if (outcome_.reason == FailureReason::kScriptFailure && outcome_.exit_code) {
        log_.error("Job failed: exit code " + std::to_string(*outcome_.exit_code));
      } else if (outcome_.reason == FailureReason::kScriptFailure ||
                 outcome_.reason == FailureReason::kJobExecutionTimeout) {
        log_.error("Job failed: " + outcome_.message);
      } else {
        log_.error("Job failed (system failure): " + outcome_.message);
      }
      break;
  }
  log_.finish();

  auto finished = std::chrono::system_clock::now();
  schema::JobResult r;
  r.status = outcome_.status;
  r.failure_reason = outcome_.reason;
  r.exit_code = outcome_.exit_code;
  r.message = mask_all(outcome_.message, spec_.masked_values);
  r.started_at = format_rfc3339(started, TimePrecision::kMillis);
  r.finished_at = format_rfc3339(finished, TimePrecision::kMillis);
  r.duration_seconds = std::chrono::duration<double>(Clock::now() - started_steady).count();
  r.log_bytes = log_.bytes();
  r.log_sha256 = log_.sha256();
  r.artifacts_locator = artifacts_locator_;
  if (coverage_) r.coverage = coverage_->value();
  return r;
}

Status JobRun::prepare_image() {
  const auto& job = spec_.job;
  log_.section("Preparing the \"gantry\" executor");
  if (env_.containers == nullptr) {
    outcome_.fail(FailureReason::kRunnerSystemFailure,
                  "no container manager given to the executor");
    return Error(ErrorCode::kFailedPrecondition, outcome_.message);
  }
  image_ = job.image ? job.image->name : spec_.default_image;
  if (image_.empty()) {
    outcome_.fail(FailureReason::kRunnerSystemFailure,
                  "job '" + job.name + "' names no image and there is no default image");
    return Error(ErrorCode::kInvalidArgument, outcome_.message);
  }
  // `pull_policy` may list several policies: GitLab tries them in order until one gets the image.
  std::vector<PullPolicy> policies;
  if (job.image) {
    for (const auto& text : job.image->pull_policy) {
      auto p = parse_pull_policy(text);
      if (!p.ok()) {
        outcome_.fail(FailureReason::kImagePullFailure, p.error().message());
        return p.error();
      }
      policies.push_back(*p);
    }
  }
  if (policies.empty()) policies.push_back(PullPolicy::kIfNotPresent);
  log_.info("Using image " + image_ + " ...");
  runtime::image::PullOptions pull;
  if (env_.pull_options != nullptr) pull = *env_.pull_options;
  Result<runtime::image::ImageRecord> record = Error(ErrorCode::kInternal, "no pull policy");
  for (size_t i = 0; i < policies.size(); ++i) {
    record = env_.containers->ensure_image(image_, policies[i], pull);
    if (record.ok()) break;
    if (i + 1 < policies.size()) {
      log_.warning(record.error().message() + "; trying the next pull policy");
    }
  }
  if (!record.ok()) {
    outcome_.fail(FailureReason::kImagePullFailure, record.error().message());
    return record.error();
  }
  log_.info("Using image " + image_ + " with digest " + record->digest + " ...");
  return ok_status();
}

Status JobRun::prepare_workspace() {
  log_.section("Preparing environment");
  std::string parent = env_.work_dir;
  if (parent.empty()) {
    const char* t = std::getenv("TMPDIR");
    parent = t != nullptr && *t != '\0' ? t : "/tmp";
  }
  Status st = make_dirs(parent, 0711);
  std::string tmpl = join_path(parent, "job-" + std::to_string(spec_.job_id) + "-XXXXXX");
  if (st.ok() && ::mkdtemp(tmpl.data()) == nullptr)
    st = sys_error("create workspace in " + q(parent));
  if (st.ok()) {
    workspace_ = tmpl;
    project_host_ = join_path(workspace_, "project");
    scripts_host_ = join_path(workspace_, "tmp");
    st = make_dirs(project_host_);
    // Readable by the job's user, whoever the image runs as; it holds only the scripts.
    if (st.ok()) st = make_dirs(scripts_host_, 0755);
  }
  std::string path = spec_.project_path.empty() ? spec_.project_name : spec_.project_path;
  if (path.empty()) path = "project";
  project_dir_ = join_path(env_.builds_dir, path);
  if (st.ok()) {
    log_.section("Getting source from " + env_.source_dir);
    auto copied = copy_source_tree(env_.source_dir, project_host_);
    if (copied.ok()) {
      log_.info(std::string(copied->git ? "Copied the git work tree" : "Copied the directory") +
                " (" + std::to_string(copied->files) + " entries) to " + project_dir_);
    } else {
      st = std::move(copied).error();
    }
  }
  if (!st.ok()) outcome_.fail(FailureReason::kRunnerSystemFailure, st.error().message());
  return st;
}

void JobRun::set_variables() {
  vars_ = spec_.job.variables;
  vars_.set("CI_JOB_ID", std::to_string(spec_.job_id));
  vars_.set("CI_PIPELINE_ID", std::to_string(spec_.pipeline_id));
  vars_.set("CI_PROJECT_DIR", project_dir_);
  vars_.set("CI_BUILDS_DIR", env_.builds_dir);
  vars_.set("CI_JOB_IMAGE", image_);
  vars_.set("CI_SERVER", "yes");
  vars_.set("CI_JOB_TIMEOUT", std::to_string(timeout_seconds_));
  vars_.set("CI_JOB_STARTED_AT", rfc3339_now(TimePrecision::kMillis));
  if (!spec_.commit_sha.empty()) {
    vars_.set("CI_COMMIT_SHA", spec_.commit_sha);
    vars_.set("CI_COMMIT_SHORT_SHA", spec_.commit_sha.substr(0, 8));
  }
  if (!spec_.ref.empty()) vars_.set("CI_COMMIT_REF_NAME", spec_.ref);
  if (!spec_.project_name.empty()) vars_.set("CI_PROJECT_NAME", spec_.project_name);
  if (!spec_.project_path.empty()) vars_.set("CI_PROJECT_PATH", spec_.project_path);
}

// One network namespace for the job and its services (a pod): on the bridge in bridge mode, else
// loopback only when there are services to share it with. The host's network needs none; a
// job alone with `none` gets a fresh namespace per container.
Status JobRun::prepare_network() {
  bool bridge = env_.network == NetworkMode::kBridge;
  if (env_.network == NetworkMode::kHost) return ok_status();
  if (!bridge && spec_.job.services.empty()) return ok_status();
  PodNetworkOptions po;
  if (bridge) {
    po.mode = PodNetworkMode::kBridge;
    po.bridge = env_.bridge;
  }
  // The workspace's unique name names it.
  std::string id = workspace_.substr(workspace_.rfind('/') + 1);
  auto pod = env_.containers->create_pod_network(id, po);
  if (!pod.ok()) {
    outcome_.fail(FailureReason::kRunnerSystemFailure, pod.error().message());
    return std::move(pod).error();
  }
  pod_ = *pod;
  if (bridge) {
    log_.info("Network: address " + pod_->address + " on bridge " + pod_->bridge + " (gateway " +
              pod_->gateway + ")");
  }
  return ok_status();
}

Status JobRun::start_services() {
  const auto& services = spec_.job.services;
  if (services.empty()) return ok_status();
  ServiceSetOptions so;
  so.containers = env_.containers;
  if (env_.pull_options != nullptr) so.pull = *env_.pull_options;
  so.labels = {{"gantry.job.id", std::to_string(spec_.job_id)},
               {"gantry.job.name", spec_.job.name},
               {"gantry.pipeline.id", std::to_string(spec_.pipeline_id)}};
  so.debug = vars_.value_of("CI_DEBUG_SERVICES") == "true";
  if (pod_) {
    so.network = {ContainerNetwork::Mode::kJoin, pod_->netns_path, pod_->address};
    so.address = pod_->address;
  } else {
    so.network.mode = ContainerNetwork::Mode::kHost;
  }
  services_ = std::make_unique<ServiceSet>(std::move(so), service_log_);
  Status st = services_->start(services, vars_, stop_);
  if (!st.ok()) {
    if (stop_.stop_requested()) {
      outcome_.fail(FailureReason::kCanceled, "canceled", JobStatus::kCanceled);
    } else {
      outcome_.fail(services_->pull_failed() ? FailureReason::kImagePullFailure
                                             : FailureReason::kRunnerSystemFailure,
                    st.error().message());
    }
  }
  return st;
}

Status JobRun::wait_for_services() {
  if (!services_ || services_->size() == 0) return ok_status();
  std::int64_t timeout = spec_.services_wait_timeout_seconds.value_or(
      options_.service_wait_timeout_seconds);
  log_.info("Waiting for services to be up and running (timeout " + std::to_string(timeout) +
            " seconds)...");
  auto deadline = std::min(Clock::now() + std::chrono::seconds(timeout), deadline_);
  auto bad = services_->wait_ready(pod_ ? pod_->netns_path : "", deadline, stop_);
  if (!bad.ok()) {
    if (stop_.stop_requested()) {
      outcome_.fail(FailureReason::kCanceled, "canceled", JobStatus::kCanceled);
      return std::move(bad).error();
    }
    // The runner goes on when its health check cannot run; so does gantry, saying why.
    log_.warning("services health check: " + bad.error().message());
  }
  services_->watch_exits();  // a service that dies while the script runs is reported
  return ok_status();
}

void JobRun::stop_services() {
  if (services_) {
    services_->stop_all();
    services_.reset();
  }
  if (pod_) {
    Status st = env_.containers->destroy_pod_network(pod_->id);
    if (!st.ok()) log_.warning(st.error().message());
    pod_.reset();
  }
}

Result<PathSelection> JobRun::select(const std::vector<std::string>& paths,
                                     const std::vector<std::string>& exclude, bool untracked) {
  GANTRY_ASSIGN_OR_RETURN(auto entries, list_workspace(project_host_));
  std::vector<std::string> untracked_files;
  if (untracked) {
    auto u = git_untracked_files(project_host_);
    if (u.ok()) {
      untracked_files = std::move(u).value();
    } else {
      log_.warning("untracked files: " + u.error().message());
    }
  }
  // As GitLab's runner does, `$VAR` in artifacts:paths/exclude and cache:paths expands with the
  // job's variables (a matrix job names its own files: "out/app-$ARCH.txt").
  auto expand = [&](const std::vector<std::string>& patterns) {
    std::vector<std::string> out;
    out.reserve(patterns.size());
    for (const auto& p : patterns) out.push_back(schema::expand_for_display(p, vars_));
    return out;
  };
  return select_paths(entries, expand(paths), expand(exclude), untracked, untracked_files,
                      project_dir_);
}

void JobRun::restore_caches() {
  const auto& caches = spec_.job.cache;
  if (caches.empty()) return;
  if (env_.cache_dir.empty()) {
    log_.warning("cache: no cache directory is configured, caches are not restored nor saved");
    return;
  }
  CacheStore store(env_.cache_dir,
                   spec_.project_path.empty() ? spec_.project_name : spec_.project_path);
  log_.section("Restoring cache");
  for (const auto& c : caches) {
    if (!cache_pulls(c)) {
      log_.info("Not downloading cache due to policy");
      continue;
    }
    auto key = cache_key(c, vars_, project_host_, spec_.commit_sha);
    if (!key.ok()) {
      log_.warning(key.error().message());
      continue;
    }
    std::vector<std::string> keys = {*key};
    for (const auto& f : c.fallback_keys) keys.push_back(schema::expand_for_display(f, vars_));
    bool restored = false;
    for (const auto& k : keys) {
      log_.info("Checking cache for " + k + "...");
      auto r = store.restore(k, project_host_);
      if (!r.ok()) {
        log_.warning("Failed to extract cache: " + r.error().message());
        break;
      }
      if (*r) {
        log_.info("Successfully extracted cache");
        restored = true;
        break;
      }
      log_.warning("file does not exist");
    }
    if (!restored) log_.warning("Cache not restored: no cache for key " + q(*key));
  }
}

Status JobRun::download_artifacts() {
  if (spec_.dependencies.empty()) return ok_status();
  log_.section("Downloading artifacts");
  for (const auto& dep : spec_.dependencies) {
    if (dep.locator.empty()) {
      log_.info("No artifacts of " + dep.job + " to download");
      continue;
    }
    if (env_.artifacts == nullptr) {
      outcome_.fail(FailureReason::kRunnerSystemFailure, "no artifact store given to the executor");
      return Error(ErrorCode::kFailedPrecondition, outcome_.message);
    }
    log_.info("Downloading artifacts for " + dep.job + " (" + dep.locator + ")...");
    std::string tmp = join_path(workspace_, "dependency.tar");
    Status st = env_.artifacts->get(dep, tmp);
    if (st.ok()) {
      auto x = extract_tar(tmp, project_host_);
      if (!x.ok()) st = std::move(x).error();
    }
    ::unlink(tmp.c_str());
    if (!st.ok()) {
      outcome_.fail(st.error().code() == ErrorCode::kNotFound
                        ? FailureReason::kMissingDependencyFailure
                        : FailureReason::kRunnerSystemFailure,
                    "download artifacts of '" + dep.job + "': " + st.error().message());
      return st;
    }
  }
  return ok_status();
}

Result<ContainerExit> JobRun::run_script(const std::string& phase,
                                         const std::vector<std::string>& commands,
                                         const schema::VariableSet& vars,
                                         Clock::time_point deadline, std::stop_token stop,
                                         std::optional<std::chrono::milliseconds> stop_grace) {
  std::string script_name = phase + ".sh";
  GANTRY_TRY(write_scratch_file(join_path(scripts_host_, script_name),
                                render_script(commands, project_dir_), 0755));
  std::string scripts_dir = project_dir_ + ".tmp";
  ContainerConfig cfg;
  cfg.image = image_;
  cfg.pull_policy = PullPolicy::kIfNotPresent;
  if (env_.pull_options != nullptr) cfg.pull = *env_.pull_options;
  cfg.run.cmd = shell_command(join_path(scripts_dir, script_name));
  // The job's shell is not an init: as pid 1 it would ignore the SIGTERM of a cancel or
  // timeout and wait out the whole stop grace, and orphans of the script would stay zombies.
  cfg.run.init = true;
  if (spec_.job.image && spec_.job.image->entrypoint) {
    // `entrypoint: [""]` (GitLab's idiom) means none.
    std::vector<std::string> ep;
    for (const auto& a : *spec_.job.image->entrypoint) {
      if (!a.empty()) ep.push_back(a);
    }
    cfg.run.entrypoint = ep;
  }
  for (const auto& v : vars.entries()) cfg.run.env.push_back(v.name + "=" + v.value);
  cfg.run.working_dir = project_dir_;
  cfg.run.volumes.push_back({project_host_, project_dir_, false});
  cfg.run.volumes.push_back({scripts_host_, scripts_dir, true});
  if (spec_.job.image && spec_.job.image->user) cfg.run.user = *spec_.job.image->user;
  if (pod_) {
    cfg.network = {ContainerNetwork::Mode::kJoin, pod_->netns_path, pod_->address};
  } else {
    switch (env_.network) {
      case NetworkMode::kHost: cfg.network.mode = ContainerNetwork::Mode::kHost; break;
      case NetworkMode::kNone:
      case NetworkMode::kBridge: cfg.network.mode = ContainerNetwork::Mode::kNone; break;
    }
  }
  if (services_ && !services_->hosts().names.empty()) cfg.extra_hosts = {services_->hosts()};
  cfg.hostname = "job-" + std::to_string(spec_.job_id);
  cfg.labels = {{"gantry.job.id", std::to_string(spec_.job_id)},
                {"gantry.job.name", spec_.job.name},
                {"gantry.job.phase", phase},
                {"gantry.pipeline.id", std::to_string(spec_.pipeline_id)}};

  GANTRY_ASSIGN_OR_RETURN(std::string id, env_.containers->create(cfg));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    Error e = sys_error("create output pipe");
    (void)env_.containers->remove(id);
    return e;
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  Result<ContainerExit> exit = Error(ErrorCode::kInternal, "not run");
  {
    OutputPump pump(read_end.get(), [this](std::string_view b) { log_.write(b); });
    ContainerIo io;
    io.output_fd = write_end.get();
    io.stop_grace = stop_grace;
    exit = env_.containers->run(id, io, deadline, stop);
    write_end.reset();
    pump.drain();
  }
  Status removed = env_.containers->remove(id);
  if (!removed.ok()) log_.warning("remove container " + id + ": " + removed.error().message());
  return exit;
}

void JobRun::step_script() {
  std::vector<std::string> commands = spec_.job.before_script;
  commands.insert(commands.end(), spec_.job.script.begin(), spec_.job.script.end());
  log_.section("Executing \"step_script\" stage of the job script");
  auto exit = run_script("step_script", commands, vars_, deadline_, stop_);
  if (!exit.ok()) {
    if (stop_.stop_requested()) {
      outcome_.fail(FailureReason::kCanceled, "canceled", JobStatus::kCanceled);
    } else {
      outcome_.fail(FailureReason::kRunnerSystemFailure,
                    "run step_script: " + exit.error().message());
    }
    return;
  }
  outcome_.exit_code = exit->exit_code;
  if (exit->canceled) {
    outcome_.fail(FailureReason::kCanceled, "canceled", JobStatus::kCanceled);
  } else if (exit->timed_out) {
    outcome_.fail(FailureReason::kJobExecutionTimeout,
                  "execution took longer than " + go_duration(timeout_seconds_) + " seconds");
  } else if (exit->oom_killed) {
    outcome_.fail(FailureReason::kScriptFailure,
                  "exit code " + std::to_string(exit->exit_code) + " (out of memory)");
  } else if (exit->exit_code != 0) {
    outcome_.fail(FailureReason::kScriptFailure, "exit code " + std::to_string(exit->exit_code));
  }
}

void JobRun::after_script() {
  if (spec_.job.after_script.empty()) return;
  log_.section("Running after_script");
  log_.info("Running after script...");
  schema::VariableSet vars = vars_;
  // The runner's values: "timedout" when the job's timeout struck (runner 17.1+).
  vars.set("CI_JOB_STATUS", outcome_.reason == FailureReason::kJobExecutionTimeout
                                ? std::string("timedout")
                                : std::string(schema::job_status_name(outcome_.status)));
  auto deadline = Clock::now() + std::chrono::seconds(options_.after_script_timeout_seconds);
  // A canceled job's after_script still runs, bounded by its own timeout, unless the caller
  // aborts (a second Ctrl-C); otherwise a cancel that comes while it runs stops it.
  bool canceled = outcome_.status == JobStatus::kCanceled;
  std::stop_token stop = canceled ? env_.abort : stop_;
  if (canceled && stop.stop_requested()) {
    log_.warning("after_script skipped: the canceled job was stopped again");
    return;
  }
  if (canceled && env_.on_canceled_after_script) env_.on_canceled_after_script(spec_);
  // When a canceled job's after_script is stopped (a second Ctrl-C, or its bound), it is
  // killed at once: the user asked twice already.
  std::optional<std::chrono::milliseconds> grace;
  if (canceled) grace = std::chrono::milliseconds(0);
  auto exit = run_script("after_script", spec_.job.after_script, vars, deadline, stop, grace);
  if (canceled && stop.stop_requested()) {
    log_.warning("after_script stopped: the canceled job was stopped again");
  } else if (!exit.ok()) {
    log_.warning("after_script failed, but job will continue unaffected: " +
                 exit.error().message());
  } else if (exit->timed_out) {
    log_.warning(
        "after_script failed, but job will continue unaffected: execution took longer than " +
        go_duration(options_.after_script_timeout_seconds) + " seconds");
  } else if (exit->exit_code != 0 && !exit->canceled) {
    log_.warning("after_script failed, but job will continue unaffected: exit code " +
                 std::to_string(exit->exit_code));
  }
}

void JobRun::save_caches() {
  const auto& caches = spec_.job.cache;
  if (caches.empty() || env_.cache_dir.empty()) return;
  bool succeeded = outcome_.ok();
  CacheStore store(env_.cache_dir,
                   spec_.project_path.empty() ? spec_.project_name : spec_.project_path);
  bool header = false;
  for (const auto& c : caches) {
    if (!cache_pushes(c) || !cache_saved(c.when, succeeded)) continue;
    if (!header) {
      log_.section(succeeded ? "Saving cache for successful job" : "Saving cache for failed job");
      header = true;
    }
    auto key = cache_key(c, vars_, project_host_, spec_.commit_sha);
    if (!key.ok()) {
      log_.warning(key.error().message());
      continue;
    }
    log_.info("Creating cache " + *key + "...");
    auto sel = select(c.paths, {}, c.untracked);
    if (!sel.ok()) {
      log_.warning("Failed to create cache: " + sel.error().message());
      continue;
    }
    for (const auto& w : sel->warnings) log_.warning(w);
    if (sel->paths.empty()) {
      log_.warning("Cache file not created: no matching files");
      continue;
    }
    Status st = store.save(*key, project_host_, sel->paths);
    if (st.ok()) {
      log_.info("Created cache");
    } else {
      log_.warning("Failed to create cache: " + st.error().message());
    }
  }
}

void JobRun::upload_artifacts() {
  const auto& a = spec_.job.artifacts;
  if (!a || (a->paths.empty() && !a->untracked)) return;
  bool succeeded = outcome_.ok();
  if (!cache_saved(a->when, succeeded)) return;  // the same on_success/on_failure/always rule
  log_.section(succeeded ? "Uploading artifacts for successful job"
                         : "Uploading artifacts for failed job");
  log_.info("Uploading artifacts...");
  auto sel = select(a->paths, a->exclude, a->untracked);
  auto fail = [&](const std::string& msg) {
    log_.error("Uploading artifacts as \"archive\" failed: " + msg);
    if (outcome_.ok())
      outcome_.fail(FailureReason::kRunnerSystemFailure, "upload artifacts: " + msg);
  };
  if (!sel.ok()) return fail(sel.error().message());
  for (const auto& w : sel->warnings) log_.warning(w);
  if (sel->paths.empty()) {
    log_.error("No files to upload");
    return;
  }
  if (env_.artifacts == nullptr) return fail("no artifact store given to the executor");
  std::string tar = join_path(workspace_, "artifacts.tar");
  auto made = create_tar(project_host_, sel->paths, tar);
  if (!made.ok()) return fail(made.error().message());
  log_.info(std::to_string(made->entries) + " files and directories found, " +
            std::to_string(made->bytes) + " bytes");
  auto loc = env_.artifacts->put(spec_, tar);
  ::unlink(tar.c_str());
  if (!loc.ok()) return fail(loc.error().message());
  artifacts_locator_ = *loc;
  log_.info("Uploading artifacts as \"archive\" to " + *loc + "... ok");
}

void JobRun::cleanup() {
  log_.section("Cleaning up project directory and file based variables");
  if (options_.keep_workspace) {
    log_.info("Keeping the workspace at " + workspace_);
    return;
  }
  if (env_.remover != nullptr) {
    env_.remover->remove(workspace_);  // a unique mkdtemp name: nothing else writes there
    return;
  }
  Status st = remove_all(workspace_);
  if (!st.ok()) log_.warning("remove workspace: " + st.error().message());
}

schema::JobResult ContainerJobExecutor::run(const schema::JobSpec& spec, JobEnvironment& env,
                                            std::stop_token stop) {
  try {
    JobRun r(options_, spec, env, std::move(stop));
    return r.run();
  } catch (const std::exception& e) {
    // Last resort (a thread entry for callers): a bug, reported as a system failure.
    schema::JobResult res;
    res.failure_reason = FailureReason::kRunnerSystemFailure;
    res.message = std::string("internal error: ") + e.what();
    return res;
  }
}

}  // namespace

std::unique_ptr<JobExecutor> make_container_job_executor(ContainerJobExecutorOptions options) {
  return std::make_unique<ContainerJobExecutor>(options);
}

}  // namespace gantry::agent
