#include "agent/job_executor.h"

namespace gantry::agent {

std::string_view network_mode_name(NetworkMode m) {
  switch (m) {
    case NetworkMode::kBridge: return "bridge";
    case NetworkMode::kNone: return "none";
    case NetworkMode::kHost: return "host";
  }
  return "bridge";
}

Result<NetworkMode> parse_network_mode(std::string_view s) {
  if (s == "bridge") return NetworkMode::kBridge;
  if (s == "none") return NetworkMode::kNone;
  if (s == "host") return NetworkMode::kHost;
  return Error(ErrorCode::kInvalidArgument,
               "network mode '" + std::string(s) + "': expected bridge, none or host");
}

}  // namespace gantry::agent
