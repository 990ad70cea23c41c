// `gantry runtime`'s entry in the command table. Both executables set the command up
// (cli/main.cc's table in gantry-cli, and the static front in cli/front/), so its help text
// lives here once.
#pragma once

namespace gantry::cli {

inline constexpr const char* kRuntimeCommandHelp =
    "OCI runtime: create, start, run, kill, delete containers (as runc)";

}  // namespace gantry::cli
