// The broker's metrics for Prometheus (Kafka's kafka.network:RequestMetrics and
// kafka.server:BrokerTopicMetrics, as eddy names them).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "base/histogram.h"

namespace eddy::kafka {

/// Counters and latency histograms of the Kafka listener of this process, one set per process
/// (as a broker's JMX metrics). Thread-safe: the recording calls are relaxed atomic adds (the
/// per-topic ones also take a short lock to find the topic's counters); any thread may read.
class BrokerMetrics {
 public:
  /// The process' instance.
  static BrokerMetrics& Get();

  /// A request of `api_key` was answered `ns` nanoseconds after it was read (its handling, a
  /// Fetch's long poll and an acks=all produce's fsync included).
  void ObserveRequest(int16_t api_key, int64_t ns);
  /// A client connection was accepted / closed.
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  /// Produce appended `records` records in `bytes` bytes of record batches to `topic`.
  void Produced(const std::string& topic, int64_t records, int64_t bytes);
  /// Fetch returned `records` records in `bytes` bytes of record batches of `topic`.
  void Fetched(const std::string& topic, int64_t records, int64_t bytes);

  /// Appends the metric families in the Prometheus text format (HELP and TYPE lines included):
  /// eddy_kafka_requests_total{api}, eddy_kafka_request_duration_seconds{api} (histogram),
  /// eddy_kafka_connections, eddy_kafka_topic_{bytes,records}_{in,out}_total{topic}.
  /// `escape` quotes a label value.
  void AppendPrometheus(std::string* out, std::string (*escape)(const std::string&)) const;

 private:
  static constexpr int kMaxApiKey = 128;
  struct TopicCounters {
    std::atomic<int64_t> bytes_in{0}, records_in{0}, bytes_out{0}, records_out{0};
  };
  TopicCounters* Topic(const std::string& topic);

  std::unique_ptr<Histogram> requests_[kMaxApiKey];  // created on first use
  std::atomic<Histogram*> request_ptrs_[kMaxApiKey] = {};
  std::mutex mu_;  // guards creating request histograms and `topics_`
  absl::flat_hash_map<std::string, std::unique_ptr<TopicCounters>> topics_;
  std::atomic<int64_t> connections_{0};
};

}  // namespace eddy::kafka
