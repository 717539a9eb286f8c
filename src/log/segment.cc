#include "log/segment.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "log/log_error.h"

namespace eddy::log {
namespace {

constexpr int64_t kMaxRelativeOffset = std::numeric_limits<uint32_t>::max();
constexpr size_t kRecoveryChunkBytes = 1 << 20;

absl::Status Corrupt(const std::string& message) {
  return LogError(absl::StatusCode::kDataLoss, KafkaError::kCorruptMessage, message);
}

}  // namespace

std::string SegmentFileStem(Offset base_offset) {
  return fmt::format("{:020d}", base_offset.value());
}

// ---------------------------------------------------------------------------------------------
// SegmentReader

SegmentReader::SegmentReader(int fd, const std::string& path, int64_t start, int64_t limit,
                             size_t chunk_bytes)
    : fd_(fd), path_(path), position_(start), limit_(limit), chunk_bytes_(chunk_bytes) {}

absl::StatusOr<std::string_view> SegmentReader::View(int64_t position, size_t size) {
  if (position >= limit_) return std::string_view();
  size = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(size), limit_ - position));
  int64_t buffer_end = buffer_start_ + static_cast<int64_t>(buffer_.size());
  if (position >= buffer_start_ && position + static_cast<int64_t>(size) <= buffer_end) {
    return std::string_view(buffer_.data() + (position - buffer_start_), size);
  }
  size_t want = std::max(size, chunk_bytes_);
  want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(want), limit_ - position));
  buffer_.resize(want);
  absl::StatusOr<size_t> got = ReadAt(fd_, position, buffer_.data(), want, path_);
  if (!got.ok()) {
    buffer_.clear();
    return got.status();
  }
  buffer_.resize(*got);
  buffer_start_ = position;
  return std::string_view(buffer_.data(), std::min(size, *got));
}

absl::StatusOr<std::optional<RecordBatchHeader>> SegmentReader::Next() {
  if (position_ >= limit_) return std::nullopt;
  int64_t remaining = limit_ - position_;
  if (remaining < static_cast<int64_t>(kBatchLengthPrefix)) {
    return Corrupt(fmt::format("only {} bytes left at position {}, too few for a batch header",
                               remaining, position_));
  }
  absl::StatusOr<std::string_view> head =
      View(position_, static_cast<size_t>(std::min<int64_t>(remaining, kBatchHeaderSize)));
  if (!head.ok()) return head.status();
  if (head->size() < kBatchLengthPrefix) {
    return Corrupt(fmt::format("short read of the batch header at position {}", position_));
  }
  int32_t length = ReadBigEndian32(head->data() + kBatchLengthPos);
  if (length < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix)) {
    return Corrupt(fmt::format("bad batch length {} at position {}", length, position_));
  }
  int64_t size = static_cast<int64_t>(kBatchLengthPrefix) + length;
  if (size > remaining) {
    return Corrupt(fmt::format(
        "batch of {} bytes at position {} runs past the end ({} bytes left): short write", size,
        position_, remaining));
  }
  if (head->size() < kBatchHeaderSize) {
    return Corrupt(fmt::format("short read of the batch header at position {}", position_));
  }
  int8_t magic = static_cast<int8_t>((*head)[kMagicPos]);
  if (magic != kMagicV2) {
    return Corrupt(fmt::format("bad magic {} at position {}", magic, position_));
  }
  absl::StatusOr<RecordBatchHeader> header = DecodeBatchHeader(*head);
  if (!header.ok()) return header.status();
  batch_position_ = position_;
  batch_size_ = size;
  position_ += size;
  return std::optional<RecordBatchHeader>(*header);
}

absl::StatusOr<std::string_view> SegmentReader::BatchBytes() {
  absl::StatusOr<std::string_view> bytes = View(batch_position_, static_cast<size_t>(batch_size_));
  if (!bytes.ok()) return bytes.status();
  if (static_cast<int64_t>(bytes->size()) != batch_size_) {
    return Corrupt(fmt::format("short read of the batch at position {}", batch_position_));
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Segment

Segment::Segment(const std::string& dir, Offset base, int64_t index_interval_bytes)
    : base_(base), index_interval_bytes_(index_interval_bytes), next_offset_(base) {
  std::string stem = dir + "/" + SegmentFileStem(base);
  log_path_ = stem + ".log";
  index_path_ = stem + ".index";
  time_index_path_ = stem + ".timeindex";
}

absl::StatusOr<std::shared_ptr<Segment>> Segment::Create(const std::string& dir, Offset base,
                                                         int64_t index_interval_bytes,
                                                         int64_t now_ms) {
  std::shared_ptr<Segment> segment(new Segment(dir, base, index_interval_bytes));
  absl::StatusOr<FileHandle> file = OpenFile(segment->log_path_, O_RDWR | O_CREAT | O_EXCL);
  if (!file.ok()) return file.status();
  segment->file_ = std::move(*file);
  segment->created_ms_ = now_ms;
  segment->last_modified_ms_ = now_ms;
  // Stale index files of an earlier segment with this base would be read on the next open.
  ::unlink(segment->index_path_.c_str());
  ::unlink(segment->time_index_path_.c_str());
  return segment;
}

absl::StatusOr<std::shared_ptr<Segment>> Segment::Open(const std::string& dir, Offset base,
                                                       int64_t index_interval_bytes, bool full_scan,
                                                       int64_t now_ms, SegmentRecovery* recovery) {
  std::shared_ptr<Segment> segment(new Segment(dir, base, index_interval_bytes));
  absl::StatusOr<FileHandle> file = OpenFile(segment->log_path_, O_RDWR);
  if (!file.ok()) return file.status();
  segment->file_ = std::move(*file);
  struct stat st;
  if (::fstat(segment->file_.get(), &st) != 0) {
    return IoError(errno, "cannot stat", segment->log_path_);
  }
  segment->created_ms_ = now_ms;
  segment->last_modified_ms_ =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  *recovery = SegmentRecovery{};
  if (!full_scan) {
    bool ok = false;
    absl::Status loaded = segment->LoadIndexes(st.st_size, &ok);
    if (!loaded.ok()) return loaded;
    if (ok) {
      segment->size_ = st.st_size;
      segment->synced_size_.store(st.st_size, std::memory_order_release);
      segment->indexes_dirty_ = false;
      segment->indexes_synced_.store(true, std::memory_order_release);
      recovery->valid_bytes = st.st_size;
      return segment;
    }
    recovery->indexes_rebuilt = true;
    spdlog::info("log: rebuilding the indexes of {} (missing or inconsistent)", segment->log_path_);
  }
  absl::Status scanned = segment->ScanAndRecover(recovery);
  if (!scanned.ok()) return scanned;
  return segment;
}

void Segment::IndexBatch(const AppendedBatch& batch, int64_t position) {
  if (size_ == 0 && first_batch_timestamp_ < 0) first_batch_timestamp_ = batch.max_timestamp;
  if (batch.max_timestamp > max_timestamp_) {
    max_timestamp_ = batch.max_timestamp;
    offset_of_max_timestamp_ = static_cast<uint32_t>(batch.last_offset - base_);
  }
  if (bytes_since_last_index_entry_ >= index_interval_bytes_) {
    offset_index_.Append(static_cast<uint32_t>(batch.base_offset - base_),
                         static_cast<uint32_t>(position));
    if (max_timestamp_ >= 0) time_index_.MaybeAppend(max_timestamp_, offset_of_max_timestamp_);
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += batch.size_bytes;
}

absl::Status Segment::ScanAndRecover(SegmentRecovery* recovery) {
  struct stat st;
  if (::fstat(file_.get(), &st) != 0) return IoError(errno, "cannot stat", log_path_);
  const int64_t file_size = st.st_size;
  offset_index_.Clear();
  time_index_.Clear();
  size_ = 0;
  next_offset_ = base_;
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = 0;
  first_batch_timestamp_ = -1;
  bytes_since_last_index_entry_ = 0;
  recovery->scanned = true;
  recovery->indexes_rebuilt = true;

  SegmentReader reader(file_.get(), log_path_, 0, file_size, kRecoveryChunkBytes);
  std::string reason;
  while (true) {
    absl::StatusOr<std::optional<RecordBatchHeader>> next = reader.Next();
    if (!next.ok()) {
      if (!absl::IsDataLoss(next.status())) return next.status();
      reason = std::string(next.status().message());
      break;
    }
    if (!next->has_value()) break;
    const RecordBatchHeader& h = **next;
    absl::StatusOr<std::string_view> bytes = reader.BatchBytes();
    if (!bytes.ok()) {
      if (!absl::IsDataLoss(bytes.status())) return bytes.status();
      reason = std::string(bytes.status().message());
      break;
    }
    uint32_t crc = ComputeBatchCrc(*bytes);
    int64_t position = reader.batch_position();
    if (crc != h.crc) {
      reason = fmt::format("CRC mismatch at position {} (stored {:#010x}, computed {:#010x})",
                           position, h.crc, crc);
      break;
    }
    if (h.last_offset_delta < 0 || h.base_offset < next_offset_.value()) {
      reason = fmt::format("batch at position {} has offsets {}..{}, expected from {}", position,
                           h.base_offset, h.last_offset(), next_offset_.value());
      break;
    }
    if (h.last_offset() - base_.value() > kMaxRelativeOffset) {
      reason = fmt::format("batch at position {} has offset {} beyond the segment's range",
                           position, h.last_offset());
      break;
    }
    AppendedBatch batch{Offset(h.base_offset), Offset(h.last_offset()), h.max_timestamp,
                        h.size_bytes()};
    IndexBatch(batch, position);
    size_ = position + h.size_bytes();
    next_offset_ = Offset(h.last_offset() + 1);
  }
  indexes_dirty_ = true;
  recovery->valid_bytes = size_;
  if (size_ < file_size) {
    recovery->truncated = true;
    recovery->dropped_bytes = file_size - size_;
    recovery->reason = reason;
    spdlog::warn("log recovery: truncating {} at byte {} ({} bytes dropped): {}", log_path_, size_,
                 file_size - size_, reason);
    if (::ftruncate(file_.get(), size_) != 0) return IoError(errno, "cannot truncate", log_path_);
    absl::Status st = SyncFile(file_.get(), log_path_);
    if (!st.ok()) return st;
    synced_size_.store(size_, std::memory_order_release);
  }
  return absl::OkStatus();
}

absl::Status Segment::LoadIndexes(int64_t file_size, bool* ok) {
  *ok = false;
  absl::StatusOr<std::string> index_bytes = ReadWholeFile(index_path_);
  if (absl::IsNotFound(index_bytes.status())) return absl::OkStatus();
  if (!index_bytes.ok()) return index_bytes.status();
  absl::StatusOr<std::string> time_bytes = ReadWholeFile(time_index_path_);
  if (absl::IsNotFound(time_bytes.status())) return absl::OkStatus();
  if (!time_bytes.ok()) return time_bytes.status();
  absl::StatusOr<OffsetIndex> offsets = OffsetIndex::Parse(*index_bytes);
  absl::StatusOr<TimeIndex> times = TimeIndex::Parse(*time_bytes);
  if (!offsets.ok() || !times.ok()) return absl::OkStatus();
  if (file_size > 0 && times->entries().empty()) return absl::OkStatus();
  for (const OffsetIndex::Entry& e : offsets->entries()) {
    if (e.position >= file_size) return absl::OkStatus();
  }

  // Check the tail after the last index entry and learn the next offset and the newest
  // timestamps from it.
  OffsetIndex::Entry start = offsets->Lookup(std::numeric_limits<uint32_t>::max());
  SegmentReader reader(file_.get(), log_path_, start.position, file_size);
  Offset next = base_;
  int64_t max_timestamp = times->entries().empty() ? -1 : times->entries().back().timestamp;
  uint32_t offset_of_max = times->entries().empty() ? 0 : times->entries().back().relative_offset;
  int64_t first_batch_timestamp = -1;
  bool first = true;
  while (true) {
    absl::StatusOr<std::optional<RecordBatchHeader>> h = reader.Next();
    if (!h.ok()) {
      if (absl::IsDataLoss(h.status())) return absl::OkStatus();
      return h.status();
    }
    if (!h->has_value()) break;
    const RecordBatchHeader& header = **h;
    if (first && !offsets->entries().empty() &&
        header.base_offset != base_.value() + start.relative_offset) {
      return absl::OkStatus();
    }
    if (header.base_offset < next.value() || header.last_offset_delta < 0 ||
        header.last_offset() - base_.value() > kMaxRelativeOffset) {
      return absl::OkStatus();
    }
    if (first && start.position == 0) first_batch_timestamp = header.max_timestamp;
    first = false;
    if (header.max_timestamp > max_timestamp) {
      max_timestamp = header.max_timestamp;
      offset_of_max = static_cast<uint32_t>(header.last_offset() - base_.value());
    }
    next = Offset(header.last_offset() + 1);
  }
  if (!times->entries().empty() &&
      times->entries().back().relative_offset >= static_cast<uint64_t>(next - base_)) {
    return absl::OkStatus();
  }
  if (!offsets->entries().empty() &&
      offsets->entries().back().relative_offset >= static_cast<uint64_t>(next - base_)) {
    return absl::OkStatus();
  }
  if (first_batch_timestamp < 0 && file_size > 0) {
    SegmentReader head(file_.get(), log_path_, 0, file_size);
    absl::StatusOr<std::optional<RecordBatchHeader>> h = head.Next();
    if (h.ok() && h->has_value()) first_batch_timestamp = (*h)->max_timestamp;
  }
  offset_index_ = std::move(*offsets);
  time_index_ = std::move(*times);
  next_offset_ = next;
  max_timestamp_ = max_timestamp;
  offset_of_max_timestamp_ = offset_of_max;
  first_batch_timestamp_ = first_batch_timestamp;
  bytes_since_last_index_entry_ = file_size - start.position;
  *ok = true;
  return absl::OkStatus();
}

absl::Status Segment::Append(std::string_view bytes, const std::vector<AppendedBatch>& batches,
                             int64_t now_ms) {
  absl::Status written = WriteAt(file_.get(), size_, bytes, log_path_);
  indexes_synced_.store(false, std::memory_order_release);
  if (!written.ok()) {
    // Leave no partial batch behind for readers or for the next append.
    if (::ftruncate(file_.get(), size_) != 0) {
      spdlog::error("log: cannot cut {} back to {} bytes after a failed write", log_path_, size_);
    }
    return written;
  }
  int64_t position = size_;
  for (const AppendedBatch& batch : batches) {
    IndexBatch(batch, position);
    position += batch.size_bytes;
  }
  size_ = position;
  if (!batches.empty()) next_offset_ = batches.back().last_offset + 1;
  last_modified_ms_ = now_ms;
  indexes_dirty_ = true;
  return absl::OkStatus();
}

int64_t Segment::IndexedPositionFor(Offset offset) const {
  if (offset <= base_) return 0;
  int64_t relative = std::min<int64_t>(offset - base_, kMaxRelativeOffset);
  return offset_index_.Lookup(static_cast<uint32_t>(relative)).position;
}

int64_t Segment::IndexedPositionForTimestamp(int64_t timestamp_ms) const {
  std::optional<TimeIndex::Entry> entry = time_index_.LastBefore(timestamp_ms);
  if (!entry.has_value()) return 0;
  return offset_index_.Lookup(entry->relative_offset).position;
}

absl::Status Segment::Seal() {
  if (max_timestamp_ >= 0) time_index_.MaybeAppend(max_timestamp_, offset_of_max_timestamp_);
  indexes_dirty_ = true;
  return WriteIndexes();
}

absl::Status Segment::WriteIndexes() {
  if (!indexes_dirty_) return absl::OkStatus();
  absl::Status st = WriteWholeFile(index_path_, offset_index_.Serialize());
  if (!st.ok()) return st;
  st = WriteWholeFile(time_index_path_, time_index_.Serialize());
  if (!st.ok()) return st;
  indexes_dirty_ = false;
  indexes_synced_.store(false, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Segment::SyncData(int64_t size) {
  absl::Status st = SyncFile(file_.get(), log_path_);
  if (!st.ok()) return st;
  int64_t current = synced_size_.load(std::memory_order_acquire);
  while (current < size &&
         !synced_size_.compare_exchange_weak(current, size, std::memory_order_acq_rel)) {
  }
  return absl::OkStatus();
}

absl::Status Segment::SyncIndexes() {
  for (const std::string* path : {&index_path_, &time_index_path_}) {
    int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      return IoError(errno, "cannot open", *path);
    }
    FileHandle file(fd);
    absl::Status st = SyncFile(fd, *path);
    if (!st.ok()) return st;
  }
  indexes_synced_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Segment::RemoveFiles() const {
  for (const std::string* path : {&log_path_, &index_path_, &time_index_path_}) {
    if (::unlink(path->c_str()) != 0 && errno != ENOENT) {
      return IoError(errno, "cannot delete", *path);
    }
  }
  return absl::OkStatus();
}

}  // namespace eddy::log
