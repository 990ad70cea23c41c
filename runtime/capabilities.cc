#include "runtime/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>

namespace gantry::runtime {
namespace {

// Indexed by capability number; must match <linux/capability.h>.
constexpr std::array<std::string_view, kLastKnownCapability + 1> kNames = {
    "CAP_CHOWN",            "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",           "CAP_KILL",          "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",          "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",        "CAP_NET_RAW",       "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",       "CAP_SYS_RAWIO",     "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",        "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",     "CAP_SYS_TIME",      "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",            "CAP_AUDIT_WRITE",   "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",     "CAP_MAC_ADMIN",     "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",    "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

// Spot checks that the table lines up with the kernel headers that define the numbers.
static_assert(CAP_SYS_ADMIN == 21 && kNames[CAP_SYS_ADMIN] == "CAP_SYS_ADMIN");
static_assert(CAP_SETFCAP == 31 && kNames[CAP_SETFCAP] == "CAP_SETFCAP");
static_assert(CAP_AUDIT_READ == 37 && kNames[CAP_AUDIT_READ] == "CAP_AUDIT_READ");
#ifdef CAP_CHECKPOINT_RESTORE
static_assert(CAP_CHECKPOINT_RESTORE == kLastKnownCapability);
#endif

// "'CAP_A', 'CAP_B'"
std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out.append(out.empty() ? "'" : ", '").append(n).append("'");
  return out;
}

Result<uint64_t> compile_set(const std::vector<std::string>& names, std::string_view set_name,
                             int last_cap, std::vector<std::string>& warnings) {
  uint64_t mask = 0;
  std::vector<std::string> unsupported;
  for (size_t i = 0; i < names.size(); ++i) {
    std::optional<int> cap = capability_from_name(names[i]);
    if (!cap) {
      return Error(ErrorCode::kInvalidArgument,
                   "process.capabilities." + std::string(set_name) + "[" + std::to_string(i) +
                       "]: unknown capability '" + names[i] + "'");
    }
    if (*cap > last_cap) {
      unsupported.push_back(names[i]);
      continue;
    }
    mask |= uint64_t{1} << *cap;
  }
  if (!unsupported.empty()) {
    warnings.push_back("process.capabilities." + std::string(set_name) + ": " +
                       quoted_list(unsupported) +
                       " unknown to the running kernel (last capability " +
                       std::to_string(last_cap) + "); skipped");
  }
  return mask;
}

int capset_v3(uint64_t effective, uint64_t permitted, uint64_t inheritable) noexcept {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  data[0].effective = static_cast<uint32_t>(effective);
  data[0].permitted = static_cast<uint32_t>(permitted);
  data[0].inheritable = static_cast<uint32_t>(inheritable);
  data[1].effective = static_cast<uint32_t>(effective >> 32);
  data[1].permitted = static_cast<uint32_t>(permitted >> 32);
  data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
  if (::syscall(SYS_capset, &header, data) != 0) return errno;
  return 0;
}

}  // namespace

std::optional<int> capability_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string_view capability_name(int cap) {
  if (cap < 0 || cap > kLastKnownCapability) return {};
  return kNames[static_cast<size_t>(cap)];
}

int kernel_last_capability() {
  FILE* f = std::fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f == nullptr) return kLastKnownCapability;
  char buf[16] = {};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  int value = -1;
  auto [ptr, ec] = std::from_chars(buf, buf + n, value);
  if (ec != std::errc() || value < 0 || value > 63) return kLastKnownCapability;
  return value;
}

Result<CapabilitySet> compile_capabilities(const Capabilities& caps, int last_cap) {
  GANTRY_CHECK(last_cap >= 0 && last_cap <= 63);
  CapabilitySet set;
  set.last_cap = last_cap;
  GANTRY_ASSIGN_OR_RETURN(set.bounding, compile_set(caps.bounding, "bounding", last_cap,
                                                    set.warnings));
  GANTRY_ASSIGN_OR_RETURN(set.effective, compile_set(caps.effective, "effective", last_cap,
                                                     set.warnings));
  GANTRY_ASSIGN_OR_RETURN(set.inheritable, compile_set(caps.inheritable, "inheritable",
                                                       last_cap, set.warnings));
  GANTRY_ASSIGN_OR_RETURN(set.permitted, compile_set(caps.permitted, "permitted", last_cap,
                                                     set.warnings));
  GANTRY_ASSIGN_OR_RETURN(set.ambient, compile_set(caps.ambient, "ambient", last_cap,
                                                   set.warnings));
  // PR_CAP_AMBIENT_RAISE fails for a capability not both permitted and inheritable. runc
  // ignores that, and so must Gantry, or specs that run under runc would fail here.
  const uint64_t raisable = set.permitted & set.inheritable;
  std::vector<std::string> not_raisable;
  for (int cap = 0; cap <= last_cap; ++cap) {
    const uint64_t b = uint64_t{1} << cap;
    if ((set.ambient & b) && !(raisable & b)) {
      not_raisable.emplace_back(capability_name(cap));
      set.ambient &= ~b;
    }
  }
  if (!not_raisable.empty()) {
    set.ignored.push_back("process.capabilities.ambient: " + quoted_list(not_raisable) +
                           " not in both the permitted and inheritable sets, so not ambient; "
                           "skipped");
  }
  return set;
}

Result<CapabilitySet> compile_capabilities(const Capabilities& caps) {
  return compile_capabilities(caps, kernel_last_capability());
}

std::vector<std::string> docker_default_capabilities() {
  return {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",      "CAP_FOWNER",
          "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",      "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",   "CAP_AUDIT_WRITE"};
}

Capabilities default_container_capabilities() {
  Capabilities caps;
  caps.bounding = docker_default_capabilities();
  caps.effective = caps.bounding;
  caps.permitted = caps.bounding;
  return caps;
}

int drop_bounding_set(const CapabilitySet& set) noexcept {
  for (int cap = 0; cap <= set.last_cap; ++cap) {
    if (set.bounding & (uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      // EINVAL: the kernel does not know this one after all; nothing to drop.
      if (errno == EINVAL) continue;
      return errno;
    }
  }
  return 0;
}

int apply_process_capabilities(const CapabilitySet& set) noexcept {
  if (int err = capset_v3(set.effective, set.permitted, set.inheritable)) return err;
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    // Kernels before 4.3 have no ambient set; fine unless the spec asks for one.
    if (errno != EINVAL || set.ambient != 0) return errno;
    return 0;
  }
  for (int cap = 0; cap <= set.last_cap; ++cap) {
    if (!(set.ambient & (uint64_t{1} << cap))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) return errno;
  }
  return 0;
}

int apply_capabilities(const CapabilitySet& set) noexcept {
  if (int err = drop_bounding_set(set)) return err;
  return apply_process_capabilities(set);
}

int switch_user(uid_t uid, gid_t gid, const gid_t* groups, size_t group_count) noexcept {
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return errno;
  if (groups != nullptr && ::syscall(SYS_setgroups, group_count, groups) != 0) return errno;
  if (::syscall(SYS_setresgid, gid, gid, gid) != 0) return errno;
  if (::syscall(SYS_setresuid, uid, uid, uid) != 0) return errno;
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return errno;
  return 0;
}

}  // namespace gantry::runtime
