// StreamingMasker: secrets become [MASKED] wherever chunk boundaries fall.
#include <gtest/gtest.h>

#include "agent/masker.h"

namespace gantry::agent {
namespace {

// Feeds `text` cut at every possible pair of boundaries and checks the result never changes.
void expect_masked_for_every_split(const std::vector<std::string>& values, const std::string& text,
                                   const std::string& expected) {
  for (size_t a = 0; a <= text.size(); ++a) {
    for (size_t b = a; b <= text.size(); ++b) {
      StreamingMasker m(values);
      std::string out = m.feed(text.substr(0, a));
      out += m.feed(text.substr(a, b - a));
      out += m.feed(text.substr(b));
      out += m.finish();
      ASSERT_EQ(out, expected) << "split at " << a << "," << b;
    }
  }
}

TEST(StreamingMaskerTest, MasksWholeValueInOneChunk) {
  StreamingMasker m({"hunter2"});
  EXPECT_EQ(m.feed("password=hunter2\n") + m.finish(), "password=[MASKED]\n");
}

TEST(StreamingMaskerTest, MasksValueSplitAcrossChunks) {
  StreamingMasker m({"hunter2"});
  std::string out = m.feed("pw=hun");
  EXPECT_EQ(out, "pw=");  // "hun" held back: it may be the start of the secret
  out += m.feed("ter2 ok");
  EXPECT_EQ(out, "pw=[MASKED] ok");
  EXPECT_EQ(m.finish(), "");
}

TEST(StreamingMaskerTest, ReleasesHeldBytesThatTurnOutPlain) {
  StreamingMasker m({"hunter2"});
  EXPECT_EQ(m.feed("hunt"), "");
  EXPECT_EQ(m.feed("ing"), "hunting");
  EXPECT_EQ(m.finish(), "");
  StreamingMasker m2({"hunter2"});
  EXPECT_EQ(m2.feed("ends with hunte"), "ends with ");
  EXPECT_EQ(m2.finish(), "hunte");
}

TEST(StreamingMaskerTest, EverySplitGivesTheSameOutput) {
  expect_masked_for_every_split({"s3cr3t"}, "a s3cr3t and s3cr3ts3cr3t, s3cr3 end",
                                "a [MASKED] and [MASKED][MASKED], s3cr3 end");
  expect_masked_for_every_split({"aab"}, "aaab aab", "a[MASKED] [MASKED]");
}

TEST(StreamingMaskerTest, LongestOverlappingValueWins) {
  expect_masked_for_every_split({"abc", "abcdef"}, "xabcdefy abcx", "x[MASKED]y [MASKED]x");
  // A shorter value completes at the end of the stream while the longer one never does.
  expect_masked_for_every_split({"ab", "abcd"}, "zzab", "zz[MASKED]");
}

TEST(StreamingMaskerTest, NoValuesPassesThrough) {
  StreamingMasker m({"", ""});
  EXPECT_FALSE(m.active());
  EXPECT_EQ(m.feed("anything"), "anything");
}

TEST(StreamingMaskerTest, MaskAllMasksAString) {
  EXPECT_EQ(mask_all("token=xyz;xyz", {"xyz"}), "token=[MASKED];[MASKED]");
}

}  // namespace
}  // namespace gantry::agent
