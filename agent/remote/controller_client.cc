#include "agent/remote/controller_client.h"

namespace gantry::agent {

namespace {

std::string job_path(int64_t job_id) { return "/api/v1/agent/jobs/" + std::to_string(job_id); }

Result<uint64_t> size_field(const ApiResponse& resp, std::string_view what) {
  auto j = parse_json(resp.body, "controller answer");
  if (!j.ok()) return std::move(j).error().with_context(what);
  auto it = j->find("size");
  if (it == j->end() || !it->is_number_unsigned()) {
    return Error(ErrorCode::kInternal,
                 std::string(what) + ": the controller's answer has no 'size' number");
  }
  return it->get<uint64_t>();
}

bool ok_status_code(int s) { return s >= 200 && s <= 299; }

}  // namespace

Result<Registration> register_agent(ApiTransport& transport, const std::string& name,
                                    const std::vector<std::string>& labels) {
  Json body = {{"labels", labels}};
  if (!name.empty()) body["name"] = name;
  GANTRY_ASSIGN_OR_RETURN(Json j, call_json(transport, "register at '" + transport.base_url() + "'",
                                            "POST", "/api/v1/agent/register", &body));
  Registration r;
  if (!j.is_object() || !j.contains("token") || !j["token"].is_string() || !j.contains("id")) {
    return Error(ErrorCode::kInternal, "register: the controller's answer lacks 'id' or 'token'");
  }
  r.id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
  r.token = j["token"].get<std::string>();
  if (j.contains("name") && j["name"].is_string()) r.name = j["name"].get<std::string>();
  return r;
}

Result<Json> ControllerClient::me() {
  return call_json(transport_, "check the agent token", "GET", "/api/v1/agent/me");
}

Status ControllerClient::update_me(const std::string& name,
                                   const std::vector<std::string>& labels) {
  Json body = {{"labels", labels}};
  if (!name.empty()) body["name"] = name;
  GANTRY_TRY(
      call_json(transport_, "update the agent's labels", "PATCH", "/api/v1/agent/me", &body));
  return ok_status();
}

Result<std::optional<Lease>> ControllerClient::request_job(std::chrono::seconds wait) {
  ApiRequest req;
  req.method = "POST";
  req.path = "/api/v1/agent/jobs/request?wait=" + std::to_string(wait.count());
  req.body = "{}";
  req.extra_time = wait;
  auto resp = transport_.send(req);
  if (!resp.ok()) return std::move(resp).error().with_context("request a job");
  if (resp->status == 204) return std::optional<Lease>{};
  if (!ok_status_code(resp->status)) return api_error(*resp).with_context("request a job");
  GANTRY_ASSIGN_OR_RETURN(Json j, parse_json(resp->body, "job lease"));
  Lease lease;
  try {
    lease.job_id = j.at("job_id").get<int64_t>();
    lease.attempt = j.at("attempt").get<int>();
    if (j.contains("lease_seconds"))
      lease.lease = std::chrono::seconds(j["lease_seconds"].get<int64_t>());
    if (j.contains("heartbeat_seconds")) {
      lease.heartbeat = std::chrono::seconds(j["heartbeat_seconds"].get<int64_t>());
    }
    if (j.contains("repo_url") && j["repo_url"].is_string())
      lease.repo_url = j["repo_url"].get<std::string>();
    lease.spec = j.at("spec");
  } catch (const Json::exception& e) {
    return Error(ErrorCode::kInternal, std::string("job lease: unexpected answer: ") + e.what());
  }
  if (lease.heartbeat.count() <= 0) lease.heartbeat = std::chrono::seconds(10);
  return std::optional<Lease>(std::move(lease));
}

Result<HeartbeatReply> ControllerClient::heartbeat(int64_t job_id, int attempt) {
  std::string what = "heartbeat for job " + std::to_string(job_id);
  ApiRequest req;
  req.method = "POST";
  req.path = job_path(job_id) + "/heartbeat";
  req.body = Json{{"attempt", attempt}}.dump();
  auto resp = transport_.send(req);
  if (!resp.ok()) return std::move(resp).error().with_context(what);
  HeartbeatReply r;
  if (resp->status == 409 && api_error_code(*resp) == "stale_attempt") {
    r.stale = true;
    return r;
  }
  if (!ok_status_code(resp->status)) return api_error(*resp).with_context(what);
  GANTRY_ASSIGN_OR_RETURN(Json j, parse_json(resp->body, "heartbeat answer"));
  r.cancel = j.value("cancel", false);
  r.status = j.value("status", "");
  return r;
}

Result<AppendReply> ControllerClient::append_log(int64_t job_id, int attempt, uint64_t offset,
                                                 std::string_view data) {
  std::string what = "append to the log of job " + std::to_string(job_id);
  ApiRequest req;
  req.method = "POST";
  req.path = job_path(job_id) + "/log?attempt=" + std::to_string(attempt) +
             "&offset=" + std::to_string(offset);
  req.body = std::string(data);
  req.content_type = "application/octet-stream";
  auto resp = transport_.send(req);
  if (!resp.ok()) return std::move(resp).error().with_context(what);
  if (resp->status == 409 && api_error_code(*resp) == "offset_mismatch") {
    GANTRY_ASSIGN_OR_RETURN(uint64_t size, size_field(*resp, what));
    return AppendReply{false, size};
  }
  if (!ok_status_code(resp->status)) return api_error(*resp).with_context(what);
  GANTRY_ASSIGN_OR_RETURN(uint64_t size, size_field(*resp, what));
  return AppendReply{true, size};
}

Result<ArtifactsInfo> ControllerClient::upload_artifacts(int64_t job_id, int attempt,
                                                         const std::string& archive_path) {
  std::string what = "upload the artifacts of job " + std::to_string(job_id);
  ApiRequest req;
  req.method = "PUT";
  req.path = job_path(job_id) + "/artifacts?attempt=" + std::to_string(attempt);
  req.body_file = archive_path;
  req.content_type = "application/x-tar";
  auto resp = transport_.send(req);
  if (!resp.ok()) return std::move(resp).error().with_context(what);
  if (!ok_status_code(resp->status)) return api_error(*resp).with_context(what);
  GANTRY_ASSIGN_OR_RETURN(Json j, parse_json(resp->body, "artifacts answer"));
  ArtifactsInfo info;
  info.digest = j.value("digest", "");
  info.size = j.value("size", uint64_t{0});
  return info;
}

Status ControllerClient::download_artifacts(const std::string& locator, const std::string& dest) {
  std::string what = "download artifacts '" + locator + "'";
  if (locator.rfind("/api/", 0) != 0) {
    return Error(ErrorCode::kInvalidArgument, what + ": not an API path of the controller");
  }
  ApiRequest req;
  req.method = "GET";
  req.path = locator;
  req.response_file = dest;
  auto resp = transport_.send(req);
  if (!resp.ok()) return std::move(resp).error().with_context(what);
  if (!ok_status_code(resp->status)) return api_error(*resp).with_context(what);
  return ok_status();
}

Result<FinishReply> ControllerClient::finish(int64_t job_id, int attempt, const Json& result) {
  std::string what = "report the result of job " + std::to_string(job_id);
  ApiRequest req;
  req.method = "POST";
  req.path = job_path(job_id) + "/finish";
  req.body = Json{{"attempt", attempt}, {"result", result}}.dump();
  auto resp = transport_.send(req);
  if (!resp.ok()) return std::move(resp).error().with_context(what);
  FinishReply r;
  if (resp->status == 409) {
    std::string code = api_error_code(*resp);
    if (code == "stale_attempt") {
      r.stale = true;
      return r;
    }
    if (code == "log_incomplete") {
      GANTRY_ASSIGN_OR_RETURN(r.log_size, size_field(*resp, what));
      return r;
    }
  }
  if (!ok_status_code(resp->status)) return api_error(*resp).with_context(what);
  r.accepted = true;
  if (!resp->body.empty()) {
    GANTRY_ASSIGN_OR_RETURN(Json j, parse_json(resp->body, "finish answer"));
    r.status = j.value("status", "");
  }
  return r;
}

}  // namespace gantry::agent
