// The small files a container gets bind-mounted over its /etc: hosts, hostname, resolv.conf.
// Rendered from the container's name, address and extra entries (service aliases) the way
// Docker writes them. PURE; thread-safe. Written into the bundle by the ContainerManager.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/container_manager.h"

namespace gantry::agent {

// localhost lines, then `address hostname`, then each of `extra` in order.
std::string render_hosts_file(std::string_view hostname, std::string_view address,
                              const std::vector<HostEntry>& extra);

// The host's resolv.conf for a container. With the host's network it is kept as is; in its own
// network namespace loopback nameservers (127.0.0.0/8, ::1: a local resolver such as
// systemd-resolved) cannot answer, so they are dropped and, if none is left, Docker's
// fallback public resolvers are used.
std::string render_resolv_conf(std::string_view host_resolv_conf, bool host_network);

// Checks a hostname or /etc/hosts name: 1..253 chars of letters, digits, '-', '_' and '.'.
Status check_host_name(std::string_view name);

}  // namespace gantry::agent
