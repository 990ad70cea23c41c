// The `gantry` executable users run: a small, statically linked front that runs the OCI runtime
// (`gantry runtime …`, or `gantry-runtime …` when called by that name, as runc is) itself and
// execs the full command set (`gantry-cli`, built from cli/main.cc, beside it or in
// ../libexec/gantry/) for every other command. Container lifecycles are short and frequent;
// this keeps OpenSSL, libarchive, yaml-cpp, RE2, Boost and their initialisers out of them.
// Both paths use the same CLI11 setup, so flags, help and errors are the same either way.
// Called `gantry-init` (bind-mounted into a container run by runc or crun), it is the
// container's init reaper (runtime/reaper.h).
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "cli/command.h"
#include "cli/runtime_cmd.h"
#include "common/logging.h"
#include "runtime/reaper.h"

namespace gantry::cli {

namespace {

constexpr const char* kFullCli = "gantry-cli";

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The subcommand word of `gantry [GLOBAL OPTIONS] COMMAND …`, or "" when an option that is
// not a known global one comes first (--help, a typo): the full CLI answers those.
std::string_view subcommand_of(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--root" || a == "--log-level") {
      ++i;
      continue;
    }
    if (a.starts_with("--root=") || a.starts_with("--log-level=")) continue;
    if (a.starts_with("-")) return "";
    return a;
  }
  return "";
}

// Where the full command set is: beside this executable (the build tree, a bin/ install with
// both) or in ../libexec/gantry/ (an install that keeps it out of PATH).
std::string full_cli_path() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  std::string dir(self, static_cast<size_t>(n));
  dir.resize(dir.rfind('/'));
  for (std::string candidate :
       {dir + "/" + kFullCli, dir + "/../libexec/gantry/" + kFullCli}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return dir + "/" + kFullCli;
}

int exec_full_cli(char** argv) {
  std::string path = full_cli_path();
  ::execv(path.c_str(), argv);
  int err = errno;
  std::fprintf(stderr, "gantry: run the full command set '%s': %s\n", path.c_str(),
               std::strerror(err));
  return 127;
}

void add_global_options(CLI::App& app, CommandContext& ctx, bool with_root) {
  if (with_root) {
    app.add_option("--root", ctx.global.root, "State root for every command")
        ->capture_default_str();
  }
  app.add_option("--log-level", ctx.global.log_level,
                 "Log level: trace, debug, info, warn, error, off")
      ->capture_default_str();
  app.parse_complete_callback([&ctx] {
    if (auto st = init_logging(ctx.global.log_level); !st.ok()) {
      throw CLI::ValidationError("--log-level", st.error().message());
    }
  });
}

// `gantry runtime …`, exactly as the full CLI's table sets it up.
int runtime_main(int argc, char** argv) {
  CLI::App app{"Gantry: a CI/CD pipeline executor on its own container runtime"};
  app.require_subcommand(1);
  app.fallthrough(false);
  CommandContext ctx;
  add_global_options(app, ctx, /*with_root=*/true);
  CLI::App* sub = app.add_subcommand("runtime", kRuntimeCommandHelp);
  setup_runtime_command(*sub, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ctx.exit_code;
}

// `gantry-runtime [--root DIR] [--log-level L] COMMAND …`: the OCI runtime under its own name,
// for tools that take one executable path (containerd shims, conformance suites).
int standalone_runtime_main(int argc, char** argv) {
  CLI::App app{"Gantry's OCI runtime: create, start, run, kill, delete containers (as runc)"};
  CommandContext ctx;
  // The runtime's own --root (where container state lives) takes the place of the global one.
  add_global_options(app, ctx, /*with_root=*/false);
  setup_runtime_command(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ctx.exit_code;
}

}  // namespace

int front_main(int argc, char** argv) {
  if (argc > 0 && base_name(argv[0]) == "gantry-init") runtime::run_init_command(argc, argv);
  if (argc > 0 && base_name(argv[0]) == "gantry-runtime") {
    return standalone_runtime_main(argc, argv);
  }
  if (subcommand_of(argc, argv) == "runtime") return runtime_main(argc, argv);
  return exec_full_cli(argv);
}

}  // namespace gantry::cli

int main(int argc, char** argv) {
  try {
    return gantry::cli::front_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gantry: internal error: %s\n", e.what());
    return 70;
  }
}
