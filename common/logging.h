// Logging setup (spdlog): named component loggers ("runtime", "image", "agent", "scheduler",
// "api", "store", ...) writing to stderr. Messages are a short lowercase event phrase then
// stable key=value fields: `container started id=job-42 pid=812`.
// init_logging() once from main(); logger() is thread-safe afterwards.
// A job's own output is data, never logged through here.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry {

// level: trace, debug, info, warn, error, off.
Status init_logging(std::string_view level);

// The named component logger, created on first use with the current level and sink.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

}  // namespace gantry
