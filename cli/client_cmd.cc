// The client commands: `gantry project …`, `gantry pipeline …`, `gantry job …` and `gantry agent
// ls` talk to a controller's HTTP API (docs/api.md) with the admin token, so nobody needs curl.
// Listings and `show` print readable tables, or the API's JSON with --json. Errors are the
// controller's own messages; the exit code follows the error (cli/main.cc's one mapping).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "agent/remote/api_transport.h"
#include "agent/remote/client_config.h"
#include "agent/remote/client_format.h"
#include "cli/command.h"
#include "common/http/message.h"

namespace gantry::cli {

namespace {

using agent::ApiTransport;

struct Connection {
  std::string controller;
  std::string token;
  bool json = false;
};

void add_connection_options(CLI::App& command, Connection& c, bool json_flag) {
  command.add_option("--controller", c.controller,
                     "Controller URL (default: $GANTRY_CONTROLLER, then the config file)");
  command.add_option("--token", c.token,
                     "Admin token (default: $GANTRY_TOKEN, then the config file)");
  if (json_flag) command.add_flag("--json", c.json, "Print the controller's JSON answer");
}

Result<std::unique_ptr<agent::HttpApiTransport>> connect(const Connection& c) {
  auto getenv = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  GANTRY_ASSIGN_OR_RETURN(auto settings,
                          agent::resolve_client_settings(c.controller, c.token, getenv));
  return agent::HttpApiTransport::create(settings.controller, settings.token);
}

void print_json(const Json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// Runs `body` with a connection; an error is printed and becomes the exit code.
template <typename F>
void with_api(CommandContext& ctx, const Connection& c, F&& body) {
  auto transport = connect(c);
  Status st = transport.ok() ? body(**transport) : Status(transport.error());
  if (!st.ok()) ctx.exit_code = report_error(st.error());
}

// "K=V" pairs from repeated options.
Result<Json> parse_vars(const std::vector<std::string>& pairs, const char* option) {
  Json out = Json::object();
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(ErrorCode::kInvalidArgument,
                   std::string(option) + " '" + p + "': expected KEY=VALUE");
    }
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

std::string id_path(const char* kind, const std::string& id) {
  return std::string("/api/v1/") + kind + "/" + http::url_encode(id);
}

Status require_number(const std::string& id, const char* what) {
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string(what) + " id '" + id + "' is not a number");
  }
  return ok_status();
}

// ---- project ---------------------------------------------------------------------------------

// Where the project's push webhook is and, when the controller made the secret, the secret
// (the API shows it only in this answer).
void print_webhook(const Json& p, bool show_secret) {
  std::printf("push webhook: POST <controller URL>%s\n", p.value("webhook_path", "").c_str());
  if (show_secret && p.contains("webhook_secret")) {
    std::printf("webhook secret: %s\n(shown once; `gantry project webhook %s` sets a new one)\n",
                p.value("webhook_secret", "").c_str(), p.value("name", "").c_str());
  }
}

void setup_project_webhook(CLI::App& cmd, CommandContext& ctx) {
  struct Opts : Connection {
    std::string name, secret;
  };
  auto o = std::make_shared<Opts>();
  cmd.add_option("name", o->name, "Project name")->required();
  cmd.add_option("--secret", o->secret, "The new secret (default: a random one, printed once)");
  add_connection_options(cmd, *o, true);
  cmd.callback([o, &ctx] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      Json body = Json::object();
      if (!o->secret.empty()) body["secret"] = o->secret;
      GANTRY_ASSIGN_OR_RETURN(
          Json p, agent::call_json(api, "set the webhook secret of '" + o->name + "'", "PUT",
                                   id_path("projects", o->name) + "/webhook-secret", &body));
      if (o->json) {
        print_json(p);
      } else {
        std::printf("webhook secret of project '%s' replaced\n", o->name.c_str());
        print_webhook(p, o->secret.empty());
      }
      return ok_status();
    });
  });
}

void setup_project_create(CLI::App& cmd, CommandContext& ctx) {
  struct Opts : Connection {
    std::string name, repo, branch, webhook_secret;
    std::vector<std::string> vars, secrets;
  };
  auto o = std::make_shared<Opts>();
  cmd.add_option("name", o->name, "Project name (letters, digits, - _ .)")->required();
  cmd.add_option("--repo", o->repo, "Git repository URL or path the controller can clone")
      ->required();
  cmd.add_option("--default-branch", o->branch, "Default branch (default: main)");
  cmd.add_option("--var", o->vars, "A project variable KEY=VALUE (repeatable)");
  cmd.add_option("--secret", o->secrets,
                 "A masked project variable KEY=VALUE: passed to jobs, [MASKED] in logs, never "
                 "shown by the API (repeatable)");
  cmd.add_option("--webhook-secret", o->webhook_secret,
                 "The secret push webhooks must carry (GitLab's token, GitHub's signing key); "
                 "default: a random one, printed once");
  add_connection_options(cmd, *o, true);
  cmd.callback([o, &ctx] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      Json body = {{"name", o->name}, {"repo_url", o->repo}};
      if (!o->branch.empty()) body["default_branch"] = o->branch;
      if (!o->webhook_secret.empty()) body["webhook_secret"] = o->webhook_secret;
      Json vars = Json::array();
      GANTRY_ASSIGN_OR_RETURN(Json plain, parse_vars(o->vars, "--var"));
      GANTRY_ASSIGN_OR_RETURN(Json masked, parse_vars(o->secrets, "--secret"));
      for (auto& [k, v] : plain.items())
        vars.push_back({{"key", k}, {"value", v}, {"masked", false}});
      for (auto& [k, v] : masked.items())
        vars.push_back({{"key", k}, {"value", v}, {"masked", true}});
      if (!vars.empty()) body["variables"] = vars;
      GANTRY_ASSIGN_OR_RETURN(Json p, agent::call_json(api, "create project '" + o->name + "'",
                                                       "POST", "/api/v1/projects", &body));
      if (o->json) {
        print_json(p);
      } else {
        std::printf("project '%s' created (id %s)\n", o->name.c_str(),
                    p.value("id", Json()).dump().c_str());
        print_webhook(p, o->webhook_secret.empty());
      }
      return ok_status();
    });
  });
}

void setup_project_ls(CLI::App& cmd, CommandContext& ctx) {
  auto o = std::make_shared<Connection>();
  add_connection_options(cmd, *o, true);
  cmd.callback([o, &ctx] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      GANTRY_ASSIGN_OR_RETURN(Json j,
                              agent::call_json(api, "list projects", "GET", "/api/v1/projects"));
      Json list = j.is_object() && j.contains("projects") ? j["projects"] : Json::array();
      if (o->json) {
        print_json(list);
      } else {
        std::fputs(agent::format_projects(list).c_str(), stdout);
      }
      return ok_status();
    });
  });
}

void setup_project_show(CLI::App& cmd, CommandContext& ctx) {
  struct Opts : Connection {
    std::string name;
  };
  auto o = std::make_shared<Opts>();
  cmd.add_option("name", o->name, "Project name")->required();
  add_connection_options(cmd, *o, true);
  cmd.callback([o, &ctx] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      GANTRY_ASSIGN_OR_RETURN(Json p, agent::call_json(api, "show project '" + o->name + "'", "GET",
                                                       id_path("projects", o->name)));
      if (o->json) {
        print_json(p);
        return ok_status();
      }
      std::fputs(agent::format_projects(Json::array({p})).c_str(), stdout);
      if (p.contains("variables") && p["variables"].is_array() && !p["variables"].empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& v : p["variables"]) {
          bool masked = v.value("masked", false);
          rows.push_back({v.value("key", ""), masked ? "[MASKED]"
                                              : v.value("value", Json()).is_string()
                                                  ? v["value"].get<std::string>()
                                                  : "-"});
        }
        std::fputs(("\n" + format_table({"VARIABLE", "VALUE"}, rows)).c_str(), stdout);
      }
      return ok_status();
    });
  });
}

// ---- pipeline --------------------------------------------------------------------------------

// Prints a pipeline-changing call's answer: its JSON, or "pipeline N: status".
void print_pipeline_state(const Json& p, bool json) {
  if (json) {
    print_json(p);
  } else {
    std::printf("pipeline %s: %s\n", p.value("id", Json()).dump().c_str(),
                p.value("status", std::string("?")).c_str());
  }
}

void setup_pipeline_trigger(CLI::App& cmd, CommandContext& ctx) {
  struct Opts : Connection {
    std::string project, ref, sha, source;
    std::vector<std::string> vars;
  };
  auto o = std::make_shared<Opts>();
  cmd.add_option("--project", o->project, "Project name")->required();
  cmd.add_option("--ref", o->ref, "Branch or tag (default: the project's default branch)");
  cmd.add_option("--sha", o->sha, "Commit (default: the ref's head)");
  cmd.add_option("--var", o->vars, "A pipeline variable KEY=VALUE (repeatable)");
  cmd.add_option("--source", o->source, "CI_PIPELINE_SOURCE (default: api)");
  add_connection_options(cmd, *o, true);
  cmd.callback([o, &ctx] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      Json body = {{"project", o->project}};
      if (!o->ref.empty()) body["ref"] = o->ref;
      if (!o->sha.empty()) body["sha"] = o->sha;
      if (!o->source.empty()) body["source"] = o->source;
      GANTRY_ASSIGN_OR_RETURN(Json vars, parse_vars(o->vars, "--var"));
      if (!vars.empty()) body["variables"] = vars;
      GANTRY_ASSIGN_OR_RETURN(
          Json p, agent::call_json(api, "trigger a pipeline of '" + o->project + "'", "POST",
                                   "/api/v1/pipelines", &body));
      if (o->json) {
        print_json(p);
      } else {
        std::printf("%s\n", p.value("id", Json()).dump().c_str());
      }
      // A pipeline file with errors still makes a (failed) pipeline: show why, exit non-zero.
      if (p.value("failure_reason", Json()) == "config_error") {
        if (p.contains("diagnostics") && p["diagnostics"].is_array()) {
          for (const auto& d : p["diagnostics"]) {
            std::fprintf(stderr, "%s\n",
                         d.is_string() ? d.get<std::string>().c_str() : d.dump().c_str());
          }
        }
        ctx.exit_code = 1;
      }
      return ok_status();
    });
  });
}

void setup_pipeline_ls(CLI::App& cmd, CommandContext& ctx) {
  struct Opts : Connection {
    std::string project, ref, status;
    int limit = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd.add_option("--project", o->project, "Only this project's pipelines");
  cmd.add_option("--ref", o->ref, "Only pipelines of this branch or tag");
  cmd.add_option("--status", o->status, "Only pipelines in this status");
  cmd.add_option("--limit", o->limit, "At most this many (default 50)");
  add_connection_options(cmd, *o, true);
  cmd.callback([o, &ctx] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      std::string q;
      auto add = [&](const char* k, const std::string& v) {
        if (v.empty()) return;
        q += (q.empty() ? "?" : "&") + std::string(k) + "=" + http::url_encode(v);
      };
      add("project", o->project);
      add("ref", o->ref);
      add("status", o->status);
      if (o->limit > 0) add("limit", std::to_string(o->limit));
      GANTRY_ASSIGN_OR_RETURN(
          Json j, agent::call_json(api, "list pipelines", "GET", "/api/v1/pipelines" + q));
      Json list = j.is_object() && j.contains("pipelines") ? j["pipelines"] : Json::array();
      if (o->json) {
        print_json(list);
      } else {
        std::fputs(agent::format_pipelines(list).c_str(), stdout);
      }
      return ok_status();
    });
  });
}

// `pipeline show|cancel|retry ID` and `job show|cancel|retry|play ID`: one id, one call.
void setup_id_action(CLI::App& cmd, CommandContext& ctx, const char* kind, const char* verb) {
  struct Opts : Connection {
    std::string id;
  };
  auto o = std::make_shared<Opts>();
  std::string noun = std::string(kind) == "pipelines" ? "pipeline" : "job";
  cmd.add_option("id", o->id, noun + " id")->required();
  add_connection_options(cmd, *o, true);
  cmd.callback([o, &ctx, kind, verb, noun] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      GANTRY_TRY(require_number(o->id, noun.c_str()));
      std::string what = std::string(verb) + " " + noun + " " + o->id;
      bool show = std::string(verb) == "show";
      std::string path = id_path(kind, o->id) + (show ? "" : "/" + std::string(verb));
      GANTRY_ASSIGN_OR_RETURN(Json j, agent::call_json(api, what, show ? "GET" : "POST", path));
      if (o->json) {
        print_json(j);
      } else if (show) {
        std::fputs((noun == "pipeline" ? agent::format_pipeline(j) : agent::format_job(j)).c_str(),
                   stdout);
      } else if (noun == "pipeline") {
        print_pipeline_state(j, false);
      } else {
        std::printf("job %s (%s): %s\n", j.value("id", Json()).dump().c_str(),
                    j.value("name", std::string("?")).c_str(),
                    j.value("status", std::string("?")).c_str());
      }
      return ok_status();
    });
  });
}

// ---- job log ---------------------------------------------------------------------------------

Status write_stdout(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write to stdout");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

void setup_job_log(CLI::App& cmd, CommandContext& ctx) {
  struct Opts : Connection {
    std::string id;
    bool follow = false;
    int attempt = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd.add_option("id", o->id, "Job id")->required();
  cmd.add_flag("-f,--follow", o->follow,
               "Keep printing the log as the job writes it, until it ends");
  cmd.add_option("--attempt", o->attempt, "Which attempt's log (default: the current one)");
  add_connection_options(cmd, *o, false);
  cmd.callback([o, &ctx] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      GANTRY_TRY(require_number(o->id, "job"));
      std::string what = "read the log of job " + o->id;
      uint64_t offset = 0;
      for (;;) {
        agent::ApiRequest req;
        req.path = id_path("jobs", o->id) + "/log?offset=" + std::to_string(offset);
        if (o->attempt > 0) req.path += "&attempt=" + std::to_string(o->attempt);
        if (o->follow) {
          req.path += "&wait=30";
          req.extra_time = std::chrono::seconds(30);
        }
        auto resp = api.send(req);
        if (!resp.ok()) return std::move(resp).error().with_context(what);
        if (resp->status < 200 || resp->status > 299)
          return agent::api_error(*resp).with_context(what);
        GANTRY_TRY(write_stdout(resp->body));
        auto next = resp->headers.get("X-Log-Next-Offset");
        uint64_t next_offset = offset + resp->body.size();
        if (next) next_offset = std::strtoull(next->c_str(), nullptr, 10);
        bool complete = resp->headers.get("X-Log-Complete").value_or("") == "true";
        bool more = next_offset > offset;
        offset = next_offset;
        // Without -f, read what there is now (all of it, across the 4 MiB pages).
        if (!o->follow && !more) break;
        if (o->follow && complete && !more) break;
      }
      return ok_status();
    });
  });
}

// ---- agent ls --------------------------------------------------------------------------------

void setup_agent_ls(CLI::App& cmd, CommandContext& ctx) {
  auto o = std::make_shared<Connection>();
  add_connection_options(cmd, *o, true);
  cmd.callback([o, &ctx] {
    with_api(ctx, *o, [&](ApiTransport& api) -> Status {
      GANTRY_ASSIGN_OR_RETURN(Json j,
                              agent::call_json(api, "list agents", "GET", "/api/v1/agents"));
      Json list = j.is_object() && j.contains("agents") ? j["agents"] : Json::array();
      if (o->json) {
        print_json(list);
      } else {
        std::fputs(agent::format_agents(list).c_str(), stdout);
      }
      return ok_status();
    });
  });
}

}  // namespace

void setup_project_command(CLI::App& command, CommandContext& ctx) {
  command.require_subcommand(1);
  setup_project_create(*command.add_subcommand("create", "Create a project on the controller"),
                       ctx);
  setup_project_ls(*command.add_subcommand("ls", "List the controller's projects"), ctx);
  setup_project_show(*command.add_subcommand("show", "Show a project and its variables"), ctx);
  setup_project_webhook(
      *command.add_subcommand("webhook", "Set a project's push webhook secret (new or random)"),
      ctx);
}

void setup_pipeline_command(CLI::App& command, CommandContext& ctx) {
  command.require_subcommand(1);
  setup_pipeline_trigger(
      *command.add_subcommand("trigger", "Start a pipeline for a project; prints its id"), ctx);
  setup_pipeline_ls(*command.add_subcommand("ls", "List pipelines, newest first"), ctx);
  setup_id_action(*command.add_subcommand("show", "Show a pipeline's status and its jobs"), ctx,
                  "pipelines", "show");
  setup_id_action(*command.add_subcommand("cancel", "Cancel a pipeline's unfinished jobs"), ctx,
                  "pipelines", "cancel");
  setup_id_action(
      *command.add_subcommand("retry", "Run a pipeline's failed and canceled jobs again"), ctx,
      "pipelines", "retry");
}

void setup_job_command(CLI::App& command, CommandContext& ctx) {
  command.require_subcommand(1);
  setup_job_log(*command.add_subcommand("log", "Print a job's log (-f: follow it live)"), ctx);
  setup_id_action(*command.add_subcommand("show", "Show a job"), ctx, "jobs", "show");
  setup_id_action(*command.add_subcommand("cancel", "Cancel a job (stops its container)"), ctx,
                  "jobs", "cancel");
  setup_id_action(*command.add_subcommand("retry", "Run a finished job again"), ctx, "jobs",
                  "retry");
  setup_id_action(*command.add_subcommand("play", "Start a manual job, or a scheduled one now"),
                  ctx, "jobs", "play");
  setup_id_action(*command.add_subcommand("unschedule",
                                          "Turn a scheduled (delayed) job into a manual one"),
                  ctx, "jobs", "unschedule");
}

void add_agent_ls_command(CLI::App& agent_command, CommandContext& ctx) {
  setup_agent_ls(*agent_command.add_subcommand("ls", "List the controller's agents"), ctx);
}

}  // namespace gantry::cli
