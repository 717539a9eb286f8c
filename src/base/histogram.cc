#include "base/histogram.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace eddy {

Histogram::Histogram(std::vector<double> bounds_seconds) : bounds_(std::move(bounds_seconds)) {
  for (double b : bounds_) bounds_ns_.push_back(static_cast<int64_t>(std::llround(b * 1e9)));
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

std::vector<double> Histogram::LatencyBounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

void Histogram::ObserveNs(int64_t ns) {
  if (ns < 0) ns = 0;
  size_t i = static_cast<size_t>(std::lower_bound(bounds_ns_.begin(), bounds_ns_.end(), ns) -
                                 bounds_ns_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

void Histogram::AppendPrometheus(const std::string& name, const std::string& labels,
                                 std::string* out) const {
  Snapshot s = Read();
  std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= s.bounds.size(); ++i) {
    std::string le = i < s.bounds.size() ? fmt::format("{}", s.bounds[i]) : "+Inf";
    *out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, le, s.cumulative[i]);
  }
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  *out += fmt::format("{}_sum{} {:.9f}\n", name, braces, s.sum_seconds);
  *out += fmt::format("{}_count{} {}\n", name, braces, s.count);
}

}  // namespace eddy
