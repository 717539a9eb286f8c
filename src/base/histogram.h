// A Prometheus histogram with fixed buckets, for latencies measured on hot paths (broker requests,
// log fsyncs).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace eddy {

/// Counts observations into fixed buckets (Prometheus: histogram; bucket `le` holds the values
/// <= its upper bound, cumulatively when read). Values are durations, observed in nanoseconds and
/// exposed in seconds (Prometheus' base unit). Thread-safe and lock-free: Observe is a few
/// relaxed atomic adds, callable from any thread; reads may run concurrently with observations
/// (a read sees each observation either entirely in its bucket and count or not at all; the sum
/// may lag by the observations in flight).
class Histogram {
 public:
  /// `bounds_seconds`: the buckets' upper bounds, strictly increasing (the +Inf bucket is
  /// implicit). Defaults to LatencyBounds().
  explicit Histogram(std::vector<double> bounds_seconds = LatencyBounds());
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /// 100 µs to 10 s, about three buckets per decade: the bounds of eddy's latency histograms.
  static std::vector<double> LatencyBounds();

  /// Counts one duration of `ns` nanoseconds (negative counts as 0).
  void ObserveNs(int64_t ns);

  /// What the histogram holds now.
  struct Snapshot {
    std::vector<double> bounds;        // upper bounds, seconds (without +Inf)
    std::vector<uint64_t> cumulative;  // per bound, then +Inf: observations <= the bound
    uint64_t count = 0;                // = cumulative.back()
    double sum_seconds = 0;
  };
  Snapshot Read() const;

  /// Appends the sample lines of `name` in the Prometheus text format: `name_bucket{labels,le=
  /// "..."}` per bucket (+Inf last), `name_sum{labels}` and `name_count{labels}`. `labels` is the
  /// label list without braces (e.g. `api="Produce"`), may be empty. No HELP/TYPE lines.
  void AppendPrometheus(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> bounds_ns_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket (not cumulative), +Inf last
  std::atomic<int64_t> sum_ns_{0};
};

}  // namespace eddy
