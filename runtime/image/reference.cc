#include "runtime/image/reference.h"

#include <algorithm>
#include <cctype>

#include "common/digest.h"

namespace gantry::runtime::image {

namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

Error bad(std::string_view text, std::string_view why) {
  return Error(ErrorCode::kInvalidArgument,
               "image reference '" + std::string(text) + "': " + std::string(why));
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  return std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// domain-component ('.' domain-component)*, domain-component = [a-zA-Z0-9] ([a-zA-Z0-9-]*
// [a-zA-Z0-9])?
bool valid_host(std::string_view host) {
  if (host.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view comp =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (comp.empty() || !is_alnum(comp.front()) || !is_alnum(comp.back())) return false;
    for (char c : comp)
      if (!is_alnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// host (':' port)? or '[' ipv6 ']' (':' port)?
bool valid_domain(std::string_view d) {
  if (!d.empty() && d.front() == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (char c : d.substr(1, close - 1))
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':')) return false;
    std::string_view rest = d.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && valid_port(rest.substr(1)));
  }
  if (auto colon = d.find(':'); colon != std::string_view::npos)
    return valid_host(d.substr(0, colon)) && valid_port(d.substr(colon + 1));
  return valid_host(d);
}

// alpha-numeric (separator alpha-numeric)*, separator = [_.] | __ | -+
bool valid_path_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !is_lower_alnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" ||
              std::all_of(sep.begin(), sep.end(), [](char ch) { return ch == '-'; });
    if (!ok) return false;
    i = j;
  }
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !is_word(t.front())) return false;
  for (char c : t)
    if (!is_word(c) && c != '.' && c != '-') return false;
  return true;
}

}  // namespace

std::string Reference::repository() const { return domain + "/" + path; }

std::string Reference::str() const {
  std::string s = repository();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::familiar() const {
  std::string s;
  if (domain == kDefaultDomain) {
    s = path.starts_with("library/") && path.find('/', 8) == std::string::npos ? path.substr(8)
                                                                                : path;
  } else {
    s = repository();
  }
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::registry_host() const {
  return domain == kDefaultDomain ? "registry-1.docker.io" : domain;
}

Result<Reference> parse_reference(std::string_view text) {
  if (text.empty()) return bad(text, "empty reference");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f)
      return bad(text, "contains whitespace or a non-ASCII character");
  }
  Reference ref;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    std::string_view dig = rest.substr(at + 1);
    auto parsed = parse_digest(dig);
    if (!parsed.ok()) return bad(text, parsed.error().message());
    ref.digest = parsed->str();
    rest = rest.substr(0, at);
  }
  // The tag separator is a ':' after the last '/' (a ':' before it is a port).
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!valid_tag(tag))
      return bad(text, "invalid tag '" + std::string(tag) +
                           "' (letters, digits, '_', '.', '-'; at most 128; not starting with "
                           "'.' or '-')");
    ref.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad(text, "missing repository name");

  std::string_view name = rest;
  auto first_slash = name.find('/');
  std::string_view first = name.substr(0, first_slash);
  bool has_domain = first_slash != std::string_view::npos &&
                    (first.find('.') != std::string_view::npos ||
                     first.find(':') != std::string_view::npos || first == "localhost" ||
                     std::any_of(first.begin(), first.end(),
                                 [](char c) { return c >= 'A' && c <= 'Z'; }));
  std::string_view path = name;
  if (has_domain) {
    if (!valid_domain(first)) return bad(text, "invalid registry '" + std::string(first) + "'");
    ref.domain = std::string(first);
    path = name.substr(first_slash + 1);
  } else {
    ref.domain = std::string(kDefaultDomain);
  }
  if (ref.domain == "index.docker.io") ref.domain = std::string(kDefaultDomain);
  if (path.empty()) return bad(text, "missing repository path after the registry");

  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view comp = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (comp.empty()) return bad(text, "empty path component");
    if (!valid_path_component(comp)) {
      if (std::any_of(comp.begin(), comp.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
        return bad(text, "repository name must be lowercase");
      return bad(text, "invalid path component '" + std::string(comp) +
                           "' (lowercase letters and digits, separated by '.', '_', '__' or "
                           "'-')");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (!has_domain && path.size() == 64 &&
      std::all_of(path.begin(), path.end(),
                  [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return bad(text, "64-character hexadecimal names are reserved for image ids");
  ref.path = std::string(path);
  if (ref.domain == kDefaultDomain && ref.path.find('/') == std::string::npos)
    ref.path = "library/" + ref.path;
  if (ref.repository().size() > 255)
    return bad(text, "repository name longer than 255 characters");
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = std::string(kDefaultTag);
  return ref;
}

}  // namespace gantry::runtime::image
