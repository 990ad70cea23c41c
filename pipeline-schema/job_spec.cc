// Wire form of JobSpec / JobResult: plain JSON objects; optional fields omitted when unset.
#include "pipeline-schema/job_spec.h"

#include <array>
#include <utility>

namespace gantry::schema {

namespace {

constexpr std::array<std::pair<JobStatus, std::string_view>, 3> kStatusNames{{
    {JobStatus::kSuccess, "success"},
    {JobStatus::kFailed, "failed"},
    {JobStatus::kCanceled, "canceled"},
}};

constexpr std::array<std::pair<FailureReason, std::string_view>, 8> kReasonNames{{
    {FailureReason::kNone, ""},
    {FailureReason::kScriptFailure, "script_failure"},
    {FailureReason::kJobExecutionTimeout, "job_execution_timeout"},
    {FailureReason::kRunnerSystemFailure, "runner_system_failure"},
    {FailureReason::kImagePullFailure, "image_pull_failure"},
    {FailureReason::kMissingDependencyFailure, "missing_dependency_failure"},
    {FailureReason::kCanceled, "canceled"},
    {FailureReason::kUnknownFailure, "unknown_failure"},
}};

// Reads fields of one JSON object, turning a missing or mistyped field into an Error naming it.
class FieldReader {
 public:
  FieldReader(const Json& j, std::string what) : j_(j), what_(std::move(what)) {}

  Error bad(std::string_view field, std::string_view why) const {
    return Error(ErrorCode::kInvalidArgument,
                 what_ + ": field '" + std::string(field) + "': " + std::string(why));
  }

  template <typename T>
  Result<T> required(const char* field) const {
    if (!j_.contains(field)) return bad(field, "missing");
    return get<T>(field);
  }

  template <typename T>
  Result<T> optional(const char* field, T fallback) const {
    if (!j_.contains(field) || j_.at(field).is_null()) return fallback;
    return get<T>(field);
  }

 private:
  template <typename T>
  Result<T> get(const char* field) const {
    try {
      return j_.at(field).get<T>();
    } catch (const std::exception& e) {
      return bad(field, "wrong type (" + std::string(j_.at(field).type_name()) + ")");
    }
  }

  const Json& j_;
  std::string what_;
};

}  // namespace

std::string_view job_status_name(JobStatus s) {
  for (const auto& [v, n] : kStatusNames) {
    if (v == s) return n;
  }
  return "unknown";
}

std::optional<JobStatus> parse_job_status(std::string_view s) {
  for (const auto& [v, n] : kStatusNames) {
    if (n == s) return v;
  }
  return std::nullopt;
}

std::string_view failure_reason_name(FailureReason r) {
  for (const auto& [v, n] : kReasonNames) {
    if (v == r) return n;
  }
  return "unknown_failure";
}

std::optional<FailureReason> parse_failure_reason(std::string_view s) {
  for (const auto& [v, n] : kReasonNames) {
    if (n == s) return v;
  }
  return std::nullopt;
}

Json job_spec_to_json(const JobSpec& s) {
  Json deps = Json::array();
  for (const auto& d : s.dependencies) deps.push_back(Json{{"job", d.job}, {"locator", d.locator}});
  Json j{{"job_id", s.job_id},
         {"attempt", s.attempt},
         {"pipeline_id", s.pipeline_id},
         {"project_name", s.project_name},
         {"project_path", s.project_path},
         {"commit_sha", s.commit_sha},
         {"ref", s.ref},
         {"job", planned_job_to_json(s.job)},
         {"dependencies", std::move(deps)},
         {"masked_values", s.masked_values},
         {"default_image", s.default_image}};
  if (s.default_timeout_seconds) j["default_timeout_seconds"] = *s.default_timeout_seconds;
  if (s.services_wait_timeout_seconds) {
    j["services_wait_timeout_seconds"] = *s.services_wait_timeout_seconds;
  }
  return j;
}

Result<JobSpec> job_spec_from_json(const Json& j) {
  if (!j.is_object()) return Error(ErrorCode::kInvalidArgument, "job spec: not a JSON object");
  FieldReader r(j, "job spec");
  JobSpec s;
  GANTRY_ASSIGN_OR_RETURN(s.job_id, r.required<std::int64_t>("job_id"));
  GANTRY_ASSIGN_OR_RETURN(s.attempt, r.optional<int>("attempt", 1));
  GANTRY_ASSIGN_OR_RETURN(s.pipeline_id, r.required<std::int64_t>("pipeline_id"));
  GANTRY_ASSIGN_OR_RETURN(s.project_name, r.required<std::string>("project_name"));
  GANTRY_ASSIGN_OR_RETURN(s.project_path, r.optional<std::string>("project_path", ""));
  GANTRY_ASSIGN_OR_RETURN(s.commit_sha, r.optional<std::string>("commit_sha", ""));
  GANTRY_ASSIGN_OR_RETURN(s.ref, r.optional<std::string>("ref", ""));
  if (!j.contains("job")) return r.bad("job", "missing");
  auto job = planned_job_from_json(j.at("job"));
  if (!job.ok()) return r.bad("job", job.error().message());
  s.job = std::move(job).value();
  if (j.contains("dependencies")) {
    const Json& deps = j.at("dependencies");
    if (!deps.is_array()) return r.bad("dependencies", "not an array");
    for (size_t i = 0; i < deps.size(); ++i) {
      if (!deps[i].is_object())
        return r.bad("dependencies", "entry " + std::to_string(i) + " is not an object");
      FieldReader dr(deps[i], "job spec: dependencies[" + std::to_string(i) + "]");
      DependencyArtifacts d;
      GANTRY_ASSIGN_OR_RETURN(d.job, dr.required<std::string>("job"));
      GANTRY_ASSIGN_OR_RETURN(d.locator, dr.optional<std::string>("locator", ""));
      s.dependencies.push_back(std::move(d));
    }
  }
  GANTRY_ASSIGN_OR_RETURN(s.masked_values,
                          r.optional<std::vector<std::string>>("masked_values", {}));
  GANTRY_ASSIGN_OR_RETURN(s.default_image, r.optional<std::string>("default_image", ""));
  if (j.contains("default_timeout_seconds") && !j.at("default_timeout_seconds").is_null()) {
    GANTRY_ASSIGN_OR_RETURN(s.default_timeout_seconds,
                            r.required<std::int64_t>("default_timeout_seconds"));
  }
  if (j.contains("services_wait_timeout_seconds") &&
      !j.at("services_wait_timeout_seconds").is_null()) {
    GANTRY_ASSIGN_OR_RETURN(s.services_wait_timeout_seconds,
                            r.required<std::int64_t>("services_wait_timeout_seconds"));
  }
  if (s.attempt < 1) return r.bad("attempt", "must be at least 1");
  return s;
}

Json job_result_to_json(const JobResult& res) {
  Json j{{"status", std::string(job_status_name(res.status))},
         {"failure_reason", std::string(failure_reason_name(res.failure_reason))},
         {"message", res.message},
         {"started_at", res.started_at},
         {"finished_at", res.finished_at},
         {"duration_seconds", res.duration_seconds},
         {"log_bytes", res.log_bytes},
         {"log_sha256", res.log_sha256}};
  j["exit_code"] = res.exit_code ? Json(*res.exit_code) : Json(nullptr);
  if (res.artifacts_locator) j["artifacts_locator"] = *res.artifacts_locator;
  if (res.coverage) j["coverage"] = *res.coverage;
  return j;
}

Result<JobResult> job_result_from_json(const Json& j) {
  if (!j.is_object()) return Error(ErrorCode::kInvalidArgument, "job result: not a JSON object");
  FieldReader r(j, "job result");
  JobResult res;
  GANTRY_ASSIGN_OR_RETURN(std::string status, r.required<std::string>("status"));
  auto st = parse_job_status(status);
  if (!st) return r.bad("status", "unknown value '" + status + "' (success, failed, canceled)");
  res.status = *st;
  GANTRY_ASSIGN_OR_RETURN(std::string reason, r.optional<std::string>("failure_reason", ""));
  auto fr = parse_failure_reason(reason);
  if (!fr) return r.bad("failure_reason", "unknown value '" + reason + "'");
  res.failure_reason = *fr;
  if (j.contains("exit_code") && !j.at("exit_code").is_null()) {
    GANTRY_ASSIGN_OR_RETURN(res.exit_code, r.required<int>("exit_code"));
  }
  GANTRY_ASSIGN_OR_RETURN(res.message, r.optional<std::string>("message", ""));
  GANTRY_ASSIGN_OR_RETURN(res.started_at, r.optional<std::string>("started_at", ""));
  GANTRY_ASSIGN_OR_RETURN(res.finished_at, r.optional<std::string>("finished_at", ""));
  GANTRY_ASSIGN_OR_RETURN(res.duration_seconds, r.optional<double>("duration_seconds", 0.0));
  GANTRY_ASSIGN_OR_RETURN(res.log_bytes, r.optional<std::uint64_t>("log_bytes", 0));
  GANTRY_ASSIGN_OR_RETURN(res.log_sha256, r.optional<std::string>("log_sha256", ""));
  if (j.contains("artifacts_locator") && !j.at("artifacts_locator").is_null()) {
    GANTRY_ASSIGN_OR_RETURN(res.artifacts_locator, r.required<std::string>("artifacts_locator"));
  }
  if (j.contains("coverage") && !j.at("coverage").is_null()) {
    GANTRY_ASSIGN_OR_RETURN(res.coverage, r.required<double>("coverage"));
  }
  if (res.status == JobStatus::kSuccess && res.failure_reason != FailureReason::kNone) {
    return r.bad("failure_reason", "set on a successful job");
  }
  return res;
}

}  // namespace gantry::schema
