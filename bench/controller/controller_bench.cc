// controller_bench: the API-side measurements of bench/controller.sh, against a running
// `gantry controller`, over common/http's client (one kept-alive connection, like an agent's).
//
//   gantry_bench_controller trigger --url U --admin-token T --project P [--runs N]
//       N times: POST /api/v1/pipelines, then follow the first job's log (GET …/log?wait=30)
//       until its first complete line has arrived, then wait for the pipeline to finish.
//       Needs one idle `gantry agent`. Prints per run
//       "first_byte_ms first_line_ms finish_ms job_id pipeline_id trigger_ms lease_ms":
//       trigger_ms is the POST's own time (git and planning on the controller), lease_ms when
//       the agent got the job (trigger_ms + the job's queued_duration_seconds), so
//       first_line_ms - lease_ms is the agent's part: checkout, container, first upload.
//   gantry_bench_controller ingest --url U --admin-token T --registration-token R --project P
//                                  [--megabytes N] [--chunk BYTES]
//       Registers a fake agent, takes the job of a freshly triggered pipeline, appends N MB of
//       log lines in chunks at byte offsets (the agent's protocol; default chunk = the agent's
//       LogUploader chunk, 1 MiB), then reports the job finished with the log's size and
//       SHA-256 (computed after the timed appends: the driver's hashing would otherwise take
//       CPU from the controller on a small machine). No real agent may be polling. Prints
//       "bytes seconds mb_per_s job_id".
//   gantry_bench_controller seed --url U --admin-token T --project P --pipelines N [--cancel]
//       Triggers N pipelines (and cancels each when --cancel), for the read benchmarks.
// Exit 0 on success; errors name the call that failed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/http/client.h"
#include "common/json.h"
#include "common/result.h"
#include "pipeline-schema/job_spec.h"

namespace {

using namespace gantry;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "controller_bench: %s\n", message.c_str());
  std::exit(1);
}

class Api {
 public:
  Api(std::string url, std::string token) : url_(std::move(url)), token_(std::move(token)) {}
  void set_token(std::string token) { token_ = std::move(token); }

  // Sends a request; dies on a transport error. Returns the response whatever its status.
  http::ClientResponse call(const std::string& method, const std::string& path,
                            std::string body = {}, const std::string& content_type =
                                                       "application/json") {
    http::ClientRequest req;
    req.method = method;
    req.url = url_ + path;
    req.headers.set("Authorization", "Bearer " + token_);
    if (!body.empty() || method != "GET") req.headers.set("Content-Type", content_type);
    req.body = std::move(body);
    auto r = client_.send(req, 64 << 20);
    if (!r.ok()) die(method + " " + path + ": " + r.error().message());
    return std::move(*r);
  }

  // call() that expects a 2xx JSON answer.
  Json json(const std::string& method, const std::string& path, const Json& body = Json()) {
    auto r = call(method, path, body.is_null() ? std::string() : body.dump());
    if (r.status / 100 != 2) {
      die(method + " " + path + ": status " + std::to_string(r.status) + ": " + r.body);
    }
    if (r.status == 204) return Json();
    auto j = parse_json(r.body, method + " " + path);
    if (!j.ok()) die(j.error().message());
    return *j;
  }

 private:
  std::string url_;
  std::string token_;
  http::Client client_;
};

std::map<std::string, std::string> parse_flags(int argc, char** argv, int from) {
  std::map<std::string, std::string> flags;
  for (int i = from; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) die("unexpected argument '" + a + "'");
    if (a == "--cancel") {
      flags[a] = "1";
    } else if (i + 1 < argc) {
      flags[a] = argv[++i];
    } else {
      die("option '" + a + "' needs a value");
    }
  }
  return flags;
}

std::string need(const std::map<std::string, std::string>& f, const std::string& name) {
  auto it = f.find(name);
  if (it == f.end() || it->second.empty()) die("missing " + name);
  return it->second;
}

long number(const std::map<std::string, std::string>& f, const std::string& name, long dflt) {
  auto it = f.find(name);
  if (it == f.end()) return dflt;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  if (*end != '\0' || v <= 0) die(name + " '" + it->second + "': expected a positive number");
  return v;
}

Json trigger(Api& api, const std::string& project) {
  return api.json("POST", "/api/v1/pipelines", Json{{"project", project}});
}

bool finished(const std::string& status) {
  return status == "success" || status == "failed" || status == "canceled" ||
         status == "skipped";
}

int run_trigger(const std::map<std::string, std::string>& f) {
  Api api(need(f, "--url"), need(f, "--admin-token"));
  std::string project = need(f, "--project");
  long runs = number(f, "--runs", 20);
  for (long i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    Json p = trigger(api, project);
    double trigger_ms = ms_since(t0);
    if (p.value("status", "") == "failed") die("pipeline failed to plan: " + p.dump());
    if (!p["jobs"].is_array() || p["jobs"].empty()) die("pipeline has no jobs: " + p.dump());
    long long job = p["jobs"][0]["id"].get<long long>();
    long long pipeline = p["id"].get<long long>();
    std::string log;
    uint64_t offset = 0;
    double first_byte = -1, first_line = -1;
    while (first_line < 0) {
      auto r = api.call("GET", "/api/v1/jobs/" + std::to_string(job) +
                                   "/log?wait=30&offset=" + std::to_string(offset));
      if (r.status != 200) die("read log of job " + std::to_string(job) + ": " + r.body);
      if (!r.body.empty() && first_byte < 0) first_byte = ms_since(t0);
      log += r.body;
      if (log.find('\n') != std::string::npos) first_line = ms_since(t0);
      offset = std::stoull(r.headers.get("X-Log-Next-Offset").value_or("0"));
      if (first_line < 0 && r.headers.get("X-Log-Complete").value_or("") == "true") {
        die("job " + std::to_string(job) + " finished without a complete log line");
      }
    }
    // The next run starts with the agent idle again.
    std::string status;
    for (;;) {
      Json q = api.json("GET", "/api/v1/pipelines/" + std::to_string(pipeline));
      status = q.value("status", "");
      if (finished(status)) break;
      // Follow the job's log to its end rather than polling the pipeline in a loop.
      auto r = api.call("GET", "/api/v1/jobs/" + std::to_string(job) +
                                   "/log?wait=30&offset=" + std::to_string(offset));
      offset = std::stoull(r.headers.get("X-Log-Next-Offset").value_or("0"));
      if (r.headers.get("X-Log-Complete").value_or("") == "true") {
        // The log is complete a moment before the pipeline's status is written.
        Json again = api.json("GET", "/api/v1/pipelines/" + std::to_string(pipeline));
        status = again.value("status", "");
        if (finished(status)) break;
      }
    }
    double finish = ms_since(t0);
    if (status != "success") die("pipeline " + std::to_string(pipeline) + " ended " + status);
    Json j = api.json("GET", "/api/v1/jobs/" + std::to_string(job));
    double queued_ms = j.value("queued_duration_seconds", 0.0) * 1000.0;
    std::printf("%.2f %.2f %.2f %lld %lld %.2f %.2f\n", first_byte, first_line, finish, job,
                pipeline, trigger_ms, trigger_ms + queued_ms);
    std::fflush(stdout);
  }
  return 0;
}

int run_ingest(const std::map<std::string, std::string>& f) {
  std::string url = need(f, "--url");
  Api admin(url, need(f, "--admin-token"));
  Api agent(url, need(f, "--registration-token"));
  std::string project = need(f, "--project");
  long megabytes = number(f, "--megabytes", 500);
  long chunk = number(f, "--chunk", 1024 * 1024);

  Json reg = agent.json("POST", "/api/v1/agent/register", Json{{"name", "bench-ingest"}});
  agent.set_token(reg["token"].get<std::string>());
  Json p = trigger(admin, project);
  if (!p["jobs"].is_array() || p["jobs"].empty()) die("pipeline has no jobs: " + p.dump());
  Json lease = agent.json("POST", "/api/v1/agent/jobs/request?wait=30");
  if (lease.is_null()) die("no job was handed out within 30 s");
  long long job = lease["job_id"].get<long long>();
  long long attempt = lease["attempt"].get<long long>();
  std::string jp = "/api/v1/agent/jobs/" + std::to_string(job);
  agent.json("POST", jp + "/heartbeat", Json{{"attempt", attempt}});

  // Log lines like a build's: a counter and some text, 100 bytes each.
  std::string block;
  for (int i = 0; block.size() < static_cast<size_t>(chunk); ++i) {
    char line[128];
    std::snprintf(line, sizeof line, "%08d compiling src/module_%04d.cc -O2 -Wall -Wextra "
                                     "-Werror -std=c++20 -o build/module.o ok\n",
                  i, i % 10000);
    block += line;
  }
  block.resize(static_cast<size_t>(chunk));
  uint64_t total = static_cast<uint64_t>(megabytes) * 1000 * 1000;
  uint64_t offset = 0;
  auto t0 = Clock::now();
  while (offset < total) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(block.size(), total - offset));
    auto r = agent.call("POST",
                        jp + "/log?attempt=" + std::to_string(attempt) +
                            "&offset=" + std::to_string(offset),
                        block.substr(0, n), "application/octet-stream");
    if (r.status != 200) die("append at offset " + std::to_string(offset) + ": " + r.body);
    offset += n;
  }
  double seconds = ms_since(t0) / 1000.0;
  Sha256 sha;
  for (uint64_t at = 0; at < offset; at += block.size()) {
    sha.update(std::string_view(block).substr(0, static_cast<size_t>(std::min<uint64_t>(
                                                     block.size(), offset - at))));
  }

  schema::JobResult result;
  result.status = schema::JobStatus::kSuccess;
  result.failure_reason = schema::FailureReason::kNone;
  result.exit_code = 0;
  result.log_bytes = offset;
  result.log_sha256 = sha.finish_hex();
  agent.json("POST", jp + "/finish",
             Json{{"attempt", attempt}, {"result", schema::job_result_to_json(result)}});
  std::printf("%llu %.3f %.1f %lld\n", static_cast<unsigned long long>(offset), seconds,
              static_cast<double>(offset) / 1e6 / seconds, job);
  return 0;
}

int run_seed(const std::map<std::string, std::string>& f) {
  Api api(need(f, "--url"), need(f, "--admin-token"));
  std::string project = need(f, "--project");
  long count = number(f, "--pipelines", 100);
  bool cancel = f.count("--cancel") > 0;
  for (long i = 0; i < count; ++i) {
    Json p = trigger(api, project);
    if (cancel) {
      api.json("POST", "/api/v1/pipelines/" + std::to_string(p["id"].get<long long>()) +
                           "/cancel");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s trigger|ingest|seed --url URL ... (see the source)\n",
                 argv[0]);
    return 2;
  }
  std::string what = argv[1];
  auto flags = parse_flags(argc, argv, 2);
  if (what == "trigger") return run_trigger(flags);
  if (what == "ingest") return run_ingest(flags);
  if (what == "seed") return run_seed(flags);
  die("unknown benchmark '" + what + "' (trigger, ingest, seed)");
}
