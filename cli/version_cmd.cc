#include <cstdio>

#include "cli/command.h"

#ifndef GANTRY_VERSION
#define GANTRY_VERSION "0.1.0"
#endif

namespace gantry::cli {

void setup_version_command(CLI::App& command, CommandContext& ctx) {
  command.callback([&ctx] {
    std::printf("gantry %s\n", GANTRY_VERSION);
    ctx.exit_code = 0;
  });
}

}  // namespace gantry::cli
