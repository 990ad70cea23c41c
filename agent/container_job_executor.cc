// The container JobExecutor. This first version only reports that it cannot run jobs yet, so
// callers can be built and tested against the contract; the phases follow.
#include "agent/job_executor.h"

namespace gantry::agent {

namespace {

class ContainerJobExecutor : public JobExecutor {
 public:
  explicit ContainerJobExecutor(ContainerJobExecutorOptions options) : options_(options) {}

  schema::JobResult run(const schema::JobSpec& spec, JobEnvironment& env,
                        std::stop_token /*stop*/) override {
    schema::JobResult r;
    r.status = schema::JobStatus::kFailed;
    r.failure_reason = schema::FailureReason::kRunnerSystemFailure;
    r.message = "job '" + spec.job.name + "': the container executor is not available in this build";
    std::string line = "ERROR: Job failed (system failure): " + r.message + "\n";
    if (env.log != nullptr) env.log->write(line);
    return r;
  }

 private:
  ContainerJobExecutorOptions options_;
};

}  // namespace

std::unique_ptr<JobExecutor> make_container_job_executor(ContainerJobExecutorOptions options) {
  return std::make_unique<ContainerJobExecutor>(options);
}

}  // namespace gantry::agent
