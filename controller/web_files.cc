#include "controller/web_files.h"

#include <map>
#include <mutex>
#include <string>

#include "common/digest.h"

namespace gantry::controller {

const char* const kDashboardCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ETags computed once per file, on first use.
const std::string& etag_of(const WebFile& f) {
  static std::mutex mu;
  static std::map<std::string_view, std::string> tags;
  std::lock_guard lock(mu);
  auto& tag = tags[f.name];
  if (tag.empty()) tag = "\"" + sha256_hex(std::string_view(f.data, f.size)).substr(0, 32) + "\"";
  return tag;
}

void security_headers(http::Headers& h) {
  h.set("Content-Security-Policy", kDashboardCsp);
  h.set("X-Content-Type-Options", "nosniff");
  h.set("X-Frame-Options", "DENY");
  h.set("Referrer-Policy", "no-referrer");
}

}  // namespace

std::optional<WebFile> find_web_file(std::string_view name) {
  for (size_t i = 0; i < kWebFileCount; ++i) {
    if (name == kWebFiles[i].name) return kWebFiles[i];
  }
  return std::nullopt;
}

std::string_view web_content_type(std::string_view name) {
  if (ends_with(name, ".html")) return "text/html; charset=utf-8";
  if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css")) return "text/css; charset=utf-8";
  if (ends_with(name, ".svg")) return "image/svg+xml";
  if (ends_with(name, ".png")) return "image/png";
  if (ends_with(name, ".json")) return "application/json";
  return "application/octet-stream";
}

http::Response web_file_response(std::string_view name, std::string_view if_none_match) {
  auto file = find_web_file(name);
  if (!file) {
    http::Response r = http::text_response(404, "no such file: " + std::string(name) + "\n");
    security_headers(r.headers);
    return r;
  }
  const std::string& etag = etag_of(*file);
  http::Response r;
  security_headers(r.headers);
  r.headers.set("ETag", etag);
  // Small files, revalidated on every load: a new controller version shows its new dashboard
  // at once, and an unchanged one costs a 304.
  r.headers.set("Cache-Control", "no-cache");
  if (!if_none_match.empty() && if_none_match.find(etag) != std::string_view::npos) {
    r.status = 304;
    return r;
  }
  r.headers.set("Content-Type", std::string(web_content_type(name)));
  r.body.assign(file->data, file->size);
  return r;
}

}  // namespace gantry::controller
