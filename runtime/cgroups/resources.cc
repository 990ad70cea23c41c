#include "runtime/cgroups/resources.h"

#include <algorithm>

namespace gantry::runtime {

namespace {

constexpr uint64_t kMinShares = 2;
constexpr uint64_t kMaxShares = 262144;
constexpr uint64_t kDefaultPeriodUs = 100000;
constexpr uint64_t kMinPeriodUs = 1000;  // kernel limits for cfs_period_us / cpu.max
constexpr uint64_t kMaxPeriodUs = 1000000;
constexpr int64_t kMinQuotaUs = 1000;

Error invalid(const std::string& field, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, "linux.resources." + field + ": " + what);
}

DeviceRule allow(char type, std::optional<int64_t> major, std::optional<int64_t> minor,
                 std::string access) {
  DeviceRule r;
  r.allow = true;
  r.type = std::string(1, type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

bool is_all_devices(const DeviceRule& r) { return r.type == "a"; }

bool same_rule(const DeviceRule& a, const DeviceRule& b) {
  return a.allow == b.allow && a.type == b.type && a.major == b.major && a.minor == b.minor &&
         a.access == b.access;
}

// True when `r` grants no more than some standard rule does.
bool within_standard(const DeviceRule& r) {
  if (!r.allow) return false;
  for (const auto& s : standard_device_rules()) {
    if (s.type != r.type) continue;
    if (s.major && s.major != r.major) continue;
    if (s.minor && s.minor != r.minor) continue;
    bool access_ok = std::all_of(r.access.begin(), r.access.end(),
                                 [&](char c) { return s.access.find(c) != std::string::npos; });
    if (access_ok) return true;
  }
  return false;
}

Status check_memory(const Resources& r) {
  if (r.memory_limit && *r.memory_limit != -1 && *r.memory_limit <= 0)
    return invalid("memory.limit",
                   "must be positive or -1 (unlimited), got " + std::to_string(*r.memory_limit));
  if (r.memory_reservation && *r.memory_reservation != -1 && *r.memory_reservation < 0)
    return invalid("memory.reservation",
                   "must be non-negative or -1, got " + std::to_string(*r.memory_reservation));
  if (r.memory_swap && *r.memory_swap != -1) {
    if (*r.memory_swap <= 0)
      return invalid("memory.swap",
                     "must be positive or -1 (unlimited), got " + std::to_string(*r.memory_swap));
    if (r.memory_limit && *r.memory_limit != -1 && *r.memory_swap < *r.memory_limit)
      return invalid("memory.swap", "memory+swap " + std::to_string(*r.memory_swap) +
                                        " is less than memory.limit " +
                                        std::to_string(*r.memory_limit));
  }
  return ok_status();
}

Status check_cpu(const Resources& r) {
  if (r.cpu_period && (*r.cpu_period < kMinPeriodUs || *r.cpu_period > kMaxPeriodUs))
    return invalid("cpu.period", "must be between 1000 and 1000000 microseconds, got " +
                                     std::to_string(*r.cpu_period));
  if (r.cpu_quota && *r.cpu_quota != -1 && *r.cpu_quota != 0 && *r.cpu_quota < kMinQuotaUs)
    return invalid("cpu.quota", "must be -1 (unlimited) or at least 1000 microseconds, got " +
                                    std::to_string(*r.cpu_quota));
  return ok_status();
}

std::string limit_value(int64_t v, const char* unlimited) {
  return v == -1 ? std::string(unlimited) : std::to_string(v);
}

}  // namespace

const std::vector<DeviceRule>& standard_device_rules() {
  static const std::vector<DeviceRule> rules = {
      allow('c', std::nullopt, std::nullopt, "m"),  // mknod of any char device
      allow('b', std::nullopt, std::nullopt, "m"),  // mknod of any block device
      allow('c', 1, 3, "rwm"),                      // /dev/null
      allow('c', 1, 5, "rwm"),                      // /dev/zero
      allow('c', 1, 7, "rwm"),                      // /dev/full
      allow('c', 1, 8, "rwm"),                      // /dev/random
      allow('c', 1, 9, "rwm"),                      // /dev/urandom
      allow('c', 5, 0, "rwm"),                      // /dev/tty
      allow('c', 5, 1, "rwm"),                      // /dev/console
      allow('c', 5, 2, "rwm"),                      // /dev/ptmx
      allow('c', 136, std::nullopt, "rwm"),         // /dev/pts/*
      allow('c', 10, 200, "rwm"),                   // /dev/net/tun
  };
  return rules;
}

std::vector<DeviceRule> effective_device_rules(const std::vector<DeviceRule>& rules) {
  std::vector<DeviceRule> out = rules;
  for (const auto& s : standard_device_rules()) {
    bool dup = std::any_of(out.begin(), out.end(), [&](const auto& r) { return same_rule(r, s); });
    if (!dup) out.push_back(s);
  }
  return out;
}

bool device_rules_need_no_filter(const std::vector<DeviceRule>& rules) {
  // Find the last rule covering every device: the rules before it no longer matter.
  auto last_all = std::find_if(rules.rbegin(), rules.rend(), is_all_devices);
  if (last_all == rules.rend()) {
    // On top of the default allow-all: only a deny restricts anything.
    return std::all_of(rules.begin(), rules.end(), [](const auto& r) { return r.allow; });
  }
  auto after = last_all.base();  // first rule after the last all-devices rule
  if (last_all->allow)
    return std::all_of(after, rules.end(), [](const auto& r) { return r.allow; });
  return std::all_of(after, rules.end(), within_standard);
}

Result<std::string> device_rule_line(const DeviceRule& rule) {
  if (rule.type != "a" && rule.type != "c" && rule.type != "b")
    return invalid("devices", "type must be 'a', 'c' or 'b', got '" + rule.type + "'");
  std::string access = rule.access.empty() ? "rwm" : rule.access;
  for (char c : access) {
    if (c != 'r' && c != 'w' && c != 'm')
      return invalid("devices", "access must be made of 'r', 'w' and 'm', got '" + access + "'");
  }
  if ((rule.major && *rule.major < -1) || (rule.minor && *rule.minor < -1))
    return invalid("devices", "major and minor must be non-negative (or -1 for all)");
  auto num = [](const std::optional<int64_t>& v) {
    return !v || *v == -1 ? std::string("*") : std::to_string(*v);
  };
  return rule.type + " " + num(rule.major) + ":" + num(rule.minor) + " " + access;
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
  shares = std::clamp(shares, kMinShares, kMaxShares);
  return 1 + ((shares - 2) * 9999) / 262142;
}

Result<std::vector<CgroupWrite>> plan_v1_writes(const Resources& r) {
  if (!r.unified.empty()) {
    return invalid("unified['" + r.unified.begin()->first + "']",
                   "raw cgroup v2 files need a cgroup v2 host; this host uses cgroup v1");
  }
  GANTRY_TRY(check_memory(r));
  GANTRY_TRY(check_cpu(r));
  std::vector<CgroupWrite> w;
  if (r.cpuset_cpus.size()) w.push_back({"cpuset", "cpuset.cpus", r.cpuset_cpus});
  if (r.cpuset_mems.size()) w.push_back({"cpuset", "cpuset.mems", r.cpuset_mems});
  // The kernel keeps memsw >= limit at all times; on a new cgroup both are unlimited, so the
  // limit goes first. (The manager reorders for updates that raise the limit.)
  if (r.memory_limit)
    w.push_back({"memory", "memory.limit_in_bytes", limit_value(*r.memory_limit, "-1")});
  if (r.memory_swap)
    w.push_back({"memory", "memory.memsw.limit_in_bytes", limit_value(*r.memory_swap, "-1"),
                 *r.memory_swap == -1 || r.memory_swap == r.memory_limit});
  if (r.memory_reservation)
    w.push_back({"memory", "memory.soft_limit_in_bytes", limit_value(*r.memory_reservation, "-1")});
  if (r.cpu_shares && *r.cpu_shares != 0)
    w.push_back({"cpu", "cpu.shares", std::to_string(*r.cpu_shares)});
  if (r.cpu_period) w.push_back({"cpu", "cpu.cfs_period_us", std::to_string(*r.cpu_period)});
  if (r.cpu_quota && *r.cpu_quota != 0)
    w.push_back({"cpu", "cpu.cfs_quota_us", std::to_string(*r.cpu_quota)});
  if (r.pids_limit)
    w.push_back({"pids", "pids.max",
                 *r.pids_limit <= 0 ? std::string("max") : std::to_string(*r.pids_limit)});
  for (const auto& rule : effective_device_rules(r.devices)) {
    GANTRY_ASSIGN_OR_RETURN(std::string line, device_rule_line(rule));
    w.push_back({"devices", rule.allow ? "devices.allow" : "devices.deny", std::move(line)});
  }
  return w;
}

Result<std::vector<CgroupWrite>> plan_v2_writes(const Resources& r) {
  GANTRY_TRY(check_memory(r));
  GANTRY_TRY(check_cpu(r));
  for (const auto& rule : r.devices) GANTRY_TRY(device_rule_line(rule));
  std::vector<CgroupWrite> w;
  if (r.cpuset_cpus.size()) w.push_back({"cpuset", "cpuset.cpus", r.cpuset_cpus});
  if (r.cpuset_mems.size()) w.push_back({"cpuset", "cpuset.mems", r.cpuset_mems});
  if (r.memory_limit) w.push_back({"memory", "memory.max", limit_value(*r.memory_limit, "max")});
  if (r.memory_swap) {
    if (*r.memory_swap == -1) {
      w.push_back({"memory", "memory.swap.max", "max", true});
    } else if (!r.memory_limit || *r.memory_limit == -1) {
      // v2 limits swap alone; "memory+swap" has no meaning without a memory limit.
      return invalid("memory.swap", "a memory+swap limit needs a memory.limit on cgroup v2");
    } else {
      w.push_back({"memory", "memory.swap.max", std::to_string(*r.memory_swap - *r.memory_limit),
                   *r.memory_swap == *r.memory_limit});
    }
  }
  if (r.memory_reservation)
    w.push_back({"memory", "memory.low", limit_value(*r.memory_reservation, "max")});
  if (r.cpu_shares && *r.cpu_shares != 0)
    w.push_back({"cpu", "cpu.weight", std::to_string(cpu_shares_to_weight(*r.cpu_shares))});
  if ((r.cpu_quota && *r.cpu_quota != 0) || r.cpu_period) {
    uint64_t period = r.cpu_period ? *r.cpu_period : kDefaultPeriodUs;
    std::string quota =
        (!r.cpu_quota || *r.cpu_quota <= 0) ? std::string("max") : std::to_string(*r.cpu_quota);
    w.push_back({"cpu", "cpu.max", quota + " " + std::to_string(period)});
  }
  if (r.pids_limit)
    w.push_back({"pids", "pids.max",
                 *r.pids_limit <= 0 ? std::string("max") : std::to_string(*r.pids_limit)});
  for (const auto& [file, value] : r.unified) {
    std::string field = "unified['" + file + "']";
    size_t dot = file.find('.');
    if (file.empty() || file.find('/') != std::string::npos || file.starts_with(".") ||
        dot == std::string::npos || dot == 0 || dot + 1 == file.size()) {
      return invalid(field, "not a cgroup file name (want '<controller>.<file>')");
    }
    if (value.find('\n') != std::string::npos && value.find('\n') + 1 != value.size())
      return invalid(field, "value must be a single line");
    std::string controller = file.substr(0, dot);
    if (controller == "cgroup") controller.clear();  // core files need no controller
    w.erase(std::remove_if(w.begin(), w.end(), [&](const auto& x) { return x.file == file; }),
            w.end());
    w.push_back({controller, file, value});
  }
  return w;
}

}  // namespace gantry::runtime
