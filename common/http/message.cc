#include "common/http/message.h"

#include <algorithm>
#include <charconv>

#include "common/hex.h"

namespace gantry::http {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower_string(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Removes "." and ".." segments (RFC 3986 5.2.4) from an absolute path.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 1;  // path starts with '/'
  bool trailing_slash = false;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view seg = path.substr(pos, next - pos);
    trailing_slash = false;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = true;
    } else if (seg == ".") {
      trailing_slash = true;
    } else {
      out.push_back(seg);
    }
    pos = next + 1;
  }
  std::string result;
  for (auto seg : out) {
    result += '/';
    result += seg;
  }
  if (result.empty() || trailing_slash) result += '/';
  return result;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : entries_) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : entries_) {
    if (iequals(k, name)) out.push_back(v);
  }
  return out;
}

bool Headers::has(std::string_view name) const { return get(name).has_value(); }

void Headers::set(std::string name, std::string value) {
  remove(name);
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(entries_, [&](const auto& e) { return iequals(e.first, name); });
}

std::string_view Request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view Request::query() const {
  std::string_view t = target;
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

Response text_response(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!default_port()) h += ":" + std::to_string(port);
  return h;
}

std::string Url::str() const { return scheme + "://" + authority() + target; }

bool Url::same_origin(const Url& other) const {
  return scheme == other.scheme && iequals(host, other.host) && port == other.port;
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 "invalid url '" + std::string(text) + "': " + std::string(why));
  };
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad("no scheme");
  url.scheme = lower_string(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") return bad("scheme is not http or https");
  std::string_view rest = text.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated ipv6 address");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after ipv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad("no host");
  url.host = lower_string(url.host);
  url.port = url.is_https() ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return bad("invalid port '" + std::string(port_text) + "'");
    }
    url.port = static_cast<uint16_t>(value);
  }
  tail = tail.substr(0, tail.find('#'));
  if (tail.empty() || tail[0] == '?') {
    url.target = "/" + std::string(tail);
  } else {
    url.target = std::string(tail);
  }
  for (char c : url.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("control or space in path");
  }
  return url;
}

Result<Url> resolve_url(const Url& base, std::string_view ref) {
  if (ref.empty()) return base;
  if (ref.find("://") != std::string_view::npos) {
    size_t colon = ref.find("://");
    bool scheme_ok = ref.find_first_of("/?#") > colon;
    if (scheme_ok) return parse_url(ref);
  }
  if (ref.size() >= 2 && ref[0] == '/' && ref[1] == '/') {
    return parse_url(base.scheme + ":" + std::string(ref));
  }
  Url out = base;
  ref = ref.substr(0, ref.find('#'));
  if (ref.empty()) return out;
  if (ref[0] == '?') {
    out.target = std::string(base.target.substr(0, base.target.find('?'))) + std::string(ref);
    return out;
  }
  std::string_view ref_path = ref.substr(0, ref.find('?'));
  std::string_view ref_query =
      ref.find('?') == std::string_view::npos ? std::string_view() : ref.substr(ref.find('?'));
  std::string merged;
  if (ref_path[0] == '/') {
    merged = std::string(ref_path);
  } else {
    std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
    merged = std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(ref_path);
  }
  out.target = remove_dot_segments(merged) + std::string(ref_query);
  for (char c : out.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Error(ErrorCode::kInvalidArgument,
                   "invalid redirect location '" + std::string(ref) + "': control or space");
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kDigits[u >> 4];
      out += kDigits[u & 15];
    }
  }
  return out;
}

Result<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return Error(ErrorCode::kInvalidArgument, "truncated percent escape");
      }
      int hi = hex_digit_value(text[i + 1]);
      int lo = hex_digit_value(text[i + 2]);
      if (hi < 0 || lo < 0) return Error(ErrorCode::kInvalidArgument, "invalid percent escape");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view k = part.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    auto dk = url_decode(k);
    auto dv = url_decode(v);
    out.emplace_back(dk.ok() ? *dk : std::string(k), dv.ok() ? *dv : std::string(v));
  }
  return out;
}

}  // namespace gantry::http
