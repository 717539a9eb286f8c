// The 'kafka' source (Flink SQL Kafka connector, read side) over librdkafka, so the same table
// reads eddy's own broker, Apache Kafka or Redpanda.
//
// Partition p of the topic is read by subtask p mod parallelism (manual assignment, no consumer
// group rebalancing). Each subtask keeps a watermark per partition (max event time - delay - 1,
// Flink's bounded out-of-orderness) and emits the minimum over its partitions that are neither
// finished nor idle; a partition without records for the idle timeout stops counting, and a
// subtask whose partitions are all idle tells its consumers so (Flink: WatermarkStatus.IDLE).
// A bounded scan ('scan.bounded.mode') fixes each partition's end offset when the job starts and
// ends when every partition has reached it, which fires every window.
#include <fmt/format.h>

#include <chrono>
#include <map>

#include "base/log.h"
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/dead_letter.h"
#include "connectors/kafka/kafka_table.h"
#include "types/time_util.h"

namespace eddy::connectors {

namespace kafka {
namespace {

constexpr int kMetadataTimeoutMs = 10'000;
constexpr int64_t kCommitIntervalMs = 5'000;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct TopicPartitionList {
  rd_kafka_topic_partition_list_t* list;
  explicit TopicPartitionList(int n) : list(rd_kafka_topic_partition_list_new(n)) {}
  ~TopicPartitionList() { rd_kafka_topic_partition_list_destroy(list); }
};

// What every subtask of one scan shares.
struct Shared {
  ScanSpec spec;
  KafkaTableOptions opt;
  int32_t partitions = 0;
  Schema value_schema;
  Schema key_schema;
  std::shared_ptr<DeadLetterWriter> dead_letter;
  std::shared_ptr<SourceMetrics> metrics;
};

class KafkaSourceSubtask final : public runtime::SourceOperator {
 public:
  KafkaSourceSubtask(std::shared_ptr<Shared> sh, runtime::SubtaskInfo info)
      : sh_(std::move(sh)), info_(info) {}
  ~KafkaSourceSubtask() override {
    if (queue_) rd_kafka_queue_destroy(queue_);
    if (rk_) rd_kafka_consumer_close(rk_.get());
  }

  /// Connects, resolves start and end offsets, and assigns this subtask's partitions.
  absl::Status Open() {
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
    std::vector<std::pair<std::string, std::string>> extra = {
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"allow.auto.create.topics", "false"},
    };
    // librdkafka needs a group id even for assigned partitions; without
    // 'properties.group.id' nothing is committed under it.
    extra.emplace_back("group.id", o.group_id.empty() ? "eddy-" + o.table : o.group_id);
    EDDY_ASSIGN_OR_RETURN(rk_, NewClient(RD_KAFKA_CONSUMER, o, extra));
    rd_kafka_poll_set_consumer(rk_.get());
    queue_ = rd_kafka_queue_get_consumer(rk_.get());

    // Start offsets.
    TopicPartitionList assign(static_cast<int>(parts_.size()));
    for (auto& part : parts_) {
      rd_kafka_topic_partition_list_add(assign.list, o.topic.c_str(), part.id);
    }
    EDDY_RETURN_IF_ERROR(ResolveOffsets(o.startup, o.startup_timestamp_ms, o.startup_offsets,
                                        assign.list, /*start=*/true));
    // End offsets of a bounded scan, fixed now.
    if (o.bounded != OffsetSpec::kNone) {
      TopicPartitionList end(static_cast<int>(parts_.size()));
      for (auto& part : parts_) {
        rd_kafka_topic_partition_list_add(end.list, o.topic.c_str(), part.id);
      }
      EDDY_RETURN_IF_ERROR(ResolveOffsets(o.bounded, o.bounded_timestamp_ms, o.bounded_offsets,
                                          end.list, /*start=*/false));
      for (int i = 0; i < end.list->cnt; ++i) {
        Part& part = parts_[index_[end.list->elems[i].partition]];
        part.stop = end.list->elems[i].offset;
        int64_t from = assign.list->elems[i].offset;
        if (from >= 0 && from >= part.stop) part.done = true;
      }
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk_.get(), assign.list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(
          fmt::format("table '{}': cannot assign the partitions of {}: {}", o.table, Where(o),
                      rd_kafka_err2str(e)));
    }
    last_commit_ms_ = WallMs();
    return absl::OkStatus();
  }

  absl::StatusOr<Step> NextStep(runtime::SourceOutput* out) override {
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
    size_t want = std::min<size_t>(sh_->spec.batch_size, msgs_.size());
    ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, msgs_.data(), want);
    if (n < 0) {
      return absl::UnavailableError(fmt::format("table '{}': reading {}: {}", sh_->opt.table,
                                                Where(sh_->opt),
                                                rd_kafka_err2str(rd_kafka_last_error())));
    }
    absl::Status st;
    if (n > 0) st = ProcessMessages(static_cast<size_t>(n), out);
    for (ssize_t i = 0; i < n; ++i) rd_kafka_message_destroy(msgs_[i]);
    EDDY_RETURN_IF_ERROR(st);
    EDDY_RETURN_IF_ERROR(UpdateWatermark(out));
    if (!sh_->opt.group_id.empty() && WallMs() - last_commit_ms_ >= kCommitIntervalMs) {
      Commit(false);
    }
    if (AllDone()) return Step::kMore;  // the next step ends the scan
    return n > 0 ? Step::kMore : Step::kIdle;
  }

 private:
  struct Part {
    int32_t id = 0;
    int64_t stop = -1;       // bounded scans: end offset (exclusive); -1 = unbounded
    int64_t next = -1;       // offset after the last record read (for commits), -1 = none
    int64_t committed = -1;  // last committed `next`
    int64_t max_ts = INT64_MIN;
    int64_t last_record_ms = 0;  // steady clock ms of the last record (idleness)
    bool done = false;
  };

  bool AllDone() const {
    if (sh_->opt.bounded == OffsetSpec::kNone) return false;
    for (const auto& p : parts_) {
      if (!p.done) return false;
    }
    return true;
  }

  // Turns `spec` into concrete offsets in `list` (one entry per partition, in parts_ order).
  absl::Status ResolveOffsets(OffsetSpec spec, int64_t ts_ms,
                              const std::map<int32_t, int64_t>& specific,
                              rd_kafka_topic_partition_list_t* list, bool start) {
    const auto& o = sh_->opt;
    rd_kafka_t* rk = rk_.get();
    auto watermarks = [&](int32_t p, int64_t* low, int64_t* high) -> absl::Status {
      rd_kafka_resp_err_t e =
          rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), p, low, high, kMetadataTimeoutMs);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(fmt::format("table '{}': offsets of {} partition {}: {}",
                                                  o.table, Where(o), p, rd_kafka_err2str(e)));
      }
      return absl::OkStatus();
    };
    for (int i = 0; i < list->cnt; ++i) {
      auto& el = list->elems[i];
      int64_t low = 0, high = 0;
      switch (spec) {
        case OffsetSpec::kNone:
          break;
        case OffsetSpec::kEarliest:
          EDDY_RETURN_IF_ERROR(watermarks(el.partition, &low, &high));
          el.offset = low;
          break;
        case OffsetSpec::kLatest:
          EDDY_RETURN_IF_ERROR(watermarks(el.partition, &low, &high));
          el.offset = high;
          break;
        case OffsetSpec::kTimestamp:
          el.offset = ts_ms;
          break;
        case OffsetSpec::kSpecificOffsets: {
          auto it = specific.find(el.partition);
          if (it != specific.end()) {
            el.offset = it->second;
          } else {
            // Flink: partitions not listed start from the committed offset (start) or are
            // read to the end (bound); eddy reads unlisted partitions from the earliest offset.
            EDDY_RETURN_IF_ERROR(watermarks(el.partition, &low, &high));
            el.offset = start ? low : high;
          }
          break;
        }
        case OffsetSpec::kGroupOffsets:
          el.offset = RD_KAFKA_OFFSET_INVALID;
          break;
      }
    }
    if (spec == OffsetSpec::kTimestamp) {
      rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, list, kMetadataTimeoutMs);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(fmt::format("table '{}': offsets by timestamp of {}: {}",
                                                  o.table, Where(o), rd_kafka_err2str(e)));
      }
      for (int i = 0; i < list->cnt; ++i) {
        auto& el = list->elems[i];
        if (el.offset < 0) {  // no record at or after the timestamp: the end of the partition
          int64_t low = 0, high = 0;
          EDDY_RETURN_IF_ERROR(watermarks(el.partition, &low, &high));
          el.offset = high;
        }
      }
    }
    if (spec == OffsetSpec::kGroupOffsets && !o.group_id.empty()) {
      rd_kafka_resp_err_t e = rd_kafka_committed(rk, list, kMetadataTimeoutMs);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(
            fmt::format("table '{}': committed offsets of group '{}' on {}: {}", o.table,
                        o.group_id, Where(o), rd_kafka_err2str(e)));
      }
    }
    if (spec == OffsetSpec::kGroupOffsets) {
      for (int i = 0; i < list->cnt; ++i) {
        auto& el = list->elems[i];
        if (el.offset >= 0) continue;
        std::string reset = o.auto_offset_reset;
        if (!start) reset = "latest";
        if (reset.empty()) {
          return absl::FailedPreconditionError(fmt::format(
              "table '{}': {} partition {} has no committed offset for group '{}' (set "
              "'properties.auto.offset.reset' = 'earliest' or 'latest', or another "
              "'scan.startup.mode')",
              o.table, Where(o), el.partition, o.group_id.empty() ? "<none>" : o.group_id));
        }
        int64_t low = 0, high = 0;
        EDDY_RETURN_IF_ERROR(watermarks(el.partition, &low, &high));
        el.offset = reset == "earliest" ? low : high;
      }
    }
    return absl::OkStatus();
  }

  absl::Status ProcessMessages(size_t n, runtime::SourceOutput* out) {
    const auto& o = sh_->opt;
    const TableDef& t = *sh_->spec.table;
    Batch phys = Batch::Empty(t.physical);
    Batch vb = Batch::Empty(sh_->value_schema);
    Batch kb = Batch::Empty(sh_->key_schema);
    auto arena = std::make_shared<Arena>();
    phys.arenas.push_back(arena);
    row_part_.clear();
    row_offset_.clear();
    int64_t now = WallMs();
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = msgs_[i];
      if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          auto it = index_.find(m->partition);
          if (it != index_.end()) {
            Part& part = parts_[it->second];
            if (part.stop >= 0 && m->offset >= part.stop) part.done = true;
          }
          continue;
        }
        if (rd_kafka_fatal_error(rk_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
            m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
            m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
          return absl::UnavailableError(fmt::format("table '{}': reading {} partition {}: {}",
                                                    o.table, Where(o), m->partition,
                                                    rd_kafka_message_errstr(m)));
        }
        spdlog::warn("table '{}': {}: {} (the Kafka client retries)", o.table, Where(o),
                     rd_kafka_message_errstr(m));
        continue;
      }
      auto it = index_.find(m->partition);
      if (it == index_.end()) continue;
      Part& part = parts_[it->second];
      if (part.done) continue;
      if (part.stop >= 0 && m->offset >= part.stop) {
        part.done = true;
        continue;
      }
      part.next = m->offset + 1;
      part.last_record_ms = now;
      if (part.stop >= 0 && part.next >= part.stop) part.done = true;
      if (!m->payload) continue;  // a tombstone carries no row (Flink skips null values)
      EDDY_RETURN_IF_ERROR(DecodeMessage(m, arena.get(), &phys, &vb, &kb));
    }
    size_t rows = vb.num_rows();
    if (rows == 0) return absl::OkStatus();
    // Physical columns: metadata, value and key columns in declaration order.
    std::vector<int> vpos(t.physical.fields.size(), -1), kpos(t.physical.fields.size(), -1);
    for (size_t i = 0; i < o.value_columns.size(); ++i) vpos[o.value_columns[i]] = i;
    for (size_t i = 0; i < o.key_columns.size(); ++i) kpos[o.key_columns[i]] = i;
    vb.arenas.clear();
    for (size_t c = 0; c < t.physical.fields.size(); ++c) {
      if (!o.metadata[c].empty()) continue;  // filled by DecodeMessage
      phys.columns[c] =
          vpos[c] >= 0 ? std::move(vb.columns[vpos[c]]) : std::move(kb.columns[kpos[c]]);
    }
    phys.kinds.assign(rows, RowKind::kInsert);
    std::string where = fmt::format("{}", Where(o));
    EDDY_ASSIGN_OR_RETURN(Batch full, CompleteScanBatch(sh_->spec, std::move(phys), where));
    if (rowtime_ >= 0) {
      const Column& ts = full.columns[rowtime_];
      std::vector<uint32_t> keep;
      for (size_t r = 0; r < rows; ++r) {
        if (ts.valid[r]) {
          keep.push_back(static_cast<uint32_t>(r));
          Part& part = parts_[index_[row_part_[r]]];
          part.max_ts = std::max(part.max_ts, ts.i64[r]);
        } else {
          EDDY_RETURN_IF_ERROR(BadRow(
              row_part_[r], row_offset_[r], 1,
              fmt::format("the event-time column '{}' is NULL", t.columns[rowtime_].name), ""));
        }
      }
      if (keep.size() != rows) full = full.Gather(keep);
      Column wm(DataType::Bigint());
      wm.Reserve(full.num_rows());
      for (size_t r = 0; r < full.num_rows(); ++r) wm.AppendInt(emitted_wm_);
      full.columns.push_back(std::move(wm));
    }
    sh_->metrics->rows_read += static_cast<int64_t>(full.num_rows());
    idle_emitted_ = false;
    return out->Emit(std::move(full));
  }

  // Decodes one record into the value/key batches and the metadata columns of `phys`; a bad
  // record goes to the error policy and appends nothing.
  absl::Status DecodeMessage(rd_kafka_message_t* m, Arena* arena, Batch* phys, Batch* vb,
                             Batch* kb) {
    const auto& o = sh_->opt;
    std::string_view value =
        arena->Add(std::string_view(static_cast<const char*>(m->payload), m->len));
    size_t key_rows = kb->num_rows();
    DecodeError err;
    if (o.key.kind != RecordFormat::Kind::kNone) {
      std::string_view key =
          m->key ? arena->Add(std::string_view(static_cast<const char*>(m->key), m->key_len))
                 : std::string_view();
      if (o.key.kind == RecordFormat::Kind::kRaw) {
        if (m->key) {
          kb->columns[0].AppendString(key);
        } else {
          kb->columns[0].AppendNull();
        }
        kb->kinds.push_back(RowKind::kInsert);
      } else if (!m->key) {
        for (auto& c : kb->columns) c.AppendNull();
        kb->kinds.push_back(RowKind::kInsert);
      } else if (!key_dec_->Decode(key, kb, arena, &err)) {
        return BadRow(m->partition, m->offset, err.column, "key: " + err.reason, key);
      }
    }
    if (o.value.kind == RecordFormat::Kind::kRaw) {
      vb->columns[0].AppendString(value);
      vb->kinds.push_back(RowKind::kInsert);
    } else if (!value_dec_->Decode(value, vb, arena, &err)) {
      // Roll the key row back so every column keeps the same length.
      for (auto& c : kb->columns) c.Resize(key_rows);
      kb->kinds.resize(key_rows);
      return BadRow(m->partition, m->offset, err.column, err.reason, value);
    }
    const TableDef& t = *sh_->spec.table;
    for (size_t c = 0; c < t.physical.fields.size(); ++c) {
      const std::string& key = o.metadata[c];
      if (key.empty()) continue;
      Column& col = phys->columns[c];
      if (key == "topic") {
        col.AppendString(arena->Add(o.topic));
      } else if (key == "partition") {
        col.AppendInt(m->partition);
      } else if (key == "offset") {
        col.AppendInt(m->offset);
      } else if (key == "timestamp" || key == "timestamp-type") {
        rd_kafka_timestamp_type_t tt;
        int64_t ms = rd_kafka_message_timestamp(m, &tt);
        if (key == "timestamp") {
          if (ms < 0) {
            col.AppendNull();
          } else {
            col.AppendInt(ms * 1000);
          }
        } else {
          col.AppendString(tt == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? "CreateTime"
                           : tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime"
                                                                      : "NoTimestampType");
        }
      } else if (key == "headers") {
        rd_kafka_headers_t* h = nullptr;
        if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) h = nullptr;
        col.AppendString(arena->Add(HeadersToJson(h)));
      } else {
        col.AppendNull();  // leader-epoch: not exposed by this librdkafka version
      }
    }
    row_part_.push_back(m->partition);
    row_offset_.push_back(m->offset);
    return absl::OkStatus();
  }

  absl::Status BadRow(int32_t partition, int64_t offset, size_t column, const std::string& reason,
                      std::string_view raw) {
    const auto& o = sh_->opt;
    const std::string& policy = sh_->spec.error_policy;
    std::string where = fmt::format("{}/{}/{}", o.topic, partition, offset);
    if (policy == "skip") {
      sh_->metrics->bad_skipped++;
      return absl::OkStatus();
    }
    if (policy == "dead-letter") {
      sh_->dead_letter->Write(where, column, reason, raw);
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
      int64_t wm = p.max_ts == INT64_MIN || p.max_ts < INT64_MIN + delay_ + 1
                       ? INT64_MIN
                       : p.max_ts - delay_ - 1;
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
    if (sh_->opt.group_id.empty() || !rk_) return;
    TopicPartitionList list(static_cast<int>(parts_.size()));
    for (auto& p : parts_) {
      if (p.next < 0 || p.next == p.committed) continue;
      rd_kafka_topic_partition_list_add(list.list, sh_->opt.topic.c_str(), p.id)->offset = p.next;
      p.committed = p.next;
    }
    if (list.list->cnt == 0) return;
    rd_kafka_resp_err_t e = rd_kafka_commit(rk_.get(), list.list, sync ? 0 : 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && sync) {
      spdlog::warn("table '{}': committing offsets of group '{}' on {} failed: {}", sh_->opt.table,
                   sh_->opt.group_id, Where(sh_->opt), rd_kafka_err2str(e));
    }
  }

  std::shared_ptr<Shared> sh_;
  runtime::SubtaskInfo info_;
  Client rk_;
  rd_kafka_queue_t* queue_ = nullptr;
  std::unique_ptr<RowDecoder> value_dec_;
  std::unique_ptr<RowDecoder> key_dec_;
  std::vector<Part> parts_;
  std::map<int32_t, size_t> index_;  // partition → parts_ index
  std::vector<rd_kafka_message_t*> msgs_ = std::vector<rd_kafka_message_t*>(4096);
  std::vector<int32_t> row_part_;  // per decoded row of the current batch
  std::vector<int64_t> row_offset_;
  int rowtime_ = -1;
  int64_t delay_ = 0;
  int64_t emitted_wm_ = INT64_MIN;
  bool idle_emitted_ = false;
  int64_t last_commit_ms_ = 0;
};

class KafkaSourceFactory final : public SourceFactory {
 public:
  explicit KafkaSourceFactory(std::shared_ptr<Shared> sh) : sh_(std::move(sh)) {
    metrics = sh_->metrics;
  }
  absl::StatusOr<std::unique_ptr<runtime::SourceOperator>> Create(
      const runtime::SubtaskInfo& info) override {
    auto s = std::make_unique<KafkaSourceSubtask>(sh_, info);
    EDDY_RETURN_IF_ERROR(s->Open());
    return std::unique_ptr<runtime::SourceOperator>(std::move(s));
  }
  bool chunked() const override { return false; }

 private:
  std::shared_ptr<Shared> sh_;
};

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
  // A consumer that may not create topics: a Metadata request from a producer would make the
  // broker auto-create a mistyped topic.
  EDDY_ASSIGN_OR_RETURN(Client probe,
                        NewClient(RD_KAFKA_CONSUMER, sh->opt,
                                  {{"allow.auto.create.topics", "false"}, {"group.id", "eddy"}}));
  EDDY_ASSIGN_OR_RETURN(sh->partitions, PartitionCount(probe.get(), sh->opt, kMetadataTimeoutMs));
  spdlog::info("table '{}': reading {} ({} partitions)", t.name, Where(sh->opt), sh->partitions);
  return std::shared_ptr<SourceFactory>(new KafkaSourceFactory(sh));
}

}  // namespace eddy::connectors
