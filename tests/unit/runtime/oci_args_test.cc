#include "runtime/oci_cli/args.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace gantry::runtime::oci_cli {
namespace {

TEST(ContainerIdTest, AcceptsValidIds) {
  for (const char* id : {"a", "job-42", "A.b_c-d", "0abc", "x1.2.3"}) {
    EXPECT_TRUE(validate_container_id(id).ok()) << id;
  }
  EXPECT_TRUE(validate_container_id(std::string(1024, 'a')).ok());
}

TEST(ContainerIdTest, RejectsBadIds) {
  EXPECT_EQ(validate_container_id("").error().message(), "invalid container id: empty");
  EXPECT_EQ(validate_container_id("-x").error().message(),
            "invalid container id '-x': must start with a letter or digit");
  EXPECT_EQ(validate_container_id(".hidden").error().message(),
            "invalid container id '.hidden': must start with a letter or digit");
  EXPECT_EQ(validate_container_id("a/b").error().message(),
            "invalid container id 'a/b': only letters, digits, '_', '.' and '-' are allowed");
  EXPECT_FALSE(validate_container_id("a b").ok());
  EXPECT_FALSE(validate_container_id("a\nb").ok());
  auto long_id = validate_container_id(std::string(1025, 'a'));
  ASSERT_FALSE(long_id.ok());
  EXPECT_EQ(long_id.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(long_id.error().message().find("longer than 1024 characters"), std::string::npos);
}

TEST(SignalTest, ParsesNamesAndNumbers) {
  EXPECT_EQ(*parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(*parse_signal("SIGKILL"), SIGKILL);
  EXPECT_EQ(*parse_signal("sigterm"), SIGTERM);
  EXPECT_EQ(*parse_signal("term"), SIGTERM);
  EXPECT_EQ(*parse_signal("9"), 9);
  EXPECT_EQ(*parse_signal("15"), 15);
  EXPECT_EQ(*parse_signal("HUP"), SIGHUP);
  EXPECT_EQ(*parse_signal("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(*parse_signal("WINCH"), SIGWINCH);
  EXPECT_EQ(*parse_signal("RTMIN"), SIGRTMIN);
  EXPECT_EQ(*parse_signal("SIGRTMIN+3"), SIGRTMIN + 3);
  EXPECT_EQ(*parse_signal("RTMAX-1"), SIGRTMAX - 1);
}

TEST(SignalTest, RejectsBadSignals) {
  for (const char* s :
       {"", "0", "-9", "65", "FOO", "SIG", "9x", "RTMIN-1", "RTMAX+1", "RTMIN+99"}) {
    auto r = parse_signal(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error().message(), std::string("invalid signal '") + s + "'");
  }
}

TEST(SignalTest, NamesSignals) {
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
  EXPECT_EQ(signal_name(SIGIO), "SIGIO");
  EXPECT_EQ(signal_name(40), "SIG40");
}

TEST(UserTest, ParsesUidAndGid) {
  auto u = parse_user("1000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_FALSE(u->gid.has_value());
  auto ug = parse_user("1000:100");
  ASSERT_TRUE(ug.ok());
  EXPECT_EQ(ug->gid, 100u);
  for (const char* bad : {"", "root", "1000:", ":1", "1:2:3", "-1", "4294967296"}) {
    auto r = parse_user(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message(), std::string("invalid user '") + bad + "': want UID or UID:GID");
  }
}

}  // namespace
}  // namespace gantry::runtime::oci_cli
