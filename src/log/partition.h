// A partition's log: an ordered sequence of segments in `<data-dir>/<topic>-<partition>/`
// holding Kafka record batches v2 exactly as produced, with offsets assigned by the log
// (docs/log-format.md). This is the storage half of a Kafka partition leader with a single
// replica: the high watermark is the log end offset.
//
// Thread-safety: a Partition is shared (std::shared_ptr) by the broker's I/O threads and by
// pipelines; every public method is thread-safe. Appends are serialized by the partition mutex;
// reads take it only to locate segments and then read the files without it, so fetches run
// concurrently with each other and with appends. fsync never happens under the append mutex:
// Sync/SyncUpTo run it outside, and concurrent callers share one fsync (group commit).
//
// Transactions (Kafka protocol: KIP-98): the partition follows the transactional batches appended
// to it. A producer's transaction is open from its first transactional batch to the next control
// batch (commit or abort marker) of that producer; the last stable offset (LSO) is the first
// offset of the oldest open transaction, or the high watermark when none is open, and
// read_committed readers see only batches below it. Aborted transactions are listed (producer,
// first offset, marker offset: Kafka's transaction index) so read_committed fetches can tell
// consumers which records to drop. This state is kept in memory and saved to `txn.snapshot` at
// every roll, close and open; opening a partition loads the snapshot and scans the batches after
// it (docs/log-format.md "Transactions").
//
// Durability: after Append returns, the batches are written to the OS (page cache), visible to
// Read, but not fsynced; they survive a crash of the process but not of the machine. After
// SyncUpTo(o) returns OK every offset <= o is fsynced. Topic configs flush.messages and flush.ms
// make Append fsync by itself; by default nothing is fsynced unless asked (Kafka's default).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/ids.h"
#include "log/record_batch.h"
#include "log/segment.h"
#include "log/topic_config.h"

namespace eddy::log {

/// Milliseconds since the Unix epoch; the log's only source of time (injectable for tests).
using ClockMs = std::function<int64_t()>;

/// The wall clock in ms since the Unix epoch.
int64_t WallClockMs();

/// Options that are not topic configs.
struct PartitionOptions {
  /// Clock for log append time, segment.ms and flush.ms. Default: WallClockMs.
  ClockMs clock_ms;
};

/// Per-call options of Append.
struct AppendOptions {
  /// When set, written into each batch's partitionLeaderEpoch field (not covered by the CRC, so
  /// the batch stays valid); otherwise the producer's value (usually -1) is kept.
  std::optional<int32_t> partition_leader_epoch;
};

/// What Append assigned (Kafka protocol: ProduceResponse partition fields).
struct AppendResult {
  Offset base_offset;  // offset of the first record appended
  Offset last_offset;  // offset of the last record appended
  /// The broker time stamped on the batches with message.timestamp.type=LogAppendTime (ms);
  /// -1 with CreateTime, as Kafka reports it.
  int64_t log_append_time_ms = -1;
  Offset log_start_offset;  // after the append
  int32_t batch_count = 0;
  int64_t record_count = 0;
  int64_t size_bytes = 0;
};

/// What Read returns (Kafka protocol: FetchResponse partition fields).
struct ReadResult {
  /// Whole record batches v2, back to back, as stored; empty when fetching at the log end.
  std::string records;
  Offset high_watermark;  // = log end offset (single replica)
  /// First offset of the oldest open transaction, or the high watermark when none is open.
  Offset last_stable_offset;
  Offset log_start_offset;
};

/// An aborted transaction of the partition (Kafka: a transaction index entry; Kafka protocol:
/// FetchResponse AbortedTransaction): its producer, the offset of its first batch here and the
/// offset of its abort marker.
struct AbortedTxn {
  int64_t producer_id = -1;
  Offset first_offset;
  Offset last_offset;
  bool operator==(const AbortedTxn&) const = default;
};

/// A ListOffsets answer: the first record with timestamp >= the target.
struct TimestampOffset {
  Offset offset;
  /// The record's timestamp (ms); -1 for the special targets -1 and -2.
  int64_t timestamp_ms = -1;
  /// False when the matching batch is compressed and its records do not decompress (an unknown
  /// or corrupt payload): `offset` is then the batch's first offset (at or after the log start)
  /// and `timestamp_ms` its maxTimestamp. Compressed batches are otherwise decompressed and the
  /// answer is exact.
  bool exact = true;
};

/// ListOffsets special timestamps (Kafka protocol: ListOffsets).
inline constexpr int64_t kLatestTimestamp = -1;    // the log end offset
inline constexpr int64_t kEarliestTimestamp = -2;  // the log start offset

/// What a retention pass or TruncateBefore removed.
struct RetentionResult {
  int32_t segments_deleted = 0;
  int64_t bytes_deleted = 0;
  Offset log_start_offset;  // after the pass
};

/// One partition's log. See the file comment for thread-safety and durability.
class Partition {
 public:
  /// Opens (creating if missing) the partition directory `dir`. Recovery (docs/log-format.md
  /// "Recovery"): every segment at or after the recovery point in `partition.meta` and always the
  /// last one is scanned batch by batch; a torn or corrupt tail (short read, bad length, bad
  /// magic, CRC mismatch, offsets out of order) is truncated at the last valid batch, logged with
  /// its byte position and reason, and any later segment is deleted; indexes missing or
  /// inconsistent are rebuilt. Recovers the next offset, high watermark and log start offset.
  /// Errors: I/O errors (KAFKA_STORAGE_ERROR); DataLoss when segments overlap.
  static absl::StatusOr<std::shared_ptr<Partition>> Open(const std::string& dir,
                                                         const std::string& topic, PartitionId id,
                                                         const TopicConfig& config,
                                                         const PartitionOptions& options = {});

  /// Closes if Close was not called (logging an error if that fails).
  ~Partition();

  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  /// Appends the record batches v2 in `batches` (one or more, back to back, as in a Produce
  /// request) and returns the offsets assigned. Each batch is checked (ValidateRecordBatch:
  /// lengths, magic 2, CRC-32C, record structure) before anything is written; then its
  /// baseOffset is rewritten to the next offset (the CRC does not cover it), with LogAppendTime
  /// its maxTimestamp and timestamp-type bit are set and its CRC recomputed, and all batches are
  /// written with one write. Rolls to a new segment first when the active one would exceed
  /// segment.bytes, is older than segment.ms, or would overflow 32-bit relative offsets.
  /// Durability: written, not fsynced (unless flush.messages/flush.ms say so).
  /// Errors: DataLoss (CORRUPT_MESSAGE) for a corrupt batch, InvalidArgument (INVALID_RECORD)
  /// for bad records or an empty buffer, ResourceExhausted (MESSAGE_TOO_LARGE) for a batch over
  /// max.message.bytes, FailedPrecondition after Close, I/O errors. On error nothing is
  /// appended (a failed flush.* fsync is reported after the write).
  absl::StatusOr<AppendResult> Append(std::string_view batches, const AppendOptions& options = {});

  /// fsyncs everything appended so far. Same as SyncUpTo(HighWatermark() - 1) on a non-empty log.
  absl::Status Sync();

  /// Returns once every offset <= `offset` is fsynced: the call answering acks=all. Callers
  /// arriving while an fsync is running wait for it and then share the next one (group commit),
  /// so N concurrent producers cost about two fsyncs, not N. Returns at once when already
  /// durable. Errors: OutOfRange when `offset` >= the log end offset; I/O errors;
  /// FailedPrecondition after Close.
  absl::Status SyncUpTo(Offset offset);

  /// The flush.ms policy and the background fsync of rolled segments: fsyncs when the last
  /// fsync is older than flush.ms or a closed segment is not yet durable. The broker calls it
  /// periodically (e.g. every second) with its clock.
  absl::Status FlushIfDue(int64_t now_ms);

  /// Reads whole batches starting with the batch containing `fetch_offset` (which may begin
  /// before it, as in Kafka), up to `max_bytes` in total. With `whole_first_batch` the first
  /// batch is returned even when it is larger than `max_bytes` (KIP-74: the first partition of a
  /// fetch with records); without, a first batch larger than `max_bytes` gives no records. May
  /// span segments. Located through the sparse offset index and a scan of at most
  /// index.interval.bytes plus one batch. Fetching at the log end returns no records. Errors:
  /// OutOfRange (OFFSET_OUT_OF_RANGE) when `fetch_offset` is below the log start offset or above
  /// the log end offset; DataLoss if the stored bytes are damaged. With `read_committed` (Kafka:
  /// isolation.level=read_committed) only batches below the last stable offset are returned.
  absl::StatusOr<ReadResult> Read(Offset fetch_offset, int64_t max_bytes,
                                  bool whole_first_batch = true, bool read_committed = false) const;

  /// The aborted transactions with batches in [`from`, `to`): marker offset >= `from` and first
  /// offset < `to`, by first offset (what a read_committed Fetch of that range returns). Entries
  /// entirely below the log start offset are dropped by retention.
  std::vector<AbortedTxn> AbortedTransactions(Offset from, Offset to) const;
  /// The last stable offset (see the file comment).
  Offset LastStableOffset() const;
  /// The open transactions: producer id → offset of its first batch here.
  std::map<int64_t, Offset> OngoingTransactions() const;

  /// ListOffsets by timestamp (ms): the first record at or after the log start with timestamp >=
  /// `timestamp_ms`, found through the time index, then inside the batch (decompressing it when
  /// compressed; see TimestampOffset::exact). kLatestTimestamp and kEarliestTimestamp give the log
  /// end and log start offsets. nullopt when no record is that recent (Kafka answers -1).
  absl::StatusOr<std::optional<TimestampOffset>> OffsetForTimestamp(int64_t timestamp_ms) const;

  /// Deletes whole segments from the oldest, never the active one: those whose newest timestamp
  /// is older than `now_ms` - retention.ms, then those over retention.bytes, then those entirely
  /// below the log start offset; advances the log start offset to the first remaining segment.
  /// The broker calls it periodically (Kafka: log.retention.check.interval.ms).
  absl::StatusOr<RetentionResult> RunRetention(int64_t now_ms);

  /// DeleteRecords: raises the log start offset to `offset` (persisted before returning) and
  /// deletes the segments entirely below it. A lower `offset` is a no-op. Errors: OutOfRange
  /// when `offset` > the high watermark.
  absl::StatusOr<RetentionResult> TruncateBefore(Offset offset);

  /// Writes the index files, fsyncs everything and persists partition.meta. Later calls other
  /// than the accessors fail with FailedPrecondition. Idempotent.
  absl::Status Close();

  /// Marks the partition closed without writing or fsyncing anything: for a partition whose files
  /// are about to be deleted (DeleteTopic). Later calls fail like after Close.
  void CloseWithoutFlush();

  /// Replaces the topic config; applies from the next append, roll, flush or retention pass.
  void SetConfig(const TopicConfig& config);
  TopicConfig config() const;

  /// First offset still in the log (Kafka: log start offset).
  Offset LogStartOffset() const;
  /// Offset the next record will get (log end offset); also the high watermark.
  Offset HighWatermark() const;
  /// Every offset below this is fsynced.
  Offset DurableOffset() const;
  /// Number of fsync passes so far (each covers every segment with unsynced bytes); with group
  /// commit it grows slower than the number of SyncUpTo calls. For metrics and tests.
  int64_t SyncCount() const { return sync_count_.load(std::memory_order_relaxed); }
  /// Bytes of all segments.
  int64_t SizeBytes() const;
  /// Number of segments, the active one included.
  size_t SegmentCount() const;
  /// Base offsets of the segments, oldest first (for tests and tools).
  std::vector<Offset> SegmentBaseOffsets() const;

  const std::string& topic() const { return topic_; }
  PartitionId id() const { return id_; }
  const std::string& dir() const { return dir_; }

 private:
  Partition(const std::string& dir, const std::string& topic, PartitionId id,
            const TopicConfig& config, const PartitionOptions& options);

  struct Meta {
    Offset log_start_offset;
    Offset recovery_point;
  };
  struct SegmentSnapshot {
    std::shared_ptr<Segment> segment;
    int64_t size = 0;
  };

  absl::Status Recover();
  // Transactions: loads txn.snapshot and scans the batches after it (requires mu_ exclusive).
  // `*snapshot_current`: the snapshot was taken at the recovered log end (nothing to save).
  absl::Status RecoverTransactions(bool* snapshot_current);
  // Follows one appended batch (requires mu_ exclusive).
  void TrackTransaction(const RecordBatchHeader& h, Offset base, std::optional<ControlType> marker);
  // The first offset of the oldest open transaction (requires mu_, ongoing_txns_ not empty).
  Offset FirstOngoingLocked() const;
  // Writes txn.snapshot with the state at the current log end.
  absl::Status WriteTxnSnapshot();
  absl::StatusOr<Meta> ReadMeta() const;
  absl::Status WriteMeta();
  Offset RecoveryPointLocked() const;       // requires mu_ (shared)
  absl::Status RollLocked(int64_t now_ms);  // requires mu_
  absl::Status SyncOnce(Offset* synced_end);
  absl::Status SyncUpToImpl(Offset offset, bool force);
  int64_t Now() const { return options_.clock_ms(); }
  std::string Name() const;
  // Requires mu_ (exclusive).
  void DeleteSegmentsLocked(size_t count, RetentionResult* result,
                            std::vector<std::shared_ptr<Segment>>* doomed);
  absl::Status RemoveDoomed(const std::vector<std::shared_ptr<Segment>>& doomed);

  const std::string dir_;
  const std::string topic_;
  const PartitionId id_;
  PartitionOptions options_;

  // std mutexes rather than absl::Mutex: Debian's abseil is built without ThreadSanitizer
  // annotations, so TSan would report false races through absl::Mutex.
  // Guards the members below it up to the atomics. Exclusive for appends, rolls, retention;
  // shared for locating segments on reads and for the accessors.
  mutable std::shared_mutex mu_;
  TopicConfig config_;
  std::vector<std::shared_ptr<Segment>> segments_;  // oldest first, the last one active
  Offset next_offset_;
  Offset log_start_offset_;
  bool closed_ = false;
  std::map<int64_t, Offset> ongoing_txns_;  // producer id → first offset of its open transaction
  std::vector<AbortedTxn> aborted_txns_;    // by marker offset
  std::atomic<bool> dir_dirty_{false};      // segment files created since the last directory fsync
  std::atomic<int64_t> last_flush_ms_{0};

  // Group commit: sync_mu_ guards sync_running_ (one fsync pass at a time); never held while
  // taking mu_.
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_running_ = false;
  std::atomic<int64_t> durable_end_{0};  // every offset below is fsynced
  std::atomic<int64_t> sync_count_{0};

  // Serializes partition.meta writes and guards the two members below; taken before mu_.
  std::mutex meta_mu_;
  Offset persisted_log_start_{-1};
  Offset persisted_recovery_point_{-1};
};

}  // namespace eddy::log
