#include "tests/support/bundle.h"

#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "common/file.h"
#include "common/subprocess.h"

namespace gantry::testing {

namespace {

void must(const Status& st) {
  if (!st.ok()) throw std::runtime_error(st.error().message());
}

void copy_executable(const std::string& from, const std::string& to) {
  auto data = read_file(from);
  must(data.ok() ? ok_status() : Status(data.error()));
  must(write_file(to, *data));
  if (::chmod(to.c_str(), 0755) != 0) throw std::runtime_error("chmod " + to);
}

const std::vector<std::string> kDefaultCaps = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",         "CAP_FOWNER",
    "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",         "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",   "CAP_AUDIT_WRITE"};

}  // namespace

bool have_static_busybox() { return ::access(kStaticBusybox, X_OK) == 0; }

Json default_bundle_config(const std::vector<std::string>& args) {
  Json caps = kDefaultCaps;
  return Json{
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "gantry-test"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
        {{"destination", "/dev/shm"},
         {"type", "tmpfs"},
         {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"},
         {"type", "mqueue"},
         {"source", "mqueue"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}},
        {{"destination", "/sys/fs/cgroup"},
         {"type", "cgroup"},
         {"source", "cgroup"},
         {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}}}},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces",
         {{{"type", "pid"}},
          {{"type", "network"}},
          {{"type", "ipc"}},
          {{"type", "uts"}},
          {{"type", "mount"}},
          {{"type", "cgroup"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
}

TestBundle::TestBundle(const std::vector<std::string>& args) : dir_("gantry-bundle") {
  std::string root = rootfs();
  for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "mnt", "etc", "root", "var/tmp"})
    must(make_dirs(join_path(root, d)));
  ::chmod(join_path(root, "tmp").c_str(), 01777);
  copy_executable(kStaticBusybox, root + "/bin/busybox");
  copy_executable(GANTRY_TEST_PAYLOAD, root + "/payload");
  auto list = run_subprocess({kStaticBusybox, "--list"});
  if (!list.ok()) throw std::runtime_error(list.error().message());
  size_t start = 0;
  const std::string& names = list->out;
  while (start < names.size()) {
    size_t end = names.find('\n', start);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(start, end - start);
    start = end + 1;
    if (name.empty() || name == "busybox") continue;
    (void)::symlink("busybox", (root + "/bin/" + name).c_str());
  }
  must(write_file(root + "/etc/passwd",
                  "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"));
  must(write_file(root + "/etc/group", "root:x:0:\nnogroup:x:65534:\n"));
  config_ = default_bundle_config(args);
  save();
}

void TestBundle::save() const { must(write_file(config_path(), config_.dump(2))); }

}  // namespace gantry::testing
