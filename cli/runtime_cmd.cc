// `gantry runtime`: the OCI runtime command line (runc's commands, flags and semantics), so
// the agent — or anything that drives runc — can use Gantry's runtime. Flag parsing only; the
// commands live in runtime/oci_cli/.
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/command.h"
#include "common/logging.h"
#include "runtime/oci_cli/args.h"
#include "runtime/oci_cli/commands.h"
#include "runtime/paths.h"

namespace gantry::cli {

namespace {

namespace oci = runtime::oci_cli;

struct RuntimeCommandState {
  std::string root;  // --root of `gantry runtime`
  // runc's other global flags, so that a caller written for runc (containerd's shim) can use
  // this runtime unchanged.
  std::string log_file;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  oci::RunOptions run;
  std::string id;
  std::string signal = "TERM";
  bool all = false;
  bool force = false;
  std::string format = "table";
  bool stats = false;
  std::string spec_bundle = ".";
  bool rootless = false;
  oci::ExecOptions exec;
};

oci::RuntimeOptions runtime_options(const CommandContext& ctx, const RuntimeCommandState& s) {
  return {s.root.empty() ? runtime::paths::runtime_root(ctx.global.root) : s.root};
}

// Set by --log: errors then also go to the log file, where containerd looks for them.
bool g_logging_to_file = false;

void finish(CommandContext& ctx, const Status& st) {
  if (!st.ok() && g_logging_to_file) logger("runtime")->error("{}", st.error().message());
  ctx.exit_code = st.ok() ? 0 : report_error(st.error());
}

// The global flags' effects, before any command runs; --log first, so that a refused flag is
// logged there too.
Status apply_global_flags(const RuntimeCommandState& s) {
  if (s.debug) {
    GANTRY_TRY(init_logging("debug"));
  }
  if (!s.log_file.empty()) {
    GANTRY_TRY(
        log_to_file(s.log_file, s.log_format == "json" ? LogFormat::kJson : LogFormat::kText));
    g_logging_to_file = true;
  }
  if (s.systemd_cgroup) {
    return Error(ErrorCode::kUnimplemented,
                 "--systemd-cgroup: the systemd cgroup driver is not supported; give "
                 "linux.cgroupsPath as a cgroupfs path instead");
  }
  return ok_status();
}

// A command's callback, run after the global flags took effect.
template <typename F>
std::function<void()> command_callback(std::shared_ptr<RuntimeCommandState> s, CommandContext& ctx,
                                       F body) {
  return [s, &ctx, body] {
    if (auto st = apply_global_flags(*s); !st.ok()) return finish(ctx, st);
    body();
  };
}

void add_create_flags(CLI::App& cmd, oci::CreateOptions& o) {
  cmd.add_option("id", o.id, "Container id")->required();
  cmd.add_option("-b,--bundle", o.bundle, "Bundle directory (holds config.json)")
      ->capture_default_str();
  cmd.add_option("--pid-file", o.pid_file, "Write the container's host pid to this file");
  cmd.add_option("--console-socket", o.console_socket,
                 "AF_UNIX socket that receives the pty master (process.terminal)");
}

}  // namespace

void setup_runtime_command(CLI::App& command, CommandContext& ctx) {
  auto s = std::make_shared<RuntimeCommandState>();
  command.require_subcommand(1);
  command.add_option("--root", s->root,
                     "Where container state lives (default: <gantry root>/containers)");
  command.add_option("--log", s->log_file,
                     "Append the runtime's log records here instead of stderr (as runc)");
  command.add_option("--log-format", s->log_format, "Format of --log: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command.add_flag("--debug", s->debug, "Log at debug level");
  command.add_flag("--systemd-cgroup", s->systemd_cgroup,
                   "Refused: only cgroupfs paths are supported (accepted to say so clearly)");

  CLI::App* create = command.add_subcommand("create", "Create a container from a bundle");
  add_create_flags(*create, s->run.create);
  create->callback(command_callback(s, ctx, [s, &ctx] {
    finish(ctx, oci::create_container(runtime_options(ctx, *s), s->run.create));
  }));

  CLI::App* start = command.add_subcommand("start", "Start a created container");
  start->add_option("id", s->id, "Container id")->required();
  start->callback(command_callback(
      s, ctx, [s, &ctx] { finish(ctx, oci::start(runtime_options(ctx, *s), s->id)); }));

  CLI::App* state = command.add_subcommand("state", "Print a container's OCI state as JSON");
  state->add_option("id", s->id, "Container id")->required();
  state->callback(command_callback(s, ctx, [s, &ctx] {
    auto st = oci::state(runtime_options(ctx, *s), s->id);
    if (!st.ok()) return finish(ctx, st.error());
    std::printf("%s\n", st->dump(2).c_str());
    ctx.exit_code = 0;
  }));

  CLI::App* kill = command.add_subcommand("kill", "Send a signal to a container");
  kill->add_flag("-a,--all", s->all, "Signal every process in the container's cgroup");
  kill->add_option("id", s->id, "Container id")->required();
  kill->add_option("signal", s->signal, "Signal name or number")->capture_default_str();
  kill->callback(command_callback(s, ctx, [s, &ctx] {
    auto sig = oci::parse_signal(s->signal);
    if (!sig.ok()) return finish(ctx, sig.error());
    finish(ctx, oci::kill(runtime_options(ctx, *s), s->id, *sig, s->all));
  }));

  CLI::App* del = command.add_subcommand("delete", "Delete a container");
  del->add_flag("-f,--force", s->force, "Kill a running container first");
  del->add_option("id", s->id, "Container id")->required();
  del->callback(command_callback(
      s, ctx, [s, &ctx] { finish(ctx, oci::remove(runtime_options(ctx, *s), s->id, s->force)); }));

  CLI::App* run = command.add_subcommand("run", "Create, start and wait for a container");
  add_create_flags(*run, s->run.create);
  run->add_flag("-d,--detach", s->run.detach, "Return once the container has started");
  run->add_option("--timeout", s->run.timeout_seconds,
                  "Kill the container's whole cgroup after this many seconds");
  run->add_option("--stats-file", s->run.stats_file,
                  "Write cpu time, peak memory and OOM kills as JSON here");
  run->callback(command_callback(s, ctx, [s, &ctx] {
    auto outcome = oci::run(runtime_options(ctx, *s), s->run);
    if (!outcome.ok()) return finish(ctx, outcome.error());
    ctx.exit_code = outcome->exit_code;
  }));

  CLI::App* list = command.add_subcommand("list", "List containers");
  list->add_option("-f,--format", s->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  list->callback(command_callback(s, ctx, [s, &ctx] {
    auto out = oci::list(runtime_options(ctx, *s),
                         s->format == "json" ? oci::ListFormat::kJson : oci::ListFormat::kTable);
    if (!out.ok()) return finish(ctx, out.error());
    std::fputs(out->c_str(), stdout);
    ctx.exit_code = 0;
  }));

  CLI::App* exec = command.add_subcommand("exec", "Run another process in a running container");
  exec->add_option("id", s->exec.id, "Container id")->required();
  exec->add_option("--cwd", s->exec.cwd, "Working directory (default: the container's)");
  exec->add_option("-e,--env", s->exec.env, "KEY=VALUE added to the container's environment");
  exec->add_option("-u,--user", s->exec.user, "UID[:GID] (default: the container's user)");
  exec->add_flag("-t,--tty", s->exec.tty, "Give the process a terminal (needs --console-socket)");
  exec->add_option("--console-socket", s->exec.console_socket,
                   "AF_UNIX socket that receives the pty master");
  exec->add_option("-p,--process", s->exec.process_file,
                   "The whole process as an OCI process JSON file (instead of a command)");
  exec->add_flag("-d,--detach", s->exec.detach, "Return once the process has started");
  exec->add_option("--pid-file", s->exec.pid_file, "Write the process's host pid to this file");
  exec->add_option("command", s->exec.args, "The command and its arguments, after --");
  exec->callback(command_callback(s, ctx, [s, &ctx] {
    auto code = oci::exec(runtime_options(ctx, *s), s->exec);
    if (!code.ok()) return finish(ctx, code.error());
    ctx.exit_code = *code;
  }));

  CLI::App* events = command.add_subcommand("events", "Print a container's resource usage");
  events->add_flag("--stats", s->stats, "Print one usage object and exit")->required();
  events->add_option("id", s->id, "Container id")->required();
  events->callback(command_callback(s, ctx, [s, &ctx] {
    auto st = oci::stats(runtime_options(ctx, *s), s->id);
    if (!st.ok()) return finish(ctx, st.error());
    std::printf("%s\n", st->dump().c_str());
    ctx.exit_code = 0;
  }));

  CLI::App* spec = command.add_subcommand("spec", "Write a default config.json");
  spec->add_option("-b,--bundle", s->spec_bundle, "Bundle directory")->capture_default_str();
  spec->add_flag("--rootless", s->rootless, "A config for an unprivileged user");
  spec->callback(command_callback(
      s, ctx, [s, &ctx] { finish(ctx, oci::write_spec(s->spec_bundle, s->rootless)); }));
}

}  // namespace gantry::cli
