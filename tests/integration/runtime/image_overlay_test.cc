// Root: a five-layer image with deletions and opaque directories, stored and unpacked into
// snapshots, mounted as a read-only overlay of its snapshots, must show exactly the image's
// files. Also `gantry image import/ls/inspect/rm/prune` through the binary.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/file.h"
#include "common/json.h"
#include "common/subprocess.h"
#include "runtime/image/image_store.h"
#include "tests/support/test_image.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime::image {
namespace {

using gantry::testing::LayerTar;
using gantry::testing::TempDir;
namespace fs = std::filesystem;

bool overlay_supported() {
  std::string fss = read_file("/proc/filesystems").value_or("");
  return fss.find("\toverlay\n") != std::string::npos;
}

// Unmounts on scope exit, so a failing assertion leaves no mount behind.
class ScopedMount {
 public:
  explicit ScopedMount(std::string target) : target_(std::move(target)) {}
  ~ScopedMount() {
    if (mounted) ::umount2(target_.c_str(), MNT_DETACH);
  }
  bool mounted = false;

 private:
  std::string target_;
};

// path → "d" | "f:<content>" | "l:<target>" | "c:<maj>,<min>"
std::map<std::string, std::string> walk(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    std::string rel = e.path().string().substr(root.size() + 1);
    struct stat st;
    ::lstat(e.path().c_str(), &st);
    if (S_ISDIR(st.st_mode)) out[rel] = "d";
    else if (S_ISLNK(st.st_mode)) out[rel] = "l:" + fs::read_symlink(e.path()).string();
    else if (S_ISCHR(st.st_mode))
      out[rel] = "c:" + std::to_string(major(st.st_rdev)) + "," + std::to_string(minor(st.st_rdev));
    else out[rel] = "f:" + read_file(e.path()).value_or("?");
  }
  return out;
}

TEST(ImageOverlayTest, OVERLAYFS_FiveLayersWithDeletionsShowExactlyTheImage) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount overlayfs";
  if (!overlay_supported()) GTEST_SKIP() << "overlayfs is not available in this kernel";
  TempDir dir;
  auto store = ImageStore::open(dir.file("root"));
  ASSERT_TRUE(store.ok()) << store.error().message();

  std::vector<LayerTar> layers(5);
  layers[0].dir("etc").file("etc/passwd", "v1").file("etc/group", "g")
      .dir("usr").dir("usr/bin").file("usr/bin/a", "a").file("usr/bin/b", "b")
      .dir("var").dir("var/cache").file("var/cache/x", "x").file("var/cache/y", "y")
      .dir("opt").dir("opt/old").dir("opt/old/deep").file("opt/old/deep/f", "f");
  layers[1].whiteout("usr/bin/a").file("usr/bin/c", "c")
      .dir("var/cache").opaque("var/cache").file("var/cache/z", "z");
  layers[2].whiteout("opt/old").file("etc/passwd", "v2").hardlink("etc/passwd2", "etc/passwd");
  layers[3].dir("opt/old").file("opt/old/new", "n").symlink("usr/bin/sh", "/usr/bin/b");
  layers[4].whiteout("etc/group").dir("root", 0700).file("root/.profile", "p")
      .device("dev/null", 'c', 1, 3);
  std::string m = gantry::testing::store_test_image((*store)->content(), layers);
  auto rec = (*store)->commit_image("localhost/five:1", m, *parse_platform("linux/amd64"));
  ASSERT_TRUE(rec.ok()) << rec.error().message();
  auto lowers = (*store)->lower_dirs(*rec);
  ASSERT_TRUE(lowers.ok()) << lowers.error().message();
  ASSERT_EQ(lowers->size(), 5u);

  std::string opts = "lowerdir=";
  for (auto it = lowers->rbegin(); it != lowers->rend(); ++it)  // overlay wants topmost first
    opts += (it == lowers->rbegin() ? "" : ":") + *it;
  std::string target = dir.file("merged");
  ASSERT_TRUE(make_dirs(target).ok());
  ScopedMount mount(target);
  ASSERT_EQ(::mount("overlay", target.c_str(), "overlay", MS_RDONLY, opts.c_str()), 0)
      << "mount overlay: " << std::strerror(errno) << " opts=" << opts;
  mount.mounted = true;

  std::map<std::string, std::string> expected = {
      {"etc", "d"},           {"etc/passwd", "f:v2"},     {"etc/passwd2", "f:v2"},
      {"usr", "d"},           {"usr/bin", "d"},           {"usr/bin/b", "f:b"},
      {"usr/bin/c", "f:c"},   {"usr/bin/sh", "l:/usr/bin/b"},
      {"var", "d"},           {"var/cache", "d"},         {"var/cache/z", "f:z"},
      {"opt", "d"},           {"opt/old", "d"},           {"opt/old/new", "f:n"},
      {"root", "d"},          {"root/.profile", "f:p"},   {"dev", "d"},
      {"dev/null", "c:1,3"},
  };
  EXPECT_EQ(walk(target), expected);
  struct stat st;
  ASSERT_EQ(::stat((target + "/root").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);

  ASSERT_EQ(::umount2(target.c_str(), 0), 0) << std::strerror(errno);
  mount.mounted = false;
}

std::vector<std::string> gantry_cmd(const std::string& root, std::vector<std::string> args) {
  args.insert(args.begin(), {GANTRY_BIN, "--root", root});
  return args;
}

TEST(ImageCliTest, ImportThenLsInspectRmPrune) {
  TempDir dir;
  std::string rootfs = dir.file("rootfs");
  ASSERT_TRUE(make_dirs(rootfs + "/bin").ok());
  ASSERT_TRUE(write_file(rootfs + "/bin/hello", "#!/bin/sh\necho hi\n").ok());
  ASSERT_EQ(::chmod((rootfs + "/bin/hello").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("hello", (rootfs + "/bin/hi").c_str()), 0);
  std::string root = dir.file("state");

  auto imp = run_subprocess(gantry_cmd(root, {"image", "import", rootfs, "localhost/base:1",
                                              "--cmd", "/bin/hello", "--workdir", "/bin"}));
  ASSERT_TRUE(imp.ok());
  ASSERT_EQ(imp->exit_code, 0) << imp->err;
  std::string digest = imp->out.substr(0, imp->out.find('\n'));
  EXPECT_TRUE(digest.starts_with("sha256:")) << imp->out;

  auto ls = run_subprocess(gantry_cmd(root, {"image", "ls"}));
  ASSERT_EQ(ls->exit_code, 0) << ls->err;
  EXPECT_NE(ls->out.find("localhost/base"), std::string::npos) << ls->out;
  EXPECT_NE(ls->out.find(digest.substr(7, 12)), std::string::npos) << ls->out;

  auto ls_json = run_subprocess(gantry_cmd(root, {"image", "ls", "--json"}));
  auto listed = parse_json(ls_json->out, "ls");
  ASSERT_TRUE(listed.ok()) << ls_json->out;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]["name"], "localhost/base:1");

  auto inspect = run_subprocess(gantry_cmd(root, {"image", "inspect", "localhost/base:1"}));
  ASSERT_EQ(inspect->exit_code, 0) << inspect->err;
  auto j = parse_json(inspect->out, "inspect");
  ASSERT_TRUE(j.ok()) << inspect->out;
  EXPECT_EQ((*j)["digest"], digest);
  EXPECT_EQ((*j)["config"]["config"]["Cmd"], Json::array({"/bin/hello"}));
  EXPECT_EQ((*j)["config"]["config"]["WorkingDir"], "/bin");
  ASSERT_EQ((*j)["lower_dirs"].size(), 1u);
  std::string lower = (*j)["lower_dirs"][0];
  EXPECT_EQ(*read_file(lower + "/bin/hello"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(fs::read_symlink(lower + "/bin/hi"), "hello");

  auto missing = run_subprocess(gantry_cmd(root, {"image", "inspect", "nope"}));
  EXPECT_EQ(missing->exit_code, 3);
  EXPECT_EQ(missing->err, "gantry: image 'nope' not found\n");

  auto rm = run_subprocess(gantry_cmd(root, {"image", "rm", "localhost/base:1"}));
  ASSERT_EQ(rm->exit_code, 0) << rm->err;
  auto prune = run_subprocess(gantry_cmd(root, {"image", "prune"}));
  ASSERT_EQ(prune->exit_code, 0) << prune->err;
  EXPECT_TRUE(list_dir(root + "/blobs/sha256")->empty());
  EXPECT_FALSE(path_exists(lower));
}

}  // namespace
}  // namespace gantry::runtime::image
