#include "base/histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace eddy {
namespace {

TEST(Histogram, CountsIntoBucketsByUpperBound) {
  Histogram h({0.001, 0.01, 0.1});
  // 1 ms exactly belongs to le="0.001" (a bucket holds values <= its bound).
  for (int64_t ns : {0LL, 500'000LL, 1'000'000LL, 1'000'001LL, 50'000'000LL, 3'000'000'000LL}) {
    h.ObserveNs(ns);
  }
  Histogram::Snapshot s = h.Read();
  ASSERT_EQ(s.cumulative.size(), 4u);
  EXPECT_EQ(s.cumulative[0], 3u);  // 0, 0.5 ms, 1 ms
  EXPECT_EQ(s.cumulative[1], 4u);  // + 1.000001 ms
  EXPECT_EQ(s.cumulative[2], 5u);  // + 50 ms
  EXPECT_EQ(s.cumulative[3], 6u);  // + 3 s (+Inf)
  EXPECT_EQ(s.count, 6u);
  // 0 + 0.0005 + 0.001 + 0.001000001 + 0.05 + 3 seconds.
  EXPECT_NEAR(s.sum_seconds, 3.052500001, 1e-9);
}

TEST(Histogram, NegativeDurationsCountAsZero) {
  Histogram h({0.001});
  h.ObserveNs(-5);
  Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.cumulative[0], 1u);
  EXPECT_EQ(s.sum_seconds, 0);
}

TEST(Histogram, PrometheusText) {
  Histogram h({0.5, 1});
  h.ObserveNs(250'000'000);
  h.ObserveNs(2'000'000'000);
  std::string out;
  h.AppendPrometheus("x_seconds", "api=\"Produce\"", &out);
  EXPECT_EQ(out,
            "x_seconds_bucket{api=\"Produce\",le=\"0.5\"} 1\n"
            "x_seconds_bucket{api=\"Produce\",le=\"1\"} 1\n"
            "x_seconds_bucket{api=\"Produce\",le=\"+Inf\"} 2\n"
            "x_seconds_sum{api=\"Produce\"} 2.250000000\n"
            "x_seconds_count{api=\"Produce\"} 2\n");
  std::string bare;
  h.AppendPrometheus("y_seconds", "", &bare);
  EXPECT_NE(bare.find("y_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(bare.find("y_seconds_count 2\n"), std::string::npos);
}

TEST(Histogram, DefaultBoundsIncrease) {
  std::vector<double> b = Histogram::LatencyBounds();
  ASSERT_FALSE(b.empty());
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  Histogram h;
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kEach; ++i) h.ObserveNs((t + 1) * 1'000'000LL);  // 1..4 ms
    });
  }
  for (auto& th : threads) th.join();
  Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads * kEach));
  // Each thread's value: (1+2+3+4) ms * 20000 = 200 s.
  EXPECT_NEAR(s.sum_seconds, 200.0, 1e-6);
}

}  // namespace
}  // namespace eddy
