#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

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
}  // namespace

Status init_logging(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Error(ErrorCode::kInvalidArgument,
                 "log level '" + std::string(level) +
                     "': expected trace, debug, info, warn, error or off");
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
