// How the kafka source and sink move records: through librdkafka (any Kafka-compatible cluster,
// eddy's own broker over its socket) or straight through the local log of `eddy server`
// (local_topics.h). The source and the sink hold one record-level code path (decoding, metadata
// columns, error policy, watermarks, startup and bounded modes; encoding and partitioning) and
// talk to either transport through these interfaces. Internal to src/connectors/kafka/.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "connectors/kafka/kafka_table.h"
#include "connectors/kafka/local_topics.h"

namespace eddy::connectors::kafka {

/// How a record's timestamp was set (Kafka: TimestampType).
enum class TimestampKind { kNone, kCreateTime, kLogAppendTime };

/// One consumed record. The views are valid only during the callback that receives it.
struct ConsumedRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  bool has_key = false;  // false: null key
  std::string_view key;
  bool has_value = false;  // false: null value (a tombstone)
  std::string_view value;
  int64_t timestamp_ms = -1;  // -1 when the record has none
  TimestampKind timestamp_kind = TimestampKind::kNone;
  /// The headers, in order; null unless the transport was asked for them.
  const std::vector<HeaderView>* headers = nullptr;
};

/// The reading side of a transport for one source subtask. Not thread-safe: one subtask's thread.
class ConsumerTransport {
 public:
  using RecordFn = std::function<absl::Status(const ConsumedRecord&)>;
  /// Called when a partition has been read up to `end_offset` = its high watermark.
  using EndFn = std::function<void(int32_t partition, int64_t end_offset)>;

  virtual ~ConsumerTransport() = default;
  /// "through librdkafka" or "from the local log", for log lines.
  virtual const char* name() const = 0;
  /// Log start offset and high watermark of a partition. Errors: Unavailable naming the table.
  virtual absl::StatusOr<OffsetRange> Offsets(int32_t partition) = 0;
  /// The high watermark of a partition as known without asking the broker (the last fetch
  /// response's; the log itself for the local log), nullopt when not known yet. For metrics
  /// (source lag): cheap, called about once a second.
  virtual std::optional<int64_t> KnownEndOffset(int32_t partition) { return std::nullopt; }
  /// The first offset with a timestamp >= `timestamp_ms`, nullopt when none (ListOffsets).
  virtual absl::StatusOr<std::optional<int64_t>> OffsetForTimestamp(int32_t partition,
                                                                    int64_t timestamp_ms) = 0;
  /// The offset committed by 'properties.group.id' (which must be set), nullopt when none.
  virtual absl::StatusOr<std::optional<int64_t>> Committed(int32_t partition) = 0;
  /// Starts reading each listed partition at its offset.
  virtual absl::Status Assign(const std::vector<std::pair<int32_t, int64_t>>& starts) = 0;
  /// Delivers what is ready now, up to `max` records, without blocking: `on_record` per record in
  /// offset order per partition, `on_end` when a partition is read to its end (once per time it
  /// gets there). Returns how many records and ends were delivered; the first error of
  /// `on_record` stops the poll and is returned. Errors: Unavailable for a partition that cannot
  /// be read (deleted, offset out of range), naming the table, topic and partition.
  virtual absl::StatusOr<size_t> Poll(size_t max, const RecordFn& on_record,
                                      const EndFn& on_end) = 0;
  /// Commits `offsets` (partition, next offset) for 'properties.group.id'; failures are logged
  /// (as warnings when `sync`), never fatal.
  virtual void Commit(const std::vector<std::pair<int32_t, int64_t>>& offsets, bool sync) = 0;
};

/// A consumer over librdkafka for the topic of `o`. `want_headers`: fill ConsumedRecord::headers.
absl::StatusOr<std::unique_ptr<ConsumerTransport>> NewRdKafkaConsumer(const KafkaTableOptions& o,
                                                                      bool want_headers);
/// A consumer over the local log.
std::unique_ptr<ConsumerTransport> NewLocalConsumer(std::shared_ptr<LocalTopics> local,
                                                    const KafkaTableOptions& o, bool want_headers);

/// The writing side of a transport for one sink subtask. Not thread-safe: one subtask's thread.
class ProducerTransport {
 public:
  virtual ~ProducerTransport() = default;
  virtual const char* name() const = 0;
  /// Queues one record for `partition` (-1: Kafka's default partitioner, murmur2 of the key as the
  /// Java clients, any partition for a null key). `timestamp_ms` 0 means "now". Copies
  /// everything. May wait for earlier records to be acknowledged (backpressure). Errors:
  /// Unavailable naming the table (an earlier failed delivery, or the log refusing a batch).
  virtual absl::Status Produce(int32_t partition, std::string_view key, bool has_key,
                               std::string_view value, int64_t timestamp_ms,
                               const std::vector<HeaderView>& headers) = 0;
  /// Called after each input batch: hands over what is queued and reports failed deliveries.
  virtual absl::Status EndOfBatch() = 0;
  /// Returns once every queued record is acknowledged as acks=all would (written and fsynced).
  /// Errors: DeadlineExceeded or the first failed delivery.
  virtual absl::Status Flush() = 0;
  /// Flush() in two parts: hands over what is queued now and returns the wait for it to be
  /// acknowledged and durable, which may run on another thread while this one goes on producing
  /// (the local log: an fsync of each partition written since the last flush). The default does
  /// all of Flush() now and returns null. Errors: as Flush.
  virtual absl::StatusOr<std::function<absl::Status()>> FlushDetached() {
    absl::Status st = Flush();
    if (!st.ok()) return st;
    return std::function<absl::Status()>();
  }
};

/// A producer over librdkafka ('partitioner' murmur2_random, linger.ms 5, acks=all).
absl::StatusOr<std::unique_ptr<ProducerTransport>> NewRdKafkaProducer(const KafkaTableOptions& o);
/// A producer appending uncompressed record batches to the local log; `partitions` of the topic.
std::unique_ptr<ProducerTransport> NewLocalProducer(std::shared_ptr<LocalTopics> local,
                                                    const KafkaTableOptions& o, int32_t partitions);

/// One Kafka transaction of the exactly-once sink (Kafka protocol: KIP-98; Flink's KafkaWriter
/// in EXACTLY_ONCE mode opens one per checkpoint): created with a new transactional id, which
/// fences earlier producers of that id and aborts a transaction they left open; records go into
/// the transaction; Flush makes them durable (the pre-commit); Commit or Abort end it. Not
/// thread-safe: the sink's thread writes it, then hands it to the committer.
class TransactionalProducer : public ProducerTransport {
 public:
  /// The producer id and epoch, when the transport knows them (librdkafka does not tell:
  /// -1/-1; the committer then learns them from the broker).
  virtual TxnProducer producer() const = 0;
  virtual const std::string& transactional_id() const = 0;
  /// Commits the transaction (Kafka protocol: EndTxn), after flushing what is queued. Errors:
  /// FailedPrecondition when the producer was fenced, Unavailable/DeadlineExceeded otherwise.
  virtual absl::Status Commit() = 0;
  /// Aborts the transaction.
  virtual absl::Status Abort() = 0;
};

/// A transactional producer over librdkafka with 'transactional.id' = `transactional_id` and
/// 'transaction.timeout.ms' = o.transaction_timeout_ms, its transaction begun.
absl::StatusOr<std::unique_ptr<TransactionalProducer>> NewRdKafkaTransactionalProducer(
    const KafkaTableOptions& o, const std::string& transactional_id);
/// A transactional producer appending to the local log, its transaction begun.
absl::StatusOr<std::unique_ptr<TransactionalProducer>> NewLocalTransactionalProducer(
    std::shared_ptr<LocalTopics> local, const KafkaTableOptions& o, int32_t partitions,
    const std::string& transactional_id);

/// Ends the transactions that no producer of this process holds: those of a checkpoint that
/// completed before a crash (commit) and those a failed attempt left open (abort), as Flink's
/// KafkaCommitter and its recovery do. Thread-safe.
class TransactionResolver {
 public:
  virtual ~TransactionResolver() = default;
  /// Commits the open transaction of `transactional_id` (held by `producer`, or by whichever
  /// producer holds it when the producer is unknown, -1); success when it is already committed.
  /// Errors: FailedPrecondition when it cannot be committed (aborted, e.g. by its timeout, or the
  /// id fenced since), naming its state; Unavailable when the broker cannot be reached.
  virtual absl::Status Commit(const std::string& transactional_id, const TxnProducer& producer) = 0;
  /// Aborts the open transaction of `transactional_id`, if any.
  virtual absl::Status Abort(const std::string& transactional_id, const TxnProducer& producer) = 0;
  /// The open transactions whose id starts with `prefix`.
  virtual absl::StatusOr<std::vector<OpenTransaction>> OpenTransactions(
      const std::string& prefix) = 0;
};

/// A resolver over the local broker's transaction coordinator.
std::unique_ptr<TransactionResolver> NewLocalResolver(std::shared_ptr<LocalTopics> local);
/// A resolver speaking the Kafka protocol to the cluster of `o` (FindCoordinator,
/// DescribeTransactions, ListTransactions, EndTxn; Kafka 3.0+): librdkafka cannot end another
/// producer's transaction.
std::unique_ptr<TransactionResolver> NewProtocolResolver(const KafkaTableOptions& o);

/// Kafka's default partitioner for a keyed record (Java clients' Utils.murmur2, as librdkafka's
/// 'murmur2' and 'murmur2_random'): toPositive(murmur2(key)) % partitions.
int32_t Murmur2Partition(std::string_view key, int32_t partitions);

}  // namespace eddy::connectors::kafka
