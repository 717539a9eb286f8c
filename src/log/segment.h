// One segment of a partition's log: `<base offset, 20 digits>.log` holding record batches v2 back
// to back, with its sparse `.index` and `.timeindex` (docs/log-format.md). Internal to src/log/.
//
// Thread-safety: a Segment's mutable state (size, indexes, timestamps) is guarded by the owning
// Partition's mutex; every method except the ones marked otherwise must be called under it. The
// bytes below a size observed under that mutex never change while the segment is open (appends
// only add past the end, truncation happens only while opening), so SegmentReader may read them
// without the mutex, concurrently with appends, from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/ids.h"
#include "log/file_util.h"
#include "log/index.h"
#include "log/record_batch.h"

namespace eddy::log {

/// "00000000000000000042" for offset 42: the 20-digit stem of a segment's file names.
std::string SegmentFileStem(Offset base_offset);

/// What the log needs to know about one appended batch (from its header).
struct AppendedBatch {
  Offset base_offset;
  Offset last_offset;
  int64_t max_timestamp = -1;  // ms
  int64_t size_bytes = 0;
};

/// How opening a segment went, for logging and for the partition's recovery.
struct SegmentRecovery {
  bool scanned = false;          // every batch was read and its CRC checked
  bool indexes_rebuilt = false;  // .index/.timeindex were missing, inconsistent, or re-derived
  bool truncated = false;        // a torn or corrupt tail was cut off
  int64_t valid_bytes = 0;       // size after truncation
  int64_t dropped_bytes = 0;     // bytes cut off
  std::string reason;            // why the tail was cut (empty when not truncated)
};

/// Sequential, buffered reader of batches in [start, limit) of a segment file. Thread-compatible;
/// needs no lock (see the file comment). Does not check CRCs.
class SegmentReader {
 public:
  /// `fd` and `path` must outlive the reader. `chunk_bytes` is the read-ahead size.
  SegmentReader(int fd, const std::string& path, int64_t start, int64_t limit,
                size_t chunk_bytes = 64 * 1024);

  /// Reads the header of the batch at the current position. Returns nullopt at `limit`.
  /// Errors: DataLoss if the bytes left cannot hold the batch its header declares or the magic
  /// is not 2.
  absl::StatusOr<std::optional<RecordBatchHeader>> Next();

  /// Position of the batch returned by the last Next() (its first byte).
  int64_t batch_position() const { return batch_position_; }

  /// The whole batch returned by the last Next(); valid until the next call.
  absl::StatusOr<std::string_view> BatchBytes();

  /// Bytes [position, position + size) clipped to the limit; valid until the next call.
  absl::StatusOr<std::string_view> View(int64_t position, size_t size);

 private:
  int fd_;
  const std::string& path_;
  int64_t position_;
  int64_t limit_;
  size_t chunk_bytes_;
  int64_t batch_position_ = -1;
  int64_t batch_size_ = 0;
  std::string buffer_;
  int64_t buffer_start_ = 0;
};

/// A segment file and its indexes. Created and owned by Partition, shared with readers through
/// std::shared_ptr so that a segment deleted by retention stays readable to a fetch in progress.
class Segment {
 public:
  /// Creates the empty segment `<dir>/<base>.log` (fails if it exists). `now_ms` is its creation
  /// time, from which segment.ms counts until the first batch arrives.
  static absl::StatusOr<std::shared_ptr<Segment>> Create(const std::string& dir, Offset base,
                                                         int64_t index_interval_bytes,
                                                         int64_t now_ms);

  /// Opens an existing segment. With `full_scan`, reads every batch, checks its length, magic,
  /// CRC and offsets, truncates the file at the first bad batch (a torn or corrupt tail) and
  /// rebuilds both indexes. Without it, loads the index files and checks them (entries in order
  /// and inside the file, the last entry pointing at a batch with that offset, the tail after it
  /// well formed), falling back to a full scan when anything is off. `recovery` says what happened.
  static absl::StatusOr<std::shared_ptr<Segment>> Open(const std::string& dir, Offset base,
                                                       int64_t index_interval_bytes, bool full_scan,
                                                       int64_t now_ms, SegmentRecovery* recovery);

  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  /// Writes `bytes` (whole batches with offsets assigned, described by `batches`) at the end of
  /// the file and indexes them. After it returns the bytes are written to the OS but not fsynced.
  /// On a write error the file is cut back to its previous size and nothing is indexed.
  absl::Status Append(std::string_view bytes, const std::vector<AppendedBatch>& batches,
                      int64_t now_ms);

  /// File position from which to scan for the batch holding `offset` (offset index lookup).
  int64_t IndexedPositionFor(Offset offset) const;

  /// File position from which to scan for the first batch with maxTimestamp >= `timestamp_ms`
  /// (time index, then offset index).
  int64_t IndexedPositionForTimestamp(int64_t timestamp_ms) const;

  /// Adds the segment's running maximum timestamp to the time index (done when it stops being
  /// the active segment, so the last entry holds the segment's max timestamp) and writes both
  /// index files (not fsynced).
  absl::Status Seal();

  /// Writes the index files if they changed since the last write (not fsynced).
  absl::Status WriteIndexes();

  /// fdatasyncs the log file, then records `size` as durable. Thread-safe: may be called without
  /// the partition mutex (the fd is immutable), with a `size` observed under it.
  absl::Status SyncData(int64_t size);

  /// fsyncs the index files if they exist, then marks them synced. Thread-safe like SyncData.
  absl::Status SyncIndexes();

  /// True when the index files on disk are complete and fsynced. Thread-safe.
  bool indexes_synced() const { return indexes_synced_.load(std::memory_order_acquire); }

  /// Deletes the files (.log, .index, .timeindex). Open readers keep reading the unlinked file.
  absl::Status RemoveFiles() const;

  Offset base_offset() const { return base_; }
  /// Offset after the last batch (base_offset() when empty).
  Offset next_offset() const { return next_offset_; }
  /// Bytes of batches in the file.
  int64_t size_bytes() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// Bytes known to be fsynced. Thread-safe.
  int64_t synced_bytes() const { return synced_size_.load(std::memory_order_acquire); }
  /// Largest batch maxTimestamp (ms), or -1 when the segment has no batch with a timestamp.
  int64_t max_timestamp() const { return max_timestamp_; }
  /// The timestamp retention.ms compares with: max_timestamp(), or the file's last modification
  /// time when no batch carries a timestamp (as Kafka does).
  int64_t retention_timestamp() const {
    return max_timestamp_ >= 0 ? max_timestamp_ : last_modified_ms_;
  }
  /// maxTimestamp of the first batch (ms), or -1 (empty, or no timestamp).
  int64_t first_batch_timestamp() const { return first_batch_timestamp_; }
  /// When this Segment object was created or opened (ms).
  int64_t created_ms() const { return created_ms_; }
  int fd() const { return file_.get(); }
  const std::string& log_path() const { return log_path_; }
  const OffsetIndex& offset_index() const { return offset_index_; }
  const TimeIndex& time_index() const { return time_index_; }

 private:
  Segment(const std::string& dir, Offset base, int64_t index_interval_bytes);

  void IndexBatch(const AppendedBatch& batch, int64_t position);
  absl::Status ScanAndRecover(SegmentRecovery* recovery);
  absl::Status LoadIndexes(int64_t file_size, bool* ok);

  std::string log_path_;
  std::string index_path_;
  std::string time_index_path_;
  Offset base_;
  FileHandle file_;
  int64_t index_interval_bytes_;
  int64_t size_ = 0;
  Offset next_offset_;
  int64_t max_timestamp_ = -1;
  uint32_t offset_of_max_timestamp_ = 0;  // relative
  int64_t first_batch_timestamp_ = -1;
  int64_t created_ms_ = 0;
  int64_t last_modified_ms_ = 0;
  int64_t bytes_since_last_index_entry_ = 0;
  bool indexes_dirty_ = true;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
  std::atomic<int64_t> synced_size_{0};
  std::atomic<bool> indexes_synced_{false};
};

}  // namespace eddy::log
