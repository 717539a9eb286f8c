#include "log/partition.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <system_error>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status.h"
#include "log/log_error.h"
#include "log/log_metrics.h"

namespace eddy::log {
namespace {

constexpr char kMetaFileName[] = "partition.meta";
constexpr char kTxnSnapshotFileName[] = "txn.snapshot";
constexpr char kTxnSnapshotMagic[] = "eddy-txn-snapshot";
constexpr int64_t kTxnSnapshotFormatVersion = 1;
constexpr char kMetaMagic[] = "eddy-partition-meta";
constexpr int kMetaFormatVersion = 1;
// Kafka keeps relative offsets within int32 to stay compatible with its index format.
constexpr int64_t kMaxSegmentOffsetSpan = std::numeric_limits<int32_t>::max();

bool IsSegmentStem(std::string_view stem) {
  return stem.size() == 20 &&
         std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::Status Corrupt(const std::string& message) {
  return LogError(absl::StatusCode::kDataLoss, KafkaError::kCorruptMessage, message);
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

void UnlinkSegmentFiles(const std::string& dir, Offset base) {
  std::string stem = dir + "/" + SegmentFileStem(base);
  for (const char* ext : {".log", ".index", ".timeindex"}) {
    std::string path = stem + ext;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      spdlog::error("log: cannot delete {}: {}", path, std::strerror(errno));
    }
  }
}

}  // namespace

int64_t WallClockMs() { return absl::ToUnixMillis(absl::Now()); }

Partition::Partition(const std::string& dir, const std::string& topic, PartitionId id,
                     const TopicConfig& config, const PartitionOptions& options)
    : dir_(dir), topic_(topic), id_(id), options_(options), config_(config) {
  if (!options_.clock_ms) options_.clock_ms = WallClockMs;
}

std::string Partition::Name() const { return fmt::format("{}-{}", topic_, id_.value()); }

absl::StatusOr<std::shared_ptr<Partition>> Partition::Open(const std::string& dir,
                                                           const std::string& topic, PartitionId id,
                                                           const TopicConfig& config,
                                                           const PartitionOptions& options) {
  std::shared_ptr<Partition> partition(new Partition(dir, topic, id, config, options));
  absl::Status st = partition->Recover();
  if (!st.ok()) {
    std::unique_lock l(partition->mu_);
    partition->closed_ = true;  // nothing to flush: the destructor must not touch the files
    return st;
  }
  return partition;
}

Partition::~Partition() {
  absl::Status st = Close();
  if (!st.ok()) spdlog::error("log {}: close failed: {}", Name(), st.ToString());
}

absl::StatusOr<Partition::Meta> Partition::ReadMeta() const {
  Meta meta{Offset(0), Offset(0)};
  std::string path = dir_ + "/" + kMetaFileName;
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (absl::IsNotFound(text.status())) return meta;
  if (!text.ok()) return text.status();
  bool have_magic = false;
  size_t begin = 0;
  while (begin < text->size()) {
    size_t end = text->find('\n', begin);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + begin, end - begin);
    begin = end + 1;
    size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    std::string_view key = line.substr(0, space);
    std::optional<int64_t> value = ParseInt64(line.substr(space + 1));
    if (!value.has_value()) continue;
    if (key == kMetaMagic) {
      if (*value > kMetaFormatVersion) {
        return absl::FailedPreconditionError(
            fmt::format("{} has format version {}, newer than this eddy supports ({})", path,
                        *value, kMetaFormatVersion));
      }
      have_magic = true;
    } else if (key == "log_start_offset") {
      meta.log_start_offset = Offset(std::max<int64_t>(0, *value));
    } else if (key == "recovery_point") {
      meta.recovery_point = Offset(std::max<int64_t>(0, *value));
    }
  }
  if (!have_magic) {
    spdlog::warn("log {}: ignoring {} without a format header; recovering every segment", Name(),
                 path);
    return Meta{Offset(0), Offset(0)};
  }
  return meta;
}

absl::Status Partition::WriteMeta() {
  std::unique_lock ml(meta_mu_);
  Meta meta;
  {
    std::shared_lock l(mu_);
    if (segments_.empty()) return absl::OkStatus();
    meta.log_start_offset = log_start_offset_;
    meta.recovery_point = RecoveryPointLocked();
  }
  if (meta.log_start_offset == persisted_log_start_ &&
      meta.recovery_point == persisted_recovery_point_) {
    return absl::OkStatus();
  }
  std::string text =
      fmt::format("{} {}\nlog_start_offset {}\nrecovery_point {}\n", kMetaMagic, kMetaFormatVersion,
                  meta.log_start_offset.value(), meta.recovery_point.value());
  absl::Status st = WriteFileAtomically(dir_ + "/" + kMetaFileName, text);
  if (!st.ok()) return st;
  persisted_log_start_ = meta.log_start_offset;
  persisted_recovery_point_ = meta.recovery_point;
  return absl::OkStatus();
}

Offset Partition::RecoveryPointLocked() const {
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = *segments_[i];
    if (i + 1 == segments_.size() || s.synced_bytes() < s.size_bytes() || !s.indexes_synced()) {
      return s.base_offset();
    }
  }
  return next_offset_;
}

absl::Status Partition::Recover() {
  EDDY_RETURN_IF_ERROR(CreateDirectories(dir_));
  std::vector<int64_t> bases;
  std::set<std::string> index_stems;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      ::unlink(entry.path().c_str());  // an interrupted atomic write
      continue;
    }
    size_t dot = name.find('.');
    if (dot == std::string::npos) continue;
    std::string stem = name.substr(0, dot);
    std::string ext = name.substr(dot + 1);
    if (!IsSegmentStem(stem)) continue;
    if (ext == "log") {
      bases.push_back(*ParseInt64(stem));
    } else if (ext == "index" || ext == "timeindex") {
      index_stems.insert(stem);
    }
  }
  if (ec) return IoError(ec.value(), "cannot list", dir_);
  std::sort(bases.begin(), bases.end());
  for (const std::string& stem : index_stems) {
    if (!std::binary_search(bases.begin(), bases.end(), *ParseInt64(stem))) {
      for (const char* ext : {".index", ".timeindex"}) ::unlink((dir_ + "/" + stem + ext).c_str());
    }
  }

  absl::StatusOr<Meta> meta = ReadMeta();
  if (!meta.ok()) return meta.status();
  const int64_t now = Now();
  bool dir_changed = false;

  std::unique_lock l(mu_);
  for (size_t i = 0; i < bases.size(); ++i) {
    Offset base(bases[i]);
    bool last = i + 1 == bases.size();
    bool full_scan = last || base >= meta->recovery_point;
    SegmentRecovery recovery;
    absl::StatusOr<std::shared_ptr<Segment>> segment =
        Segment::Open(dir_, base, config_.index_interval_bytes, full_scan, now, &recovery);
    if (!segment.ok()) return segment.status();
    if (!segments_.empty() && base < segments_.back()->next_offset()) {
      return Corrupt(fmt::format("log {}: segment {} overlaps the previous one, which ends at {}",
                                 Name(), base.value(), segments_.back()->next_offset().value()));
    }
    segments_.push_back(*segment);
    if (recovery.truncated && !last) {
      for (size_t j = i + 1; j < bases.size(); ++j) {
        spdlog::warn("log recovery {}: deleting segment {} that follows the truncated segment {}",
                     Name(), bases[j], base.value());
        UnlinkSegmentFiles(dir_, Offset(bases[j]));
      }
      dir_changed = true;
      break;
    }
  }

  if (segments_.empty()) {
    absl::StatusOr<std::shared_ptr<Segment>> segment =
        Segment::Create(dir_, meta->log_start_offset, config_.index_interval_bytes, now);
    if (!segment.ok()) return segment.status();
    segments_.push_back(*segment);
    dir_changed = true;
  }
  next_offset_ = segments_.back()->next_offset();
  log_start_offset_ = std::max(meta->log_start_offset, segments_.front()->base_offset());
  if (log_start_offset_ > next_offset_) {
    spdlog::warn(
        "log recovery {}: log start offset {} is past the recovered log end {}; starting "
        "an empty log at {}",
        Name(), log_start_offset_.value(), next_offset_.value(), log_start_offset_.value());
    for (const auto& s : segments_) EDDY_RETURN_IF_ERROR(s->RemoveFiles());
    segments_.clear();
    absl::StatusOr<std::shared_ptr<Segment>> segment =
        Segment::Create(dir_, log_start_offset_, config_.index_interval_bytes, now);
    if (!segment.ok()) return segment.status();
    segments_.push_back(*segment);
    next_offset_ = log_start_offset_;
    dir_changed = true;
  }
  // Segments entirely below the log start (DeleteRecords before a crash) go now.
  while (segments_.size() > 1 && segments_[1]->base_offset() <= log_start_offset_) {
    EDDY_RETURN_IF_ERROR(segments_.front()->RemoveFiles());
    segments_.erase(segments_.begin());
    dir_changed = true;
  }
  bool txn_snapshot_current = false;
  EDDY_RETURN_IF_ERROR(RecoverTransactions(&txn_snapshot_current));
  // Make what recovery kept durable, and the rebuilt indexes of closed segments.
  for (size_t i = 0; i < segments_.size(); ++i) {
    Segment& s = *segments_[i];
    if (i + 1 < segments_.size() && !s.indexes_synced()) {
      EDDY_RETURN_IF_ERROR(s.Seal());
      EDDY_RETURN_IF_ERROR(s.SyncIndexes());
    }
    if (s.synced_bytes() < s.size_bytes()) EDDY_RETURN_IF_ERROR(s.SyncData(s.size_bytes()));
  }
  l.unlock();
  absl::Status st = dir_changed ? SyncDirectory(dir_) : absl::OkStatus();
  if (st.ok()) st = WriteMeta();
  if (st.ok() && !txn_snapshot_current) st = WriteTxnSnapshot();
  l.lock();
  if (!st.ok()) return st;
  durable_end_.store(next_offset_.value(), std::memory_order_release);
  last_flush_ms_.store(now, std::memory_order_release);
  spdlog::debug("log {}: opened {} segments, offsets [{}, {})", Name(), segments_.size(),
                log_start_offset_.value(), next_offset_.value());
  return absl::OkStatus();
}

absl::Status Partition::RollLocked(int64_t now_ms) {
  std::shared_ptr<Segment> old = segments_.back();
  absl::StatusOr<std::shared_ptr<Segment>> segment =
      Segment::Create(dir_, next_offset_, config_.index_interval_bytes, now_ms);
  if (!segment.ok()) return segment.status();
  absl::Status sealed = old->Seal();
  if (!sealed.ok()) {
    // The indexes are rebuilt on the next open; the data is intact.
    spdlog::error("log {}: cannot write the indexes of segment {}: {}", Name(),
                  old->base_offset().value(), sealed.ToString());
  }
  segments_.push_back(*segment);
  dir_dirty_.store(true, std::memory_order_release);
  spdlog::debug("log {}: rolled segment {} ({} bytes), new segment {}", Name(),
                old->base_offset().value(), old->size_bytes(), next_offset_.value());
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> Partition::Append(std::string_view batches,
                                               const AppendOptions& options) {
  if (batches.empty()) {
    return LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidRecord,
                    fmt::format("log {}: empty produce", Name()));
  }
  TopicConfig config;
  {
    std::shared_lock l(mu_);
    if (closed_) return absl::FailedPreconditionError(fmt::format("log {} is closed", Name()));
    config = config_;
  }

  // Validate every batch before taking the lock: CRCs of concurrent producers run in parallel.
  std::string buffer(batches);
  std::vector<RecordBatchHeader> headers;
  std::vector<std::optional<ControlType>> markers;  // per batch: the marker of a control batch
  size_t position = 0;
  while (position < buffer.size()) {
    size_t left = buffer.size() - position;
    if (left < kBatchHeaderSize) {
      return Corrupt(fmt::format("log {}: {} trailing bytes after batch {}, too few for a batch",
                                 Name(), left, headers.size()));
    }
    int32_t length = ReadBigEndian32(buffer.data() + position + kBatchLengthPos);
    int64_t size = static_cast<int64_t>(kBatchLengthPrefix) + length;
    if (length < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix) ||
        size > static_cast<int64_t>(left)) {
      return Corrupt(fmt::format("log {}: batch {} has length {} but {} bytes are left", Name(),
                                 headers.size(), length, left));
    }
    if (size > config.max_message_bytes) {
      return LogError(absl::StatusCode::kResourceExhausted, KafkaError::kMessageTooLarge,
                      fmt::format("log {}: batch of {} bytes exceeds max.message.bytes {}", Name(),
                                  size, config.max_message_bytes));
    }
    absl::StatusOr<RecordBatchHeader> header =
        ValidateRecordBatch(std::string_view(buffer.data() + position, size));
    if (!header.ok()) {
      const absl::Status& st = header.status();
      return LogError(st.code(), KafkaErrorOf(st),
                      fmt::format("log {}: {}", Name(), std::string(st.message())));
    }
    headers.push_back(*header);
    std::optional<ControlType> marker;
    if (header->is_control()) {
      absl::StatusOr<ControlType> type =
          ReadControlType(std::string_view(buffer.data() + position, size));
      if (!type.ok()) {
        return LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidRecord,
                        fmt::format("log {}: {}", Name(), std::string(type.status().message())));
      }
      marker = *type;
    }
    markers.push_back(marker);
    position += size;
  }

  const int64_t now = Now();
  AppendResult result;
  if (config.message_timestamp_type == TimestampType::kLogAppendTime) {
    result.log_append_time_ms = now;
    position = 0;
    for (RecordBatchHeader& h : headers) {
      SetLogAppendTime(buffer.data() + position, h.size_bytes(), now);
      h.max_timestamp = now;
      position += h.size_bytes();
    }
  }
  if (options.partition_leader_epoch.has_value()) {
    position = 0;
    for (const RecordBatchHeader& h : headers) {
      SetPartitionLeaderEpoch(buffer.data() + position, *options.partition_leader_epoch);
      position += h.size_bytes();
    }
  }
  int64_t record_count = 0;
  for (const RecordBatchHeader& h : headers) record_count += h.last_offset_delta + 1;
  bool rolled = false;

  {
    std::unique_lock l(mu_);
    if (closed_) return absl::FailedPreconditionError(fmt::format("log {} is closed", Name()));
    const Segment& active = *segments_.back();
    int64_t newest_timestamp = -1;
    for (const RecordBatchHeader& h : headers) {
      newest_timestamp = std::max(newest_timestamp, h.max_timestamp);
    }
    // Kafka's roll rule for segment.ms: in record time from the first batch's timestamp when
    // both have one, else in wall time from the segment's creation.
    int64_t age = active.first_batch_timestamp() >= 0 && newest_timestamp >= 0
                      ? newest_timestamp - active.first_batch_timestamp()
                      : now - active.created_ms();
    bool roll = !active.empty() &&
                (active.size_bytes() + static_cast<int64_t>(buffer.size()) > config.segment_bytes ||
                 age > config.segment_ms ||
                 (next_offset_ + record_count - 1) - active.base_offset() > kMaxSegmentOffsetSpan);
    if (roll) EDDY_RETURN_IF_ERROR(RollLocked(now));
    rolled = roll;

    std::vector<AppendedBatch> appended;
    appended.reserve(headers.size());
    Offset offset = next_offset_;
    position = 0;
    for (const RecordBatchHeader& h : headers) {
      SetBaseOffset(buffer.data() + position, offset);
      appended.push_back(
          AppendedBatch{offset, offset + h.last_offset_delta, h.max_timestamp, h.size_bytes()});
      offset += h.last_offset_delta + 1;
      position += h.size_bytes();
    }
    EDDY_RETURN_IF_ERROR(segments_.back()->Append(buffer, appended, now));
    for (size_t i = 0; i < headers.size(); ++i) {
      if (headers[i].is_transactional()) {
        TrackTransaction(headers[i], appended[i].base_offset, markers[i]);
      }
    }
    result.base_offset = next_offset_;
    result.last_offset = offset - 1;
    next_offset_ = offset;
    result.log_start_offset = log_start_offset_;
  }
  result.batch_count = static_cast<int32_t>(headers.size());
  result.record_count = record_count;
  result.size_bytes = static_cast<int64_t>(buffer.size());

  int64_t unflushed = result.last_offset.value() + 1 - durable_end_.load(std::memory_order_acquire);
  bool flush = unflushed >= config.flush_messages ||
               (config.flush_ms != std::numeric_limits<int64_t>::max() &&
                now - last_flush_ms_.load(std::memory_order_acquire) >= config.flush_ms);
  if (flush) EDDY_RETURN_IF_ERROR(SyncUpTo(result.last_offset));
  if (rolled) {
    // The new segment starts where the snapshot is taken: a recovery scans from there.
    absl::Status st = WriteTxnSnapshot();
    if (!st.ok())
      spdlog::warn("log {}: cannot save the transaction state: {}", Name(), st.ToString());
  }
  return result;
}

absl::Status Partition::SyncOnce(Offset* synced_end) {
  std::vector<SegmentSnapshot> data;
  std::vector<std::shared_ptr<Segment>> sealed;
  Offset target;
  {
    std::shared_lock l(mu_);
    if (closed_) return absl::FailedPreconditionError(fmt::format("log {} is closed", Name()));
    target = next_offset_;
    for (size_t i = 0; i < segments_.size(); ++i) {
      const std::shared_ptr<Segment>& s = segments_[i];
      if (s->synced_bytes() < s->size_bytes()) data.push_back({s, s->size_bytes()});
      if (i + 1 < segments_.size() && !s->indexes_synced()) sealed.push_back(s);
    }
  }
  bool dir = dir_dirty_.exchange(false, std::memory_order_acq_rel);
  absl::Status st;
  for (const SegmentSnapshot& snapshot : data) {
    st = snapshot.segment->SyncData(snapshot.size);
    if (!st.ok()) break;
  }
  for (size_t i = 0; st.ok() && i < sealed.size(); ++i) st = sealed[i]->SyncIndexes();
  if (st.ok() && dir) st = SyncDirectory(dir_);
  if (!st.ok()) {
    if (dir) dir_dirty_.store(true, std::memory_order_release);
    spdlog::error("log {}: fsync failed: {}", Name(), st.ToString());
    return st;
  }
  last_flush_ms_.store(Now(), std::memory_order_release);
  sync_count_.fetch_add(1, std::memory_order_relaxed);
  *synced_end = target;
  if (!sealed.empty()) return WriteMeta();  // the recovery point moved
  return absl::OkStatus();
}

absl::Status Partition::SyncUpToImpl(Offset offset, bool force) {
  std::unique_lock sync_lock(sync_mu_);
  while (true) {
    if (!force && durable_end_.load(std::memory_order_acquire) > offset.value()) {
      return absl::OkStatus();
    }
    if (!sync_running_) break;
    sync_cv_.wait(sync_lock);
  }
  sync_running_ = true;
  sync_lock.unlock();

  // The fsync runs without any lock: appends and reads go on meanwhile, and callers arriving
  // now wait above and then share the next fsync.
  Offset end;
  auto sync_start = std::chrono::steady_clock::now();
  absl::Status st = SyncOnce(&end);
  FsyncLatency().ObserveNs(std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - sync_start)
                               .count());

  sync_lock.lock();
  sync_running_ = false;
  if (st.ok() && end.value() > durable_end_.load(std::memory_order_acquire)) {
    durable_end_.store(end.value(), std::memory_order_release);
  }
  sync_cv_.notify_all();
  sync_lock.unlock();
  if (!st.ok()) return st;
  if (durable_end_.load(std::memory_order_acquire) > offset.value()) return absl::OkStatus();
  return LogError(absl::StatusCode::kOutOfRange, KafkaError::kOffsetOutOfRange,
                  fmt::format("log {}: cannot sync up to offset {}, the log ends at {}", Name(),
                              offset.value(), end.value()));
}

absl::Status Partition::SyncUpTo(Offset offset) {
  Offset end = HighWatermark();
  if (offset >= end) {
    return LogError(absl::StatusCode::kOutOfRange, KafkaError::kOffsetOutOfRange,
                    fmt::format("log {}: cannot sync up to offset {}, the log ends at {}", Name(),
                                offset.value(), end.value()));
  }
  return SyncUpToImpl(offset, /*force=*/false);
}

absl::Status Partition::Sync() { return SyncUpToImpl(HighWatermark() - 1, /*force=*/true); }

absl::Status Partition::FlushIfDue(int64_t now_ms) {
  bool due = false;
  {
    std::shared_lock l(mu_);
    if (closed_) return absl::FailedPreconditionError(fmt::format("log {} is closed", Name()));
    bool unflushed = durable_end_.load(std::memory_order_acquire) < next_offset_.value();
    if (unflushed && config_.flush_ms != std::numeric_limits<int64_t>::max() &&
        now_ms - last_flush_ms_.load(std::memory_order_acquire) >= config_.flush_ms) {
      due = true;
    }
    for (size_t i = 0; !due && i + 1 < segments_.size(); ++i) {
      const Segment& s = *segments_[i];
      if (s.synced_bytes() < s.size_bytes() || !s.indexes_synced()) due = true;
    }
  }
  return due ? Sync() : absl::OkStatus();
}

absl::StatusOr<ReadResult> Partition::Read(Offset fetch_offset, int64_t max_bytes,
                                           bool whole_first_batch, bool read_committed) const {
  ReadResult result;
  std::vector<SegmentSnapshot> snapshots;
  int64_t start_position = 0;
  // Batches from this offset on are not returned (the LSO for read_committed).
  Offset upper;
  {
    std::shared_lock l(mu_);
    if (closed_) return absl::FailedPreconditionError(fmt::format("log {} is closed", Name()));
    result.high_watermark = next_offset_;
    result.last_stable_offset =
        ongoing_txns_.empty() ? next_offset_ : std::min(next_offset_, FirstOngoingLocked());
    result.log_start_offset = log_start_offset_;
    upper = read_committed ? result.last_stable_offset : next_offset_;
    if (fetch_offset < log_start_offset_ || fetch_offset > next_offset_) {
      return LogError(
          absl::StatusCode::kOutOfRange, KafkaError::kOffsetOutOfRange,
          fmt::format("log {}: fetch offset {} is out of range [{}, {}]", Name(),
                      fetch_offset.value(), log_start_offset_.value(), next_offset_.value()));
    }
    if (fetch_offset >= upper) return result;
    auto it = std::upper_bound(
        segments_.begin(), segments_.end(), fetch_offset,
        [](Offset o, const std::shared_ptr<Segment>& s) { return o < s->base_offset(); });
    size_t first = static_cast<size_t>(it - segments_.begin()) - 1;
    start_position = segments_[first]->IndexedPositionFor(fetch_offset);
    int64_t covered = 0;
    for (size_t i = first; i < segments_.size(); ++i) {
      const std::shared_ptr<Segment>& s = segments_[i];
      snapshots.push_back({s, s->size_bytes()});
      covered += s->size_bytes() - (i == first ? start_position : 0);
      if (covered >= max_bytes) break;
    }
  }

  int64_t remaining = max_bytes;
  bool stop = false;
  for (size_t i = 0; i < snapshots.size(); ++i) {
    const Segment& segment = *snapshots[i].segment;
    const int64_t limit = snapshots[i].size;
    SegmentReader reader(segment.fd(), segment.log_path(), i == 0 ? start_position : 0, limit,
                         8 * 1024);
    std::optional<RecordBatchHeader> first;
    while (true) {
      absl::StatusOr<std::optional<RecordBatchHeader>> next = reader.Next();
      if (!next.ok()) return next.status();
      if (!next->has_value()) break;
      if ((*next)->last_offset() >= fetch_offset.value()) {
        first = *next;
        break;
      }
    }
    if (!first.has_value()) continue;
    if (Offset(first->base_offset) >= upper) return result;
    const int64_t begin = reader.batch_position();
    if (!whole_first_batch && result.records.empty() && first->size_bytes() > remaining) {
      return result;  // the first batch does not fit and need not be returned
    }
    if (result.records.empty() && first->size_bytes() >= remaining) {
      // KIP-74: the first batch is returned whole even when it exceeds max_bytes.
      result.records.resize(static_cast<size_t>(first->size_bytes()));
      absl::StatusOr<size_t> got = ReadAt(segment.fd(), begin, result.records.data(),
                                          result.records.size(), segment.log_path());
      if (!got.ok()) return got.status();
      if (*got != result.records.size()) {
        return Corrupt(
            fmt::format("log {}: short read at {} in {}", Name(), begin, segment.log_path()));
      }
      return result;
    }
    const int64_t length = std::min(remaining, limit - begin);
    const size_t old_size = result.records.size();
    result.records.resize(old_size + static_cast<size_t>(length));
    absl::StatusOr<size_t> got = ReadAt(segment.fd(), begin, result.records.data() + old_size,
                                        static_cast<size_t>(length), segment.log_path());
    if (!got.ok()) return got.status();
    if (static_cast<int64_t>(*got) != length) {
      return Corrupt(
          fmt::format("log {}: short read at {} in {}", Name(), begin, segment.log_path()));
    }
    // Keep whole batches only.
    size_t end = old_size;
    while (end + kBatchLengthPrefix <= result.records.size()) {
      int32_t batch_length = ReadBigEndian32(result.records.data() + end + kBatchLengthPos);
      if (batch_length < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix)) {
        return Corrupt(fmt::format("log {}: bad batch length {} in {}", Name(), batch_length,
                                   segment.log_path()));
      }
      size_t batch_size = kBatchLengthPrefix + static_cast<size_t>(batch_length);
      if (end + batch_size > result.records.size()) break;
      if (Offset(ReadBigEndian64(result.records.data() + end + kBaseOffsetPos)) >= upper) {
        stop = true;  // at the last stable offset (read_committed)
        break;
      }
      end += batch_size;
    }
    const bool cut = stop || end < result.records.size();
    result.records.resize(end);
    remaining -= static_cast<int64_t>(end - old_size);
    if (cut || remaining <= 0) break;
  }
  return result;
}

absl::StatusOr<std::optional<TimestampOffset>> Partition::OffsetForTimestamp(
    int64_t timestamp_ms) const {
  std::vector<SegmentSnapshot> snapshots;
  int64_t start_position = 0;
  Offset log_start;
  {
    std::shared_lock l(mu_);
    if (closed_) return absl::FailedPreconditionError(fmt::format("log {} is closed", Name()));
    if (timestamp_ms == kLatestTimestamp) return TimestampOffset{next_offset_, -1, true};
    if (timestamp_ms == kEarliestTimestamp) return TimestampOffset{log_start_offset_, -1, true};
    log_start = log_start_offset_;
    for (const std::shared_ptr<Segment>& s : segments_) {
      if (s->next_offset() <= log_start || s->max_timestamp() < timestamp_ms) continue;
      if (snapshots.empty()) start_position = s->IndexedPositionForTimestamp(timestamp_ms);
      snapshots.push_back({s, s->size_bytes()});
    }
  }
  for (size_t i = 0; i < snapshots.size(); ++i) {
    const Segment& segment = *snapshots[i].segment;
    SegmentReader reader(segment.fd(), segment.log_path(), i == 0 ? start_position : 0,
                         snapshots[i].size);
    while (true) {
      absl::StatusOr<std::optional<RecordBatchHeader>> next = reader.Next();
      if (!next.ok()) return next.status();
      if (!next->has_value()) break;
      const RecordBatchHeader& h = **next;
      if (h.max_timestamp < timestamp_ms || h.last_offset() < log_start.value()) continue;
      absl::StatusOr<std::string_view> bytes = reader.BatchBytes();
      if (!bytes.ok()) return bytes.status();
      std::optional<TimestampOffset> found;
      std::string scratch;  // decompressed records of a compressed batch
      absl::Status st = ForEachRecordDecompressing(*bytes, &scratch, [&](const RecordView& r) {
        if (r.timestamp >= timestamp_ms && r.offset >= log_start.value()) {
          found = TimestampOffset{Offset(r.offset), r.timestamp, true};
          return false;
        }
        return true;
      });
      if (!st.ok() && h.compression() != 0) {
        // Records that do not decompress: answer with the batch, as a log that never
        // decompresses would.
        return TimestampOffset{std::max(Offset(h.base_offset), log_start), h.max_timestamp, false};
      }
      if (!st.ok()) return st;
      if (found.has_value()) return found;
    }
  }
  return std::optional<TimestampOffset>();
}

void Partition::DeleteSegmentsLocked(size_t count, RetentionResult* result,
                                     std::vector<std::shared_ptr<Segment>>* doomed) {
  count = std::min(count, segments_.size() - 1);  // never the active segment
  for (size_t i = 0; i < count; ++i) {
    result->segments_deleted++;
    result->bytes_deleted += segments_[i]->size_bytes();
    doomed->push_back(segments_[i]);
  }
  segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(count));
  log_start_offset_ = std::max(log_start_offset_, segments_.front()->base_offset());
}

absl::Status Partition::RemoveDoomed(const std::vector<std::shared_ptr<Segment>>& doomed) {
  absl::Status result;
  for (const std::shared_ptr<Segment>& s : doomed) {
    absl::Status st = s->RemoveFiles();
    if (st.ok()) {
      spdlog::info("log {}: deleted segment {} ({} bytes)", Name(), s->base_offset().value(),
                   s->size_bytes());
    } else {
      spdlog::error("log {}: {}", Name(), st.ToString());
      result.Update(st);
    }
  }
  return result;
}

absl::StatusOr<RetentionResult> Partition::RunRetention(int64_t now_ms) {
  RetentionResult result;
  std::vector<std::shared_ptr<Segment>> doomed;
  {
    std::unique_lock l(mu_);
    if (closed_) return absl::FailedPreconditionError(fmt::format("log {} is closed", Name()));
    if (config_.retention_ms >= 0) {
      size_t count = 0;
      while (count + 1 < segments_.size() &&
             now_ms - segments_[count]->retention_timestamp() > config_.retention_ms) {
        ++count;
      }
      DeleteSegmentsLocked(count, &result, &doomed);
    }
    if (config_.retention_bytes >= 0) {
      int64_t total = 0;
      for (const auto& s : segments_) total += s->size_bytes();
      int64_t excess = total - config_.retention_bytes;
      size_t count = 0;
      while (count + 1 < segments_.size() && excess - segments_[count]->size_bytes() >= 0) {
        excess -= segments_[count]->size_bytes();
        ++count;
      }
      DeleteSegmentsLocked(count, &result, &doomed);
    }
    size_t count = 0;
    while (count + 1 < segments_.size() &&
           segments_[count + 1]->base_offset() <= log_start_offset_) {
      ++count;
    }
    DeleteSegmentsLocked(count, &result, &doomed);
    result.log_start_offset = log_start_offset_;
    std::erase_if(aborted_txns_,
                  [&](const AbortedTxn& a) { return a.last_offset < log_start_offset_; });
  }
  if (doomed.empty()) return result;
  EDDY_RETURN_IF_ERROR(WriteMeta());
  EDDY_RETURN_IF_ERROR(RemoveDoomed(doomed));
  return result;
}

absl::StatusOr<RetentionResult> Partition::TruncateBefore(Offset offset) {
  RetentionResult result;
  std::vector<std::shared_ptr<Segment>> doomed;
  bool moved = false;
  {
    std::unique_lock l(mu_);
    if (closed_) return absl::FailedPreconditionError(fmt::format("log {} is closed", Name()));
    if (offset > next_offset_ || offset < Offset(0)) {
      return LogError(absl::StatusCode::kOutOfRange, KafkaError::kOffsetOutOfRange,
                      fmt::format("log {}: cannot delete records before {}, the log ends at {}",
                                  Name(), offset.value(), next_offset_.value()));
    }
    if (offset > log_start_offset_) {
      log_start_offset_ = offset;
      moved = true;
    }
    size_t count = 0;
    while (count + 1 < segments_.size() &&
           segments_[count + 1]->base_offset() <= log_start_offset_) {
      ++count;
    }
    DeleteSegmentsLocked(count, &result, &doomed);
    result.log_start_offset = log_start_offset_;
  }
  if (moved || !doomed.empty()) EDDY_RETURN_IF_ERROR(WriteMeta());
  EDDY_RETURN_IF_ERROR(RemoveDoomed(doomed));
  return result;
}

Offset Partition::FirstOngoingLocked() const {
  Offset first = ongoing_txns_.begin()->second;
  for (const auto& [pid, offset] : ongoing_txns_) first = std::min(first, offset);
  return first;
}

void Partition::TrackTransaction(const RecordBatchHeader& h, Offset base,
                                 std::optional<ControlType> marker) {
  auto it = ongoing_txns_.find(h.producer_id);
  if (!marker.has_value()) {
    if (it == ongoing_txns_.end()) ongoing_txns_.emplace(h.producer_id, base);
    return;
  }
  // A marker without an open transaction (written again by a recovering coordinator, or for a
  // transaction that wrote nothing here) changes nothing, as in Kafka.
  if (it == ongoing_txns_.end()) return;
  if (*marker == ControlType::kAbort) aborted_txns_.push_back({h.producer_id, it->second, base});
  ongoing_txns_.erase(it);
}

std::vector<AbortedTxn> Partition::AbortedTransactions(Offset from, Offset to) const {
  std::vector<AbortedTxn> out;
  std::shared_lock l(mu_);
  // aborted_txns_ is ordered by marker offset: skip those that end before `from`.
  auto it = std::lower_bound(aborted_txns_.begin(), aborted_txns_.end(), from,
                             [](const AbortedTxn& a, Offset o) { return a.last_offset < o; });
  for (; it != aborted_txns_.end(); ++it) {
    if (it->first_offset < to) out.push_back(*it);
  }
  std::sort(out.begin(), out.end(), [](const AbortedTxn& a, const AbortedTxn& b) {
    return a.first_offset < b.first_offset;
  });
  return out;
}

Offset Partition::LastStableOffset() const {
  std::shared_lock l(mu_);
  return ongoing_txns_.empty() ? next_offset_ : std::min(next_offset_, FirstOngoingLocked());
}

std::map<int64_t, Offset> Partition::OngoingTransactions() const {
  std::shared_lock l(mu_);
  return ongoing_txns_;
}

absl::Status Partition::RecoverTransactions(bool* snapshot_current) {
  *snapshot_current = false;
  ongoing_txns_.clear();
  aborted_txns_.clear();
  // The snapshot: the state at an offset the log reaches (else it is stale: scan everything).
  Offset from = log_start_offset_;
  std::string path = dir_ + "/" + kTxnSnapshotFileName;
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok() && !absl::IsNotFound(text.status())) return text.status();
  if (text.ok()) {
    std::map<int64_t, Offset> ongoing;
    std::vector<AbortedTxn> aborted;
    std::optional<int64_t> at;
    bool valid = false;
    std::vector<std::string> lines = absl::StrSplit(*text, '\n', absl::SkipEmpty());
    for (const std::string& line : lines) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      std::vector<int64_t> n;
      for (size_t i = 1; i < f.size(); ++i) {
        std::optional<int64_t> v = ParseInt64(f[i]);
        if (!v.has_value()) break;
        n.push_back(*v);
      }
      if (n.size() + 1 != f.size()) continue;
      if (f[0] == kTxnSnapshotMagic && n.size() == 1) {
        valid = n[0] == kTxnSnapshotFormatVersion;
      } else if (f[0] == "offset" && n.size() == 1) {
        at = n[0];
      } else if (f[0] == "ongoing" && n.size() == 2) {
        ongoing[n[0]] = Offset(n[1]);
      } else if (f[0] == "aborted" && n.size() == 3) {
        aborted.push_back({n[0], Offset(n[1]), Offset(n[2])});
      }
    }
    if (valid && at.has_value() && Offset(*at) <= next_offset_) {
      *snapshot_current = Offset(*at) == next_offset_;
      ongoing_txns_ = std::move(ongoing);
      aborted_txns_ = std::move(aborted);
      from = std::max(from, Offset(*at));
    } else {
      spdlog::warn("log recovery {}: ignoring {} ({}); scanning the whole log for transactions",
                   Name(), path, valid ? "it is ahead of the recovered log end" : "unknown format");
    }
  }
  // Follow the transactional batches after the snapshot (headers only, and the key of each
  // control batch).
  int64_t scanned = 0;
  for (const std::shared_ptr<Segment>& s : segments_) {
    if (s->next_offset() <= from) continue;
    int64_t start = s->base_offset() < from ? s->IndexedPositionFor(from) : 0;
    SegmentReader reader(s->fd(), s->log_path(), start, s->size_bytes());
    while (true) {
      absl::StatusOr<std::optional<RecordBatchHeader>> next = reader.Next();
      if (!next.ok()) return next.status();
      if (!next->has_value()) break;
      const RecordBatchHeader& h = **next;
      if (Offset(h.base_offset) < from) continue;
      ++scanned;
      if (!h.is_transactional()) continue;
      std::optional<ControlType> marker;
      if (h.is_control()) {
        absl::StatusOr<std::string_view> bytes = reader.BatchBytes();
        if (!bytes.ok()) return bytes.status();
        absl::StatusOr<ControlType> type = ReadControlType(*bytes);
        if (!type.ok()) {
          spdlog::warn("log recovery {}: {}", Name(), type.status().ToString());
          continue;
        }
        marker = *type;
      }
      TrackTransaction(h, Offset(h.base_offset), marker);
    }
  }
  if (!ongoing_txns_.empty() || !aborted_txns_.empty()) {
    spdlog::info(
        "log {}: {} open transaction(s), {} aborted transaction(s) indexed (scanned {} batches "
        "from offset {})",
        Name(), ongoing_txns_.size(), aborted_txns_.size(), scanned, from.value());
  }
  return absl::OkStatus();
}

absl::Status Partition::WriteTxnSnapshot() {
  std::string text;
  {
    std::shared_lock l(mu_);
    text = fmt::format("{} {}\noffset {}\n", kTxnSnapshotMagic, kTxnSnapshotFormatVersion,
                       next_offset_.value());
    for (const auto& [pid, first] : ongoing_txns_) {
      text += fmt::format("ongoing {} {}\n", pid, first.value());
    }
    for (const AbortedTxn& a : aborted_txns_) {
      if (a.last_offset < log_start_offset_) continue;
      text += fmt::format("aborted {} {} {}\n", a.producer_id, a.first_offset.value(),
                          a.last_offset.value());
    }
  }
  std::lock_guard<std::mutex> ml(meta_mu_);  // one writer of the snapshot at a time
  return WriteFileAtomically(dir_ + "/" + kTxnSnapshotFileName, text);
}

absl::Status Partition::Close() {
  std::vector<std::shared_ptr<Segment>> segments;
  {
    std::unique_lock l(mu_);
    if (closed_) return absl::OkStatus();
    for (const auto& s : segments_) EDDY_RETURN_IF_ERROR(s->WriteIndexes());
    segments = segments_;
  }
  EDDY_RETURN_IF_ERROR(Sync());
  EDDY_RETURN_IF_ERROR(segments.back()->SyncIndexes());
  EDDY_RETURN_IF_ERROR(WriteMeta());
  EDDY_RETURN_IF_ERROR(WriteTxnSnapshot());
  std::unique_lock l(mu_);
  closed_ = true;
  return absl::OkStatus();
}

void Partition::CloseWithoutFlush() {
  std::unique_lock l(mu_);
  closed_ = true;
}

void Partition::SetConfig(const TopicConfig& config) {
  std::unique_lock l(mu_);
  config_ = config;
}

TopicConfig Partition::config() const {
  std::shared_lock l(mu_);
  return config_;
}

Offset Partition::LogStartOffset() const {
  std::shared_lock l(mu_);
  return log_start_offset_;
}

Offset Partition::HighWatermark() const {
  std::shared_lock l(mu_);
  return next_offset_;
}

Offset Partition::DurableOffset() const {
  return Offset(durable_end_.load(std::memory_order_acquire));
}

int64_t Partition::SizeBytes() const {
  std::shared_lock l(mu_);
  int64_t total = 0;
  for (const auto& s : segments_) total += s->size_bytes();
  return total;
}

size_t Partition::SegmentCount() const {
  std::shared_lock l(mu_);
  return segments_.size();
}

std::vector<Offset> Partition::SegmentBaseOffsets() const {
  std::shared_lock l(mu_);
  std::vector<Offset> bases;
  for (const auto& s : segments_) bases.push_back(s->base_offset());
  return bases;
}

}  // namespace eddy::log
