#include "runtime/default_spec.h"

#include <algorithm>

#include "runtime/seccomp/default_profile.h"

namespace gantry::runtime {

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",     "CAP_FOWNER",
      "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",     "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",   "CAP_AUDIT_WRITE"};
  return caps;
}

ContainerSpec default_container_spec(const DefaultSpecOptions& options) {
  ContainerSpec spec;
  spec.oci_version = "1.0.2";
  spec.root.path = options.root_path;
  spec.root.readonly = true;
  spec.hostname = "gantry";

  Process& p = spec.process;
  // runc writes terminal: true; Gantry's callers and CI jobs have no tty, and a config that
  // runs as written (no --console-socket needed) is the more useful default.
  p.terminal = false;
  p.args = options.args;
  p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  p.capabilities.bounding = default_capabilities();
  p.capabilities.effective = default_capabilities();
  p.capabilities.permitted = default_capabilities();
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  p.no_new_privileges = true;

  spec.mounts = {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts", "devpts", "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
  };
  spec.namespaces = {{NamespaceType::kPid, ""},   {NamespaceType::kNetwork, ""},
                     {NamespaceType::kIpc, ""},   {NamespaceType::kUts, ""},
                     {NamespaceType::kMount, ""}, {NamespaceType::kCgroup, ""}};
  spec.resources.devices = {DeviceRule{false, "a", std::nullopt, std::nullopt, "rwm"}};
  spec.masked_paths = {"/proc/acpi",          "/proc/asound",     "/proc/kcore",
                       "/proc/keys",          "/proc/latency_stats", "/proc/timer_list",
                       "/proc/timer_stats",   "/proc/sched_debug", "/sys/firmware",
                       "/proc/scsi"};
  spec.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                         "/proc/sysrq-trigger"};
  spec.seccomp = default_seccomp_profile();

  if (options.rootless) {
    spec.namespaces.push_back({NamespaceType::kUser, ""});
    spec.uid_mappings = {{0, options.host_uid, 1}};
    spec.gid_mappings = {{0, options.host_gid, 1}};
    // An unprivileged user cannot mount a new sysfs or a cgroup fs, nor own gid 5 on devpts.
    spec.mounts.erase(std::remove_if(spec.mounts.begin(), spec.mounts.end(),
                                     [](const Mount& m) {
                                       return m.destination == "/sys" ||
                                              m.destination == "/sys/fs/cgroup";
                                     }),
                      spec.mounts.end());
    spec.mounts.push_back({"/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}});
    for (auto& m : spec.mounts) {
      std::erase(m.options, "gid=5");
    }
    spec.resources = Resources{};
  }
  return spec;
}

}  // namespace gantry::runtime
