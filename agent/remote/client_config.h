// Where the client commands find their controller and token: the command line first, then the
// environment (GANTRY_CONTROLLER, GANTRY_TOKEN), then a config file — $GANTRY_CONFIG, else
// $XDG_CONFIG_HOME/gantry/config.json, else ~/.config/gantry/config.json — holding
// {"controller": URL, "token": TOKEN}. A config file with a token that others can read is
// refused. PURE apart from reading that file; the environment is passed in. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/result.h"

namespace gantry::agent {

struct ClientSettings {
  std::string controller;
  std::string token;
};

// `getenv` returns a variable's value or nullopt. Errors: a malformed or loose-permission config
// file (naming it), or no controller URL / no token anywhere (saying where to put one).
Result<ClientSettings> resolve_client_settings(
    const std::string& controller_flag, const std::string& token_flag,
    const std::function<std::optional<std::string>(const char*)>& getenv);

// The config file path for this environment.
std::string client_config_path(
    const std::function<std::optional<std::string>(const char*)>& getenv);

}  // namespace gantry::agent
