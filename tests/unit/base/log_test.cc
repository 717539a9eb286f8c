// The rate limit of repeated log lines (base/log.h), driven with explicit times (no sleeping).
#include "base/log.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

constexpr int64_t kSecond = 1'000'000;

TEST(LogRateLimiter, AllowsTheFirstLinesOfAWindowAndCountsTheRest) {
  LogRateLimiter limiter(/*max_lines=*/3, /*window_us=*/kSecond);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.Allow("close/10.0.0.1", "line", i * 1000);
  EXPECT_EQ(allowed, 3);
  // The window (t = 0 .. 1 s) has not ended at 0.5 s: nothing to report yet.
  EXPECT_TRUE(limiter.Collect(kSecond / 2).empty());
  auto s = limiter.Collect(kSecond);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].key, "close/10.0.0.1");
  EXPECT_EQ(s[0].count, 97);
  EXPECT_EQ(s[0].last_message, "line");
  // Reported once.
  EXPECT_TRUE(limiter.Collect(kSecond + 1).empty());
}

TEST(LogRateLimiter, ANewWindowAllowsLinesAgain) {
  LogRateLimiter limiter(2, kSecond);
  EXPECT_TRUE(limiter.Allow("k", "a", 0));
  EXPECT_TRUE(limiter.Allow("k", "b", 10));
  EXPECT_FALSE(limiter.Allow("k", "c", 20));
  EXPECT_FALSE(limiter.Allow("k", "d", kSecond - 1));
  EXPECT_TRUE(limiter.Allow("k", "e", kSecond));  // the window started at 0 has ended
  EXPECT_TRUE(limiter.Allow("k", "f", kSecond + 5));
  EXPECT_FALSE(limiter.Allow("k", "g", kSecond + 6));
  // The lines suppressed in both windows are reported together, with the last one.
  auto s = limiter.Collect(2 * kSecond);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].count, 3);
  EXPECT_EQ(s[0].last_message, "g");
}

TEST(LogRateLimiter, KeysAreLimitedSeparately) {
  LogRateLimiter limiter(1, kSecond);
  EXPECT_TRUE(limiter.Allow("close/10.0.0.1", "x", 0));
  EXPECT_FALSE(limiter.Allow("close/10.0.0.1", "x", 1));
  EXPECT_TRUE(limiter.Allow("close/10.0.0.2", "y", 2));  // another client is not hidden
  EXPECT_FALSE(limiter.Allow("close/10.0.0.2", "y", 3));
  EXPECT_FALSE(limiter.Allow("close/10.0.0.2", "y", 4));
  auto s = limiter.Collect(kSecond + 10);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].key, "close/10.0.0.1");  // in key order
  EXPECT_EQ(s[0].count, 1);
  EXPECT_EQ(s[1].key, "close/10.0.0.2");
  EXPECT_EQ(s[1].count, 2);
}

TEST(LogRateLimiter, KeysBeyondTheCapShareOneOverflowKey) {
  LogRateLimiter limiter(1, kSecond, /*max_keys=*/2);
  EXPECT_TRUE(limiter.Allow("a", "1", 0));
  EXPECT_TRUE(limiter.Allow("b", "2", 0));
  // Keys 3..10 all land in "(other)": one line allowed, seven counted.
  int allowed = 0;
  for (int i = 3; i <= 10; ++i) allowed += limiter.Allow("key" + std::to_string(i), "n", 1);
  EXPECT_EQ(allowed, 1);
  auto s = limiter.Collect(kSecond + 1);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].key, "(other)");
  EXPECT_EQ(s[0].count, 7);
}

TEST(LogRateLimiter, IdleKeysAreForgotten) {
  LogRateLimiter limiter(1, kSecond, /*max_keys=*/1);
  EXPECT_TRUE(limiter.Allow("a", "1", 0));
  EXPECT_TRUE(limiter.Collect(2 * kSecond).empty());  // "a" idle for a whole window: dropped
  // So a new key gets its own entry again instead of the overflow key.
  EXPECT_TRUE(limiter.Allow("b", "2", 2 * kSecond));
  EXPECT_FALSE(limiter.Allow("b", "3", 2 * kSecond + 1));
  auto s = limiter.Collect(3 * kSecond);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].key, "b");
}

}  // namespace
}  // namespace eddy
