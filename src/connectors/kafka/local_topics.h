// The topics of the broker in this process, for kafka tables whose bootstrap servers name it
// (DESIGN.md §3 "Scale-out rides on Kafka": inside one process, pipelines read and write topics
// directly from the local log). `eddy server` registers an implementation over its log and
// consumer group coordinator (src/server/local_topics.*); the kafka source and sink use it
// instead of librdkafka when it Serves() their 'properties.bootstrap.servers'. Connectors know
// only this interface: they do not depend on src/log or src/kafka.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace eddy::connectors::kafka {

/// What a partition holds (Kafka protocol: ListOffsets -2 / -1).
struct OffsetRange {
  int64_t log_start = 0;       // first offset still in the log
  int64_t high_watermark = 0;  // offset the next record will get
  /// The first offset of the oldest open transaction, or the high watermark (what ListOffsets
  /// -1 answers read_committed readers).
  int64_t last_stable = 0;
};

/// An aborted transaction among batches read with read_committed (Kafka protocol: Fetch
/// AbortedTransaction): its producer and the offset of its first batch.
struct AbortedRange {
  int64_t producer_id = -1;
  int64_t first_offset = 0;
};

/// What Read returns: whole record batches v2 as stored, back to back (compressed ones stay
/// compressed), starting with the batch that holds the requested offset, which may begin before
/// it (Kafka protocol: Fetch).
struct ReadBatches {
  std::string records;
  int64_t high_watermark = 0;
  /// A read_committed read returns only batches below this offset (see OffsetRange).
  int64_t last_stable_offset = 0;
  /// read_committed: the aborted transactions with batches among `records` (for DecodeRecords).
  std::vector<AbortedRange> aborted;
};

/// A record header as views (a null value has is_null set).
struct HeaderView {
  std::string_view key;
  std::string_view value;
  bool is_null = false;
};

/// One record decoded from stored batches, as views into the batches or their decompressed
/// records (see DecodeRecords).
struct LocalRecord {
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  bool log_append_time = false;  // the batch's timestamps are LogAppendTime, else CreateTime
  bool has_key = false;
  std::string_view key;
  bool has_value = false;
  std::string_view value;
  int32_t headers_count = 0;
  std::string_view headers;  // encoded; see DecodeHeaders
};

/// A record to write (owned).
struct OutgoingRecord {
  bool has_key = false;
  std::string key;
  std::string value;
  int64_t timestamp_ms = 0;  // CreateTime, ms since the epoch
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A transactional producer: its producer id and epoch (Kafka protocol: InitProducerId, KIP-98).
struct TxnProducer {
  int64_t producer_id = -1;
  int16_t epoch = -1;
};

/// A transaction left open (what recovery aborts).
struct OpenTransaction {
  std::string transactional_id;
  TxnProducer producer;
};

/// The local broker's topics. Implementations are thread-safe: every method may be called from
/// any pipeline thread concurrently. Errors carry the Kafka meaning in their code: NotFound for an
/// unknown topic or partition, OutOfRange for an offset outside the log, FailedPrecondition once
/// the broker is shutting down.
class LocalTopics {
 public:
  virtual ~LocalTopics() = default;

  /// Whether `bootstrap_servers` ('host:port,host:port,…') names this process's Kafka listener:
  /// an entry equal to the listen host:port, or 'localhost'/'127.0.0.1' with the same port when
  /// listening on 127.0.0.1 or 0.0.0.0.
  virtual bool Serves(const std::string& bootstrap_servers) const = 0;

  /// The number of partitions of `topic` (Kafka protocol: Metadata). NotFound when it does not
  /// exist (no auto-creation: pipelines must not create mistyped topics).
  virtual absl::StatusOr<int32_t> PartitionCount(const std::string& topic) = 0;

  /// Log start offset and high watermark of a partition.
  virtual absl::StatusOr<OffsetRange> Offsets(const std::string& topic, int32_t partition) = 0;

  /// ListOffsets by timestamp: the first offset whose record timestamp is >= `timestamp_ms`
  /// (compressed batches are looked into), or nullopt when no record is that recent.
  virtual absl::StatusOr<std::optional<int64_t>> OffsetForTimestamp(const std::string& topic,
                                                                    int32_t partition,
                                                                    int64_t timestamp_ms) = 0;

  /// The offset `group` committed for the partition, or nullopt (Kafka protocol: OffsetFetch).
  virtual absl::StatusOr<std::optional<int64_t>> CommittedOffset(const std::string& group,
                                                                 const std::string& topic,
                                                                 int32_t partition) = 0;

  /// Commits `offset` (the next offset to read) for `group`, as a simple consumer does (Kafka
  /// protocol: OffsetCommit with generation -1 and an empty member id): durable when it returns.
  /// Errors: FailedPrecondition when the group has active members (UNKNOWN_MEMBER_ID), Internal
  /// for other coordinator errors, naming the Kafka error.
  virtual absl::Status CommitOffset(const std::string& group, const std::string& topic,
                                    int32_t partition, int64_t offset) = 0;

  /// Reads whole batches from `offset` up to about `max_bytes` (at least one batch when there is
  /// one). An offset at the high watermark gives no records. Never blocks on new data. With
  /// `read_committed` (Kafka: isolation.level=read_committed) only batches below the last stable
  /// offset, and the aborted transactions among them.
  virtual absl::StatusOr<ReadBatches> Read(const std::string& topic, int32_t partition,
                                           int64_t offset, int64_t max_bytes,
                                           bool read_committed) = 0;

  /// Appends record batches v2 (back to back) with the broker's produce semantics: each batch is
  /// validated, offsets are assigned, the topic's flush policy (flush.messages, flush.ms) applies,
  /// and long-polling fetches of Kafka clients are woken. Written to the log (visible to readers)
  /// when it returns, not fsynced: see Sync. Returns the base offset of the first batch.
  virtual absl::StatusOr<int64_t> Append(const std::string& topic, int32_t partition,
                                         std::string_view batches) = 0;

  /// Returns once every record appended to the partition so far is fsynced (what a Kafka
  /// producer's acks=all waits for).
  virtual absl::Status Sync(const std::string& topic, int32_t partition) = 0;

  // Transactions (Kafka protocol: KIP-98), through the broker's transaction coordinator, for the
  // exactly-once kafka sink. Errors: FailedPrecondition when the producer was fenced (a newer
  // producer of the id, or the transaction's timeout aborted it) or the transaction is not in a
  // state that allows the call (naming the Kafka error), Unavailable for other failures.

  /// InitProducerId for `transactional_id` with `timeout_ms` (transaction.timeout.ms): fences
  /// every earlier producer of the id and aborts a transaction one of them left open.
  virtual absl::StatusOr<TxnProducer> InitTransactions(const std::string& transactional_id,
                                                       int32_t timeout_ms) = 0;
  /// Adds the partition to the producer's transaction (AddPartitionsToTxn; opening it when none
  /// is open) and appends `batches`, built by EncodeTransactionalBatch for this producer, as a
  /// transactional Produce. Returns the base offset of the first batch. Not fsynced: see Sync.
  virtual absl::StatusOr<int64_t> AppendTransactional(const std::string& transactional_id,
                                                      const TxnProducer& producer,
                                                      const std::string& topic, int32_t partition,
                                                      std::string_view batches) = 0;
  /// Commits (`commit`) or aborts the producer's open transaction (EndTxn): returns once the
  /// markers are durable. Ending a transaction again the same way succeeds (a retry).
  virtual absl::Status EndTransaction(const std::string& transactional_id,
                                      const TxnProducer& producer, bool commit) = 0;
  /// The open transactions whose transactional id starts with `prefix` (ListTransactions and
  /// DescribeTransactions).
  virtual absl::StatusOr<std::vector<OpenTransaction>> OpenTransactions(
      const std::string& prefix) = 0;

  // Record batch v2 coding (the log's, src/log/record_batch.h), offered here because connectors
  // do not depend on the log module. Pure functions: thread-safe.

  /// Appends to `out` every record of `batches` (whole batches as Read returns them) with offset
  /// >= `from_offset`, in order. Compressed batches (gzip, snappy raw or xerial, lz4 frame, zstd)
  /// are decompressed into new strings at the back of `*scratch` (a deque: views stay valid while
  /// its strings live). Control batches (transaction markers) give no records; with `aborted`
  /// (a read_committed read's list) the records of aborted transactions are dropped, as Kafka
  /// consumers drop them. `*next_offset` is set to the offset after the last batch. Errors:
  /// InvalidArgument/DataLoss naming the batch's offset and codec for corrupt, truncated or
  /// undecodable data; never crashes.
  virtual absl::Status DecodeRecords(std::string_view batches, int64_t from_offset,
                                     std::deque<std::string>* scratch,
                                     std::vector<LocalRecord>* out, int64_t* next_offset,
                                     const std::vector<AbortedRange>* aborted) = 0;

  /// The headers of `r`, in order, replacing `*out`.
  virtual void DecodeHeaders(const LocalRecord& r, std::vector<HeaderView>* out) = 0;

  /// One uncompressed record batch v2 holding `records` (at least one), ready for Append.
  virtual std::string EncodeBatch(const std::vector<OutgoingRecord>& records) = 0;
  /// The same as a transactional batch of `producer` whose first record has sequence number
  /// `base_sequence` (KIP-98), ready for AppendTransactional.
  virtual std::string EncodeTransactionalBatch(const std::vector<OutgoingRecord>& records,
                                               const TxnProducer& producer,
                                               int32_t base_sequence) = 0;
};

/// Registers the process's local topics (`eddy server` does, before running pipelines), or
/// unregisters them with nullptr (before its log closes). Thread-safe.
void SetLocalTopics(std::shared_ptr<LocalTopics> topics);

/// The registered local topics when they serve `bootstrap_servers`, else nullptr (no broker in
/// this process, or another cluster: the table goes through librdkafka). Thread-safe.
std::shared_ptr<LocalTopics> LocalTopicsFor(const std::string& bootstrap_servers);

}  // namespace eddy::connectors::kafka
