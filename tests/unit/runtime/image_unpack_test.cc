#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "common/file.h"
#include "common/unique_fd.h"
#include "runtime/image/unpack.h"
#include "tests/support/layer_tar.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime::image {
namespace {

using gantry::testing::LayerTar;
using gantry::testing::TempDir;
namespace fs = std::filesystem;

class UnpackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: owners, device nodes, trusted xattrs";
    layer_ = dir_.file("layer");
    outside_ = dir_.file("outside");
    ASSERT_TRUE(make_dirs(layer_).ok());
    ASSERT_TRUE(make_dirs(outside_).ok());
    ASSERT_TRUE(write_file(outside_ + "/secret", "keep me").ok());
    before_ = snapshot_outside();
  }

  Result<UnpackStats> unpack(const LayerTar& tar, Compression c = Compression::kNone) {
    std::string blob = dir_.file("blob");
    EXPECT_TRUE(write_file(blob, tar.build(c)).ok());
    UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
    auto r = unpack_layer(fd.get(), layer_);
    ::unlink(blob.c_str());
    return r;
  }

  // Every path outside the layer dir, with its type and content, to prove nothing changed.
  std::set<std::string> snapshot_outside() {
    std::set<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(dir_.path())) {
      std::string p = e.path().string();
      if (p.starts_with(layer_)) continue;
      std::string content;
      if (e.is_regular_file() && !e.is_symlink()) content = *read_file(p);
      out.insert(p + "|" + std::to_string(static_cast<int>(e.symlink_status().type())) + "|" +
                 content);
    }
    return out;
  }

  void expect_outside_untouched() {
    EXPECT_EQ(snapshot_outside(), before_);
    EXPECT_FALSE(path_exists("/etc/x"));
  }

  std::string in_layer(const std::string& rel) { return layer_ + "/" + rel; }

  TempDir dir_;
  std::string layer_, outside_;
  std::set<std::string> before_;
};

TEST_F(UnpackTest, KeepsEveryEntryTypeOwnerModeTimeAndXattr) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    SCOPED_TRACE(static_cast<int>(c));
    ASSERT_TRUE(remove_all(layer_).ok());
    ASSERT_TRUE(make_dirs(layer_).ok());
    LayerTar tar;
    tar.dir("etc", 0750, 1000, 1001).mtime(1600000000)
        .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0600, 0, 42)
        .file("bin/su", std::string(100000, 's'), 04755, 1000, 1000).xattr("user.k", "v")
        .symlink("bin/sh", "/bin/busybox")
        .hardlink("bin/su2", "bin/su")
        .device("dev/null", 'c', 1, 3)
        .device("dev/loop0", 'b', 7, 0)
        .fifo("run/fifo")
        .file("deep/implicit/dirs/f", "x");
    auto r = unpack(tar, c);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->diff_id, tar.diff_id());
    EXPECT_EQ(r->entries, 9);

    struct stat st;
    ASSERT_EQ(::lstat(in_layer("etc").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0750u);
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 1001u);
    EXPECT_EQ(st.st_mtime, 1600000000);  // kept although etc/passwd was written after it

    ASSERT_EQ(::lstat(in_layer("etc/passwd").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_gid, 42u);
    EXPECT_EQ(st.st_mtime, 1700000000);
    EXPECT_EQ(*read_file(in_layer("etc/passwd")), "root:x:0:0::/root:/bin/sh\n");

    ASSERT_EQ(::lstat(in_layer("bin/su").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 04755u);  // set-uid survives the chown
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_size, 100000);
    EXPECT_EQ(st.st_nlink, 2u);
    char val[8] = {};
    EXPECT_EQ(::lgetxattr(in_layer("bin/su").c_str(), "user.k", val, sizeof val), 1);
    EXPECT_STREQ(val, "v");
    struct stat st2;
    ASSERT_EQ(::lstat(in_layer("bin/su2").c_str(), &st2), 0);
    EXPECT_EQ(st.st_ino, st2.st_ino);

    char target[64] = {};
    ASSERT_GT(::readlink(in_layer("bin/sh").c_str(), target, sizeof target), 0);
    EXPECT_STREQ(target, "/bin/busybox");

    ASSERT_EQ(::lstat(in_layer("dev/null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    ASSERT_EQ(::lstat(in_layer("dev/loop0").c_str(), &st), 0);
    EXPECT_TRUE(S_ISBLK(st.st_mode));
    ASSERT_EQ(::lstat(in_layer("run/fifo").c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    ASSERT_EQ(::lstat(in_layer("deep/implicit/dirs").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    expect_outside_untouched();
  }
}

TEST_F(UnpackTest, WhiteoutsBecomeOverlayWhiteouts) {
  LayerTar tar;
  tar.dir("d").opaque("d").file("d/new", "n").whiteout("gone").whiteout("d/sub/old")
      .file(".wh..wh.plnk", "")  // aufs bookkeeping: ignored
      .file("redir", "r").xattr("trusted.overlay.redirect", "/etc");
  auto r = unpack(tar);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->whiteouts, 4);
  struct stat st;
  ASSERT_EQ(::lstat(in_layer("gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  ASSERT_EQ(::lstat(in_layer("d/sub/old").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  char v[4] = {};
  EXPECT_EQ(::getxattr(in_layer("d").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_FALSE(path_exists(in_layer(".wh..wh.plnk")));
  EXPECT_FALSE(path_exists(in_layer("d/.wh..wh..opq")));
  EXPECT_FALSE(path_exists(in_layer(".wh.gone")));
  // A layer may not set overlayfs's own xattrs.
  EXPECT_LT(::getxattr(in_layer("redir").c_str(), "trusted.overlay.redirect", v, sizeof v), 0);
}

TEST_F(UnpackTest, LaterEntryReplacesEarlierOne) {
  LayerTar tar;
  tar.file("x", "one").file("x", "two").dir("d").file("d/f", "f").file("d", "now a file");
  auto r = unpack(tar);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*read_file(in_layer("x")), "two");
  EXPECT_EQ(*read_file(in_layer("d")), "now a file");
}

TEST_F(UnpackTest, HostileDotDotIsRefused) {
  auto r = unpack(LayerTar().file("../../etc/x", "pwned"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "layer entry '../../etc/x': path leaves the layer root");
  auto r2 = unpack(LayerTar().file("a/../../outside/secret", "pwned"));
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message().find("path leaves the layer root"), std::string::npos);
  expect_outside_untouched();
}

TEST_F(UnpackTest, HostileAbsolutePathStaysInside) {
  auto r = unpack(LayerTar().file(outside_ + "/secret", "pwned").file("/etc/x", "y"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*read_file(in_layer(outside_.substr(1) + "/secret")), "pwned");
  EXPECT_EQ(*read_file(in_layer("etc/x")), "y");
  expect_outside_untouched();
}

TEST_F(UnpackTest, HostileAbsoluteSymlinkThenWriteThroughIt) {
  // The symlink points at a directory that exists on the host but not in the layer.
  auto r = unpack(LayerTar().symlink("evil", outside_).file("evil/secret", "pwned"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "layer entry 'evil/secret': parent 'evil' is a symlink to a missing directory");
  expect_outside_untouched();
  // When the target exists in the layer, the write lands there: symlinks resolve in the layer.
  ASSERT_TRUE(remove_all(layer_).ok());
  ASSERT_TRUE(make_dirs(layer_).ok());
  auto r2 = unpack(LayerTar().dir("etc").symlink("evil", "/etc").file("evil/x", "inside"));
  ASSERT_TRUE(r2.ok()) << r2.error().message();
  EXPECT_EQ(*read_file(in_layer("etc/x")), "inside");
  expect_outside_untouched();
}

TEST_F(UnpackTest, HostileRelativeSymlinkDirEscapeStaysInside) {
  auto r = unpack(LayerTar()
                      .symlink("up", "../../../../../../../../")
                      .file("up/secret", "pwned")
                      .symlink("o", "../outside")
                      .file("o/secret", "pwned2"));
  // "up" resolves to the layer root; "../outside" to a missing dir inside the layer.
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(*read_file(in_layer("secret")), "pwned");
  EXPECT_NE(r.error().message().find("layer entry 'o/secret'"), std::string::npos);
  expect_outside_untouched();
}

TEST_F(UnpackTest, HostileHardlinksOutsideAreRefused) {
  auto r = unpack(LayerTar().hardlink("shadow", "/etc/shadow"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "layer entry 'shadow': hardlink target '/etc/shadow' is not in this layer");
  EXPECT_FALSE(path_exists(in_layer("shadow")));
  auto r2 = unpack(LayerTar().hardlink("s", "../outside/secret"));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().message(),
            "layer entry 's': hardlink target '../outside/secret' leaves the layer root");
  // Through a symlinked parent: still resolved inside the layer.
  auto r3 = unpack(LayerTar().symlink("o", outside_).hardlink("s2", "o/secret"));
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message().find("is not in this layer"), std::string::npos);
  expect_outside_untouched();
}

TEST_F(UnpackTest, FileReplacingSymlinkDoesNotWriteThroughIt) {
  auto r = unpack(LayerTar().symlink("s", outside_ + "/secret").file("s", "pwned"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  struct stat st;
  ASSERT_EQ(::lstat(in_layer("s").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  expect_outside_untouched();
}

TEST_F(UnpackTest, CorruptStreamsGiveClearErrors) {
  std::string gz = LayerTar().file("f", std::string(50000, 'a')).build(Compression::kGzip);
  std::string blob = dir_.file("blob");
  ASSERT_TRUE(write_file(blob, gz.substr(0, gz.size() / 2)).ok());
  UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  auto r = unpack_layer(fd.get(), layer_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message().starts_with("layer")) << r.error().message();

  ASSERT_TRUE(write_file(blob, std::string(3000, 'z')).ok());
  UniqueFd fd2(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  auto r2 = unpack_layer(fd2.get(), layer_);
  ASSERT_FALSE(r2.ok());
  EXPECT_TRUE(r2.error().message().starts_with("layer: ")) << r2.error().message();
  ::unlink(blob.c_str());
  expect_outside_untouched();
}

TEST_F(UnpackTest, OwnersAndModesAreTheTarsWhateverTheUmaskAndSetGidParents) {
  // Values equal to what a new inode gets are not set again; these are the cases where the
  // new inode's differ: a umask that masks bits, a set-gid directory that hands down its group.
  for (mode_t mask : {mode_t{077}, mode_t{0}}) {
    SCOPED_TRACE(mask);
    ASSERT_TRUE(remove_all(layer_).ok());
    ASSERT_TRUE(make_dirs(layer_).ok());
    mode_t old = ::umask(mask);
    LayerTar tar;
    tar.dir("g", 02775, 0, 50)
        .file("g/f", "f", 0644, 0, 0)
        .dir("g/d", 0755, 0, 0)
        .file("g/d/x", "x", 0666, 7, 8)
        .file("plain", "p", 0644, 0, 0)
        .dir("open", 0777, 0, 0);
    auto r = unpack(tar);
    ::umask(old);
    ASSERT_TRUE(r.ok()) << r.error().message();
    auto expect = [&](const std::string& rel, mode_t mode, uid_t uid, gid_t gid) {
      struct stat st;
      ASSERT_EQ(::lstat(in_layer(rel).c_str(), &st), 0) << rel;
      EXPECT_EQ(st.st_mode & 07777, mode) << rel;
      EXPECT_EQ(st.st_uid, uid) << rel;
      EXPECT_EQ(st.st_gid, gid) << rel;
    };
    expect("g", 02775, 0, 50);
    expect("g/f", 0644, 0, 0);   // not the directory's group
    expect("g/d", 0755, 0, 0);   // neither its group nor its set-gid bit
    expect("g/d/x", 0666, 7, 8);
    expect("plain", 0644, 0, 0);
    expect("open", 0777, 0, 0);
  }
}

TEST_F(UnpackTest, EveryTypeReplacesEveryOtherAndDirectoriesAreKept) {
  LayerTar tar;
  tar.file("a", "file").dir("a").file("a/in", "in")         // file → dir
      .symlink("b", "a").file("b", "now a file")           // symlink → file
      .fifo("c").symlink("c", "a")                          // fifo → symlink
      .file("d", "d").hardlink("e", "d").file("e", "own")  // hardlink → file: d keeps its data
      .dir("k", 0700).file("k/keep", "k").dir("k", 0750, 3, 4)  // dir again: kept, meta anew
      .dir("s").device("s", 'c', 1, 3);                     // dir → device
  auto r = unpack(tar);
  ASSERT_TRUE(r.ok()) << r.error().message();
  struct stat st;
  ASSERT_EQ(::lstat(in_layer("a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(*read_file(in_layer("a/in")), "in");
  EXPECT_EQ(*read_file(in_layer("b")), "now a file");
  ASSERT_EQ(::lstat(in_layer("c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(*read_file(in_layer("d")), "d");
  EXPECT_EQ(*read_file(in_layer("e")), "own");
  ASSERT_EQ(::lstat(in_layer("k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_uid, 3u);
  EXPECT_EQ(*read_file(in_layer("k/keep")), "k");
  ASSERT_EQ(::lstat(in_layer("s").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  expect_outside_untouched();
}

TEST_F(UnpackTest, StreamedLayerInSmallChunksIsTheSameAsFromAFile) {
  LayerTar tar;
  tar.dir("etc").file("etc/big", std::string(3 << 20, 'b')).file("etc/small", "s");
  std::string gz = tar.build(Compression::kGzip);
  size_t at = 0;
  ChunkReader read = [&]() -> Result<std::string_view> {
    size_t n = std::min<size_t>(777, gz.size() - at);
    std::string_view v(gz.data() + at, n);
    at += n;
    return v;
  };
  auto r = unpack_layer_stream(read, layer_);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->diff_id, tar.diff_id());
  EXPECT_EQ(read_file(in_layer("etc/big"))->size(), size_t{3} << 20);
  EXPECT_EQ(*read_file(in_layer("etc/small")), "s");
}

TEST_F(UnpackTest, CorruptGzipIsReportedAsSuchNotAsABrokenTar) {
  std::string gz = LayerTar().file("f", std::string(200000, 'a')).build(Compression::kGzip);
  gz[gz.size() - 6] ^= 0x55;  // the CRC-32 in the trailer
  std::string blob = dir_.file("blob");
  ASSERT_TRUE(write_file(blob, gz).ok());
  UniqueFd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  auto r = unpack_layer(fd.get(), layer_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "layer: decompress: gzip: incorrect checksum");
}

}  // namespace
}  // namespace gantry::runtime::image
