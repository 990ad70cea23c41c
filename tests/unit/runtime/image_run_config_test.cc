#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/file.h"
#include "runtime/image/run_config.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime::image {
namespace {

using gantry::testing::TempDir;
using Args = std::vector<std::string>;

ImageConfig config() {
  ImageConfig c;
  c.entrypoint = {"/entry"};
  c.cmd = {"serve", "--port=80"};
  c.env = {"PATH=/opt/bin", "LANG=C"};
  c.working_dir = "/app";
  c.user = "www";
  return c;
}

TEST(RunConfigTest, ImageDefaultsThenOverridesLikeDocker) {
  auto r = resolve_run_config(config(), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->args, (Args{"/entry", "serve", "--port=80"}));
  EXPECT_EQ(r->env, (Args{"PATH=/opt/bin", "LANG=C"}));
  EXPECT_EQ(r->cwd, "/app");
  EXPECT_EQ(r->user, "www");

  RunOverrides o;
  o.cmd = {"test"};
  o.env = {"LANG=en_US.UTF-8", "CI=true", "EMPTY"};
  o.working_dir = "/src";
  o.user = "0";
  r = resolve_run_config(config(), o);
  EXPECT_EQ(r->args, (Args{"/entry", "test"}));
  EXPECT_EQ(r->env, (Args{"PATH=/opt/bin", "LANG=en_US.UTF-8", "CI=true", "EMPTY="}));
  EXPECT_EQ(r->cwd, "/src");
  EXPECT_EQ(r->user, "0");

  // A given entrypoint drops the image's Cmd too; an empty one clears it.
  RunOverrides e;
  e.entrypoint = Args{"/bin/sh", "-c"};
  EXPECT_EQ(resolve_run_config(config(), e)->args, (Args{"/bin/sh", "-c"}));
  e.entrypoint = Args{};
  e.cmd = {"/bin/true"};
  EXPECT_EQ(resolve_run_config(config(), e)->args, (Args{"/bin/true"}));
}

TEST(RunConfigTest, DefaultsAndErrors) {
  ImageConfig bare;
  bare.cmd = {"/bin/sh"};
  auto r = resolve_run_config(bare, {});
  EXPECT_EQ(r->env, Args{std::string(kDefaultPath)});
  EXPECT_EQ(r->cwd, "/");
  EXPECT_EQ(r->user, "");
  auto none = resolve_run_config(ImageConfig{}, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message(),
            "no command to run: the image has no Entrypoint or Cmd and none was given");
  RunOverrides rel;
  rel.working_dir = "src";
  EXPECT_EQ(resolve_run_config(bare, rel).error().message(),
            "working directory 'src' must be an absolute path");
}

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n# comment\nwww:x:33:33::/var/www:/bin/false\n"
    "dev:x:1000:1000::/home/dev:/bin/sh\n";
constexpr std::string_view kGroup =
    "root:x:0:\nwww:x:33:\ndev:x:1000:\ndocker:x:999:dev,www\nwheel:x:10:dev\n";

TEST(RunConfigTest, ResolvesUsersAgainstTheImagesFiles) {
  auto u = resolve_user("dev", kPasswd, kGroup);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{999, 10}));
  EXPECT_EQ(resolve_user("www:docker", kPasswd, kGroup)->gid, 999u);
  EXPECT_EQ(resolve_user("33", kPasswd, kGroup)->gid, 33u);     // gid from passwd
  EXPECT_EQ(resolve_user("4242", kPasswd, kGroup)->gid, 0u);    // unknown uid: gid 0
  EXPECT_EQ(resolve_user("4242:7", "", "")->gid, 7u);
  EXPECT_EQ(resolve_user("", kPasswd, kGroup)->uid, 0u);
  EXPECT_EQ(resolve_user("nobody", kPasswd, kGroup).error().message(),
            "user 'nobody' not found in the image's /etc/passwd");
  EXPECT_EQ(resolve_user("dev:staff", kPasswd, kGroup).error().message(),
            "group 'staff' not found in the image's /etc/group");
  EXPECT_EQ(resolve_user("dev:", kPasswd, kGroup).error().code(), ErrorCode::kInvalidArgument);
}

TEST(RunConfigTest, AppliesToProcess) {
  RunConfig run{{"/bin/sh"}, {"PATH=/bin"}, "/w", "dev"};
  Process p;
  p.user.umask = 022;
  User u;
  u.uid = 5;
  apply_run_config(run, u, p);
  EXPECT_EQ(p.args, Args{"/bin/sh"});
  EXPECT_EQ(p.cwd, "/w");
  EXPECT_EQ(p.user.uid, 5u);
  EXPECT_EQ(p.user.umask, 022u);
}

TEST(RunConfigTest, ReadsTheImagesViewOfAFile) {
  TempDir dir;
  std::string l1 = dir.file("l1"), l2 = dir.file("l2"), l3 = dir.file("l3");
  for (const auto& l : {l1, l2, l3}) ASSERT_TRUE(make_dirs(l + "/etc").ok());
  ASSERT_TRUE(write_file(l1 + "/etc/passwd", "old").ok());
  ASSERT_TRUE(write_file(l2 + "/etc/passwd", "new").ok());
  ASSERT_TRUE(write_file(l1 + "/etc/group", "g").ok());
  EXPECT_EQ(*read_image_file({l1, l2, l3}, "/etc/passwd"), "new");
  EXPECT_EQ(*read_image_file({l1, l2, l3}, "/etc/group"), "g");
  EXPECT_EQ(read_image_file({l1, l2, l3}, "/etc/shadow").error().code(), ErrorCode::kNotFound);
  if (::geteuid() == 0) {  // whiteouts are 0:0 char devices
    ASSERT_EQ(::mknod((l3 + "/etc/group").c_str(), S_IFCHR, makedev(0, 0)), 0);
    EXPECT_EQ(read_image_file({l1, l2, l3}, "/etc/group").error().message(),
              "image file '/etc/group' not found");
  }
  ASSERT_EQ(::symlink("/etc/shadow", (l3 + "/etc/passwd").c_str()), 0);
  EXPECT_EQ(read_image_file({l1, l2, l3}, "/etc/passwd").error().code(),
            ErrorCode::kUnimplemented);
}

}  // namespace
}  // namespace gantry::runtime::image
