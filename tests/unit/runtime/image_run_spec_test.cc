#include <gtest/gtest.h>

#include "runtime/image/run_spec.h"

namespace gantry::runtime::image {
namespace {

using Args = std::vector<std::string>;

ContainerSpec base() {
  ContainerSpec s;
  s.root.path = "rootfs";
  s.root.readonly = true;
  s.hostname = "gantry";
  s.process.env = {"PATH=/usr/bin", "TERM=xterm"};
  s.namespaces = {{NamespaceType::kPid, ""}, {NamespaceType::kNetwork, ""},
                  {NamespaceType::kMount, ""}};
  s.mounts = {{"/proc", "proc", "proc", {}}};
  return s;
}

RunRootfs rootfs() {
  return {{"/s/snapshots/a/fs", "/s/snapshots/b/fs"}, "/s/c/1/upper", "/s/c/1/work",
          "/s/c/1/rootfs"};
}

ImageConfig image() {
  ImageConfig c;
  c.entrypoint = {"/docker-entrypoint.sh"};
  c.cmd = {"nginx", "-g", "daemon off;"};
  c.env = {"PATH=/opt/bin:/bin", "NGINX_VERSION=1.25"};
  c.working_dir = "/srv";
  c.user = "www";
  return c;
}

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/sh\nwww:x:33:34:www:/var/www:/bin/false\n";
constexpr std::string_view kGroup = "root:x:0:\nwww:x:34:\nlogs:x:50:www,other\n";

TEST(RunSpecTest, AppliesImageConfigAndKeepsBaseEnvUnlessOverridden) {
  ContainerRunOptions o;
  auto spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->process.args, (Args{"/docker-entrypoint.sh", "nginx", "-g", "daemon off;"}));
  EXPECT_EQ(spec->process.env,
            (Args{"PATH=/opt/bin:/bin", "NGINX_VERSION=1.25", "TERM=xterm"}));
  EXPECT_EQ(spec->process.cwd, "/srv");
  EXPECT_EQ(spec->process.user.uid, 33u);
  EXPECT_EQ(spec->process.user.gid, 34u);
  EXPECT_EQ(spec->process.user.additional_gids, (std::vector<uint32_t>{50}));
}

TEST(RunSpecTest, CommandReplacesCmdButKeepsEntrypointAsDockerDoes) {
  ContainerRunOptions o;
  o.cmd = {"sh", "-c", "echo $FOO"};
  auto spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process.args, (Args{"/docker-entrypoint.sh", "sh", "-c", "echo $FOO"}));

  ImageConfig busybox;
  busybox.cmd = {"sh"};
  spec = make_run_spec(base(), busybox, o, rootfs(), "", "");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process.args, (Args{"sh", "-c", "echo $FOO"}));
  EXPECT_EQ(spec->process.cwd, "/");
  EXPECT_EQ(spec->process.user.uid, 0u);

  o.entrypoint = Args{"/bin/env"};
  o.cmd.clear();
  spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  EXPECT_EQ(spec->process.args, (Args{"/bin/env"}));  // the image's Cmd goes with its entrypoint
}

TEST(RunSpecTest, EnvFlagsOverrideImageEnvByKey) {
  ContainerRunOptions o;
  o.env = {"NGINX_VERSION=2", "FOO=bar", "TERM=dumb", "EMPTY"};
  auto spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process.env, (Args{"PATH=/opt/bin:/bin", "NGINX_VERSION=2", "FOO=bar",
                                     "TERM=dumb", "EMPTY="}));
  o.env = {"=x"};
  spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message().find("'=x'"), std::string::npos) << spec.error().message();
}

TEST(RunSpecTest, UserFromFlagResolvedAgainstImageFiles) {
  ContainerRunOptions o;
  o.user = "1000:50";
  auto spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process.user.uid, 1000u);
  EXPECT_EQ(spec->process.user.gid, 50u);
  o.user = "www:logs";
  spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  EXPECT_EQ(spec->process.user.gid, 50u);
  o.user = "nobody";
  spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(spec.error().message(),
            "user of the container: user 'nobody' not found in the image's /etc/passwd");
  o.user = "www:";
  EXPECT_EQ(make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup).error().code(),
            ErrorCode::kInvalidArgument);
}

TEST(RunSpecTest, RootIsWritableOverlayOfSnapshots) {
  auto spec = make_run_spec(base(), image(), {}, rootfs(), kPasswd, kGroup);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->root.path, "/s/c/1/rootfs");
  EXPECT_FALSE(spec->root.readonly);
  EXPECT_EQ(spec->root.overlay_lower, (Args{"/s/snapshots/a/fs", "/s/snapshots/b/fs"}));
  EXPECT_EQ(spec->root.overlay_upper, "/s/c/1/upper");
  EXPECT_EQ(spec->root.overlay_work, "/s/c/1/work");
  EXPECT_EQ(spec->hostname, "gantry");
}

TEST(RunSpecTest, VolumesNetworkAndLimits) {
  ContainerRunOptions o;
  o.volumes = {{"/src", "/work", false}, {"/cache", "/cache", true}};
  o.network = NetworkMode::kHost;
  o.memory_bytes = 512 << 20;
  o.cpus = CpuLimit{150000, 100000};
  o.pids_limit = 64;
  o.hostname = "job-1";
  auto spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  ASSERT_TRUE(spec.ok());
  ASSERT_EQ(spec->mounts.size(), 3u);
  EXPECT_EQ(spec->mounts[1].destination, "/work");
  EXPECT_EQ(spec->mounts[1].source, "/src");
  EXPECT_EQ(spec->mounts[1].options, (Args{"rbind", "nosuid", "nodev", "rw"}));
  EXPECT_EQ(spec->mounts[2].options, (Args{"rbind", "nosuid", "nodev", "ro"}));
  EXPECT_FALSE(spec->has_namespace(NamespaceType::kNetwork));
  EXPECT_TRUE(spec->has_namespace(NamespaceType::kPid));
  EXPECT_EQ(spec->resources.memory_limit, 512 << 20);
  EXPECT_EQ(spec->resources.cpu_quota, 150000);
  EXPECT_EQ(spec->resources.cpu_period, 100000u);
  EXPECT_EQ(spec->resources.pids_limit, 64);
  EXPECT_EQ(spec->hostname, "job-1");

  o.network = NetworkMode::kNone;
  ContainerSpec no_net = base();
  no_net.namespaces.erase(no_net.namespaces.begin() + 1);
  spec = make_run_spec(no_net, image(), o, rootfs(), kPasswd, kGroup);
  EXPECT_TRUE(spec->has_namespace(NamespaceType::kNetwork));

  o.pids_limit = 0;
  spec = make_run_spec(base(), image(), o, rootfs(), kPasswd, kGroup);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(), "pids-limit '0': must be positive");
}

TEST(RunSpecTest, NothingToRunIsAnError) {
  auto spec = make_run_spec(base(), ImageConfig{}, {}, rootfs(), "", "");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), ErrorCode::kInvalidArgument);
}

TEST(RunSpecParseTest, MemorySizes) {
  EXPECT_EQ(*parse_memory_size("512m"), 512LL << 20);
  EXPECT_EQ(*parse_memory_size("1g"), 1LL << 30);
  EXPECT_EQ(*parse_memory_size("1G"), 1LL << 30);
  EXPECT_EQ(*parse_memory_size("1.5g"), 3LL << 29);
  EXPECT_EQ(*parse_memory_size("64kb"), 64LL << 10);
  EXPECT_EQ(*parse_memory_size("2t"), 2LL << 40);
  EXPECT_EQ(*parse_memory_size("1048576"), 1048576);
  EXPECT_EQ(*parse_memory_size("100b"), 100);
  for (auto bad : {"12q", "", "m", "-1g", "1..5m", "0", "0.0000001k", "1 g", "99999999999t"}) {
    auto r = parse_memory_size(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message().rfind("memory size '" + std::string(bad) + "': ", 0), 0u)
        << r.error().message();
  }
  EXPECT_NE(parse_memory_size("12q").error().message().find("512m"), std::string::npos);
}

TEST(RunSpecParseTest, Cpus) {
  auto c = parse_cpus("1.5");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->quota, 150000);
  EXPECT_EQ(c->period, 100000u);
  EXPECT_EQ(parse_cpus("2")->quota, 200000);
  EXPECT_EQ(parse_cpus("0.01")->quota, 1000);
  EXPECT_EQ(parse_cpus(".25")->quota, 25000);
  for (auto bad : {"0", "0.001", "-1", "abc", "1.5x", "", "0.000001", "1e3"}) {
    auto r = parse_cpus(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message().rfind("cpus '" + std::string(bad) + "': ", 0), 0u)
        << r.error().message();
  }
}

TEST(RunSpecParseTest, Volumes) {
  auto v = parse_volume("/data:/mnt/data:ro");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->source, "/data");
  EXPECT_EQ(v->destination, "/mnt/data");
  EXPECT_TRUE(v->readonly);
  EXPECT_FALSE(parse_volume("/a:/b")->readonly);
  EXPECT_FALSE(parse_volume("/a:/b:rw")->readonly);
  EXPECT_EQ(parse_volume("/a:/b:rx").error().message(),
            "volume '/a:/b:rx': unknown mode 'rx' (expected ro or rw)");
  EXPECT_EQ(parse_volume("data:/b").error().message(),
            "volume 'data:/b': source 'data' must be an absolute path without '..'");
  EXPECT_EQ(parse_volume("/a:/").error().message(),
            "volume '/a:/': cannot mount over the container's root '/'");
  for (auto bad : {"/a", "/a:/b:ro:x", "/a:../b", "/a:/b/../../etc", "/a:"})
    EXPECT_FALSE(parse_volume(bad).ok()) << bad;
}

TEST(RunSpecParseTest, Network) {
  EXPECT_EQ(*parse_network("none"), NetworkMode::kNone);
  EXPECT_EQ(*parse_network("host"), NetworkMode::kHost);
  EXPECT_EQ(parse_network("bridge").error().message(),
            "network 'bridge': expected none or host");
}

}  // namespace
}  // namespace gantry::runtime::image
