// Until the security components land (capabilities, rlimits, seccomp compile/apply), this
// file holds the launcher's own minimal version of them; it then shrinks to calls into theirs.
#include "runtime/process_security.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <string>
#include <string_view>

namespace gantry::runtime {

namespace {

constexpr std::array<std::string_view, 41> kCapNames = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",         "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",      "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",     "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",   "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",          "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",   "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",  "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

constexpr std::array<std::string_view, 16> kRlimitNames = {
    "RLIMIT_CPU",    "RLIMIT_FSIZE",   "RLIMIT_DATA",       "RLIMIT_STACK",
    "RLIMIT_CORE",   "RLIMIT_RSS",     "RLIMIT_NPROC",      "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK", "RLIMIT_AS",     "RLIMIT_LOCKS",      "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO",     "RLIMIT_RTTIME"};

Result<uint64_t> cap_mask(const std::vector<std::string>& names, std::string_view set,
                          int last_cap) {
  uint64_t mask = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    int n = -1;
    for (size_t c = 0; c < kCapNames.size(); ++c)
      if (kCapNames[c] == names[i]) n = static_cast<int>(c);
    if (n < 0) {
      return Error(ErrorCode::kInvalidArgument,
                   "process.capabilities." + std::string(set) + "[" + std::to_string(i) +
                       "]: unknown capability '" + names[i] + "'");
    }
    if (n <= last_cap) mask |= uint64_t{1} << n;  // unknown to this kernel: skipped, as runc
  }
  return mask;
}

int probe_last_cap() {
  int last = 0;
  while (last < 63 && ::prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) ++last;
  return last;
}

}  // namespace

Result<ProcessSecurity> prepare_process_security(const Process& process,
                                                 const std::optional<Seccomp>& seccomp) {
  ProcessSecurity sec;
  sec.last_cap = probe_last_cap();
  const Capabilities& c = process.capabilities;
  GANTRY_ASSIGN_OR_RETURN(sec.bounding, cap_mask(c.bounding, "bounding", sec.last_cap));
  GANTRY_ASSIGN_OR_RETURN(sec.effective, cap_mask(c.effective, "effective", sec.last_cap));
  GANTRY_ASSIGN_OR_RETURN(sec.inheritable, cap_mask(c.inheritable, "inheritable", sec.last_cap));
  GANTRY_ASSIGN_OR_RETURN(sec.permitted, cap_mask(c.permitted, "permitted", sec.last_cap));
  GANTRY_ASSIGN_OR_RETURN(sec.ambient, cap_mask(c.ambient, "ambient", sec.last_cap));
  for (size_t i = 0; i < process.rlimits.size(); ++i) {
    const Rlimit& r = process.rlimits[i];
    std::string field = "process.rlimits[" + std::to_string(i) + "]";
    int res = -1;
    for (size_t n = 0; n < kRlimitNames.size(); ++n)
      if (kRlimitNames[n] == r.type) res = static_cast<int>(n);
    if (res < 0) {
      return Error(ErrorCode::kInvalidArgument, field + ": unknown rlimit '" + r.type + "'");
    }
    if (r.soft > r.hard) {
      return Error(ErrorCode::kInvalidArgument,
                   field + ": soft limit " + std::to_string(r.soft) + " above hard limit " +
                       std::to_string(r.hard));
    }
    sec.rlimits.push_back({res, {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)}});
  }
  sec.no_new_privileges = process.no_new_privileges;
  if (seccomp) {
    return Error(ErrorCode::kUnimplemented, "linux.seccomp: seccomp filters are not supported yet");
  }
  return sec;
}

int apply_rlimits(const ProcessSecurity& sec, int* index) {
  for (size_t i = 0; i < sec.rlimits.size(); ++i) {
    if (::setrlimit(static_cast<__rlimit_resource>(sec.rlimits[i].resource),
                    &sec.rlimits[i].value) != 0) {
      *index = static_cast<int>(i);
      return errno;
    }
  }
  return 0;
}

int prepare_caps_for_user_switch(const ProcessSecurity& sec) {
  for (int cap = 0; cap <= sec.last_cap; ++cap) {
    if (sec.bounding & (uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return errno;
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return errno;
  return 0;
}

int apply_caps(const ProcessSecurity& sec) {
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return errno;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(sec.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(sec.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(sec.inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) return errno;
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return errno;
  }
  for (int cap = 0; cap <= sec.last_cap; ++cap) {
    // A cap not in permitted and inheritable cannot be ambient; runc skips it, so do we.
    if (sec.ambient & (uint64_t{1} << cap)) {
      (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
    }
  }
  return 0;
}

int apply_no_new_privs(const ProcessSecurity& sec) {
  if (!sec.no_new_privileges) return 0;
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : errno;
}

int apply_seccomp(const ProcessSecurity& sec) {
  if (sec.seccomp_bpf.empty()) return 0;
  return ENOSYS;
}

}  // namespace gantry::runtime
