// JobSpec and JobResult (contract 2): everything needed to run ONE job, and what running it
// produced. The local runner (`gantry run`) and the controller both build JobSpecs from a Plan;
// the agent's JobExecutor (agent/job_executor.h) runs one and reports a JobResult; neither side
// can tell who made the spec. JSON below is the wire form between controller and agent; from_json
// errors name the offending field ("job spec: field 'job': ..."). PURE; plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/result.h"
#include "pipeline-schema/plan.h"

namespace gantry::schema {

// The artifacts of one earlier job that this job downloads (its `dependencies`, or its `needs`
// with `artifacts: true`). `locator` is opaque: whatever the ArtifactStore that stored them
// returned (a file path locally, an id or URL for the controller).
struct DependencyArtifacts {
  std::string job;      // the instance name of the job that made them
  std::string locator;  // empty: that job stored no artifacts
  bool operator==(const DependencyArtifacts&) const = default;
};

struct JobSpec {
  std::int64_t job_id = 0;       // CI_JOB_ID; unique per attempt (a retry gets a new id)
  int attempt = 1;               // 1 for the first run, 2.. for retries
  std::int64_t pipeline_id = 0;  // CI_PIPELINE_ID
  std::string project_name;      // CI_PROJECT_NAME; the workspace is /builds/<project_path>
  std::string project_path;      // "group/project" (CI_PROJECT_PATH); empty → project_name
  std::string commit_sha;        // CI_COMMIT_SHA (40 hex, or empty when unknown)
  std::string ref;               // CI_COMMIT_REF_NAME
  PlannedJob job;                // what to run: image, scripts, variables (incl. CI_*), ...
  std::vector<DependencyArtifacts> dependencies;  // extracted into the workspace, in this order
  // Values replaced by "[MASKED]" everywhere in the job's output (secrets, masked variables).
  // They are also visible to the job as variables when the spec's job.variables name them.
  std::vector<std::string> masked_values;
  std::string default_image;  // used when job.image is unset (`gantry run` / agent default)
  std::optional<std::int64_t> default_timeout_seconds;  // when job.timeout_seconds is unset
  // How long the services' ports may take to open before the script starts (GitLab's
  // wait_for_services_timeout); unset: the executor's option (30 s).
  std::optional<std::int64_t> services_wait_timeout_seconds;
};

enum class JobStatus { kSuccess, kFailed, kCanceled };

// GitLab's failure_reason names for what a runner reports.
enum class FailureReason {
  kNone,                      // the job succeeded
  kScriptFailure,             // script_failure: the script exited non-zero
  kJobExecutionTimeout,       // job_execution_timeout: the job's `timeout` struck
  kRunnerSystemFailure,       // runner_system_failure: gantry itself failed (workspace, runtime)
  kImagePullFailure,          // image_pull_failure: the job's or a service's image was not got
  kMissingDependencyFailure,  // missing_dependency_failure: a dependency's artifacts are gone
  kCanceled,                  // canceled: stopped on request (status kCanceled)
  kUnknownFailure,            // unknown_failure
};

std::string_view job_status_name(JobStatus s);        // "success", "failed", "canceled"
std::optional<JobStatus> parse_job_status(std::string_view s);
std::string_view failure_reason_name(FailureReason r);  // "script_failure", ... ("" for kNone)
std::optional<FailureReason> parse_failure_reason(std::string_view s);

struct JobResult {
  JobStatus status = JobStatus::kFailed;
  FailureReason failure_reason = FailureReason::kUnknownFailure;
  std::optional<int> exit_code;  // the script's exit code, when it ran to an exit
  std::string message;           // why it failed, for people ("pull 'x': manifest unknown")
  std::string started_at;        // RFC 3339 UTC, e.g. "2024-05-01T10:00:00.123Z"
  std::string finished_at;
  double duration_seconds = 0;
  std::uint64_t log_bytes = 0;  // size of everything the LogSink received
  std::string log_sha256;       // hex sha256 of those bytes
  std::optional<std::string> artifacts_locator;  // what the ArtifactStore returned, if stored
  // From the job's `coverage:` regex: the first number in the last log line that matched.
  std::optional<double> coverage;
  bool operator==(const JobResult&) const = default;
};

// Wire forms. from_json: kInvalidArgument naming the field that is missing or of the wrong type.
Json job_spec_to_json(const JobSpec& spec);
Result<JobSpec> job_spec_from_json(const Json& json);
Json job_result_to_json(const JobResult& result);
Result<JobResult> job_result_from_json(const Json& json);

}  // namespace gantry::schema
