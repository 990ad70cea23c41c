#include "agent/ipam.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "common/file.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace gantry::agent {

namespace {

constexpr long kNsfsMagic = 0x6e736673;  // linux/magic.h NSFS_MAGIC

Json to_json(const Allocation& a) {
  return Json{{"address", a.address},
              {"pod", a.pod},
              {"netns_path", a.netns_path},
              {"netns_inode", a.netns_inode},
              {"veth", a.veth}};
}

Allocation from_json(const Json& j) {
  Allocation a;
  a.address = j.value("address", "");
  a.pod = j.value("pod", "");
  a.netns_path = j.value("netns_path", "");
  a.netns_inode = j.value("netns_inode", uint64_t{0});
  a.veth = j.value("veth", "");
  return a;
}

}  // namespace

Result<uint32_t> parse_ipv4(std::string_view text) {
  in_addr a{};
  std::string z(text);
  if (::inet_pton(AF_INET, z.c_str(), &a) != 1) {
    return Error(ErrorCode::kInvalidArgument, "'" + z + "' is not an IPv4 address");
  }
  return ntohl(a.s_addr);
}

std::string format_ipv4(uint32_t address) {
  in_addr a{htonl(address)};
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

Result<Ipv4Subnet> Ipv4Subnet::parse(std::string_view cidr) {
  auto bad = [&](std::string why) {
    return Error(ErrorCode::kInvalidArgument, "subnet '" + std::string(cidr) + "': " + why);
  };
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return bad("want ADDRESS/PREFIX, e.g. 10.89.0.0/16");
  auto addr = parse_ipv4(cidr.substr(0, slash));
  if (!addr.ok()) return bad(addr.error().message());
  std::string_view len_text = cidr.substr(slash + 1);
  unsigned len = 0;
  auto [p, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || p != len_text.data() + len_text.size() || len_text.empty()) {
    return bad("prefix length '" + std::string(len_text) + "' is not a number");
  }
  if (len < 8 || len > 30) return bad("prefix length must be 8..30");
  Ipv4Subnet s;
  s.network = *addr;
  s.prefix_len = static_cast<uint8_t>(len);
  if ((s.network & ~s.mask()) != 0) {
    return bad("host bits are set (did you mean " +
               Ipv4Subnet{s.network & s.mask(), s.prefix_len}.to_string() + "?)");
  }
  return s;
}

uint32_t Ipv4Subnet::mask() const {
  return prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
}

uint32_t Ipv4Subnet::broadcast() const { return network | ~mask(); }

bool Ipv4Subnet::contains(uint32_t address) const { return (address & mask()) == network; }

bool Ipv4Subnet::overlaps(const Ipv4Subnet& other) const {
  uint32_t m = prefix_len < other.prefix_len ? mask() : other.mask();
  return (network & m) == (other.network & m);
}

std::string Ipv4Subnet::to_string() const {
  return format_ipv4(network) + "/" + std::to_string(prefix_len);
}

std::optional<uint32_t> next_free_address(const Ipv4Subnet& subnet, const std::set<uint32_t>& used,
                                          uint32_t last) {
  uint32_t first = subnet.first_host();
  uint32_t end = subnet.last_host();
  uint64_t count = uint64_t{end} - first + 1;
  uint32_t start = (last >= first && last < end) ? last + 1 : first;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t candidate = static_cast<uint32_t>(first + (uint64_t{start} - first + i) % count);
    if (!used.contains(candidate)) return candidate;
  }
  return std::nullopt;
}

bool netns_alive(const Allocation& a) {
  if (a.netns_path.empty()) return false;
  struct statfs fs{};
  struct stat st{};
  if (::statfs(a.netns_path.c_str(), &fs) != 0 || ::stat(a.netns_path.c_str(), &st) != 0) {
    return false;
  }
  if (fs.f_type != kNsfsMagic) return false;  // the bind mount is gone: an empty file at most
  return a.netns_inode == 0 || st.st_ino == a.netns_inode;
}

Result<Ipam> Ipam::open(const std::string& root, const std::string& name, const Ipv4Subnet& subnet,
                        LivenessCheck alive) {
  std::string base = join_path(root, "networks");
  GANTRY_TRY(make_dirs(base, 0700));
  Ipam ipam(name, join_path(base, name + ".lock"), join_path(base, name), subnet, std::move(alive));
  GANTRY_ASSIGN_OR_RETURN(FileLock l, ipam.lock());
  GANTRY_TRY(ipam.prepare_locked());
  return ipam;
}

Status Ipam::prepare_locked() {
  GANTRY_TRY(make_dirs(join_path(dir_, "addresses"), 0700));
  std::string subnet_file = join_path(dir_, "subnet");
  if (!path_exists(subnet_file)) {
    return write_file_atomic(subnet_file, subnet_.to_string() + "\n");
  }
  GANTRY_ASSIGN_OR_RETURN(std::string text, read_file(subnet_file));
  text = std::string(trim(text));
  if (text != subnet_.to_string()) {
    return Error(ErrorCode::kFailedPrecondition,
                 "network '" + name_ + "' has subnet " + text + ", not " + subnet_.to_string() +
                     " (remove it with `gantry network prune` first)");
  }
  return ok_status();
}

Result<FileLock> Ipam::lock() const { return FileLock::take(lock_path_); }

Result<std::vector<Allocation>> Ipam::list() const {
  std::string adir = join_path(dir_, "addresses");
  if (!path_exists(adir)) return std::vector<Allocation>{};  // pruned
  GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> names, list_dir(adir));
  std::vector<std::pair<uint32_t, Allocation>> found;
  for (const auto& n : names) {
    auto addr = parse_ipv4(n);
    if (!addr.ok()) continue;  // a temp file of write_file_atomic, or a stray
    auto j = read_json_file(join_path(adir, n));
    if (!j.ok()) {
      if (j.error().sys_errno() == ENOENT) continue;  // released meanwhile
      return std::move(j).error();
    }
    Allocation a = from_json(*j);
    a.address = n;
    found.emplace_back(*addr, std::move(a));
  }
  std::sort(found.begin(), found.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<Allocation> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

Result<std::vector<Allocation>> Ipam::reclaim_locked() {
  GANTRY_ASSIGN_OR_RETURN(std::vector<Allocation> all, list());
  std::vector<Allocation> dead;
  for (auto& a : all) {
    if (alive_(a)) continue;
    GANTRY_TRY(release(a.address));
    logger("agent")->info("address reclaimed address={} pod={} netns={}", a.address, a.pod,
                          a.netns_path);
    dead.push_back(std::move(a));
  }
  return dead;
}

Result<Allocation> Ipam::allocate_locked(Allocation request) {
  GANTRY_TRY(prepare_locked());  // again: a prune may have removed the network meanwhile
  GANTRY_TRY(reclaim_locked());
  GANTRY_ASSIGN_OR_RETURN(std::vector<Allocation> all, list());
  std::set<uint32_t> used;
  for (const auto& a : all) used.insert(*parse_ipv4(a.address));
  uint32_t last = 0;
  if (auto text = read_file(join_path(dir_, "last")); text.ok()) {
    if (auto l = parse_ipv4(trim(*text)); l.ok()) last = *l;
  }
  auto next = next_free_address(subnet_, used, last);
  if (!next) {
    return Error(ErrorCode::kResourceExhausted,
                 "allocate an address in " + subnet_.to_string() + ": all " +
                     std::to_string(used.size()) + " addresses are in use");
  }
  request.address = format_ipv4(*next);
  GANTRY_TRY(write_file_atomic(join_path(join_path(dir_, "addresses"), request.address),
                               to_json(request).dump(2) + "\n", 0600));
  GANTRY_TRY(write_file_atomic(join_path(dir_, "last"), request.address + "\n"));
  return request;
}

Result<Allocation> Ipam::allocate(Allocation request) {
  GANTRY_ASSIGN_OR_RETURN(FileLock l, lock());
  return allocate_locked(std::move(request));
}

Status Ipam::release(const std::string& address) {
  GANTRY_TRY(parse_ipv4(address));  // never a path outside addresses/
  std::string path = join_path(join_path(dir_, "addresses"), address);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sys_error("release address '" + address + "': remove '" + path + "'");
  }
  return ok_status();
}

Status Ipam::remove_locked() { return remove_all(dir_); }

}  // namespace gantry::agent
