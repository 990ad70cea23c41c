// Argument checks shared by the `gantry runtime` commands: container ids, signal names and
// numbers, `--user UID[:GID]`. Pure functions; errors name the bad value. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace gantry::runtime::oci_cli {

inline constexpr size_t kMaxContainerIdLength = 1024;

// Ids match [A-Za-z0-9][A-Za-z0-9_.-]* and are at most 1024 characters.
Status validate_container_id(std::string_view id);

// "KILL", "SIGKILL", "kill", "9", "SIGRTMIN+3" -> the signal number.
Result<int> parse_signal(std::string_view text);
// 9 -> "SIGKILL"; "SIG<n>" for numbers without a name.
std::string signal_name(int signal);

struct UserSpec {
  uint32_t uid = 0;
  std::optional<uint32_t> gid;
};
// "1000" or "1000:100".
Result<UserSpec> parse_user(std::string_view text);

}  // namespace gantry::runtime::oci_cli
