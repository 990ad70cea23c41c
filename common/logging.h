// Logging setup (spdlog): named component loggers ("runtime", "image", "agent", "scheduler",
// "api", "store", ...) writing to stderr. Messages are a short lowercase event phrase then
// stable key=value fields: `container started id=job-42 pid=812`.
// init_logging() once from main(); logger() is thread-safe afterwards.
// A job's own output is data, never logged through here.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry {

// level: trace, debug, info, warn, error, off.
Status init_logging(std::string_view level);

// The named component logger, created on first use with the current level and sink.
std::shared_ptr<spdlog::logger> logger(const std::string& component);

// runc's `--log FILE --log-format text|json`: from now on every logger writes to `path`
// (appended, created 0644) instead of stderr, one record a line, as runc's logrus does:
//   json: {"level":"error","msg":"…","time":"2026-11-29T10:00:00.123456789Z","component":"runtime"}
//   text: time="2026-11-29T10:00:00.123456789Z" level=error msg="…" component=runtime
// containerd reads the last error of such a file when the runtime fails.
enum class LogFormat { kText, kJson };
Status log_to_file(const std::string& path, LogFormat format);

// One record in `format` (no newline); for log_to_file and its tests.
std::string render_log_record(LogFormat format, spdlog::level::level_enum level,
                              std::chrono::system_clock::time_point time,
                              std::string_view component, std::string_view message);

}  // namespace gantry
