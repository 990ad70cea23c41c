#include "runtime/oci_config.h"

#include <gtest/gtest.h>
#include <ostream>
#include <sys/stat.h>

#include "common/file.h"
#include "tests/support/bundle.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using testing::default_bundle_config;

Json base_config() { return default_bundle_config({"/bin/sh", "-c", "echo hi"}); }

Result<ContainerSpec> parse(const Json& config) { return parse_oci_config(config, "/bundles/b1"); }

TEST(OciConfigTest, ParsesRuncSpecShape) {
  auto spec = parse(base_config());
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->oci_version, "1.0.2");
  EXPECT_EQ(spec->bundle, "/bundles/b1");
  EXPECT_EQ(spec->root.path, "/bundles/b1/rootfs");
  EXPECT_TRUE(spec->root.readonly);
  EXPECT_EQ(spec->hostname, "gantry-test");
  EXPECT_EQ(spec->process.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(spec->process.cwd, "/");
  EXPECT_EQ(spec->process.user.uid, 0u);
  EXPECT_TRUE(spec->process.no_new_privileges);
  EXPECT_EQ(spec->process.capabilities.bounding.size(), 14u);
  EXPECT_TRUE(spec->process.capabilities.inheritable.empty());
  ASSERT_EQ(spec->process.rlimits.size(), 1u);
  EXPECT_EQ(spec->process.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(spec->process.rlimits[0].hard, 1024u);
  ASSERT_EQ(spec->mounts.size(), 7u);
  EXPECT_EQ(spec->mounts[1].destination, "/dev");
  EXPECT_EQ(spec->mounts[1].type, "tmpfs");
  EXPECT_EQ(spec->mounts[1].options.size(), 4u);
  ASSERT_EQ(spec->namespaces.size(), 6u);
  EXPECT_EQ(spec->namespaces[0].type, NamespaceType::kPid);
  EXPECT_TRUE(spec->has_namespace(NamespaceType::kCgroup));
  EXPECT_FALSE(spec->has_namespace(NamespaceType::kUser));
  ASSERT_EQ(spec->resources.devices.size(), 1u);
  EXPECT_FALSE(spec->resources.devices[0].allow);
  EXPECT_EQ(spec->resources.devices[0].type, "a");
  EXPECT_EQ(spec->masked_paths.size(), 10u);
  EXPECT_EQ(spec->readonly_paths.size(), 5u);
  EXPECT_FALSE(spec->seccomp.has_value());
}

TEST(OciConfigTest, KeepsAbsoluteRootPath) {
  Json c = base_config();
  c["root"]["path"] = "/somewhere/else";
  auto spec = parse(c);
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->root.path, "/somewhere/else");
}

TEST(OciConfigTest, IgnoresUnknownFields) {
  Json c = base_config();
  c["someFutureField"] = {{"x", 1}};
  c["process"]["futureKnob"] = true;
  c["linux"]["futureThing"] = "x";
  c["windows"] = {{"layerFolders", {"a"}}};
  EXPECT_TRUE(parse(c).ok());
}

TEST(OciConfigTest, ParsesEveryOptionalField) {
  Json c = base_config();
  c["domainname"] = "example.org";
  c["process"]["terminal"] = true;
  c["process"]["consoleSize"] = {{"height", 24}, {"width", 80}};
  c["process"]["user"] = {{"uid", 1000}, {"gid", 100}, {"umask", 18}, {"additionalGids", {5, 6}}};
  c["process"]["oomScoreAdj"] = -500;
  c["process"]["capabilities"]["inheritable"] = {"CAP_KILL"};
  c["mounts"].push_back({{"destination", "/data"}, {"source", "/srv/data"},
                         {"options", {"rbind", "ro"}}});
  c["hooks"] = {{"prestart", {{{"path", "/bin/a"}, {"args", {"a", "1"}}, {"env", {"X=1"}},
                               {"timeout", 5}}}},
                {"createRuntime", {{{"path", "/bin/b"}}}},
                {"createContainer", {{{"path", "/bin/c"}}}},
                {"startContainer", {{{"path", "/bin/d"}}}},
                {"poststart", {{{"path", "/bin/e"}}}},
                {"poststop", {{{"path", "/bin/f"}}, {{"path", "/bin/g"}}}}};
  c["annotations"] = {{"org.example.k", "v"}};
  Json& l = c["linux"];
  l["namespaces"].push_back({{"type", "user"}});
  l["namespaces"].push_back({{"type", "time"}});
  l["namespaces"][1]["path"] = "/proc/1/ns/net";
  l["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  l["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  l["devices"] = {{{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229},
                   {"fileMode", 438}, {"uid", 0}, {"gid", 0}},
                  {{"path", "/dev/pipe0"}, {"type", "p"}}};
  l["cgroupsPath"] = "/ci/job-1";
  l["resources"]["memory"] = {{"limit", 1 << 30}, {"reservation", 1 << 29}, {"swap", 2LL << 30}};
  l["resources"]["cpu"] = {{"shares", 512}, {"quota", 50000}, {"period", 100000},
                           {"cpus", "0-1"}, {"mems", "0"}};
  l["resources"]["pids"] = {{"limit", 100}};
  l["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}});
  l["resources"]["unified"] = {{"memory.high", "max"}};
  l["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", 1},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"flags", {"SECCOMP_FILTER_FLAG_LOG"}},
      {"syscalls",
       {{{"names", {"read", "write"}}, {"action", "SCMP_ACT_ALLOW"}},
        {{"names", {"personality"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"args", {{{"index", 0}, {"value", 8}, {"valueTwo", 0}, {"op", "SCMP_CMP_EQ"}}}}},
        {{"names", {"mount"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
  l["rootfsPropagation"] = "rslave";
  l["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  auto spec = parse(c);
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->domainname, "example.org");
  EXPECT_TRUE(spec->process.terminal);
  ASSERT_TRUE(spec->process.console_size);
  EXPECT_EQ(spec->process.console_size->width, 80u);
  EXPECT_EQ(spec->process.user.uid, 1000u);
  EXPECT_EQ(spec->process.user.umask, 18u);
  EXPECT_EQ(spec->process.user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(spec->process.oom_score_adj, -500);
  EXPECT_EQ(spec->process.capabilities.inheritable, std::vector<std::string>{"CAP_KILL"});
  EXPECT_EQ(spec->mounts.back().source, "/srv/data");
  ASSERT_EQ(spec->hooks.prestart.size(), 1u);
  EXPECT_EQ(spec->hooks.prestart[0].args, (std::vector<std::string>{"a", "1"}));
  EXPECT_EQ(spec->hooks.prestart[0].env, std::vector<std::string>{"X=1"});
  EXPECT_EQ(spec->hooks.prestart[0].timeout, 5);
  EXPECT_EQ(spec->hooks.create_runtime[0].path, "/bin/b");
  EXPECT_EQ(spec->hooks.create_container[0].path, "/bin/c");
  EXPECT_EQ(spec->hooks.start_container[0].path, "/bin/d");
  EXPECT_EQ(spec->hooks.poststart[0].path, "/bin/e");
  EXPECT_EQ(spec->hooks.poststop.size(), 2u);
  EXPECT_EQ(spec->annotations.at("org.example.k"), "v");
  EXPECT_TRUE(spec->has_namespace(NamespaceType::kUser));
  EXPECT_TRUE(spec->has_namespace(NamespaceType::kTime));
  EXPECT_EQ(spec->namespaces[1].path, "/proc/1/ns/net");
  EXPECT_EQ(spec->uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(spec->gid_mappings[0].size, 65536u);
  ASSERT_EQ(spec->devices.size(), 2u);
  EXPECT_EQ(spec->devices[0].type, 'c');
  EXPECT_EQ(spec->devices[0].minor, 229);
  EXPECT_EQ(spec->devices[0].file_mode, 438u);
  EXPECT_EQ(spec->devices[1].type, 'p');
  EXPECT_EQ(spec->cgroups_path, "/ci/job-1");
  EXPECT_EQ(spec->resources.memory_limit, 1 << 30);
  EXPECT_EQ(spec->resources.memory_reservation, 1 << 29);
  EXPECT_EQ(spec->resources.memory_swap, 2LL << 30);
  EXPECT_EQ(spec->resources.cpu_shares, 512u);
  EXPECT_EQ(spec->resources.cpu_quota, 50000);
  EXPECT_EQ(spec->resources.cpu_period, 100000u);
  EXPECT_EQ(spec->resources.cpuset_cpus, "0-1");
  EXPECT_EQ(spec->resources.cpuset_mems, "0");
  EXPECT_EQ(spec->resources.pids_limit, 100);
  ASSERT_EQ(spec->resources.devices.size(), 2u);
  EXPECT_TRUE(spec->resources.devices[1].allow);
  EXPECT_EQ(spec->resources.devices[1].major, 1);
  EXPECT_EQ(spec->resources.devices[1].access, "rw");
  EXPECT_EQ(spec->resources.unified.at("memory.high"), "max");
  ASSERT_TRUE(spec->seccomp);
  EXPECT_EQ(spec->seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(spec->seccomp->default_errno_ret, 1u);
  EXPECT_EQ(spec->seccomp->architectures, std::vector<std::string>{"SCMP_ARCH_X86_64"});
  EXPECT_EQ(spec->seccomp->flags, std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
  ASSERT_EQ(spec->seccomp->syscalls.size(), 3u);
  EXPECT_EQ(spec->seccomp->syscalls[1].args[0].value, 8u);
  EXPECT_EQ(spec->seccomp->syscalls[1].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(spec->seccomp->syscalls[2].errno_ret, 38u);
  EXPECT_EQ(spec->rootfs_propagation, "rslave");
  EXPECT_EQ(spec->sysctl.at("net.ipv4.ip_forward"), "1");

  // And the same spec survives a trip through to_oci_config().
  Json back = to_oci_config(*spec);
  auto again = parse_oci_config(back, "/bundles/b1");
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(to_oci_config(*again), back);
  EXPECT_EQ(again->seccomp->syscalls[1].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(again->resources.devices[1].access, "rw");
  EXPECT_EQ(again->hooks.poststop.size(), 2u);
  EXPECT_EQ(again->devices[1].type, 'p');
}

TEST(OciConfigTest, GantryAnnotationsRoundTrip) {
  auto spec = parse(base_config());
  ASSERT_TRUE(spec.ok());
  spec->etc_hosts_file = "/var/lib/gantry/jobs/1/hosts";
  spec->resolv_conf_file = "/var/lib/gantry/jobs/1/resolv.conf";
  spec->root.overlay_lower = {"/snap/a", "/snap/b"};
  spec->root.overlay_upper = "/c/upper";
  spec->root.overlay_work = "/c/work";
  EXPECT_FALSE(to_oci_config(*spec)["annotations"].contains(kAnnotationOverlayVolatile));
  spec->root.overlay_volatile = true;
  spec->init_reaper = true;
  Json j = to_oci_config(*spec);
  EXPECT_EQ(j["annotations"][std::string(kAnnotationInit)], "true");
  EXPECT_EQ(j["annotations"][std::string(kAnnotationOverlayLower)], "/snap/a:/snap/b");
  EXPECT_EQ(j["annotations"][std::string(kAnnotationOverlayVolatile)], "true");
  auto back = parse(j);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->etc_hosts_file, spec->etc_hosts_file);
  EXPECT_EQ(back->resolv_conf_file, spec->resolv_conf_file);
  EXPECT_EQ(back->root.overlay_lower, spec->root.overlay_lower);
  EXPECT_EQ(back->root.overlay_upper, "/c/upper");
  EXPECT_EQ(back->root.overlay_work, "/c/work");
  EXPECT_TRUE(back->root.overlay_volatile);
  EXPECT_TRUE(back->init_reaper);
}

TEST(OciConfigTest, RejectsANonObjectDocument) {
  auto spec = parse(Json::array());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(), "config.json: expected a JSON object, got array");
}

// One bad field each: where it is, what it is set to (null: removed), the exact error.
struct BadField {
  const char* pointer;
  Json value;
  const char* message;
  ErrorCode code = ErrorCode::kInvalidArgument;
};

// Failures name the case ("/process/cwd = \"work\""), not the struct's bytes.
void PrintTo(const BadField& bad, std::ostream* os) {
  *os << bad.pointer << " = " << (bad.value.is_null() ? "(removed)" : bad.value.dump());
}

class OciConfigBadFieldTest : public ::testing::TestWithParam<BadField> {};

TEST_P(OciConfigBadFieldTest, NamesTheField) {
  const BadField& bad = GetParam();
  Json c = base_config();
  Json::json_pointer ptr(bad.pointer);
  if (bad.value.is_null()) {
    c[ptr.parent_pointer()].erase(ptr.back());
  } else {
    c[ptr] = bad.value;
  }
  auto spec = parse(c);
  ASSERT_FALSE(spec.ok()) << "accepted " << bad.pointer << " = " << bad.value.dump();
  EXPECT_EQ(spec.error().message(), bad.message);
  EXPECT_EQ(spec.error().code(), bad.code);
}

const ErrorCode kUnimpl = ErrorCode::kUnimplemented;

INSTANTIATE_TEST_SUITE_P(
    Fields, OciConfigBadFieldTest,
    ::testing::Values(
        BadField{"/ociVersion", nullptr, "config.json: ociVersion: required"},
        BadField{"/ociVersion", 1, "config.json: ociVersion: expected a string, got number"},
        BadField{"/ociVersion", "2.0.0",
                 "config.json: ociVersion: unsupported version '2.0.0' (want 1.x)", kUnimpl},
        BadField{"/root", nullptr, "config.json: root: required"},
        BadField{"/root/path", nullptr, "config.json: root.path: required"},
        BadField{"/root/path", "", "config.json: root.path: must not be empty"},
        BadField{"/root/readonly", "yes",
                 "config.json: root.readonly: expected a boolean, got string"},
        BadField{"/mounts", Json::object(), "config.json: mounts: expected an array, got object"},
        BadField{"/mounts/2", "x", "config.json: mounts[2]: expected an object, got string"},
        BadField{"/mounts/1/destination", nullptr, "config.json: mounts[1].destination: required"},
        BadField{"/mounts/1/destination", "dev",
                 "config.json: mounts[1].destination: must be an absolute path, got 'dev'"},
        BadField{"/mounts/1/options/0", 5,
                 "config.json: mounts[1].options[0]: expected a string, got number"},
        BadField{"/mounts/7",
                 {{"destination", "/x"}, {"type", "bind"}},
                 "config.json: mounts[7].source: required for a bind mount"},
        BadField{"/mounts/7",
                 {{"destination", "/x"}, {"source", "/y"}, {"uidMappings", {{{"size", 1}}}}},
                 "config.json: mounts[7].uidMappings: id-mapped mounts are not supported",
                 kUnimpl},
        BadField{"/process", nullptr, "config.json: process: required"},
        BadField{"/process/terminal", 1,
                 "config.json: process.terminal: expected a boolean, got number"},
        BadField{"/process/consoleSize",
                 {{"height", 1}},
                 "config.json: process.consoleSize.width: required"},
        BadField{"/process/user", nullptr, "config.json: process.user: required"},
        BadField{"/process/user/uid", nullptr, "config.json: process.user.uid: required"},
        BadField{"/process/user/uid", -1, "config.json: process.user.uid: value -1 out of range"},
        BadField{"/process/user/gid", 4294967296LL,
                 "config.json: process.user.gid: value 4294967296 out of range"},
        BadField{"/process/user/gid", 1.5,
                 "config.json: process.user.gid: expected an integer, got number"},
        BadField{"/process/user/umask", 1024,
                 "config.json: process.user.umask: must be at most 0777"},
        BadField{"/process/user/additionalGids",
                 {1, "x"},
                 "config.json: process.user.additionalGids[1]: expected an integer, got string"},
        BadField{"/process/args", nullptr, "config.json: process.args: required"},
        BadField{"/process/args", Json::array(), "config.json: process.args: must not be empty"},
        BadField{"/process/args/1", true,
                 "config.json: process.args[1]: expected a string, got boolean"},
        BadField{"/process/env/1", "NOEQUALS",
                 "config.json: process.env[1]: expected KEY=value, got 'NOEQUALS'"},
        BadField{"/process/cwd", nullptr, "config.json: process.cwd: required"},
        BadField{"/process/cwd", "work",
                 "config.json: process.cwd: must be an absolute path, got 'work'"},
        BadField{"/process/capabilities/bounding/3", "CAP_FLY",
                 "config.json: process.capabilities.bounding[3]: unknown capability 'CAP_FLY'"},
        BadField{"/process/capabilities/ambient", "CAP_KILL",
                 "config.json: process.capabilities.ambient: expected an array, got string"},
        BadField{"/process/rlimits/0/type", "RLIMIT_FOO",
                 "config.json: process.rlimits[0].type: unknown rlimit 'RLIMIT_FOO'"},
        BadField{"/process/rlimits/1",
                 {{"type", "RLIMIT_NOFILE"}, {"soft", 1}, {"hard", 1}},
                 "config.json: process.rlimits[1].type: duplicate rlimit 'RLIMIT_NOFILE'"},
        BadField{"/process/rlimits/0/soft", 2048,
                 "config.json: process.rlimits[0]: soft limit 2048 is above the hard limit 1024"},
        BadField{"/process/rlimits/0/hard", nullptr,
                 "config.json: process.rlimits[0].hard: required"},
        BadField{"/process/noNewPrivileges", "true",
                 "config.json: process.noNewPrivileges: expected a boolean, got string"},
        BadField{"/process/apparmorProfile", "docker-default",
                 "config.json: process.apparmorProfile: AppArmor is not supported (profile "
                 "'docker-default')",
                 kUnimpl},
        BadField{"/process/selinuxLabel", "system_u:system_r:svirt_lxc_net_t:s0",
                 "config.json: process.selinuxLabel: SELinux labels are not supported", kUnimpl},
        BadField{"/process/oomScoreAdj", 1001,
                 "config.json: process.oomScoreAdj: must be between -1000 and 1000"},
        BadField{"/process/scheduler",
                 {{"policy", "SCHED_FIFO"}},
                 "config.json: process.scheduler: scheduling policies are not supported",
                 kUnimpl},
        BadField{"/process/ioPriority",
                 {{"class", "IOPRIO_CLASS_RT"}},
                 "config.json: process.ioPriority: I/O priorities are not supported",
                 kUnimpl},
        BadField{"/hostname", 7, "config.json: hostname: expected a string, got number"},
        BadField{"/hooks", Json::array(), "config.json: hooks: expected an object, got array"},
        BadField{"/hooks",
                 {{"poststart", {{{"args", {"x"}}}}}},
                 "config.json: hooks.poststart[0].path: required"},
        BadField{"/hooks",
                 {{"prestart", {{{"path", "hook.sh"}}}}},
                 "config.json: hooks.prestart[0].path: must be an absolute path, got 'hook.sh'"},
        BadField{"/hooks",
                 {{"poststop", {{{"path", "/x"}, {"timeout", 0}}}}},
                 "config.json: hooks.poststop[0].timeout: must be greater than zero"},
        BadField{"/hooks",
                 {{"createRuntime", {{{"path", "/x"}, {"env", "A=1"}}}}},
                 "config.json: hooks.createRuntime[0].env: expected an array, got string"},
        BadField{"/annotations",
                 {{"k", 1}},
                 "config.json: annotations.k: expected a string, got number"},
        BadField{"/linux", nullptr, "config.json: linux: required on Linux"},
        BadField{"/linux/namespaces/2/type", "foo",
                 "config.json: linux.namespaces[2].type: unknown namespace 'foo'"},
        BadField{"/linux/namespaces/2/type", nullptr,
                 "config.json: linux.namespaces[2].type: required"},
        BadField{"/linux/namespaces/2/type", "pid",
                 "config.json: linux.namespaces[2].type: duplicate namespace 'pid'"},
        BadField{"/linux/namespaces/1/path", "proc/1/ns/net",
                 "config.json: linux.namespaces[1].path: must be an absolute path, got "
                 "'proc/1/ns/net'"},
        BadField{"/linux/namespaces/0",
                 {{"type", "uts"}},
                 "config.json: linux.namespaces[3].type: duplicate namespace 'uts'"},
        BadField{"/linux/namespaces/6",
                 {{"type", "user"}},
                 "config.json: linux.uidMappings: a new user namespace needs uid and gid mappings"},
        BadField{"/linux/uidMappings",
                 {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}},
                 "config.json: linux.uidMappings: id mappings need a new user namespace in "
                 "linux.namespaces"},
        BadField{"/linux/gidMappings",
                 {{{"containerID", 0}, {"hostID", 1000}}},
                 "config.json: linux.gidMappings[0].size: required"},
        BadField{"/linux/devices",
                 {{{"path", "/dev/x"}, {"type", "q"}, {"major", 1}, {"minor", 1}}},
                 "config.json: linux.devices[0].type: unknown device type 'q' (want c, b, u or p)"},
        BadField{"/linux/devices",
                 {{{"path", "/dev/x"}, {"type", "c"}}},
                 "config.json: linux.devices[0]: major and minor are required for a c device"},
        BadField{"/linux/devices",
                 {{{"path", "dev/x"}, {"type", "p"}}},
                 "config.json: linux.devices[0].path: must be an absolute path, got 'dev/x'"},
        BadField{"/linux/cgroupsPath", "system.slice:gantry:job1",
                 "config.json: linux.cgroupsPath: systemd cgroup paths (slice:prefix:name) are not "
                 "supported, got 'system.slice:gantry:job1'",
                 kUnimpl},
        BadField{"/linux/cgroupsPath", "/a/../../b",
                 "config.json: linux.cgroupsPath: must not contain '..', got '/a/../../b'"},
        BadField{"/linux/resources/memory",
                 {{"limit", "1G"}},
                 "config.json: linux.resources.memory.limit: expected an integer, got string"},
        BadField{"/linux/resources/memory",
                 {{"limit", 100}, {"swap", 50}},
                 "config.json: linux.resources.memory.swap: memory+swap limit 50 is below the "
                 "memory limit 100"},
        BadField{"/linux/resources/memory",
                 {{"kernel", 100}},
                 "config.json: linux.resources.memory.kernel: kernel memory limits are not "
                 "supported",
                 kUnimpl},
        BadField{"/linux/resources/memory",
                 {{"swappiness", 10}},
                 "config.json: linux.resources.memory.swappiness: swappiness is not supported",
                 kUnimpl},
        BadField{"/linux/resources/memory",
                 {{"disableOOMKiller", true}},
                 "config.json: linux.resources.memory.disableOOMKiller: disabling the OOM killer "
                 "is not supported",
                 kUnimpl},
        BadField{"/linux/resources/cpu",
                 {{"shares", -1}},
                 "config.json: linux.resources.cpu.shares: value -1 out of range"},
        BadField{"/linux/resources/cpu",
                 {{"realtimeRuntime", 100}},
                 "config.json: linux.resources.cpu.realtimeRuntime: real-time CPU scheduling is "
                 "not supported",
                 kUnimpl},
        BadField{"/linux/resources/pids", Json::object(),
                 "config.json: linux.resources.pids.limit: required"},
        BadField{"/linux/resources/devices/0/allow", nullptr,
                 "config.json: linux.resources.devices[0].allow: required"},
        BadField{"/linux/resources/devices/0/access", "rwx",
                 "config.json: linux.resources.devices[0].access: expected a combination of r, w "
                 "and m, got 'rwx'"},
        BadField{"/linux/resources/devices/0/type", "p",
                 "config.json: linux.resources.devices[0].type: unknown device type 'p' (want a, "
                 "c or b)"},
        BadField{"/linux/resources/unified",
                 {{"../escape", "1"}},
                 "config.json: linux.resources.unified: bad cgroup file name '../escape'"},
        BadField{"/linux/resources/blockIO",
                 {{"weight", 10}},
                 "config.json: linux.resources.blockIO: block I/O limits are not supported",
                 kUnimpl},
        BadField{"/linux/resources/hugepageLimits",
                 {{{"pageSize", "2MB"}, {"limit", 1}}},
                 "config.json: linux.resources.hugepageLimits: hugepage limits are not supported",
                 kUnimpl},
        BadField{"/linux/resources/rdma",
                 {{"mlx5_1", {{"hcaHandles", 3}}}},
                 "config.json: linux.resources.rdma: RDMA limits are not supported",
                 kUnimpl},
        BadField{"/linux/seccomp", Json::object(),
                 "config.json: linux.seccomp.defaultAction: required"},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_MAYBE"}},
                 "config.json: linux.seccomp.defaultAction: unknown action 'SCMP_ACT_MAYBE'"},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_NOTIFY"}},
                 "config.json: linux.seccomp.defaultAction: seccomp user notification is not "
                 "supported",
                 kUnimpl},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_Z80"}}},
                 "config.json: linux.seccomp.architectures[0]: unknown architecture "
                 "'SCMP_ARCH_Z80'"},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {"NOPE"}}},
                 "config.json: linux.seccomp.flags[0]: unknown flag 'NOPE'"},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerPath", "/run/seccomp.sock"}},
                 "config.json: linux.seccomp.listenerPath: seccomp user notification is not "
                 "supported",
                 kUnimpl},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"syscalls", {{{"names", Json::array()}, {"action", "SCMP_ACT_ERRNO"}}}}},
                 "config.json: linux.seccomp.syscalls[0].names: must not be empty"},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {{{"names", {"read"}}}}}},
                 "config.json: linux.seccomp.syscalls[0].action: required"},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"syscalls",
                   {{{"names", {"read"}},
                     {"action", "SCMP_ACT_ERRNO"},
                     {"args", {{{"index", 6}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}}}}},
                 "config.json: linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5"},
        BadField{"/linux/seccomp",
                 {{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"syscalls",
                   {{{"names", {"read"}},
                     {"action", "SCMP_ACT_ERRNO"},
                     {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_ABOUT"}}}}}}}},
                 "config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator "
                 "'SCMP_CMP_ABOUT'"},
        BadField{"/linux/rootfsPropagation", "sideways",
                 "config.json: linux.rootfsPropagation: unknown propagation 'sideways'"},
        BadField{"/linux/maskedPaths/0", "proc/kcore",
                 "config.json: linux.maskedPaths[0]: must be an absolute path, got 'proc/kcore'"},
        BadField{"/linux/readonlyPaths", "x",
                 "config.json: linux.readonlyPaths: expected an array, got string"},
        BadField{"/linux/sysctl",
                 {{"net.core.somaxconn", 5}},
                 "config.json: linux.sysctl.net.core.somaxconn: expected a string, got number"},
        BadField{"/linux/mountLabel", "system_u:object_r:svirt_sandbox_file_t:s0",
                 "config.json: linux.mountLabel: SELinux mount labels are not supported", kUnimpl},
        BadField{"/linux/intelRdt",
                 {{"closID", "guaranteed_group"}},
                 "config.json: linux.intelRdt: Intel RDT is not supported",
                 kUnimpl},
        BadField{"/linux/personality",
                 {{"domain", "LINUX32"}},
                 "config.json: linux.personality: execution domains (personality) are not "
                 "supported",
                 kUnimpl},
        BadField{"/linux/timeOffsets",
                 {{"monotonic", {{"secs", 1}}}},
                 "config.json: linux.timeOffsets: time namespace offsets are not supported",
                 kUnimpl},
        BadField{"/linux/namespaces",
                 {{{"type", "mount"}}},
                 "config.json: hostname: setting the hostname needs a uts namespace"},
        BadField{"/annotations",
                 {{"io.gantry.rootfs.overlay.lower", "/a:b"},
                  {"io.gantry.rootfs.overlay.upper", "/u"},
                  {"io.gantry.rootfs.overlay.work", "/w"}},
                 "config.json: annotations.io.gantry.rootfs.overlay.lower: each layer must be an "
                 "absolute path, got 'b'"},
        BadField{"/annotations",
                 {{"io.gantry.rootfs.overlay.lower", "/a"}},
                 "config.json: annotations.io.gantry.rootfs.overlay.lower: an overlay root needs "
                 "upper and work dirs too"},
        BadField{"/annotations",
                 {{"io.gantry.rootfs.overlay.lower", "/a"},
                  {"io.gantry.rootfs.overlay.upper", "/u"},
                  {"io.gantry.rootfs.overlay.work", "/w"},
                  {"io.gantry.rootfs.overlay.volatile", "yes"}},
                 "config.json: annotations.io.gantry.rootfs.overlay.volatile: must be \"true\" "
                 "or \"false\", got 'yes'"},
        BadField{"/annotations",
                 {{"io.gantry.init", "1"}},
                 "config.json: annotations.io.gantry.init: must be \"true\" or \"false\", "
                 "got '1'"},
        BadField{"/annotations",
                 {{"io.gantry.rootfs.overlay.volatile", "true"}},
                 "config.json: annotations.io.gantry.rootfs.overlay.volatile: applies to an "
                 "overlay root only (no lower layers given)"},
        BadField{"/annotations",
                 {{"io.gantry.hosts-file", "hosts"}},
                 "config.json: annotations.io.gantry.hosts-file: must be an absolute path, got "
                 "'hosts'"}));

TEST(OciConfigTest, EmptyUnsupportedFieldsAreAccepted) {
  Json c = base_config();
  c["process"]["apparmorProfile"] = "";
  c["process"]["selinuxLabel"] = "";
  c["linux"]["mountLabel"] = "";
  c["linux"]["resources"]["blockIO"] = Json::object();
  c["linux"]["resources"]["memory"] = {{"disableOOMKiller", false}};
  c["linux"]["intelRdt"] = nullptr;
  EXPECT_TRUE(parse(c).ok()) << parse(c).error().message();
}

TEST(OciConfigTest, NamespaceNamesRoundTrip) {
  for (auto name : {"mount", "pid", "uts", "ipc", "network", "cgroup", "user", "time"}) {
    auto t = parse_namespace_type(name);
    ASSERT_TRUE(t.ok()) << name;
    EXPECT_EQ(namespace_type_name(*t), name);
  }
  EXPECT_FALSE(parse_namespace_type("net").ok());
}

class LoadOciConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(make_dirs(dir_.file("rootfs")).ok());
    config_ = base_config();
  }
  void save() { ASSERT_TRUE(write_file(dir_.file("config.json"), config_.dump()).ok()); }
  testing::TempDir dir_;
  Json config_;
};

TEST_F(LoadOciConfigTest, LoadsABundle) {
  save();
  auto spec = load_oci_config(dir_.path());
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->bundle, dir_.path());
  EXPECT_EQ(spec->root.path, dir_.file("rootfs"));
}

TEST_F(LoadOciConfigTest, MissingBundle) {
  auto spec = load_oci_config(dir_.file("nope"));
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(spec.error().message(), "bundle '" + dir_.file("nope") + "': no such directory");
}

TEST_F(LoadOciConfigTest, MissingConfig) {
  auto spec = load_oci_config(dir_.path());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(), "bundle '" + dir_.path() + "': no config.json");
}

TEST_F(LoadOciConfigTest, MalformedConfig) {
  ASSERT_TRUE(write_file(dir_.file("config.json"), "{\"ociVersion\": ").ok());
  auto spec = load_oci_config(dir_.path());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(spec.error().message().find("parse config.json:"), std::string::npos)
      << spec.error().message();
}

TEST_F(LoadOciConfigTest, MissingRootfs) {
  config_["root"]["path"] = "nothere";
  save();
  auto spec = load_oci_config(dir_.path());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(), "config.json: root.path: rootfs '" + dir_.file("nothere") +
                                        "' does not exist or is not a directory");
}

TEST_F(LoadOciConfigTest, MissingBindSource) {
  config_["mounts"].push_back(
      {{"destination", "/data"}, {"source", "/no/such/dir"}, {"options", {"rbind"}}});
  save();
  auto spec = load_oci_config(dir_.path());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(),
            "config.json: mounts[7].source: '/no/such/dir' does not exist");
}

TEST_F(LoadOciConfigTest, RelativeBindSourceIsResolvedAgainstTheBundle) {
  ASSERT_TRUE(make_dirs(dir_.file("data")).ok());
  config_["mounts"].push_back({{"destination", "/data"}, {"source", "data"}, {"type", "bind"}});
  save();
  EXPECT_TRUE(load_oci_config(dir_.path()).ok());
}

TEST_F(LoadOciConfigTest, MissingHookProgram) {
  config_["hooks"] = {{"poststart", {{{"path", "/no/such/hook"}}}}};
  save();
  auto spec = load_oci_config(dir_.path());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(),
            "config.json: hooks.poststart[0].path: '/no/such/hook' is not an executable file");
}

TEST(OciConfigTest, AProcessAloneParsesAsInAConfigAndNamesItsFile) {
  Json process = base_config()["process"];
  process["args"] = {"/bin/echo", "exec'd"};
  process["cwd"] = "/tmp";
  auto p = parse_oci_process(process, "/run/p.json");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->args, (std::vector<std::string>{"/bin/echo", "exec'd"}));
  EXPECT_EQ(p->cwd, "/tmp");
  process.erase("args");
  EXPECT_EQ(parse_oci_process(process, "/run/p.json").error().message(),
            "/run/p.json: process.args: required");
  EXPECT_EQ(parse_oci_process(Json::array(), "/run/p.json").error().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace gantry::runtime
