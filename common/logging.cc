#include "common/logging.h"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <ctime>
#include <mutex>

#include "common/json.h"
#include "common/time_format.h"
#include "common/unique_fd.h"

namespace gantry {

namespace {
std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::warn;
spdlog::sink_ptr g_sink;

spdlog::sink_ptr sink_locked() {
  if (!g_sink) {
    g_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    g_sink->set_pattern("%^%Y-%m-%dT%H:%M:%S.%e %l %n:%$ %v");
  }
  return g_sink;
}
// logrus's level names.
const char* level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warning";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "fatal";
    default:
      return "info";
  }
}

class FileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  FileSink(UniqueFd fd, LogFormat format) : fd_(std::move(fd)), format_(format) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line =
        render_log_record(format_, msg.level, msg.time,
                          std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                          std::string_view(msg.payload.data(), msg.payload.size()));
    line += '\n';
    // One write per record with O_APPEND: lines of concurrent runtimes do not interleave.
    (void)!::write(fd_.get(), line.data(), line.size());
  }
  void flush_() override {}

 private:
  UniqueFd fd_;
  LogFormat format_;
};

}  // namespace

std::string render_log_record(LogFormat format, spdlog::level::level_enum level,
                              std::chrono::system_clock::time_point time,
                              std::string_view component, std::string_view message) {
  if (format == LogFormat::kJson) {
    Json j{{"level", level_name(level)},
           {"msg", std::string(message)},
           {"time", format_rfc3339(time, TimePrecision::kNanosTrimmed)},
           {"component", std::string(component)}};
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  // logrus quotes a value only when it needs it; msg and time always do in practice.
  std::string quoted_msg =
      Json(std::string(message)).dump(-1, ' ', false, Json::error_handler_t::replace);
  return "time=\"" + format_rfc3339(time, TimePrecision::kNanosTrimmed) +
         "\" level=" + level_name(level) + " msg=" + quoted_msg +
         " component=" + std::string(component);
}

Status log_to_file(const std::string& path, LogFormat format) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error("open log file '" + path + "'");
  auto sink = std::make_shared<FileSink>(UniqueFd(fd), format);
  std::lock_guard lock(g_mu);
  g_sink = sink;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->sinks() = {sink}; });
  return ok_status();
}

Status init_logging(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Error(
        ErrorCode::kInvalidArgument,
        "log level '" + std::string(level) + "': expected trace, debug, info, warn, error or off");
  }
  std::lock_guard lock(g_mu);
  g_level = lvl;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(lvl); });
  return ok_status();
}

std::shared_ptr<spdlog::logger> logger(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  auto l = std::make_shared<spdlog::logger>(component, sink_locked());
  l->set_level(g_level);
  spdlog::register_logger(l);
  return l;
}

}  // namespace gantry
