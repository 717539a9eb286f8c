// Records/s appended to each topic of the log, for GET /v1/topics (docs/rest-api.md) and the
// dashboard's live rates.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "log/log_manager.h"

namespace eddy::server {

/// The rate of records appended per topic over the last `window_ms` (default 10 s), from samples
/// of the sum of its partitions' end offsets (high watermarks). `eddy server` samples once a
/// second. Thread-safe: Sample and RecordsPerSecond may be called from different threads.
class TopicRates {
 public:
  explicit TopicRates(int64_t window_ms = 10000) : window_ms_(window_ms) {}

  /// Reads every topic's end offsets now (`now_ms`: a steady clock in ms). Topics that are gone
  /// are forgotten.
  void Sample(const log::LogManager& log, int64_t now_ms);

  /// Records/s appended to `topic` between its oldest sample in the window and its newest;
  /// nullopt before two samples of it were taken.
  std::optional<double> RecordsPerSecond(const std::string& topic) const;

 private:
  int64_t window_ms_;
  mutable std::mutex mu_;                                                   // guards samples_
  std::map<std::string, std::deque<std::pair<int64_t, int64_t>>> samples_;  // (ms, end offsets)
};

}  // namespace eddy::server
