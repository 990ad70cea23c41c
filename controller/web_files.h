// The dashboard's static files (controller/web/), compiled into the binary by
// cmake/embed_files.cmake, and how the controller serves them: Content-Type by extension, an
// ETag (SHA-256 of the bytes) for revalidation, and the security headers every page carries (a
// strict Content-Security-Policy: scripts, styles and API calls from this origin only). Anyone
// may fetch these files; the data behind them comes only through the authenticated API. PURE.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "common/http/message.h"

namespace gantry::controller {

struct WebFile {
  const char* name;  // "app.js"
  const char* data;
  size_t size;
};

// Defined by the generated source.
extern const WebFile kWebFiles[];
extern const size_t kWebFileCount;

// The file called `name` (no directories), or nullopt.
std::optional<WebFile> find_web_file(std::string_view name);

// "text/html; charset=utf-8", "text/javascript; charset=utf-8", ... by extension.
std::string_view web_content_type(std::string_view name);

// The Content-Security-Policy of every dashboard response.
extern const char* const kDashboardCsp;

// The response for GET/HEAD of file `name`: 200 with the bytes, 304 when `if_none_match`
// names its ETag, 404 when there is no such file.
http::Response web_file_response(std::string_view name, std::string_view if_none_match);

}  // namespace gantry::controller
