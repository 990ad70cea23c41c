#include "controller/api/routes.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <memory>

#include "common/logging.h"
#include "common/unique_fd.h"
#include "controller/web_files.h"

namespace gantry::controller {

namespace {

constexpr size_t kMaxJsonBody = 1 << 20;
constexpr size_t kMaxLogChunk = 8 << 20;
// GitHub caps push payloads at 25 MB but only pushes of thousands of commits come near; the
// server's body limit is the log chunk's anyway.
constexpr size_t kMaxHookBody = 8 << 20;

// kPublic: anyone (the dashboard's static files); kWebhook: the handler checks the project's
// webhook secret itself.
enum class Auth { kAdmin, kAgent, kRegistration, kPublic, kWebhook };

struct Call {
  Controller& c;
  http::Request req;
  std::vector<std::string> params;
  Caller caller;
  http::Responder respond;
};

using RouteFn = void (*)(Call&);

struct Route {
  const char* method;
  const char* path;
  Auth auth;
  const char* help;
  RouteFn fn;
};

http::Response json_response(int status, const Json& body) {
  http::Response r;
  r.status = status;
  if (status != 204) {
    r.body = body.dump() + "\n";
    r.headers.set("Content-Type", "application/json");
  }
  return r;
}

http::Response error_response(const Error& e) {
  return json_response(http_status_for(e.code()),
                       Json{{"error", e.message()}, {"code", api_code_for(e.code())}});
}

void reply(Call& call, Result<ApiReply> r) {
  if (!r.ok()) {
    if (http_status_for(r.error().code()) >= 500) {
      logger("api")->error("request failed method={} target={} error={}", call.req.method,
                           call.req.target, r.error().message());
    }
    call.respond.send(error_response(r.error()));
    return;
  }
  call.respond.send(json_response(r->status, r->body));
}

// Replies through a copy of the responder: for answers that come later.
std::function<void(Result<ApiReply>)> replier(const Call& call) {
  return [respond = call.respond](Result<ApiReply> r) {
    if (!r.ok()) return respond.send(error_response(r.error()));
    respond.send(json_response(r->status, r->body));
  };
}

Result<Json> json_body(const Call& call, bool allow_empty = false) {
  if (call.req.body.size() > kMaxJsonBody) {
    return Error(ErrorCode::kResourceExhausted,
                 "request body: " + std::to_string(call.req.body.size()) +
                     " bytes, the limit for JSON is " + std::to_string(kMaxJsonBody));
  }
  if (call.req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (allow_empty) return Json::object();
    return Error(ErrorCode::kInvalidArgument, "request body: empty, expected a JSON object");
  }
  return parse_json(call.req.body, "request body");
}

std::optional<std::string> query_param(const Call& call, std::string_view name) {
  for (auto& [k, v] : http::parse_query(call.req.query())) {
    if (k == name) return v;
  }
  return std::nullopt;
}

template <typename T>
Result<T> number_param(const Call& call, std::string_view name, T fallback, T min, T max) {
  auto v = query_param(call, name);
  if (!v) return fallback;
  T out{};
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || out < min || out > max) {
    return Error(ErrorCode::kInvalidArgument,
                 "query parameter '" + std::string(name) + "': '" + *v +
                     "' is not a number from " + std::to_string(min) + " to " +
                     std::to_string(max));
  }
  return out;
}

Result<int64_t> id_param(const Call& call, size_t index, std::string_view what) {
  const std::string& s = call.params[index];
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr != s.data() + s.size() || out <= 0) {
    return Error(ErrorCode::kNotFound, std::string(what) + " '" + s + "' not found");
  }
  return out;
}

#define ROUTE_TRY_ASSIGN(lhs, expr)           \
  auto GANTRY_CONCAT(r_, __LINE__) = (expr);  \
  if (!GANTRY_CONCAT(r_, __LINE__).ok()) {    \
    reply(call, GANTRY_CONCAT(r_, __LINE__).error()); \
    return;                                   \
  }                                           \
  lhs = std::move(GANTRY_CONCAT(r_, __LINE__)).value()

http::Response file_response(const ArtifactFile& file) {
  auto fd = std::make_shared<UniqueFd>(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!*fd) return error_response(sys_error("open artifacts '" + file.digest + "'"));
  http::Response r;
  r.headers.set("Content-Type", "application/x-tar");
  r.headers.set("X-Artifacts-Digest", file.digest);
  r.stream = [fd]() -> Result<std::string> {
    std::string buf(256 * 1024, '\0');
    for (;;) {
      ssize_t n = ::read(fd->get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read artifacts");
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
  };
  return r;
}

// ---- handlers ----

void create_project(Call& call) {
  ROUTE_TRY_ASSIGN(Json body, json_body(call));
  reply(call, call.c.create_project(body));
}
void list_projects(Call& call) { reply(call, call.c.list_projects()); }
void show_project(Call& call) { reply(call, call.c.show_project(call.params[0])); }
void set_variable(Call& call) {
  ROUTE_TRY_ASSIGN(Json body, json_body(call));
  reply(call, call.c.set_variable(call.params[0], call.params[1], body));
}
void delete_variable(Call& call) {
  reply(call, call.c.delete_variable(call.params[0], call.params[1]));
}
void set_webhook_secret(Call& call) {
  ROUTE_TRY_ASSIGN(Json body, json_body(call, true));
  reply(call, call.c.set_webhook_secret(call.params[0], body));
}
void push_hook(Call& call) {
  if (call.req.body.size() > kMaxHookBody) {
    return reply(call, Error(ErrorCode::kResourceExhausted,
                             "webhook body: " + std::to_string(call.req.body.size()) +
                                 " bytes, the limit is " + std::to_string(kMaxHookBody)));
  }
  call.c.push_hook(call.params[0], call.req.headers, std::move(call.req.body), replier(call));
}
void dashboard_index(Call& call) {
  call.respond.send(
      web_file_response("index.html", call.req.headers.get("If-None-Match").value_or("")));
}
void dashboard_file(Call& call) {
  call.respond.send(
      web_file_response(call.params[0], call.req.headers.get("If-None-Match").value_or("")));
}
void create_pipeline(Call& call) {
  ROUTE_TRY_ASSIGN(Json body, json_body(call));
  call.c.create_pipeline(body, replier(call));
}
void list_pipelines(Call& call) {
  PipelineFilter f;
  ROUTE_TRY_ASSIGN(f.limit, number_param<int>(call, "limit", 50, 1, 500));
  ROUTE_TRY_ASSIGN(f.before_id, number_param<int64_t>(call, "before", 0, 0, INT64_MAX));
  f.ref = query_param(call, "ref").value_or("");
  f.status = query_param(call, "status").value_or("");
  reply(call, call.c.list_pipelines(f, query_param(call, "project").value_or("")));
}
void show_pipeline(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "pipeline"));
  reply(call, call.c.show_pipeline(id));
}
void cancel_pipeline(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "pipeline"));
  reply(call, call.c.cancel_pipeline(id));
}
void retry_pipeline(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "pipeline"));
  reply(call, call.c.retry_pipeline(id));
}
void show_job(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  reply(call, call.c.show_job(id));
}
void read_log(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  LogQuery q;
  ROUTE_TRY_ASSIGN(q.offset, number_param<uint64_t>(call, "offset", 0, 0, UINT64_MAX));
  ROUTE_TRY_ASSIGN(q.limit, number_param<size_t>(call, "limit", 4 << 20, 1, 4 << 20));
  ROUTE_TRY_ASSIGN(q.attempt, number_param<int>(call, "attempt", 0, 0, 1 << 20));
  ROUTE_TRY_ASSIGN(int wait, number_param<int>(call, "wait", 0, 0, 30));
  q.wait = std::chrono::seconds(wait);
  call.c.read_log(id, q, [respond = call.respond](Result<LogAnswer> a) {
    if (!a.ok()) return respond.send(error_response(a.error()));
    http::Response r = http::text_response(200, std::move(a->data));
    r.headers.set("X-Log-Size", std::to_string(a->size));
    r.headers.set("X-Log-Next-Offset", std::to_string(a->next_offset));
    r.headers.set("X-Log-Complete", a->complete ? "true" : "false");
    respond.send(std::move(r));
  });
}
void cancel_job(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  reply(call, call.c.cancel_job(id));
}
void retry_job(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  reply(call, call.c.retry_job(id));
}
void play_job(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  reply(call, call.c.play_job(id));
}
void unschedule_job(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  reply(call, call.c.unschedule_job(id));
}
void download_artifacts(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  auto file = call.c.job_artifacts(id);
  if (!file.ok()) return call.respond.send(error_response(file.error()));
  call.respond.send(file_response(*file));
}
void list_agents(Call& call) { reply(call, call.c.list_agents()); }
void pause_agent(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "agent"));
  reply(call, call.c.set_agent_paused(id, true));
}
void resume_agent(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "agent"));
  reply(call, call.c.set_agent_paused(id, false));
}
void register_agent(Call& call) {
  ROUTE_TRY_ASSIGN(Json body, json_body(call, true));
  reply(call, call.c.register_agent(body));
}
void agent_me(Call& call) { reply(call, call.c.agent_me(call.caller.agent_id)); }
void update_agent_me(Call& call) {
  ROUTE_TRY_ASSIGN(Json body, json_body(call));
  reply(call, call.c.update_agent_me(call.caller.agent_id, body));
}
void request_job(Call& call) {
  ROUTE_TRY_ASSIGN(int wait, number_param<int>(call, "wait", 30, 0, 30));
  call.c.request_job(call.caller.agent_id, std::chrono::seconds(wait), replier(call));
}
void heartbeat(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  ROUTE_TRY_ASSIGN(Json body, json_body(call));
  if (!body.is_object() || !body.contains("attempt") || !body.at("attempt").is_number_integer()) {
    return reply(call,
                 Error(ErrorCode::kInvalidArgument, "field 'attempt': missing or not an integer"));
  }
  reply(call, call.c.heartbeat(call.caller.agent_id, id, body.at("attempt").get<int>()));
}
void append_log(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  if (!query_param(call, "attempt") || !query_param(call, "offset")) {
    return reply(call, Error(ErrorCode::kInvalidArgument,
                             "query parameters 'attempt' and 'offset' are required"));
  }
  ROUTE_TRY_ASSIGN(int attempt, number_param<int>(call, "attempt", 0, 1, 1 << 20));
  ROUTE_TRY_ASSIGN(uint64_t offset, number_param<uint64_t>(call, "offset", 0, 0, UINT64_MAX));
  if (call.req.body.size() > kMaxLogChunk) {
    return reply(call, Error(ErrorCode::kResourceExhausted,
                             "log chunk: " + std::to_string(call.req.body.size()) +
                                 " bytes, the limit is " + std::to_string(kMaxLogChunk)));
  }
  reply(call, call.c.append_log(call.caller.agent_id, id, attempt, offset, call.req.body));
}
void upload_artifacts(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  if (!query_param(call, "attempt")) {
    return reply(call, Error(ErrorCode::kInvalidArgument, "query parameter 'attempt' is required"));
  }
  ROUTE_TRY_ASSIGN(int attempt, number_param<int>(call, "attempt", 0, 1, 1 << 20));
  if (call.req.body.size() > call.c.options().max_artifact_bytes) {
    return reply(call, Error(ErrorCode::kResourceExhausted,
                             "artifacts: " + std::to_string(call.req.body.size()) +
                                 " bytes, the limit is " +
                                 std::to_string(call.c.options().max_artifact_bytes)));
  }
  std::string digest = call.req.headers.get("X-Artifacts-Digest").value_or("");
  reply(call, call.c.upload_artifacts(call.caller.agent_id, id, attempt, call.req.body, digest));
}
void finish_job(Call& call) {
  ROUTE_TRY_ASSIGN(int64_t id, id_param(call, 0, "job"));
  ROUTE_TRY_ASSIGN(Json body, json_body(call));
  reply(call, call.c.finish_job(call.caller.agent_id, id, body));
}

const Route kRoutes[] = {
    {"GET", "/", Auth::kPublic, "the dashboard (docs/dashboard.md)", dashboard_index},
    {"GET", "/ui/{file}", Auth::kPublic, "the dashboard's scripts and styles", dashboard_file},
    {"POST", "/api/v1/projects", Auth::kAdmin, "create a project", create_project},
    {"GET", "/api/v1/projects", Auth::kAdmin, "list projects", list_projects},
    {"GET", "/api/v1/projects/{name}", Auth::kAdmin, "show a project", show_project},
    {"PUT", "/api/v1/projects/{name}/variables/{key}", Auth::kAdmin, "set a project variable",
     set_variable},
    {"DELETE", "/api/v1/projects/{name}/variables/{key}", Auth::kAdmin,
     "remove a project variable", delete_variable},
    {"PUT", "/api/v1/projects/{name}/webhook-secret", Auth::kAdmin,
     "set a project's webhook secret", set_webhook_secret},
    {"POST", "/api/v1/projects/{name}/hooks/push", Auth::kWebhook,
     "a push webhook from GitLab or GitHub (the project's secret, no token)", push_hook},
    {"POST", "/api/v1/pipelines", Auth::kAdmin, "trigger a pipeline", create_pipeline},
    {"GET", "/api/v1/pipelines", Auth::kAdmin, "list pipelines", list_pipelines},
    {"GET", "/api/v1/pipelines/{id}", Auth::kAdmin, "show a pipeline with its jobs",
     show_pipeline},
    {"POST", "/api/v1/pipelines/{id}/cancel", Auth::kAdmin, "cancel a pipeline", cancel_pipeline},
    {"POST", "/api/v1/pipelines/{id}/retry", Auth::kAdmin, "retry a pipeline", retry_pipeline},
    {"GET", "/api/v1/jobs/{id}", Auth::kAdmin, "show a job", show_job},
    {"GET", "/api/v1/jobs/{id}/log", Auth::kAdmin, "read a job's log (also live)", read_log},
    {"POST", "/api/v1/jobs/{id}/cancel", Auth::kAdmin, "cancel a job", cancel_job},
    {"POST", "/api/v1/jobs/{id}/retry", Auth::kAdmin, "retry a job", retry_job},
    {"POST", "/api/v1/jobs/{id}/play", Auth::kAdmin, "start a manual job, or a scheduled one now",
     play_job},
    {"POST", "/api/v1/jobs/{id}/unschedule", Auth::kAdmin,
     "turn a scheduled (delayed) job into a manual one", unschedule_job},
    {"GET", "/api/v1/jobs/{id}/artifacts", Auth::kAdmin, "download a job's artifacts",
     download_artifacts},
    {"GET", "/api/v1/agents", Auth::kAdmin, "list agents", list_agents},
    {"POST", "/api/v1/agents/{id}/pause", Auth::kAdmin, "pause an agent", pause_agent},
    {"POST", "/api/v1/agents/{id}/resume", Auth::kAdmin, "resume an agent", resume_agent},
    {"POST", "/api/v1/agent/register", Auth::kRegistration, "register an agent", register_agent},
    {"GET", "/api/v1/agent/me", Auth::kAgent, "the calling agent", agent_me},
    {"PATCH", "/api/v1/agent/me", Auth::kAgent, "update name or labels", update_agent_me},
    {"POST", "/api/v1/agent/jobs/request", Auth::kAgent, "long-poll for a job", request_job},
    {"POST", "/api/v1/agent/jobs/{id}/heartbeat", Auth::kAgent, "extend the lease", heartbeat},
    {"POST", "/api/v1/agent/jobs/{id}/log", Auth::kAgent, "append to the log", append_log},
    {"PUT", "/api/v1/agent/jobs/{id}/artifacts", Auth::kAgent, "upload the job's artifacts",
     upload_artifacts},
    {"GET", "/api/v1/agent/jobs/{id}/artifacts", Auth::kAgent,
     "download another job's artifacts", download_artifacts},
    {"POST", "/api/v1/agent/jobs/{id}/finish", Auth::kAgent, "report the final status",
     finish_job},
};

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Whether `path` fits `pattern`; the {param} segments, decoded, go to `params`.
bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::vector<std::string>& params) {
  if (pattern.size() != path.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (!pattern[i].empty() && pattern[i].front() == '{') {
      if (path[i].empty()) return false;
      auto decoded = http::url_decode(path[i]);
      found.push_back(decoded.ok() ? *decoded : path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

std::string bearer_token(const http::Request& req) {
  auto h = req.headers.get("Authorization");
  if (!h) return "";
  std::string_view v = *h;
  if (v.size() < 7 || !http::iequals(v.substr(0, 7), "bearer ")) return "";
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return std::string(v);
}

bool allowed(Auth auth, const Caller& caller) {
  switch (auth) {
    case Auth::kAdmin: return caller.kind == CallerKind::kAdmin;
    case Auth::kAgent: return caller.kind == CallerKind::kAgent;
    case Auth::kRegistration: return caller.kind == CallerKind::kRegistration;
    case Auth::kPublic:
    case Auth::kWebhook: return true;
  }
  return false;
}

const char* auth_name(Auth a) {
  switch (a) {
    case Auth::kAdmin: return "admin";
    case Auth::kAgent: return "agent";
    case Auth::kRegistration: return "registration";
    case Auth::kPublic: return "none";
    case Auth::kWebhook: return "webhook secret";
  }
  return "";
}

}  // namespace

std::vector<RouteInfo> route_table() {
  std::vector<RouteInfo> out;
  for (const auto& r : kRoutes) out.push_back({r.method, r.path, auth_name(r.auth), r.help});
  return out;
}

int http_status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kResourceExhausted: return 413;
    case ErrorCode::kUnimplemented: return 501;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string api_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "bad_request";
    case ErrorCode::kUnauthenticated: return "unauthorized";
    case ErrorCode::kPermissionDenied: return "forbidden";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: return "conflict";
    case ErrorCode::kResourceExhausted: return "too_large";
    case ErrorCode::kUnimplemented: return "unimplemented";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kDeadlineExceeded: return "timeout";
    default: return "internal";
  }
}

size_t max_request_body(const ControllerOptions& options) {
  return std::max<size_t>({kMaxJsonBody, kMaxLogChunk,
                           static_cast<size_t>(options.max_artifact_bytes)}) + 1;
}

http::AsyncHandler make_api_handler(Controller& controller) {
  struct Compiled {
    const Route* route;
    std::vector<std::string> segments;
  };
  auto compiled = std::make_shared<std::vector<Compiled>>();
  for (const auto& r : kRoutes) compiled->push_back({&r, split_path(r.path)});
  return [&controller, compiled](http::Request req, http::Responder respond) {
    Caller caller = controller.authenticate(bearer_token(req));
    auto unauthorized = [&] {
      respond.send(json_response(401, Json{{"error", "unauthorized"}, {"code", "unauthorized"}}));
    };
    auto path = split_path(req.path());
    std::vector<std::string> params;
    const Route* found = nullptr;
    std::vector<std::string> methods;
    for (const auto& c : *compiled) {
      std::vector<std::string> p;
      if (!match(c.segments, path, p)) continue;
      bool same_method = req.method == c.route->method ||
                         (req.method == "HEAD" && std::string_view(c.route->method) == "GET");
      if (same_method) {
        found = c.route;
        params = std::move(p);
        break;
      }
      methods.push_back(c.route->method);
    }
    if (!found) {
      // Without a valid token nothing about the API's paths is told, not even a 404.
      if (caller.kind == CallerKind::kNone) return unauthorized();
      if (!methods.empty()) {
        http::Response r = json_response(
            405, Json{{"error", "method " + req.method + " not allowed on " +
                                    std::string(req.path())},
                      {"code", "method_not_allowed"}});
        std::string allow;
        for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
        r.headers.set("Allow", allow);
        return respond.send(std::move(r));
      }
      return respond.send(json_response(
          404, Json{{"error", "no route " + req.method + " " + std::string(req.path())},
                    {"code", "not_found"}}));
    }
    if (!allowed(found->auth, caller)) return unauthorized();
    Call call{controller, std::move(req), std::move(params), caller, std::move(respond)};
    found->fn(call);
  };
}

}  // namespace gantry::controller
