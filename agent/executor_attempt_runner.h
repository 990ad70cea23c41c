// ExecutorAttemptRunner: the AttemptRunner of `gantry run` — turns one attempt of a planned job
// into a JobSpec (ids, dependencies' artifact locators from the jobs that ran before, masked
// values), runs it through the JobExecutor, and sends the job's log both to a file per attempt
// and to the live PrefixedOutput. Used from several LocalRunner worker threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/job_executor.h"
#include "agent/local_runner.h"
#include "agent/run_output.h"

namespace gantry::agent {

struct PipelineRunInfo {
  std::int64_t pipeline_id = 0;  // CI_PIPELINE_ID: the local run number
  std::string project_name;
  std::string project_path;
  std::string commit_sha;
  std::string ref;
  std::vector<std::string> masked_values;
  std::string default_image;
  std::string log_dir;  // <job-slug>.log per job (…-attempt-N.log for retries)
};

class ExecutorAttemptRunner : public AttemptRunner {
 public:
  // `environment` is copied per attempt with its log sink replaced; its artifact store, container
  // manager and directories are shared. All references must outlive the runner.
  ExecutorAttemptRunner(JobExecutor& executor, JobEnvironment environment, PipelineRunInfo info,
                        PrefixedOutput& output, const std::vector<std::string>& job_names);

  AttemptOutcome run(const schema::PlannedJob& job, int attempt, std::stop_token stop) override;

  // The log file of a job's latest attempt ("" before it ran).
  std::string log_path(const std::string& job_name) const;
  // The latest JobResult of a job, if it ran.
  std::optional<schema::JobResult> result(const std::string& job_name) const;

 private:
  JobExecutor& executor_;
  JobEnvironment environment_;
  PipelineRunInfo info_;
  PrefixedOutput& output_;
  std::map<std::string, std::string> slugs_;  // job name → unique file-name slug
  std::atomic<std::int64_t> next_job_id_{1};
  mutable std::mutex mu_;
  std::map<std::string, schema::JobResult> results_;
  std::map<std::string, std::string> log_paths_;
};

// A file-name-safe form of a job name: "test 1/3" → "test-1-3", "deploy: [aws]" → "deploy-aws".
std::string job_slug(std::string_view name);

}  // namespace gantry::agent
