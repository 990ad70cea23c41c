#include "common/hex.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(HexTest, RoundTripsBytes) {
  const uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  std::string hex = to_hex(bytes, sizeof bytes);
  EXPECT_EQ(hex, "000fa5ff");
  uint8_t back[4] = {};
  ASSERT_TRUE(from_hex(hex, back, sizeof back));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(back), 4),
            std::string(reinterpret_cast<const char*>(bytes), 4));
  ASSERT_TRUE(from_hex("000FA5FF", back, sizeof back)) << "either case";
  EXPECT_EQ(back[2], 0xa5);
}

TEST(HexTest, RefusesWrongLengthsAndNonDigits) {
  uint8_t out[2] = {};
  EXPECT_FALSE(from_hex("abc", out, 2));
  EXPECT_FALSE(from_hex("abcdef", out, 2));
  EXPECT_FALSE(from_hex("zz00", out, 2));
  EXPECT_EQ(hex_digit_value('g'), -1);
  EXPECT_EQ(hex_digit_value('F'), 15);
}

TEST(HexTest, RandomHexIsFreshLowercaseHexOfTheAskedLength) {
  std::string a = random_hex(6), b = random_hex(6);
  EXPECT_EQ(a.size(), 12u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b) << "48 random bits twice the same";
  EXPECT_EQ(random_hex(24).size(), 48u);
  EXPECT_EQ(random_hex(0), "");
}

}  // namespace
}  // namespace gantry
