// Kafka record batch v2 (magic 2): the unit the log stores, exactly as producers send it (Kafka
// protocol: "Record Batch", KIP-98). The log reads only the 61-byte header to append and serve
// fetches; records of uncompressed batches are walked for validation, and records of any batch
// (decompressed with log/compression.h) for timestamp look-ups and by pipelines reading the local
// log. RecordBatchBuilder writes uncompressed batches for pipelines that append to the log.
//
// Header layout, all integers big-endian:
//   offset  size  field
//   0       8     baseOffset            (assigned by the log)
//   8       4     batchLength           (bytes after this field: total size - 12)
//   12      4     partitionLeaderEpoch
//   16      1     magic                 (2)
//   17      4     crc                   (CRC-32C of bytes [21, end))
//   21      2     attributes            (bits 0-2 compression, 3 timestamp type, 4 transactional,
//                                        5 control, 6 delete horizon)
//   23      4     lastOffsetDelta
//   27      8     baseTimestamp         (ms since the epoch)
//   35      8     maxTimestamp          (ms since the epoch)
//   43      8     producerId
//   51      2     producerEpoch
//   53      4     baseSequence
//   57      4     recordsCount
//   61      ...   records
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/ids.h"

namespace eddy::log {

/// Size of the record batch v2 header in bytes.
inline constexpr size_t kBatchHeaderSize = 61;
/// Bytes before (and including) the batchLength field: size = kBatchLengthPrefix + batchLength.
inline constexpr size_t kBatchLengthPrefix = 12;
/// The only record batch format the log accepts.
inline constexpr int8_t kMagicV2 = 2;

/// Field positions within the header (bytes from the start of the batch).
inline constexpr size_t kBaseOffsetPos = 0;
inline constexpr size_t kBatchLengthPos = 8;
inline constexpr size_t kPartitionLeaderEpochPos = 12;
inline constexpr size_t kMagicPos = 16;
inline constexpr size_t kCrcPos = 17;
inline constexpr size_t kAttributesPos = 21;
inline constexpr size_t kLastOffsetDeltaPos = 23;
inline constexpr size_t kBaseTimestampPos = 27;
inline constexpr size_t kMaxTimestampPos = 35;
inline constexpr size_t kProducerIdPos = 43;
inline constexpr size_t kProducerEpochPos = 51;
inline constexpr size_t kBaseSequencePos = 53;
inline constexpr size_t kRecordsCountPos = 57;

/// Attribute bits (Kafka protocol: record batch attributes).
inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kTimestampTypeBit = 0x08;
inline constexpr int16_t kTransactionalBit = 0x10;
inline constexpr int16_t kControlBit = 0x20;

/// How a batch's timestamps were set (attribute bit 3; topic config message.timestamp.type).
enum class TimestampType { kCreateTime = 0, kLogAppendTime = 1 };

/// The decoded 61-byte header of a record batch v2. A plain value; copy freely.
struct RecordBatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = 0;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 0;

  /// Total size of the batch in bytes, header included.
  int64_t size_bytes() const { return static_cast<int64_t>(kBatchLengthPrefix) + batch_length; }
  /// Offset of the batch's last record.
  /// (Wraps instead of overflowing for a crafted base offset near INT64_MAX.)
  int64_t last_offset() const {
    return static_cast<int64_t>(static_cast<uint64_t>(base_offset) +
                                static_cast<uint64_t>(int64_t{last_offset_delta}));
  }
  /// Compression codec id: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
  int compression() const { return attributes & kCompressionMask; }
  TimestampType timestamp_type() const {
    return (attributes & kTimestampTypeBit) ? TimestampType::kLogAppendTime
                                            : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return (attributes & kTransactionalBit) != 0; }
  bool is_control() const { return (attributes & kControlBit) != 0; }
};

/// Big-endian integer access at `p` (no bounds check).
int16_t ReadBigEndian16(const char* p);
int32_t ReadBigEndian32(const char* p);
int64_t ReadBigEndian64(const char* p);
void WriteBigEndian16(char* p, int16_t v);
void WriteBigEndian32(char* p, int32_t v);
void WriteBigEndian64(char* p, int64_t v);

/// Decodes the header at the start of `bytes`, which must hold at least kBatchHeaderSize bytes
/// (else DataLoss). Checks nothing else: see ValidateRecordBatch.
absl::StatusOr<RecordBatchHeader> DecodeBatchHeader(std::string_view bytes);

/// The CRC-32C a batch should carry: over bytes [21, end) of `batch` (Kafka protocol: record
/// batch v2 `crc`). `batch` must be at least kBatchHeaderSize bytes.
uint32_t ComputeBatchCrc(std::string_view batch);

/// Checks that `batch` is exactly one well-formed record batch v2: length fields consistent with
/// `batch.size()`, magic 2, CRC-32C matching, lastOffsetDelta == recordsCount - 1 >= 0, and, for
/// uncompressed batches, records that parse and fill the batch exactly with offset deltas
/// 0..n-1. Errors: DataLoss (CORRUPT_MESSAGE) for length/magic/CRC problems, InvalidArgument
/// (INVALID_RECORD) for bad record contents. Returns the decoded header. Thread-safe; pure.
absl::StatusOr<RecordBatchHeader> ValidateRecordBatch(std::string_view batch);

/// Overwrites the baseOffset field (bytes 0-7). The CRC does not cover it and stays valid.
void SetBaseOffset(char* batch, Offset base_offset);
/// Overwrites the partitionLeaderEpoch field (bytes 12-15), not covered by the CRC.
void SetPartitionLeaderEpoch(char* batch, int32_t epoch);
/// Stamps log append time (topic config message.timestamp.type=LogAppendTime, as Kafka does):
/// sets attribute bit 3 and maxTimestamp to `append_time_ms`, then recomputes the CRC, since both
/// fields are covered by it. `batch` must be a complete batch of `size` bytes.
void SetLogAppendTime(char* batch, size_t size, int64_t append_time_ms);

/// One record of a batch, as views into the batch bytes or its decompressed records (Kafka
/// protocol: Record).
struct RecordView {
  int64_t offset = 0;     // base offset + offset delta
  int64_t timestamp = 0;  // ms; for LogAppendTime batches the batch's maxTimestamp
  int32_t key_size = -1;  // -1 = null key
  std::string_view key;
  int32_t value_size = -1;  // -1 = null value
  std::string_view value;
  int32_t headers_count = 0;
  /// The encoded headers (`headers_count` of them), already checked to parse: see ForEachHeader.
  std::string_view headers;
};

/// Calls `fn(key, value, value_is_null)` for each header of `r` in order (Kafka protocol: Record
/// headers; a header key is never null, a value may be).
void ForEachHeader(const RecordView& r,
                   const std::function<void(std::string_view key, std::string_view value,
                                            bool value_is_null)>& fn);

/// Calls `fn` for each record of the uncompressed batch `batch` in order; stops early when `fn`
/// returns false. Errors: FailedPrecondition if the batch is compressed, InvalidArgument if a
/// record does not parse. Does not check the CRC.
absl::Status ForEachRecord(std::string_view batch,
                           const std::function<bool(const RecordView&)>& fn);

/// As ForEachRecord, for a batch of any codec: a compressed batch's records are first
/// decompressed into `*scratch` (log/compression.h; gzip, snappy raw or xerial, lz4 frame, zstd),
/// so the views given to `fn` are valid until `*scratch` changes. Errors: InvalidArgument naming
/// the batch's base offset and codec for corrupt or truncated compressed data or bad records,
/// ResourceExhausted for records decompressing past kMaxDecompressedBytes. Does not check the
/// CRC. Never crashes on bad input. Thread-safe for distinct scratch buffers.
absl::Status ForEachRecordDecompressing(std::string_view batch, std::string* scratch,
                                        const std::function<bool(const RecordView&)>& fn);

/// The type of a control batch's marker (Kafka protocol: ControlRecordType, the second int16 of
/// the control record's key; the first is the key's version, 0).
enum class ControlType : int16_t { kAbort = 0, kCommit = 1 };

/// A transaction marker (Kafka protocol: "Control Batches", KIP-98): attributes transactional |
/// control, producer `producer_id`/`producer_epoch`, base sequence -1, one record at
/// `timestamp_ms` whose key is {version 0, `type`} and value {version 0, `coordinator_epoch`}
/// (Kafka's EndTransactionMarker). baseOffset 0 (the log assigns it); passes
/// ValidateRecordBatch. Thread-safe; pure.
std::string BuildControlBatch(int64_t producer_id, int16_t producer_epoch, ControlType type,
                              int32_t coordinator_epoch, int64_t timestamp_ms);

/// The marker type of the control batch `batch` (its first record's key). Errors:
/// InvalidArgument when `batch` is not an uncompressed control batch with such a key.
absl::StatusOr<ControlType> ReadControlType(std::string_view batch);

/// A header of a record to build.
struct RecordHeader {
  std::string_view key;
  std::string_view value;
  bool value_is_null = false;
};

/// Builds one uncompressed record batch v2 (magic 2) record by record, as a producer does:
/// baseOffset 0 (the log assigns it), partitionLeaderEpoch -1, attributes 0 (no compression,
/// CreateTime), no producer id (-1/-1/-1) unless SetProducer says otherwise, baseTimestamp the
/// first record's timestamp and maxTimestamp the largest, offset deltas 0..n-1 and the CRC-32C over
/// bytes [21, end). The result passes ValidateRecordBatch. Not thread-safe.
class RecordBatchBuilder {
 public:
  /// Appends a record. `key`/`value` null when `key_is_null`/`value_is_null`; `timestamp_ms` is
  /// the record's CreateTime (ms since the epoch).
  void Add(std::string_view key, bool key_is_null, std::string_view value, bool value_is_null,
           int64_t timestamp_ms, const std::vector<RecordHeader>& headers = {});
  /// Records added since the last Build.
  int32_t count() const { return count_; }
  /// Size in bytes the batch would have now.
  size_t size_bytes() const { return kBatchHeaderSize + records_.size(); }
  /// Returns the batch of the records added so far (count() must be > 0) and starts a new one.
  std::string Build();
  /// Makes the next batches carry producer id, epoch and base sequence (Kafka protocol: KIP-98
  /// idempotent/transactional producers) and, with `transactional`, the transactional attribute
  /// bit. Applies until called again; (-1, -1, -1, false) restores the default.
  void SetProducer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence,
                   bool transactional) {
    producer_id_ = producer_id;
    producer_epoch_ = producer_epoch;
    base_sequence_ = base_sequence;
    transactional_ = transactional;
  }

 private:
  std::string records_;  // encoded records
  std::string record_;   // scratch for one record
  int32_t count_ = 0;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int32_t base_sequence_ = -1;
  bool transactional_ = false;
};

/// Kafka varints (protobuf-style, zigzag for signed): decode from `*p` up to `end`, advancing `*p`.
/// Return false on truncation or overlong encodings.
bool ReadVarint32(const char** p, const char* end, int32_t* out);
bool ReadVarint64(const char** p, const char* end, int64_t* out);

}  // namespace eddy::log
