// The local topics of `eddy server` (connectors/kafka/local_topics.h) over its log, consumer
// group coordinator and broker: what lets a pipeline in the server process read and write topics
// without librdkafka or a socket (docs/architecture.md "Pipelines on the local log").
#pragma once

#include <string>

#include "connectors/kafka/local_topics.h"
#include "kafka/broker.h"
#include "kafka/group_coordinator.h"
#include "kafka/txn_coordinator.h"
#include "log/log_manager.h"

namespace eddy::server {

/// Splits "host:port". Returns false when it is not that shape (port 0-65535).
bool SplitHostPort(const std::string& s, std::string* host, int* port);

/// LocalTopics over the server's log. Thread-safe (the log, the coordinators and the broker are).
/// The log, coordinators and broker must outlive it, or it must be unregistered
/// (connectors::kafka::SetLocalTopics(nullptr)) and every pipeline stopped before they go.
class LogLocalTopics final : public connectors::kafka::LocalTopics {
 public:
  /// `listen_host`/`listen_port`: the Kafka listener's address as bound (for Serves). `txns`
  /// may be null (the transaction methods then fail with FailedPrecondition).
  LogLocalTopics(log::LogManager* log, kafka::GroupCoordinator* groups, kafka::Broker* broker,
                 std::string listen_host, int listen_port,
                 kafka::TransactionCoordinator* txns = nullptr);

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
                                                      int64_t offset, int64_t max_bytes,
                                                      bool read_committed) override;
  absl::StatusOr<int64_t> Append(const std::string& topic, int32_t partition,
                                 std::string_view batches) override;
  absl::Status Sync(const std::string& topic, int32_t partition) override;
  absl::StatusOr<connectors::kafka::TxnProducer> InitTransactions(
      const std::string& transactional_id, int32_t timeout_ms) override;
  absl::StatusOr<int64_t> AppendTransactional(const std::string& transactional_id,
                                              const connectors::kafka::TxnProducer& producer,
                                              const std::string& topic, int32_t partition,
                                              std::string_view batches) override;
  absl::Status EndTransaction(const std::string& transactional_id,
                              const connectors::kafka::TxnProducer& producer, bool commit) override;
  absl::StatusOr<std::vector<connectors::kafka::OpenTransaction>> OpenTransactions(
      const std::string& prefix) override;
  absl::Status DecodeRecords(std::string_view batches, int64_t from_offset,
                             std::deque<std::string>* scratch,
                             std::vector<connectors::kafka::LocalRecord>* out, int64_t* next_offset,
                             const std::vector<connectors::kafka::AbortedRange>* aborted) override;
  void DecodeHeaders(const connectors::kafka::LocalRecord& r,
                     std::vector<connectors::kafka::HeaderView>* out) override;
  std::string EncodeBatch(const std::vector<connectors::kafka::OutgoingRecord>& records) override;
  std::string EncodeTransactionalBatch(
      const std::vector<connectors::kafka::OutgoingRecord>& records,
      const connectors::kafka::TxnProducer& producer, int32_t base_sequence) override;

 private:
  log::LogManager* log_;
  kafka::GroupCoordinator* groups_;
  kafka::Broker* broker_;
  std::string listen_host_;
  int listen_port_;
  kafka::TransactionCoordinator* txns_;
};

}  // namespace eddy::server
