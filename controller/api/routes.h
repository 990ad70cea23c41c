// THE route table of the controller's HTTP API (docs/api.md describes every entry): verb, path
// pattern, who may call it, help, handler. make_api_handler() authenticates each request
// (Bearer token: admin, registration or agent), enforces body limits, parses JSON and turns the
// Controller's answers and Errors into responses (one place maps ErrorCode to a status).
// Thread-safe as the Controller is.
#pragma once

#include <string>
#include <vector>

#include "common/http/server.h"
#include "controller/controller.h"

namespace gantry::controller {

struct RouteInfo {
  std::string method;
  std::string path;  // "/api/v1/jobs/{id}/log"
  std::string auth;  // "admin", "agent", "registration", "none", "webhook secret"
  std::string help;
};

std::vector<RouteInfo> route_table();

// HTTP status and stable code ("not_found") for an Error's code.
int http_status_for(ErrorCode code);
std::string api_code_for(ErrorCode code);

// The largest request body any route accepts (for ServerOptions::max_body_bytes).
size_t max_request_body(const ControllerOptions& options);

http::AsyncHandler make_api_handler(Controller& controller);

}  // namespace gantry::controller
