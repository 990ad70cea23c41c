#include "agent/network.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>

#include "common/file.h"
#include "common/logging.h"
#include "common/unique_fd.h"
#include "runtime/network/netlink.h"

namespace gantry::agent {

namespace {

std::string netns_path(const std::string& root, const std::string& id) {
  return join_path(join_path(root, "netns"), id);
}

Status check_id(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "pod network id '" + id + "' is not a file name");
  }
  return ok_status();
}

// In the pod's thread: loopback up, then pin the namespace at `path`. In bridge mode also opens
// a netlink socket there, which keeps acting in the pod's namespace whatever thread uses it.
Status setup_in_thread(const std::string& path, bool want_socket,
                       std::optional<runtime::netlink::RouteSocket>& pod_socket) {
  if (::unshare(CLONE_NEWNET) != 0) return sys_error("unshare network namespace");
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys_error("socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return sys_error("get flags of 'lo'");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return sys_error("bring 'lo' up");
  if (want_socket) {
    GANTRY_ASSIGN_OR_RETURN(runtime::netlink::RouteSocket s, runtime::netlink::RouteSocket::open());
    pod_socket.emplace(std::move(s));
  }
  if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return sys_error("bind-mount network namespace at '" + path + "'");
  }
  return ok_status();
}

Status unpin(const std::string& id, const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return sys_error("destroy pod network '" + id + "': unmount '" + path + "'");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sys_error("destroy pod network '" + id + "': remove '" + path + "'");
  }
  return ok_status();
}

}  // namespace

Result<PodNetwork> create_pod_network(const std::string& root, const std::string& id,
                                      const PodNetworkOptions& options) {
  GANTRY_TRY(check_id(id));
  bool bridge = options.mode == PodNetworkMode::kBridge;
  if (bridge) GANTRY_TRY(check_bridge_config(options.bridge));
  GANTRY_TRY(make_dirs(join_path(root, "netns"), 0755));
  std::string path = netns_path(root, id);
  {
    UniqueFd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (!f) {
      if (errno == EEXIST) {
        return Error(ErrorCode::kAlreadyExists, "pod network '" + id + "' exists already");
      }
      return sys_error("create '" + path + "'");
    }
  }
  Status made = ok_status();
  std::optional<runtime::netlink::RouteSocket> pod_socket;
  std::thread t([&] { made = setup_in_thread(path, bridge, pod_socket); });
  t.join();
  PodNetwork pod{id, path, "127.0.0.1", "", ""};
  if (made.ok() && bridge) {
    auto attached = attach_to_bridge(root, options.bridge, id, path, *pod_socket);
    if (attached.ok()) {
      pod.address = attached->address;
      pod.gateway = attached->gateway;
      pod.bridge = attached->bridge;
    } else {
      made = std::move(attached).error();
    }
  }
  if (!made.ok()) {
    (void)unpin(id, path);
    return std::move(made).error().with_context("create pod network '" + id + "'");
  }
  logger("agent")->info("pod network created id={} path={} address={}", id, path, pod.address);
  return pod;
}

Result<PodNetwork> create_pod_network(const std::string& root, const std::string& id) {
  return create_pod_network(root, id, PodNetworkOptions{});
}

Status destroy_pod_network(const std::string& root, const std::string& id) {
  GANTRY_TRY(check_id(id));
  // The veth first: with the host end gone the pod's eth0 goes too, even while members live.
  if (Status st = detach_from_bridge(root, id); !st.ok()) {
    return std::move(st).error().with_context("destroy pod network '" + id + "'");
  }
  return unpin(id, netns_path(root, id));
}

}  // namespace gantry::agent
