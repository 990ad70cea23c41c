#include "agent/executor_attempt_runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <set>

#include "common/file.h"
#include "common/logging.h"
#include "common/unique_fd.h"

namespace gantry::agent {

namespace {

// Tees the job's log into its file and onto the live output. A failed file write is reported
// once and does not stop the job: the terminal still shows everything.
class TeeLogSink : public LogSink {
 public:
  TeeLogSink(UniqueFd file, std::string path, PrefixedOutput& output, std::string job)
      : file_(std::move(file)), path_(std::move(path)), output_(output), job_(std::move(job)) {}

  void write(std::string_view chunk) override {
    output_.write(job_, chunk);
    if (file_.get() < 0) return;
    while (!chunk.empty()) {
      ssize_t n = ::write(file_.get(), chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        logger("scheduler")->warn("job log not written path={} error={}", path_,
                                  sys_error("write").message());
        file_.reset();
        return;
      }
      chunk.remove_prefix(static_cast<size_t>(n));
    }
  }

 private:
  UniqueFd file_;
  std::string path_;
  PrefixedOutput& output_;
  std::string job_;
};

}  // namespace

std::string job_slug(std::string_view name) {
  std::string out;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || c == '.') {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  while (!out.empty() && out.front() == '.') out.erase(0, 1);
  return out.empty() ? "job" : out;
}

ExecutorAttemptRunner::ExecutorAttemptRunner(JobExecutor& executor, JobEnvironment environment,
                                             PipelineRunInfo info, PrefixedOutput& output,
                                             const std::vector<std::string>& job_names)
    : executor_(executor),
      environment_(std::move(environment)),
      info_(std::move(info)),
      output_(output) {
  std::set<std::string> used;
  for (const auto& name : job_names) {
    std::string base = job_slug(name), slug = base;
    for (int n = 2; used.count(slug); ++n) slug = base + "-" + std::to_string(n);
    used.insert(slug);
    slugs_[name] = slug;
  }
}

AttemptOutcome ExecutorAttemptRunner::run(const schema::PlannedJob& job, int attempt,
                                          std::stop_token stop) {
  schema::JobSpec spec;
  spec.job_id = next_job_id_++;
  spec.attempt = attempt;
  spec.pipeline_id = info_.pipeline_id;
  spec.project_name = info_.project_name;
  spec.project_path = info_.project_path;
  spec.commit_sha = info_.commit_sha;
  spec.ref = info_.ref;
  spec.job = job;
  spec.masked_values = info_.masked_values;
  spec.default_image = info_.default_image;
  {
    std::lock_guard g(mu_);
    for (const auto& dep : job.dependencies) {
      auto it = results_.find(dep);
      if (it == results_.end()) continue;  // not part of this run (--job): said at the start
      spec.dependencies.push_back({dep, it->second.artifacts_locator.value_or("")});
    }
  }

  auto slug_it = slugs_.find(job.name);
  std::string slug = slug_it == slugs_.end() ? job_slug(job.name) : slug_it->second;
  std::string path = join_path(info_.log_dir, attempt == 1 ? slug + ".log"
                                                           : slug + "-attempt-" +
                                                                 std::to_string(attempt) + ".log");
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    logger("scheduler")->warn("job log not opened path={} error={}", path,
                              sys_error("open").message());
  }
  TeeLogSink sink(std::move(fd), path, output_, job.name);
  JobEnvironment env = environment_;
  env.log = &sink;
  schema::JobResult result = executor_.run(spec, env, stop);
  output_.end_job(job.name);

  AttemptOutcome outcome;
  switch (result.status) {
    case schema::JobStatus::kSuccess: outcome.kind = AttemptOutcome::Kind::kSuccess; break;
    case schema::JobStatus::kFailed: outcome.kind = AttemptOutcome::Kind::kFailed; break;
    case schema::JobStatus::kCanceled: outcome.kind = AttemptOutcome::Kind::kCanceled; break;
  }
  outcome.failure_reason = std::string(schema::failure_reason_name(result.failure_reason));
  outcome.exit_code = result.exit_code;
  std::lock_guard g(mu_);
  results_[job.name] = std::move(result);
  log_paths_[job.name] = path;
  return outcome;
}

std::string ExecutorAttemptRunner::log_path(const std::string& job_name) const {
  std::lock_guard g(mu_);
  auto it = log_paths_.find(job_name);
  return it == log_paths_.end() ? "" : it->second;
}

std::optional<schema::JobResult> ExecutorAttemptRunner::result(const std::string& job_name) const {
  std::lock_guard g(mu_);
  auto it = results_.find(job_name);
  if (it == results_.end()) return std::nullopt;
  return it->second;
}

}  // namespace gantry::agent
