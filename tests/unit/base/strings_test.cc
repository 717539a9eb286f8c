#include "base/strings.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

TEST(Strings, EditDistanceIsCaseInsensitive) {
  EXPECT_EQ(EditDistance("origin", "orign"), 1u);
  EXPECT_EQ(EditDistance("ORIGIN", "origin"), 0u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(Strings, ClosestNameHintsOnlyNearNames) {
  std::vector<std::string> cols = {"date", "delay", "distance", "origin", "destination"};
  EXPECT_EQ(ClosestName("dleay", cols), "delay");
  EXPECT_EQ(ClosestName("orign", cols), "origin");
  EXPECT_EQ(ClosestName("completely_else", cols), "");
}

TEST(Strings, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuote(std::string("x\ny\x01", 4)), "\"x\\u000ay\\u0001\"");
  EXPECT_EQ(JsonQuote("zoë"), "\"zoë\"");
}

TEST(Strings, CaseCopies) {
  EXPECT_EQ(ToUpper("Tumble"), "TUMBLE");
  EXPECT_EQ(ToLower("HOP"), "hop");
}

TEST(Strings, QuoteForLogEscapesWhatCameFromTheNetwork) {
  EXPECT_EQ(QuoteForLog("rdkafka"), "'rdkafka'");
  EXPECT_EQ(QuoteForLog(std::string("a\x00\n\\\xff", 5)), "'a\\x00\\x0a\\x5c\\xff'");
  EXPECT_EQ(QuoteForLog(std::string(100, 'x')), "'" + std::string(64, 'x') + "...'");
}

}  // namespace
}  // namespace eddy
