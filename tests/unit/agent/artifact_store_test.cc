// DirectoryArtifactStore: archives go in and come back byte for byte; bad locators and missing
// archives are clear errors.
#include <gtest/gtest.h>

#include "agent/artifact_store.h"
#include "common/file.h"
#include "tests/support/temp_dir.h"

namespace gantry::agent {
namespace {

TEST(DirectoryArtifactStoreTest, PutThenGetReturnsTheSameBytes) {
  testing::TempDir tmp;
  DirectoryArtifactStore store(tmp.file("store"));
  ASSERT_TRUE(write_file(tmp.file("a.tar"), std::string("tar\0bytes", 9)).ok());
  schema::JobSpec spec;
  spec.job_id = 3;
  spec.job.name = "build: [x, y]";
  auto loc = store.put(spec, tmp.file("a.tar"));
  ASSERT_TRUE(loc.ok()) << loc.error().message();
  EXPECT_EQ(*loc, "build---x--y-3.tar");
  ASSERT_TRUE(store.get({"build: [x, y]", *loc}, tmp.file("b.tar")).ok());
  EXPECT_EQ(read_file(tmp.file("b.tar")).value(), std::string("tar\0bytes", 9));
}

TEST(DirectoryArtifactStoreTest, MissingArchiveIsNotFound) {
  testing::TempDir tmp;
  DirectoryArtifactStore store(tmp.path());
  Status st = store.get({"build", "gone.tar"}, tmp.file("x.tar"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(st.error().message().find("artifacts of 'build'"), std::string::npos);
}

TEST(DirectoryArtifactStoreTest, LocatorCannotLeaveTheDirectory) {
  testing::TempDir tmp;
  DirectoryArtifactStore store(tmp.file("store"));
  Status st = store.get({"build", "../etc/passwd"}, tmp.file("x.tar"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
}

TEST(NetworkModeTest, ParsesTheThreeModes) {
  EXPECT_EQ(parse_network_mode("none").value(), NetworkMode::kNone);
  EXPECT_EQ(network_mode_name(parse_network_mode("host").value()), "host");
  auto bad = parse_network_mode("overlay");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'overlay'"), std::string::npos);
}

}  // namespace
}  // namespace gantry::agent
