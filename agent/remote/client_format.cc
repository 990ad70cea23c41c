#include "agent/remote/client_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gantry::agent {

namespace {

// A field as text: strings as they are, numbers and booleans printed, null/missing as "-".
std::string text(const Json& obj, const char* key) {
  if (!obj.is_object()) return "-";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "-";
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    return s.empty() ? "-" : s;
  }
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump();
}

std::string short_sha(const Json& obj) {
  std::string sha = text(obj, "sha");
  return sha == "-" ? sha : sha.substr(0, 8);
}

// "2026-11-29T07:30:00Z" -> "2026-11-29 07:30:00"
std::string when(const Json& obj, const char* key) {
  std::string t = text(obj, key);
  if (t.size() >= 19 && t[10] == 'T') return t.substr(0, 10) + " " + t.substr(11, 8);
  return t;
}

std::string joined(const Json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_array() || obj[key].empty())
    return "-";
  std::string out;
  for (const auto& v : obj[key]) {
    if (!out.empty()) out += ",";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

std::string job_status(const Json& job) {
  std::string s = text(job, "status");
  if (s == "failed" && job.value("allow_failure", false)) s += " (allowed)";
  return s;
}

std::string duration_of(const Json& obj) {
  auto it = obj.is_object() ? obj.find("duration_seconds") : obj.end();
  if (!obj.is_object() || it == obj.end() || !it->is_number()) return "-";
  return format_duration(it->get<double>());
}

const Json& array_or_empty(const Json& j) {
  static const Json empty = Json::array();
  return j.is_array() ? j : empty;
}

}  // namespace

std::string format_projects(const Json& projects) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : array_or_empty(projects)) {
    rows.push_back(
        {text(p, "id"), text(p, "name"), text(p, "default_branch"), text(p, "repo_url")});
  }
  return format_table({"ID", "NAME", "BRANCH", "REPOSITORY"}, rows);
}

std::string format_pipelines(const Json& pipelines) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : array_or_empty(pipelines)) {
    rows.push_back({text(p, "id"), text(p, "project"), text(p, "ref"), short_sha(p),
                    text(p, "status"), text(p, "source"), when(p, "created_at")});
  }
  return format_table({"ID", "PROJECT", "REF", "SHA", "STATUS", "SOURCE", "CREATED"}, rows);
}

std::string format_pipeline(const Json& p) {
  std::string out;
  out += "pipeline " + text(p, "id") + "  " + text(p, "status");
  if (text(p, "failure_reason") != "-") out += " (" + text(p, "failure_reason") + ")";
  out += "\n";
  out += "project  " + text(p, "project") + "\n";
  out += "ref      " + text(p, "ref") + (p.value("tag", false) ? " (tag)" : "") + "\n";
  out += "commit   " + text(p, "sha") + "\n";
  out += "source   " + text(p, "source") + "\n";
  out += "created  " + when(p, "created_at");
  if (when(p, "finished_at") != "-") out += ", finished " + when(p, "finished_at");
  out += "\n";
  if (p.is_object() && p.contains("diagnostics") && p["diagnostics"].is_array() &&
      !p["diagnostics"].empty()) {
    out += "\n";
    for (const auto& d : p["diagnostics"])
      out += (d.is_string() ? d.get<std::string>() : d.dump()) + "\n";
  }
  const Json& jobs = p.is_object() && p.contains("jobs") ? p["jobs"] : Json();
  if (jobs.is_array() && !jobs.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& j : jobs) {
      std::string agent = "-";
      if (j.contains("agent") && j["agent"].is_object()) agent = text(j["agent"], "name");
      rows.push_back({text(j, "id"), text(j, "stage"), text(j, "name"), job_status(j),
                      text(j, "failure_reason"), duration_of(j), agent});
    }
    out +=
        "\n" + format_table({"ID", "STAGE", "NAME", "STATUS", "REASON", "DURATION", "AGENT"}, rows);
  }
  return out;
}

std::string format_job(const Json& j) {
  std::vector<std::vector<std::string>> rows = {
      {"job", text(j, "id")},
      {"name", text(j, "name")},
      {"pipeline", text(j, "pipeline_id")},
      {"project", text(j, "project")},
      {"stage", text(j, "stage")},
      {"status", job_status(j)},
      {"failure reason", text(j, "failure_reason")},
      {"exit code", text(j, "exit_code")},
      {"when", text(j, "when")},
      {"attempt", text(j, "attempt")},
      {"agent", j.is_object() && j.contains("agent") && j["agent"].is_object()
                    ? text(j["agent"], "name")
                    : "-"},
      {"tags", joined(j, "tags")},
      {"needs", joined(j, "needs")},
  };
  // A delayed job says when it becomes pending.
  if (j.is_object() && j.contains("scheduled_at") && j["scheduled_at"].is_string()) {
    rows.push_back({"scheduled at", when(j, "scheduled_at")});
  }
  std::vector<std::vector<std::string>> times = {
      {"started", when(j, "started_at")},
      {"finished", when(j, "finished_at")},
      {"duration", duration_of(j)},
      {"log size", text(j, "log_size")},
  };
  rows.insert(rows.end(), times.begin(), times.end());
  std::string out;
  for (const auto& r : rows) {
    out += r[0] + ":" + std::string(15 - r[0].size(), ' ') + r[1] + "\n";
  }
  return out;
}

std::string format_agents(const Json& agents) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : array_or_empty(agents)) {
    std::string state = a.value("paused", false) ? "paused"
                        : a.value("online", false) ? "online"
                                                   : "offline";
    std::string running = "-";
    if (a.contains("running_jobs") && a["running_jobs"].is_array()) {
      running = std::to_string(a["running_jobs"].size());
    }
    rows.push_back({text(a, "id"), text(a, "name"), state, joined(a, "labels"), running,
                    when(a, "last_seen_at")});
  }
  return format_table({"ID", "NAME", "STATE", "LABELS", "JOBS", "LAST SEEN"}, rows);
}

}  // namespace gantry::agent
