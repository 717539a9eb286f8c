// The 'kafka' source (Flink SQL Kafka connector, read side) over librdkafka, so the same table
// reads eddy's own broker, Apache Kafka or Redpanda; inside `eddy server`, a table whose bootstrap
// servers name the server reads its log directly (transport.h, local_topics.h). Both transports
// feed the same record-level code below: decoding, metadata columns, error policy, watermarks,
// startup and bounded modes, group-offset commits.
//
// Partition p of the topic is read by subtask p mod parallelism (manual assignment, no consumer
// group rebalancing). Each subtask keeps a watermark per partition (max event time - delay, as
// Flink SQL's WATERMARK FOR ts AS ts - INTERVAL … in a Kafka source) and emits the minimum over its
// partitions that are neither finished nor idle; a partition without records for the idle timeout
// stops counting, and a subtask whose partitions are all idle tells its consumers so (Flink:
// WatermarkStatus.IDLE). A bounded scan ('scan.bounded.mode') fixes each partition's end offset
// when the job starts and ends when every partition has reached it, which fires every window.
//
// Checkpoints (Flink's KafkaSource): each subtask stores, per partition it reads, the offset to
// resume from, its watermark state (the largest event time seen) and a bounded scan's end; a
// restore gives every new subtask the partitions it owns from the union of all old subtasks'
// state, so the parallelism may change. With checkpoints, 'properties.group.id' offsets are
// committed only when a checkpoint completes (the offsets stored in it), never ahead of the
// sinks; without, every 5 s. 'properties.isolation.level' = 'read_committed' reads only
// committed transactions (librdkafka's isolation.level; on the local log: up to the last stable
// offset, without aborted records).
#include <fmt/format.h>

#include <chrono>
#include <map>

#include "base/log.h"
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/dead_letter.h"
#include "connectors/kafka/kafka_table.h"
#include "connectors/kafka/transport.h"
#include "state/serializer.h"
#include "types/time_util.h"

namespace eddy::connectors {

namespace kafka {
namespace {

constexpr int kMetadataTimeoutMs = 10'000;
constexpr int64_t kCommitIntervalMs = 5'000;
// A gap between two polls longer than this is a pause (backpressure), not time without records.
constexpr int64_t kPollPauseMs = 50;
// How often a subtask publishes its partitions' lag (SourceMetrics::SetPartitionLag).
constexpr int64_t kLagIntervalMs = 1000;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What every subtask of one scan shares.
struct Shared {
  ScanSpec spec;
  KafkaTableOptions opt;
  int32_t partitions = 0;
  Schema value_schema;
  Schema key_schema;
  std::shared_ptr<DeadLetterWriter> dead_letter;
  std::shared_ptr<SourceMetrics> metrics;
  std::shared_ptr<LocalTopics> local;  // set: read the local log instead of using librdkafka
  bool want_headers = false;           // a 'headers' metadata column is read
};

class KafkaSourceSubtask final : public runtime::SourceOperator {
 public:
  KafkaSourceSubtask(std::shared_ptr<Shared> sh, runtime::SubtaskInfo info)
      : sh_(std::move(sh)), info_(info) {}

  std::string uid() const override {
    return fmt::format("kafka source '{}' ({})", sh_->spec.table->name, sh_->opt.topic);
  }

  /// Connects. Start and end offsets are resolved, and the partitions assigned, at the first
  /// step (after a restore has set them).
  absl::Status Connect() {
    const auto& o = sh_->opt;
    const TableDef& t = *sh_->spec.table;
    rowtime_ = t.has_watermark ? t.rowtime : -1;
    delay_ = t.watermark_delay;
    if (o.value.kind != RecordFormat::Kind::kRaw) {
      EDDY_ASSIGN_OR_RETURN(value_dec_, MakeDecoder(o.value, sh_->value_schema));
    }
    if (o.key.kind != RecordFormat::Kind::kNone && o.key.kind != RecordFormat::Kind::kRaw) {
      EDDY_ASSIGN_OR_RETURN(key_dec_, MakeDecoder(o.key, sh_->key_schema));
    }
    for (int32_t p = info_.index; p < sh_->partitions; p += info_.parallelism) {
      Part part;
      part.id = p;
      part.last_record_ms = WallMs();
      index_[p] = parts_.size();
      parts_.push_back(part);
    }
    if (parts_.empty()) return absl::OkStatus();
    if (sh_->local) {
      transport_ = NewLocalConsumer(sh_->local, o, sh_->want_headers);
    } else {
      EDDY_ASSIGN_OR_RETURN(transport_, NewRdKafkaConsumer(o, sh_->want_headers));
    }
    return absl::OkStatus();
  }

  absl::Status SnapshotState(int64_t checkpoint_id, state::OperatorSnapshot* out) override {
    state::StateWriter w(&out->operator_state);
    w.PutVarint(1);  // state version
    w.PutVarint(parts_.size());
    std::vector<std::pair<int32_t, int64_t>> offsets;
    for (const Part& p : parts_) {
      w.PutInt64(p.id);
      w.PutInt64(p.position);
      w.PutInt64(p.max_ts);
      w.PutInt64(p.stop);
      w.PutInt64(p.done ? 1 : 0);
      if (p.position >= 0) offsets.emplace_back(p.id, p.position);
    }
    // Committed to the group when this checkpoint completes.
    if (!sh_->opt.group_id.empty()) checkpoint_offsets_[checkpoint_id] = std::move(offsets);
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    // Union redistribution: every old subtask's partitions; this subtask keeps its own.
    for (std::string_view s : in.OperatorStates()) {
      state::StateReader r(s);
      uint64_t version = 0, n = 0;
      EDDY_RETURN_IF_ERROR(r.GetVarint(&version));
      if (version != 1) return absl::DataLossError("unknown kafka source state version");
      EDDY_RETURN_IF_ERROR(r.GetVarint(&n));
      for (uint64_t i = 0; i < n; ++i) {
        int64_t id = 0, position = 0, max_ts = 0, stop = 0, done = 0;
        EDDY_RETURN_IF_ERROR(r.GetInt64(&id));
        EDDY_RETURN_IF_ERROR(r.GetInt64(&position));
        EDDY_RETURN_IF_ERROR(r.GetInt64(&max_ts));
        EDDY_RETURN_IF_ERROR(r.GetInt64(&stop));
        EDDY_RETURN_IF_ERROR(r.GetInt64(&done));
        auto it = index_.find(static_cast<int32_t>(id));
        if (it == index_.end()) continue;
        Part& p = parts_[it->second];
        p.restored = true;
        p.position = position;
        p.max_ts = max_ts;
        p.stop = stop;
        p.done = done != 0;
      }
    }
    return absl::OkStatus();
  }

  absl::Status NotifyCheckpointComplete(int64_t checkpoint_id) override {
    // Flink: the offsets of the completed checkpoint go to the group, never those read since.
    auto end = checkpoint_offsets_.upper_bound(checkpoint_id);
    if (end == checkpoint_offsets_.begin()) return absl::OkStatus();
    std::vector<std::pair<int32_t, int64_t>> offsets = std::prev(end)->second;
    checkpoint_offsets_.erase(checkpoint_offsets_.begin(), end);
    if (transport_ && !offsets.empty()) transport_->Commit(offsets, /*sync=*/false);
    return absl::OkStatus();
  }

  absl::StatusOr<Step> NextStep(runtime::SourceOutput* out) override {
    if (!started_) {
      started_ = true;
      if (!parts_.empty()) EDDY_RETURN_IF_ERROR(Start());
    }
    if (AllDone()) {
      if (!parts_.empty()) Commit(true);
      return Step::kEnd;
    }
    if (parts_.empty()) {
      // More subtasks than partitions: this one never reads anything.
      if (!idle_emitted_) {
        idle_emitted_ = true;
        EDDY_RETURN_IF_ERROR(out->EmitIdle());
      }
      return Step::kIdle;
    }
    // The idleness clock runs only while this subtask polls: it starts at the first poll, and a
    // pause (the subtask held back by a full output, or not scheduled) does not make partitions
    // idle, so backpressure never turns a backlog into late rows (Flink pauses it as well).
    int64_t now = WallMs();
    if (last_poll_ms_ < 0 || now - last_poll_ms_ > kPollPauseMs) {
      int64_t shift = last_poll_ms_ < 0 ? 0 : now - last_poll_ms_;
      for (auto& p : parts_) p.last_record_ms = last_poll_ms_ < 0 ? now : p.last_record_ms + shift;
    }
    last_poll_ms_ = now;
    EDDY_ASSIGN_OR_RETURN(size_t n, ProcessRecords(out));
    EDDY_RETURN_IF_ERROR(UpdateWatermark(out));
    if (now - last_lag_ms_ >= kLagIntervalMs) {
      last_lag_ms_ = now;
      for (const auto& p : parts_) {
        std::optional<int64_t> end = transport_->KnownEndOffset(p.id);
        if (end && p.position >= 0) {
          sh_->metrics->SetPartitionLag(sh_->opt.topic, p.id, p.position, *end);
        }
      }
    }
    if (!sh_->opt.group_id.empty() && !sh_->spec.checkpointing &&
        WallMs() - last_commit_ms_ >= kCommitIntervalMs) {
      Commit(false);
    }
    if (AllDone()) return Step::kMore;  // the next step ends the scan
    return n > 0 ? Step::kMore : Step::kIdle;
  }

 private:
  struct Part {
    int32_t id = 0;
    int64_t stop = -1;       // bounded scans: end offset (exclusive); -1 = unbounded
    int64_t position = -1;   // the next offset to read (checkpoints), -1 = not resolved yet
    bool restored = false;   // position, stop and max_ts come from a checkpoint
    int64_t next = -1;       // offset after the last record read (for commits), -1 = none
    int64_t committed = -1;  // last committed `next`
    int64_t max_ts = INT64_MIN;
    int64_t last_record_ms = 0;  // steady clock ms of the last record (idleness)
    bool done = false;
  };

  // Resolves the start offsets (and a bounded scan's end offsets, fixed now) of the partitions
  // a checkpoint did not restore, and assigns every partition.
  absl::Status Start() {
    const auto& o = sh_->opt;
    EDDY_ASSIGN_OR_RETURN(std::vector<int64_t> starts,
                          ResolveOffsets(o.startup, o.startup_timestamp_ms, o.startup_offsets,
                                         /*start=*/true));
    std::vector<int64_t> ends(parts_.size(), -1);
    if (o.bounded != OffsetSpec::kNone) {
      EDDY_ASSIGN_OR_RETURN(ends, ResolveOffsets(o.bounded, o.bounded_timestamp_ms,
                                                 o.bounded_offsets, /*start=*/false));
    }
    std::vector<std::pair<int32_t, int64_t>> assign;
    for (size_t i = 0; i < parts_.size(); ++i) {
      Part& p = parts_[i];
      if (!p.restored || p.position < 0) {
        p.position = starts[i];
        if (!p.restored) p.stop = ends[i];
      }
      if (p.stop >= 0 && p.position >= 0 && p.position >= p.stop) p.done = true;
      assign.emplace_back(p.id, p.position);
    }
    EDDY_RETURN_IF_ERROR(transport_->Assign(assign));
    last_commit_ms_ = WallMs();
    return absl::OkStatus();
  }

  bool AllDone() const {
    if (sh_->opt.bounded == OffsetSpec::kNone) return false;
    for (const auto& p : parts_) {
      if (!p.done) return false;
    }
    return true;
  }

  // Turns `spec` into concrete offsets, one per partition in parts_ order.
  absl::StatusOr<std::vector<int64_t>> ResolveOffsets(OffsetSpec spec, int64_t ts_ms,
                                                      const std::map<int32_t, int64_t>& specific,
                                                      bool start) {
    const auto& o = sh_->opt;
    std::vector<int64_t> out;
    for (const Part& part : parts_) {
      int32_t p = part.id;
      int64_t offset = -1;
      if (start && part.restored && part.position >= 0) {
        out.push_back(part.position);  // restored: nothing to resolve
        continue;
      }
      if (!start && part.restored) {
        out.push_back(part.stop);
        continue;
      }
      switch (spec) {
        case OffsetSpec::kNone:
          break;
        case OffsetSpec::kEarliest: {
          EDDY_ASSIGN_OR_RETURN(OffsetRange r, transport_->Offsets(p));
          offset = r.log_start;
          break;
        }
        case OffsetSpec::kLatest: {
          EDDY_ASSIGN_OR_RETURN(OffsetRange r, transport_->Offsets(p));
          offset = r.high_watermark;
          break;
        }
        case OffsetSpec::kTimestamp: {
          EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> at,
                                transport_->OffsetForTimestamp(p, ts_ms));
          if (at.has_value()) {
            offset = *at;
          } else {  // no record at or after the timestamp: the end of the partition
            EDDY_ASSIGN_OR_RETURN(OffsetRange r, transport_->Offsets(p));
            offset = r.high_watermark;
          }
          break;
        }
        case OffsetSpec::kSpecificOffsets: {
          auto it = specific.find(p);
          if (it != specific.end()) {
            offset = it->second;
          } else {
            // Flink: partitions not listed start from the committed offset (start) or are
            // read to the end (bound); eddy reads unlisted partitions from the earliest offset.
            EDDY_ASSIGN_OR_RETURN(OffsetRange r, transport_->Offsets(p));
            offset = start ? r.log_start : r.high_watermark;
          }
          break;
        }
        case OffsetSpec::kGroupOffsets: {
          std::optional<int64_t> committed;
          if (!o.group_id.empty()) {
            EDDY_ASSIGN_OR_RETURN(committed, transport_->Committed(p));
          }
          if (committed.has_value() && *committed >= 0) {
            offset = *committed;
            break;
          }
          std::string reset = o.auto_offset_reset;
          if (!start) reset = "latest";
          if (reset.empty()) {
            return absl::FailedPreconditionError(fmt::format(
                "table '{}': {} partition {} has no committed offset for group '{}' (set "
                "'properties.auto.offset.reset' = 'earliest' or 'latest', or another "
                "'scan.startup.mode')",
                o.table, Where(o), p, o.group_id.empty() ? "<none>" : o.group_id));
          }
          EDDY_ASSIGN_OR_RETURN(OffsetRange r, transport_->Offsets(p));
          offset = reset == "earliest" ? r.log_start : r.high_watermark;
          break;
        }
      }
      out.push_back(offset);
    }
    return out;
  }

  // Polls the transport once and emits the rows of the records it delivered. Returns how many
  // records and partition ends the poll delivered.
  absl::StatusOr<size_t> ProcessRecords(runtime::SourceOutput* out) {
    const TableDef& t = *sh_->spec.table;
    Batch phys = Batch::Empty(t.physical);
    Batch vb = Batch::Empty(sh_->value_schema);
    Batch kb = Batch::Empty(sh_->key_schema);
    auto arena = std::make_shared<Arena>();
    phys.arenas.push_back(arena);
    row_part_.clear();
    row_offset_.clear();
    int64_t now = WallMs();
    auto on_end = [&](int32_t partition, int64_t end_offset) {
      auto it = index_.find(partition);
      if (it == index_.end()) return;
      Part& part = parts_[it->second];
      if (part.stop >= 0 && end_offset >= part.stop) part.done = true;
    };
    auto on_record = [&](const ConsumedRecord& m) -> absl::Status {
      auto it = index_.find(m.partition);
      if (it == index_.end()) return absl::OkStatus();
      Part& part = parts_[it->second];
      if (part.done) return absl::OkStatus();
      if (part.stop >= 0 && m.offset >= part.stop) {
        part.done = true;
        return absl::OkStatus();
      }
      part.next = m.offset + 1;
      part.position = part.next;
      part.last_record_ms = now;
      if (part.stop >= 0 && part.next >= part.stop) part.done = true;
      if (!m.has_value) return absl::OkStatus();  // a tombstone carries no row (Flink skips it)
      return DecodeRecord(m, arena.get(), &phys, &vb, &kb);
    };
    EDDY_ASSIGN_OR_RETURN(size_t n, transport_->Poll(sh_->spec.batch_size, on_record, on_end));
    EDDY_RETURN_IF_ERROR(EmitRows(std::move(phys), std::move(vb), std::move(kb), out));
    return n;
  }

  // Assembles the decoded rows into the table's columns and emits them.
  absl::Status EmitRows(Batch phys, Batch vb, Batch kb, runtime::SourceOutput* out) {
    const auto& o = sh_->opt;
    const TableDef& t = *sh_->spec.table;
    size_t rows = vb.num_rows();
    if (rows == 0) return absl::OkStatus();
    // Physical columns: metadata, value and key columns in declaration order.
    std::vector<int> vpos(t.physical.fields.size(), -1), kpos(t.physical.fields.size(), -1);
    for (size_t i = 0; i < o.value_columns.size(); ++i) vpos[o.value_columns[i]] = i;
    for (size_t i = 0; i < o.key_columns.size(); ++i) kpos[o.key_columns[i]] = i;
    vb.arenas.clear();
    for (size_t c = 0; c < t.physical.fields.size(); ++c) {
      if (!o.metadata[c].empty()) continue;  // filled by DecodeRecord
      phys.columns[c] =
          vpos[c] >= 0 ? std::move(vb.columns[vpos[c]]) : std::move(kb.columns[kpos[c]]);
    }
    phys.kinds.assign(rows, RowKind::kInsert);
    std::string where = fmt::format("{}", Where(o));
    EDDY_ASSIGN_OR_RETURN(Batch full, CompleteScanBatch(sh_->spec, std::move(phys), where));
    if (rowtime_ >= 0) {
      EDDY_RETURN_IF_ERROR(KeepTimedRows(
          &full, rowtime_, emitted_wm_,
          [&](size_t r) {
            return BadRow(
                row_part_[r], row_offset_[r], 1,
                fmt::format("the event-time column '{}' is NULL", t.columns[rowtime_].name), "");
          },
          [&](size_t r, int64_t ts) {
            Part& part = parts_[index_[row_part_[r]]];
            part.max_ts = std::max(part.max_ts, ts);
          }));
    }
    sh_->metrics->rows_read += static_cast<int64_t>(full.num_rows());
    idle_emitted_ = false;
    return out->Emit(std::move(full));
  }

  // Decodes one record into the value/key batches and the metadata columns of `phys`; a bad
  // record goes to the error policy and appends nothing.
  absl::Status DecodeRecord(const ConsumedRecord& m, Arena* arena, Batch* phys, Batch* vb,
                            Batch* kb) {
    const auto& o = sh_->opt;
    const bool reads_key = o.key.kind != RecordFormat::Kind::kNone;
    if (m.value.size() > o.max_record_bytes || (reads_key && m.key.size() > o.max_record_bytes)) {
      const bool key = m.value.size() <= o.max_record_bytes;
      return BadRow(
          m.partition, m.offset, 1,
          fmt::format("the record's {} is longer than 'source.max-record-size' ({} bytes)",
                      key ? "key" : "value", o.max_record_bytes),
          (key ? m.key : m.value).substr(0, kOversizedPrefixBytes), /*truncated=*/true);
    }
    std::string_view value = arena->Add(m.value);
    size_t key_rows = kb->num_rows();
    DecodeError err;
    if (o.key.kind != RecordFormat::Kind::kNone) {
      std::string_view key = m.has_key ? arena->Add(m.key) : std::string_view();
      if (o.key.kind == RecordFormat::Kind::kRaw) {
        if (m.has_key) {
          kb->columns[0].AppendString(key);
        } else {
          kb->columns[0].AppendNull();
        }
        kb->kinds.push_back(RowKind::kInsert);
      } else if (!m.has_key) {
        for (auto& c : kb->columns) c.AppendNull();
        kb->kinds.push_back(RowKind::kInsert);
      } else if (!key_dec_->Decode(key, kb, arena, &err)) {
        return BadRow(m.partition, m.offset, err.column, "key: " + err.reason, key);
      }
    }
    if (o.value.kind == RecordFormat::Kind::kRaw) {
      vb->columns[0].AppendString(value);
      vb->kinds.push_back(RowKind::kInsert);
    } else if (!value_dec_->Decode(value, vb, arena, &err)) {
      // Roll the key row back so every column keeps the same length.
      for (auto& c : kb->columns) c.Resize(key_rows);
      kb->kinds.resize(key_rows);
      return BadRow(m.partition, m.offset, err.column, err.reason, value);
    }
    const TableDef& t = *sh_->spec.table;
    for (size_t c = 0; c < t.physical.fields.size(); ++c) {
      const std::string& key = o.metadata[c];
      if (key.empty()) continue;
      Column& col = phys->columns[c];
      if (key == "topic") {
        col.AppendString(arena->Add(o.topic));
      } else if (key == "partition") {
        col.AppendInt(m.partition);
      } else if (key == "offset") {
        col.AppendInt(m.offset);
      } else if (key == "timestamp") {
        if (m.timestamp_ms < 0) {
          col.AppendNull();
        } else {
          col.AppendInt(m.timestamp_ms * 1000);
        }
      } else if (key == "timestamp-type") {
        col.AppendString(m.timestamp_kind == TimestampKind::kCreateTime      ? "CreateTime"
                         : m.timestamp_kind == TimestampKind::kLogAppendTime ? "LogAppendTime"
                                                                             : "NoTimestampType");
      } else if (key == "headers") {
        col.AppendString(
            arena->Add(HeadersToJson(m.headers ? *m.headers : std::vector<HeaderView>())));
      } else {
        col.AppendNull();  // leader-epoch: not exposed by this librdkafka version
      }
    }
    row_part_.push_back(m.partition);
    row_offset_.push_back(m.offset);
    return absl::OkStatus();
  }

  // `raw` is the record, or its first bytes when `truncated`.
  absl::Status BadRow(int32_t partition, int64_t offset, size_t column, const std::string& reason,
                      std::string_view raw, bool truncated = false) {
    const auto& o = sh_->opt;
    const std::string& policy = sh_->spec.error_policy;
    std::string where = fmt::format("{}/{}/{}", o.topic, partition, offset);
    if (policy == "skip") {
      sh_->metrics->bad_skipped++;
      return absl::OkStatus();
    }
    if (policy == "dead-letter") {
      sh_->dead_letter->Write(where, column, reason, raw, truncated);
      sh_->metrics->bad_dead_lettered++;
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(fmt::format(
        "topic '{}' partition {} offset {}: bad row in table '{}': {} (set 'error.policy' = "
        "'skip' or 'dead-letter' to continue past bad rows)",
        o.topic, partition, offset, o.table, reason));
  }

  // Emits the minimum watermark of the active partitions, or idleness when none is active.
  absl::Status UpdateWatermark(runtime::SourceOutput* out) {
    if (rowtime_ < 0) return absl::OkStatus();
    int64_t now = WallMs();
    int64_t timeout = sh_->opt.idle_timeout_ms;
    int64_t m = INT64_MAX;
    bool active = false;
    for (const auto& p : parts_) {
      if (p.done) continue;
      if (timeout > 0 && now - p.last_record_ms >= timeout) continue;
      active = true;
      int64_t wm =
          p.max_ts == INT64_MIN || p.max_ts < INT64_MIN + delay_ ? INT64_MIN : p.max_ts - delay_;
      m = std::min(m, wm);
    }
    if (!active) {
      if (!idle_emitted_ && !AllDone()) {
        idle_emitted_ = true;
        return out->EmitIdle();
      }
      return absl::OkStatus();
    }
    if (m > emitted_wm_ || (idle_emitted_ && m != INT64_MIN)) {
      idle_emitted_ = false;
      emitted_wm_ = std::max(emitted_wm_, m);
      return out->EmitWatermark(emitted_wm_);
    }
    return absl::OkStatus();
  }

  // Commits the offsets read so far for 'properties.group.id' (asynchronously unless `sync`).
  void Commit(bool sync) {
    last_commit_ms_ = WallMs();
    if (sh_->opt.group_id.empty() || !transport_) return;
    std::vector<std::pair<int32_t, int64_t>> offsets;
    for (auto& p : parts_) {
      if (p.next < 0 || p.next == p.committed) continue;
      offsets.emplace_back(p.id, p.next);
      p.committed = p.next;
    }
    if (offsets.empty()) return;
    transport_->Commit(offsets, sync);
  }

  std::shared_ptr<Shared> sh_;
  runtime::SubtaskInfo info_;
  std::unique_ptr<ConsumerTransport> transport_;
  std::unique_ptr<RowDecoder> value_dec_;
  std::unique_ptr<RowDecoder> key_dec_;
  std::vector<Part> parts_;
  std::map<int32_t, size_t> index_;  // partition → parts_ index
  std::vector<int32_t> row_part_;    // per decoded row of the current batch
  std::vector<int64_t> row_offset_;
  int rowtime_ = -1;
  int64_t delay_ = 0;
  int64_t emitted_wm_ = INT64_MIN;
  bool idle_emitted_ = false;
  int64_t last_poll_ms_ = -1;  // steady clock ms of the previous poll, -1 before the first
  int64_t last_lag_ms_ = INT64_MIN / 2;  // steady clock ms of the last SetPartitionLag
  int64_t last_commit_ms_ = 0;
  bool started_ = false;  // offsets resolved and partitions assigned (at the first step)
  // With checkpoints and a group id: the offsets of each checkpoint taken and not yet complete.
  std::map<int64_t, std::vector<std::pair<int32_t, int64_t>>> checkpoint_offsets_;
};

using KafkaSourceFactory = ConnectingSourceFactory<KafkaSourceSubtask, Shared>;

}  // namespace
}  // namespace kafka

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeKafkaSourceFactory(const ScanSpec& spec) {
  using namespace kafka;  // NOLINT
  auto sh = std::make_shared<Shared>();
  sh->spec = spec;
  sh->metrics = std::make_shared<SourceMetrics>();
  sh->metrics->table = spec.table->name;
  EDDY_ASSIGN_OR_RETURN(sh->opt, ParseKafkaOptions(*spec.table, spec.idle_timeout_ms));
  const TableDef& t = *spec.table;
  for (int c : sh->opt.value_columns) sh->value_schema.fields.push_back(t.physical.fields[c]);
  for (int c : sh->opt.key_columns) sh->key_schema.fields.push_back(t.physical.fields[c]);
  EDDY_ASSIGN_OR_RETURN(sh->dead_letter, OpenBadRowPolicy(spec));
  for (const std::string& key : sh->opt.metadata) sh->want_headers |= key == "headers";
  sh->local = LocalTopicsFor(sh->opt.bootstrap_servers);
  if (sh->local) {
    auto n = sh->local->PartitionCount(sh->opt.topic);
    if (absl::IsNotFound(n.status())) {
      return absl::NotFoundError(
          fmt::format("table '{}': {} does not exist (create it with `eddy topic create {}`)",
                      t.name, Where(sh->opt), sh->opt.topic));
    }
    if (!n.ok()) {
      return absl::UnavailableError(fmt::format("table '{}': {}: {}", t.name, Where(sh->opt),
                                                std::string(n.status().message())));
    }
    sh->partitions = *n;
  } else {
    // A consumer that may not create topics: a Metadata request from a producer would make the
    // broker auto-create a mistyped topic.
    EDDY_ASSIGN_OR_RETURN(Client probe,
                          NewClient(RD_KAFKA_CONSUMER, sh->opt,
                                    {{"allow.auto.create.topics", "false"}, {"group.id", "eddy"}}));
    EDDY_ASSIGN_OR_RETURN(sh->partitions, PartitionCount(probe.get(), sh->opt, kMetadataTimeoutMs));
  }
  spdlog::info("table '{}': reading {} ({} partitions) {}", t.name, Where(sh->opt), sh->partitions,
               sh->local ? "from the local log" : "through librdkafka");
  return std::shared_ptr<SourceFactory>(new KafkaSourceFactory(sh));
}

}  // namespace eddy::connectors
