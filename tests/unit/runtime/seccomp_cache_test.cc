#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/file.h"
#include "runtime/seccomp/cache.h"
#include "runtime/seccomp/default_profile.h"
#include "tests/support/temp_dir.h"

namespace gantry::runtime {
namespace {

using testing::TempDir;

Seccomp deny(std::vector<std::string> names) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  SeccompSyscall rule;
  rule.names = std::move(names);
  rule.action = "SCMP_ACT_ERRNO";
  s.syscalls.push_back(rule);
  return s;
}

bool same_program(const CompiledSeccomp& a, const CompiledSeccomp& b) {
  if (a.program.size() != b.program.size() || a.flags != b.flags) return false;
  for (size_t i = 0; i < a.program.size(); ++i) {
    const auto &x = a.program[i], &y = b.program[i];
    if (x.code != y.code || x.jt != y.jt || x.jf != y.jf || x.k != y.k) return false;
  }
  return true;
}

std::string only_entry(const std::string& dir) {
  auto names = list_dir(dir);
  EXPECT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);
  return names->empty() ? "" : join_path(dir, names->front());
}

TEST(SeccompCacheTest, MissStoresThenHitReturnsTheSameProgram) {
  TempDir tmp;
  std::string dir = tmp.file("cache");
  auto direct = compile_seccomp(default_seccomp_profile());
  ASSERT_TRUE(direct.ok()) << direct.error().message();

  auto first = compile_seccomp_cached(default_seccomp_profile(), dir);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->outcome, SeccompCacheOutcome::kMiss);
  EXPECT_EQ(first->store_error, "");
  EXPECT_TRUE(same_program(first->compiled, *direct));
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto second = compile_seccomp_cached(default_seccomp_profile(), dir);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->outcome, SeccompCacheOutcome::kHit);
  EXPECT_TRUE(same_program(second->compiled, *direct));
  EXPECT_EQ(second->compiled.skipped_syscalls, direct->skipped_syscalls);
  only_entry(dir);
}

TEST(SeccompCacheTest, AnotherProfileIsAnotherEntry) {
  TempDir tmp;
  std::string dir = tmp.file("cache");
  auto a = compile_seccomp_cached(deny({"mount"}), dir);
  auto b = compile_seccomp_cached(deny({"umount2"}), dir);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->outcome, SeccompCacheOutcome::kMiss);
  EXPECT_FALSE(same_program(a->compiled, b->compiled));
  EXPECT_EQ(list_dir(dir)->size(), 2u);
  auto b_again = compile_seccomp_cached(deny({"umount2"}), dir);
  ASSERT_TRUE(b_again.ok());
  EXPECT_EQ(b_again->outcome, SeccompCacheOutcome::kHit);
  EXPECT_TRUE(same_program(b_again->compiled, b->compiled));
}

TEST(SeccompCacheTest, CorruptOrShortEntriesAreRebuilt) {
  TempDir tmp;
  std::string dir = tmp.file("cache");
  auto good = compile_seccomp_cached(deny({"mount"}), dir);
  ASSERT_TRUE(good.ok());
  std::string file = only_entry(dir);
  std::string text = *read_file(file);

  std::string flipped = text;
  size_t at = flipped.find("\"program\":\"") + 20;
  flipped[at] = flipped[at] == '0' ? '1' : '0';  // one instruction byte, checksum unchanged
  for (const std::string& bad :
       {std::string(), text.substr(0, text.size() / 2), std::string("{\"key\": 7}"), flipped}) {
    ASSERT_TRUE(write_file(file, bad).ok());
    auto r = compile_seccomp_cached(deny({"mount"}), dir);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->outcome, SeccompCacheOutcome::kRebuilt) << bad.size();
    EXPECT_TRUE(same_program(r->compiled, good->compiled));
    EXPECT_EQ(*read_file(file), text);  // replaced by a good entry
  }
}

TEST(SeccompCacheTest, AnEntryForAnotherKeyIsNeverUsed) {
  // Same file name, other profile (as a hash collision would give): rebuilt, not loaded.
  TempDir tmp;
  std::string dir = tmp.file("cache");
  auto mount = compile_seccomp_cached(deny({"mount"}), dir);
  ASSERT_TRUE(mount.ok());
  std::string mount_file = only_entry(dir);
  auto umount_profile = validate_seccomp(deny({"umount2"}));
  ASSERT_TRUE(umount_profile.ok());
  std::string umount_file = join_path(
      dir, seccomp_cache_file_name(seccomp_cache_key(*umount_profile, seccomp_environment())));
  ASSERT_NE(mount_file, umount_file);
  ASSERT_EQ(::rename(mount_file.c_str(), umount_file.c_str()), 0);

  auto r = compile_seccomp_cached(deny({"umount2"}), dir);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, SeccompCacheOutcome::kRebuilt);
  EXPECT_FALSE(same_program(r->compiled, mount->compiled));
  auto decoded = decode_seccomp_cache_entry(*read_file(umount_file), "another key");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kNotFound);
}

TEST(SeccompCacheTest, KeyDependsOnEnvironmentAndEveryField) {
  auto p = validate_seccomp(deny({"mount"}));
  ASSERT_TRUE(p.ok());
  std::string base = seccomp_cache_key(*p, "arch=1");
  EXPECT_EQ(base, seccomp_cache_key(*p, "arch=1"));
  EXPECT_NE(base, seccomp_cache_key(*p, "arch=2"));
  SeccompProfile q = *p;
  q.flags = kSeccompFlagLog;
  EXPECT_NE(base, seccomp_cache_key(q, "arch=1"));
  q = *p;
  q.rules[0].action.value = 38;
  EXPECT_NE(base, seccomp_cache_key(q, "arch=1"));
  q = *p;
  q.rules[0].conditions.push_back({0, SeccompOp::kEqual, 1, 0});
  EXPECT_NE(base, seccomp_cache_key(q, "arch=1"));
  q = *p;
  q.architectures.push_back("SCMP_ARCH_X86");
  EXPECT_NE(base, seccomp_cache_key(q, "arch=1"));
}

TEST(SeccompCacheTest, InvalidProfilesFailAsWithoutTheCache) {
  TempDir tmp;
  Seccomp s = deny({"mount"});
  s.syscalls[0].action = "SCMP_ACT_BOGUS";
  auto r = compile_seccomp_cached(s, tmp.file("cache"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("SCMP_ACT_BOGUS"), std::string::npos) << r.error().message();
  EXPECT_FALSE(path_exists(tmp.file("cache")));
}

TEST(SeccompCacheTest, AnUnwritableCacheStillCompiles) {
  TempDir tmp;
  ASSERT_TRUE(write_file(tmp.file("file"), "x").ok());
  auto r = compile_seccomp_cached(deny({"mount"}), tmp.file("file/cache"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->outcome, SeccompCacheOutcome::kMiss);
  EXPECT_NE(r->store_error.find("file/cache"), std::string::npos) << r->store_error;
  EXPECT_FALSE(r->compiled.program.empty());
}

}  // namespace
}  // namespace gantry::runtime
