#include "cli/command.h"

#include <cstdio>

namespace gantry::cli {

int report_error(const Error& error) {
  std::fprintf(stderr, "gantry: %s\n", error.message().c_str());
  return exit_code_for(error.code());
}

}  // namespace gantry::cli
