#include "agent/container_files.h"

#include <cctype>

#include "common/strings.h"

namespace gantry::agent {

namespace {

bool loopback_address(std::string_view a) {
  return a.starts_with("127.") || a == "::1" || a == "0:0:0:0:0:0:0:1";
}

}  // namespace

std::string render_hosts_file(std::string_view hostname, std::string_view address,
                              const std::vector<HostEntry>& extra) {
  std::string out =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (!hostname.empty()) {
    out += std::string(address.empty() ? "127.0.1.1" : address) + "\t" + std::string(hostname) +
           "\n";
  }
  for (const auto& e : extra) {
    if (e.names.empty()) continue;
    out += e.address;
    for (size_t i = 0; i < e.names.size(); ++i) out += (i == 0 ? "\t" : " ") + e.names[i];
    out += "\n";
  }
  return out;
}

std::string render_resolv_conf(std::string_view host_resolv_conf, bool host_network) {
  if (host_network) return std::string(host_resolv_conf);
  std::string out;
  bool have_server = false;
  size_t pos = 0;
  while (pos < host_resolv_conf.size()) {
    size_t nl = host_resolv_conf.find('\n', pos);
    if (nl == std::string_view::npos) nl = host_resolv_conf.size();
    std::string_view line = host_resolv_conf.substr(pos, nl - pos);
    pos = nl + 1;
    std::string_view t = trim(line);
    if (t.starts_with("nameserver")) {
      std::string_view addr = trim(t.substr(10));
      if (loopback_address(addr)) continue;
      have_server = true;
    }
    out += std::string(line) + "\n";
  }
  if (!have_server) out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
  return out;
}

Status check_host_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 253 && name.front() != '-' && name.front() != '.';
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      ok = false;
    }
  }
  if (!ok) {
    return Error(
        ErrorCode::kInvalidArgument,
        "host name '" + std::string(name) +
            "': want 1-253 letters, digits, '-', '_' or '.', not starting with '-' or '.'");
  }
  return ok_status();
}

}  // namespace gantry::agent
