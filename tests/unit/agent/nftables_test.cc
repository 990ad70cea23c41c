// The nftables scripts for bridge NAT: one atomic, idempotent table replacement.
#include "agent/nftables.h"

#include <gtest/gtest.h>

#include "agent/bridge_network.h"

namespace gantry::agent {
namespace {

TEST(NftablesTest, NatRulesetReplacesTheWholeTableWithAMasqueradeRule) {
  EXPECT_EQ(render_nat_ruleset("gantry", "gantry0", "10.89.0.0/16"),
            "add table ip gantry\n"
            "delete table ip gantry\n"
            "table ip gantry {\n"
            "  chain postrouting {\n"
            "    type nat hook postrouting priority srcnat; policy accept;\n"
            "    ip saddr 10.89.0.0/16 oifname != \"gantry0\" masquerade\n"
            "  }\n"
            "}\n");
}

TEST(NftablesTest, DeleteSucceedsWhenTheTableIsMissing) {
  EXPECT_EQ(render_delete_table("gantry"), "add table ip gantry\ndelete table ip gantry\n");
}

TEST(NftablesTest, TableNamesAreChecked) {
  EXPECT_TRUE(check_nft_table_name("gantry").ok());
  EXPECT_TRUE(check_nft_table_name("gantry-test.1").ok());
  for (const char* bad : {"", "1abc", "a b", "x;flush ruleset", "a\"b"}) {
    auto st = check_nft_table_name(bad);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(BridgeConfigTest, DefaultsAndFlagMapping) {
  BridgeConfig d;
  EXPECT_EQ(d.name, "gantry0");
  EXPECT_EQ(d.subnet, "10.89.0.0/16");
  EXPECT_EQ(d.nft_table, "gantry");
  BridgeConfig same = bridge_config_for("gantry0", "");
  EXPECT_EQ(same.nft_table, "gantry");
  BridgeConfig other = bridge_config_for("ci1", "10.90.0.0/24");
  EXPECT_EQ(other.name, "ci1");
  EXPECT_EQ(other.nft_table, "ci1");
  EXPECT_EQ(other.subnet, "10.90.0.0/24");
}

TEST(BridgeConfigTest, BadFieldsAreNamed) {
  BridgeConfig c;
  c.name = "a-name-longer-than-15";
  auto st = check_bridge_config(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("bridge name 'a-name-longer-than-15'"), std::string::npos);
  c = BridgeConfig{};
  c.subnet = "10.89.0.0";
  st = check_bridge_config(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("subnet '10.89.0.0'"), std::string::npos);
  c = BridgeConfig{};
  c.name = "../x";
  EXPECT_FALSE(check_bridge_config(c).ok());
}

}  // namespace
}  // namespace gantry::agent
