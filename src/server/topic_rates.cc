#include "server/topic_rates.h"

#include <set>

#include "log/partition.h"

namespace eddy::server {

void TopicRates::Sample(const log::LogManager& log, int64_t now_ms) {
  std::map<std::string, int64_t> ends;
  for (const log::TopicInfo& t : log.ListTopics()) {
    int64_t end = 0;
    for (int32_t i = 0; i < t.partition_count; ++i) {
      auto p = log.GetPartition(t.name, PartitionId(i));
      if (p.ok()) end += (*p)->HighWatermark().value();
    }
    ends[t.name] = end;
  }
  std::lock_guard<std::mutex> l(mu_);
  std::erase_if(samples_, [&](const auto& kv) { return !ends.count(kv.first); });
  for (const auto& [name, end] : ends) {
    auto& s = samples_[name];
    s.emplace_back(now_ms, end);
    // Keep the newest sample at or before the window's start: the rate spans the whole window.
    while (s.size() > 2 && s[1].first <= now_ms - window_ms_) s.pop_front();
  }
}

std::optional<double> TopicRates::RecordsPerSecond(const std::string& topic) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = samples_.find(topic);
  if (it == samples_.end() || it->second.size() < 2) return std::nullopt;
  const auto& [t0, v0] = it->second.front();
  const auto& [t1, v1] = it->second.back();
  if (t1 <= t0) return std::nullopt;
  // End offsets only grow while a topic exists (a deleted and re-created topic restarts at 0).
  return v1 >= v0 ? static_cast<double>(v1 - v0) * 1000.0 / static_cast<double>(t1 - t0) : 0.0;
}

}  // namespace eddy::server
