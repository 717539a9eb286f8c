// The local topics of `eddy server` (connectors/kafka/local_topics.h) over its log, consumer
// group coordinator and broker: what lets a pipeline in the server process read and write topics
// without librdkafka or a socket (docs/architecture.md "Pipelines on the local log").
#pragma once

#include <string>

#include "connectors/kafka/local_topics.h"
#include "kafka/broker.h"
#include "kafka/group_coordinator.h"
#include "log/log_manager.h"

namespace eddy::server {

/// Splits "host:port". Returns false when it is not that shape (port 0-65535).
bool SplitHostPort(const std::string& s, std::string* host, int* port);

/// LocalTopics over the server's log. Thread-safe (the log, the coordinator and the broker are).
/// The log, coordinator and broker must outlive it, or it must be unregistered
/// (connectors::kafka::SetLocalTopics(nullptr)) and every pipeline stopped before they go.
class LogLocalTopics final : public connectors::kafka::LocalTopics {
 public:
  /// `listen_host`/`listen_port`: the Kafka listener's address as bound (for Serves).
  LogLocalTopics(log::LogManager* log, kafka::GroupCoordinator* groups, kafka::Broker* broker,
                 std::string listen_host, int listen_port);

  bool Serves(const std::string& bootstrap_servers) const override;
  absl::StatusOr<int32_t> PartitionCount(const std::string& topic) override;
  absl::StatusOr<connectors::kafka::OffsetRange> Offsets(const std::string& topic,
                                                         int32_t partition) override;
  absl::StatusOr<std::optional<int64_t>> OffsetForTimestamp(const std::string& topic,
                                                            int32_t partition,
                                                            int64_t timestamp_ms) override;
  absl::StatusOr<std::optional<int64_t>> CommittedOffset(const std::string& group,
                                                         const std::string& topic,
                                                         int32_t partition) override;
  absl::Status CommitOffset(const std::string& group, const std::string& topic, int32_t partition,
                            int64_t offset) override;
  absl::StatusOr<connectors::kafka::ReadBatches> Read(const std::string& topic, int32_t partition,
                                                      int64_t offset, int64_t max_bytes) override;
  absl::StatusOr<int64_t> Append(const std::string& topic, int32_t partition,
                                 std::string_view batches) override;
  absl::Status Sync(const std::string& topic, int32_t partition) override;
  absl::Status DecodeRecords(std::string_view batches, int64_t from_offset,
                             std::deque<std::string>* scratch,
                             std::vector<connectors::kafka::LocalRecord>* out,
                             int64_t* next_offset) override;
  void DecodeHeaders(const connectors::kafka::LocalRecord& r,
                     std::vector<connectors::kafka::HeaderView>* out) override;
  std::string EncodeBatch(const std::vector<connectors::kafka::OutgoingRecord>& records) override;

 private:
  log::LogManager* log_;
  kafka::GroupCoordinator* groups_;
  kafka::Broker* broker_;
  std::string listen_host_;
  int listen_port_;
};

}  // namespace eddy::server
