#include "runtime/launch_plan.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

namespace gantry::runtime {
namespace {

ContainerSpec base_spec() {
  ContainerSpec spec;
  spec.root.path = "/bundle/rootfs";
  spec.process.args = {"/bin/true"};
  spec.namespaces = {{NamespaceType::kPid, ""},   {NamespaceType::kNetwork, ""},
                     {NamespaceType::kIpc, ""},   {NamespaceType::kUts, ""},
                     {NamespaceType::kMount, ""}, {NamespaceType::kCgroup, ""}};
  return spec;
}

PlanHost v1_host() {
  PlanHost h;
  h.cgroup_v1_sources = {{"memory", "/sys/fs/cgroup/memory/gantry/c1"},
                         {"cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct/gantry/c1"}};
  return h;
}

const MountOp* find_mount(const LaunchPlan& plan, const std::string& dest) {
  for (const auto& m : plan.mounts)
    if (m.destination == dest) return &m;
  return nullptr;
}

TEST(MountOptionsTest, SetsAndClearsFlags) {
  auto o = parse_mount_options({"ro", "nosuid", "nodev", "noexec", "relatime"});
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(o->flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  EXPECT_TRUE(o->data.empty());
  EXPECT_FALSE(o->bind);

  auto rw = parse_mount_options({"ro", "rw", "strictatime"});
  ASSERT_TRUE(rw.ok());
  EXPECT_EQ(rw->flags, static_cast<unsigned long>(MS_STRICTATIME));
  EXPECT_EQ(rw->clear, static_cast<unsigned long>(MS_RDONLY));
}

TEST(MountOptionsTest, CollectsFilesystemDataInOrder) {
  auto o = parse_mount_options({"nosuid", "mode=755", "size=65536k", "newinstance"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->data, "mode=755,size=65536k,newinstance");
  EXPECT_EQ(o->flags, static_cast<unsigned long>(MS_NOSUID));
}

TEST(MountOptionsTest, BindRbindAndPropagation) {
  auto b = parse_mount_options({"bind", "rprivate"});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->bind);
  EXPECT_FALSE(b->recursive);
  EXPECT_EQ(b->propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  auto r = parse_mount_options({"rbind", "slave"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->recursive);
  EXPECT_EQ(r->propagation, static_cast<unsigned long>(MS_SLAVE));
  auto s = parse_mount_options({"rshared"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
}

TEST(MountOptionsTest, RejectsUnsupportedOptionsByName) {
  auto o = parse_mount_options({"rbind", "idmap"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code(), ErrorCode::kUnimplemented);
  EXPECT_NE(o.error().message().find("'idmap'"), std::string::npos);
  EXPECT_FALSE(parse_mount_options({""}).ok());
}

TEST(OverlayOptionsTest, ListsTopLayerFirst) {
  auto o = overlay_options({"/l/base", "/l/mid", "/l/top"}, "/c/upper", "/c/work");
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(*o, "lowerdir=/l/top:/l/mid:/l/base,upperdir=/c/upper,workdir=/c/work");
}

TEST(OverlayOptionsTest, ReadOnlyWithoutUpper) {
  auto o = overlay_options({"/a", "/b"}, "", "");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, "lowerdir=/b:/a");
  EXPECT_EQ(overlay_options({"/a"}, "", "", true).value_or(""), "lowerdir=/a")
      << "volatile concerns the upper dir only";
}

TEST(OverlayOptionsTest, VolatileUpperSkipsSyncs) {
  auto o = overlay_options({"/l/base"}, "/c/upper", "/c/work", true);
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(*o, "lowerdir=/l/base,upperdir=/c/upper,workdir=/c/work,volatile");
}

TEST(LaunchPlanTest, VolatileOverlayOnlyWhereTheKernelHasIt) {
  auto spec = base_spec();
  spec.root.overlay_lower = {"/snap/a"};
  spec.root.overlay_upper = "/c/upper";
  spec.root.overlay_work = "/c/work";
  spec.root.overlay_volatile = true;
  PlanHost host = v1_host();
  host.overlay_volatile = true;
  auto plan = make_launch_plan(spec, host);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_TRUE(plan->overlay_data.ends_with(",volatile")) << plan->overlay_data;
  host.overlay_volatile = false;  // before Linux 5.10 the mount would fail with it
  plan = make_launch_plan(spec, host);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->overlay_data.find("volatile"), std::string::npos) << plan->overlay_data;
}

TEST(OverlayOptionsTest, EscapesColonsAndRejectsCommas) {
  auto o = overlay_options({"/l/a:b"}, "", "");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, "lowerdir=/l/a\\:b");
  auto bad = overlay_options({"/l/a,b"}, "", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'/l/a,b'"), std::string::npos);
  EXPECT_FALSE(overlay_options({"rel"}, "", "").ok());
  EXPECT_FALSE(overlay_options({}, "", "").ok());
  EXPECT_FALSE(overlay_options({"/a"}, "/u", "").ok());
}

TEST(OverlayOptionsTest, RejectsMoreThanOnePage) {
  std::vector<std::string> many(200, "/var/lib/gantry/snapshots/0123456789abcdef/fs");
  auto o = overlay_options(many, "/u", "/w");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message().find("one page"), std::string::npos);
}

TEST(LaunchPlanTest, CloneFlagsForNewNamespacesCgroupUnsharedLater) {
  auto plan = make_launch_plan(base_spec(), v1_host());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->clone_flags,
            CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
  EXPECT_TRUE(plan->unshare_cgroup_ns);
  EXPECT_FALSE(plan->new_user_ns);
  EXPECT_EQ(plan->root_propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
}

TEST(LaunchPlanTest, JoinsNamespacesByPath) {
  auto spec = base_spec();
  spec.namespaces[1].path = "/run/netns/ci";
  spec.namespaces.push_back({NamespaceType::kUser, "/proc/42/ns/user"});
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->clone_flags & CLONE_NEWNET, 0);
  ASSERT_EQ(plan->joins.size(), 1u);
  EXPECT_EQ(plan->joins[0].path, "/run/netns/ci");
  EXPECT_EQ(plan->joins[0].clone_flag, CLONE_NEWNET);
  EXPECT_EQ(plan->join_user_ns, "/proc/42/ns/user");
}

TEST(LaunchPlanTest, NamespaceErrorsNameTheField) {
  auto spec = base_spec();
  spec.namespaces.push_back({NamespaceType::kPid, ""});
  auto dup = make_launch_plan(spec, v1_host());
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("linux.namespaces[6]"), std::string::npos);

  spec = base_spec();
  spec.namespaces.erase(spec.namespaces.begin() + 4);  // mount
  auto no_mnt = make_launch_plan(spec, v1_host());
  ASSERT_FALSE(no_mnt.ok());
  EXPECT_NE(no_mnt.error().message().find("mount namespace"), std::string::npos);

  spec = base_spec();
  spec.namespaces.push_back({NamespaceType::kUser, ""});
  auto no_maps = make_launch_plan(spec, v1_host());
  ASSERT_FALSE(no_maps.ok());
  EXPECT_NE(no_maps.error().message().find("uidMappings"), std::string::npos);

  spec = base_spec();
  spec.namespaces[1].path = "relative/netns";
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
}

TEST(LaunchPlanTest, UserNamespaceBindsDevicesInsteadOfMknod) {
  auto spec = base_spec();
  spec.namespaces.push_back({NamespaceType::kUser, ""});
  spec.uid_mappings = {{0, 100000, 65536}};
  spec.gid_mappings = {{0, 100000, 65536}};
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_TRUE(plan->new_user_ns);
  EXPECT_TRUE(plan->clone_flags & CLONE_NEWUSER);
  ASSERT_FALSE(plan->devices.empty());
  for (const auto& d : plan->devices) EXPECT_TRUE(d.bind) << d.path;
}

TEST(LaunchPlanTest, MountsKeepOrderAndSplitBindRemount) {
  auto spec = base_spec();
  spec.mounts = {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/data", "bind", "/srv/data", {"rbind", "ro", "nosuid", "rprivate"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
  };
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->mounts.size(), 4u);
  EXPECT_EQ(plan->mounts[0].destination, "/proc");
  EXPECT_EQ(plan->mounts[0].fstype, "proc");
  const MountOp& dev = plan->mounts[1];
  EXPECT_EQ(dev.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(dev.data, "mode=755,size=65536k");
  const MountOp& data = plan->mounts[2];
  EXPECT_EQ(data.kind, MountOp::Kind::kBind);
  EXPECT_TRUE(data.recursive);
  EXPECT_EQ(data.source, "/srv/data");
  EXPECT_EQ(data.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(data.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(plan->mounts[3].flags,
            static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
}

TEST(LaunchPlanTest, DestinationsAreCleaned) {
  auto spec = base_spec();
  spec.mounts = {{"/a//b/./c/../d", "tmpfs", "tmpfs", {}}, {"../../etc", "tmpfs", "tmpfs", {}}};
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->mounts[0].destination, "/a/b/d");
  EXPECT_EQ(plan->mounts[1].destination, "/etc");
}

TEST(LaunchPlanTest, BindMountErrorsNameTheMount) {
  auto spec = base_spec();
  spec.mounts = {{"/proc", "proc", "proc", {}}, {"/x", "bind", "relative/src", {"rbind"}}};
  auto rel = make_launch_plan(spec, v1_host());
  ASSERT_FALSE(rel.ok());
  EXPECT_NE(rel.error().message().find("mounts[1] '/x'"), std::string::npos);
  EXPECT_NE(rel.error().message().find("'relative/src'"), std::string::npos);

  spec.mounts = {{"/x", "bind", "/src", {"rbind", "mode=755"}}};
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
  spec.mounts = {{"/x", "", "/src", {}}};
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
}

TEST(LaunchPlanTest, CgroupV1IsTmpfsWithReadOnlyBindsPerHierarchy) {
  auto spec = base_spec();
  spec.mounts = {{"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "ro"}}};
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->mounts.size(), 4u);
  EXPECT_EQ(plan->mounts[0].fstype, "tmpfs");
  EXPECT_FALSE(plan->mounts[0].flags & MS_RDONLY);
  const MountOp* mem = find_mount(*plan, "/sys/fs/cgroup/memory");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(mem->kind, MountOp::Kind::kBind);
  EXPECT_EQ(mem->source, "/sys/fs/cgroup/memory/gantry/c1");
  EXPECT_TRUE(mem->flags & MS_RDONLY);
  EXPECT_EQ(plan->mounts[3].kind, MountOp::Kind::kRemount);
  EXPECT_TRUE(plan->mounts[3].flags & MS_RDONLY);
  auto has_link = [&](const std::string& link) {
    return std::any_of(plan->symlinks.begin(), plan->symlinks.end(), [&](const SymlinkOp& s) {
      return s.link == link && s.target == "cpu,cpuacct";
    });
  };
  EXPECT_TRUE(has_link("/sys/fs/cgroup/cpu"));
  EXPECT_TRUE(has_link("/sys/fs/cgroup/cpuacct"));
}

TEST(LaunchPlanTest, CgroupV2MountsCgroup2InItsOwnNamespace) {
  auto spec = base_spec();
  spec.mounts = {{"/sys/fs/cgroup", "cgroup", "cgroup", {"ro"}}};
  PlanHost host;
  host.cgroup_v2 = true;
  host.cgroup_v1_sources = {{"", "/sys/fs/cgroup/gantry/c1"}};
  auto plan = make_launch_plan(spec, host);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->mounts.size(), 1u);
  EXPECT_EQ(plan->mounts[0].fstype, "cgroup2");
  EXPECT_TRUE(plan->mounts[0].flags & MS_RDONLY);

  spec.namespaces.pop_back();  // no cgroup namespace: bind the container's own cgroup
  plan = make_launch_plan(spec, host);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->mounts[0].kind, MountOp::Kind::kBind);
  EXPECT_EQ(plan->mounts[0].source, "/sys/fs/cgroup/gantry/c1");
}

TEST(LaunchPlanTest, DefaultDevicesAndSymlinks) {
  auto spec = base_spec();
  spec.mounts = {{"/dev", "tmpfs", "tmpfs", {}}, {"/dev/pts", "devpts", "devpts", {}}};
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->setup_dev);
  EXPECT_TRUE(plan->ptmx_symlink);
  std::vector<std::string> paths;
  for (const auto& d : plan->devices) {
    paths.push_back(d.path);
    EXPECT_TRUE(S_ISCHR(d.mode));
    EXPECT_EQ(d.mode & 0777, 0666u);
    EXPECT_FALSE(d.bind);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/dev/null", "/dev/zero", "/dev/full",
                                             "/dev/random", "/dev/urandom", "/dev/tty"}));
  EXPECT_EQ(plan->devices[0].dev, makedev(1, 3));
  std::vector<std::string> links;
  for (const auto& s : plan->symlinks) links.push_back(s.link + "->" + s.target);
  EXPECT_EQ(links, (std::vector<std::string>{"/dev/fd->/proc/self/fd",
                                             "/dev/stdin->/proc/self/fd/0",
                                             "/dev/stdout->/proc/self/fd/1",
                                             "/dev/stderr->/proc/self/fd/2",
                                             "/dev/core->/proc/kcore"}));
}

TEST(LaunchPlanTest, ConfigDevicesOverrideDefaultsAndAreValidated) {
  auto spec = base_spec();
  spec.devices = {{"/dev/null", 'c', 1, 3, 0600, 1000, 1000}, {"/dev/fuse", 'c', 10, 229}};
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  int nulls = 0;
  for (const auto& d : plan->devices) {
    if (d.path == "/dev/null") {
      ++nulls;
      EXPECT_EQ(d.mode & 0777, 0600u);
      EXPECT_EQ(d.uid, 1000u);
    }
  }
  EXPECT_EQ(nulls, 1);
  spec.devices = {{"/etc/evil", 'c', 1, 3}};
  auto bad = make_launch_plan(spec, v1_host());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("linux.devices[0]"), std::string::npos);
  spec.devices = {{"/dev/x", 'z', 1, 3}};
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
}

TEST(LaunchPlanTest, BindMountedDevSkipsDeviceSetup) {
  auto spec = base_spec();
  spec.mounts = {{"/dev", "bind", "/dev", {"rbind"}}};
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->setup_dev);
  EXPECT_TRUE(plan->devices.empty());
}

TEST(LaunchPlanTest, EtcFilesAreReadOnlyFileBinds) {
  auto spec = base_spec();
  spec.etc_hosts_file = "/var/lib/gantry/containers/c1/hosts";
  spec.resolv_conf_file = "/var/lib/gantry/containers/c1/resolv.conf";
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  const MountOp* hosts = find_mount(*plan, "/etc/hosts");
  ASSERT_NE(hosts, nullptr);
  EXPECT_EQ(hosts->kind, MountOp::Kind::kBind);
  EXPECT_EQ(hosts->source, spec.etc_hosts_file);
  EXPECT_TRUE(hosts->flags & MS_RDONLY);
  EXPECT_NE(find_mount(*plan, "/etc/resolv.conf"), nullptr);
}

TEST(LaunchPlanTest, SysctlsNeedTheirNamespace) {
  auto spec = base_spec();
  spec.sysctl = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "4096"}};
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->sysctls.size(), 2u);
  EXPECT_EQ(plan->sysctls[1].path, "/proc/sys/net/ipv4/ip_forward");
  EXPECT_EQ(plan->sysctls[0].path, "/proc/sys/kernel/shmmax");

  spec.sysctl = {{"vm.swappiness", "10"}};
  auto host_wide = make_launch_plan(spec, v1_host());
  ASSERT_FALSE(host_wide.ok());
  EXPECT_NE(host_wide.error().message().find("'vm.swappiness'"), std::string::npos);
  spec.sysctl = {{"net/../../kernel/x", "1"}};
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
  spec = base_spec();
  spec.namespaces.erase(spec.namespaces.begin() + 1);  // network
  spec.sysctl = {{"net.ipv4.ip_forward", "1"}};
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
}

TEST(LaunchPlanTest, HostnameNeedsUts) {
  auto spec = base_spec();
  spec.hostname = "job-1";
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->hostname, "job-1");
  spec.namespaces.erase(spec.namespaces.begin() + 3);  // uts
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
}

TEST(LaunchPlanTest, RootOverlayAndPropagation) {
  auto spec = base_spec();
  spec.root.overlay_lower = {"/s/1", "/s/2", "/s/3"};
  spec.root.overlay_upper = "/c/upper";
  spec.root.overlay_work = "/c/work";
  spec.root.readonly = true;
  spec.rootfs_propagation = "rprivate";
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->overlay_data, "lowerdir=/s/3:/s/2:/s/1,upperdir=/c/upper,workdir=/c/work");
  EXPECT_TRUE(plan->readonly_root);
  EXPECT_EQ(plan->root_propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  spec.rootfs_propagation = "sideways";
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
  spec.rootfs_propagation = "";
  spec.root.path = "rootfs";
  EXPECT_FALSE(make_launch_plan(spec, v1_host()).ok());
}

TEST(LaunchPlanTest, MaskedAndReadonlyPathsAreCleaned) {
  auto spec = base_spec();
  spec.masked_paths = {"/proc/kcore", "/proc//keys/"};
  spec.readonly_paths = {"/proc/sys"};
  auto plan = make_launch_plan(spec, v1_host());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->masked_paths, (std::vector<std::string>{"/proc/kcore", "/proc/keys"}));
  EXPECT_EQ(plan->readonly_paths, (std::vector<std::string>{"/proc/sys"}));
}

}  // namespace
}  // namespace gantry::runtime
