// The 'datagen' source (Flink's DataGen SQL connector): generates rows of random values and
// sequences (connectors/datagen/generator.h), bounded by 'number-of-rows' or its sequences, or
// unbounded.
//
// Rate: 'rows-per-second' is shared evenly by the subtasks; each one keeps a token bucket that
// fills at its share of the rate and holds at most 100 ms of it (a job held back by backpressure
// does not burst past the rate afterwards). With no token left a step returns kIdle, and the
// runtime calls it again about 1 ms later: the source never spins, and a cancelled job stops
// at its next step.
//
// Checkpoints: a subtask's state is the global rows it has still to generate (RowRanges), so a
// restored job continues without generating a row twice; at the same parallelism each subtask
// takes back its own rows, at another the rows of every old subtask are split again.
//
// Event time: rows carry the per-row watermark column (the watermark before their batch); after
// each batch the source emits max event time - delay (Flink's bounded out-of-orderness
// watermark on the table's WATERMARK). A NULL event time is a bad row ('error.policy').
#include <fmt/format.h>

#include <chrono>
#include <random>

#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/datagen/generator.h"
#include "connectors/dead_letter.h"
#include "state/serializer.h"

namespace eddy::connectors {

namespace datagen {
namespace {

constexpr uint64_t kStateVersion = 1;

// What every subtask of one scan shares.
struct Shared {
  ScanSpec spec;
  DatagenOptions opt;
  std::shared_ptr<DeadLetterWriter> dead_letter;
  std::shared_ptr<SourceMetrics> metrics;
};

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t Seed(int index) {
  std::random_device rd;
  uint64_t s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return s ^ (static_cast<uint64_t>(SteadyNs()) * 0x9e3779b97f4a7c15ULL) ^
         static_cast<uint64_t>(index);
}

class DatagenSubtask final : public runtime::SourceOperator {
 public:
  DatagenSubtask(std::shared_ptr<Shared> sh, runtime::SubtaskInfo info)
      : sh_(std::move(sh)), info_(info), gen_(&sh_->opt, Seed(info.index)) {
    const TableDef& t = *sh_->spec.table;
    rowtime_ = t.has_watermark ? t.rowtime : -1;
    delay_ = t.watermark_delay;
    int64_t total = sh_->opt.total_rows.value_or(RowRange::kUnbounded);
    ranges_ = SplitRows({RowRange{0, 1, total}}, info_.index, info_.parallelism);
    rate_ = static_cast<double>(sh_->opt.rows_per_second) / info_.parallelism;
    burst_ = std::max(1.0, rate_ / 10);
  }

  std::string uid() const override {
    return fmt::format("datagen source '{}'", sh_->spec.table->name);
  }

  absl::Status SnapshotState(int64_t checkpoint_id, state::OperatorSnapshot* out) override {
    state::StateWriter w(&out->operator_state);
    w.PutVarint(kStateVersion);
    w.PutVarint(static_cast<uint64_t>(info_.index));
    w.PutVarint(static_cast<uint64_t>(info_.parallelism));
    w.PutInt64(max_ts_);
    w.PutVarint(ranges_.size());
    for (const RowRange& r : ranges_) {
      w.PutInt64(r.first);
      w.PutInt64(r.step);
      w.PutInt64(r.count);
    }
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    // Every old subtask's remaining rows; at the same parallelism this subtask takes its own.
    std::vector<RowRange> all, own;
    bool same_parallelism = true, found_own = false;
    int64_t max_ts = INT64_MIN;
    bool any = false;
    for (std::string_view s : in.OperatorStates()) {
      if (s.empty()) continue;
      any = true;
      state::StateReader r(s);
      uint64_t version = 0, index = 0, parallelism = 0, n = 0;
      int64_t ts = 0;
      EDDY_RETURN_IF_ERROR(r.GetVarint(&version));
      if (version != kStateVersion) {
        return absl::DataLossError(fmt::format(
            "table '{}': unknown datagen source state version {}", sh_->spec.table->name, version));
      }
      EDDY_RETURN_IF_ERROR(r.GetVarint(&index));
      EDDY_RETURN_IF_ERROR(r.GetVarint(&parallelism));
      EDDY_RETURN_IF_ERROR(r.GetInt64(&ts));
      EDDY_RETURN_IF_ERROR(r.GetVarint(&n));
      std::vector<RowRange> ranges;
      for (uint64_t i = 0; i < n; ++i) {
        RowRange rr;
        EDDY_RETURN_IF_ERROR(r.GetInt64(&rr.first));
        EDDY_RETURN_IF_ERROR(r.GetInt64(&rr.step));
        EDDY_RETURN_IF_ERROR(r.GetInt64(&rr.count));
        if (rr.step < 1 || rr.count < 0) return absl::DataLossError("corrupt datagen state");
        ranges.push_back(rr);
      }
      if (parallelism != static_cast<uint64_t>(info_.parallelism)) same_parallelism = false;
      if (index == static_cast<uint64_t>(info_.index)) {
        found_own = true;
        own = ranges;
      }
      all.insert(all.end(), ranges.begin(), ranges.end());
      max_ts = std::max(max_ts, ts);
    }
    if (!any) return absl::OkStatus();
    ranges_ = same_parallelism && found_own ? own : SplitRows(all, info_.index, info_.parallelism);
    max_ts_ = max_ts;
    return absl::OkStatus();
  }

  absl::StatusOr<Step> NextStep(runtime::SourceOutput* out) override {
    if (ranges_.empty()) return Step::kEnd;
    int64_t now = SteadyNs();
    if (last_ns_ >= 0) {
      tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now - last_ns_) * 1e-9);
    }
    last_ns_ = now;
    int64_t n =
        static_cast<int64_t>(std::min<double>(tokens_, static_cast<double>(sh_->spec.batch_size)));
    if (n < 1) return Step::kIdle;
    rows_.clear();
    while (static_cast<int64_t>(rows_.size()) < n && !ranges_.empty()) {
      RowRange& r = ranges_.front();
      int64_t m = std::min<int64_t>(n - static_cast<int64_t>(rows_.size()), r.count);
      for (int64_t k = 0; k < m; ++k) rows_.push_back(r.first + k * r.step);
      r.first += m * r.step;
      if (r.count != RowRange::kUnbounded) r.count -= m;
      if (r.count == 0) ranges_.erase(ranges_.begin());
    }
    tokens_ -= static_cast<double>(rows_.size());
    EDDY_RETURN_IF_ERROR(Emit(out));
    return Step::kMore;
  }

 private:
  absl::Status Emit(runtime::SourceOutput* out) {
    const TableDef& t = *sh_->spec.table;
    Batch phys = Batch::Empty(t.physical);
    Arena* arena = phys.NewArena();
    gen_.Generate(rows_, WallUs(), arena, &phys);
    phys.kinds.assign(rows_.size(), RowKind::kInsert);
    std::string where = fmt::format("datagen table '{}'", t.name);
    EDDY_ASSIGN_OR_RETURN(Batch full, CompleteScanBatch(sh_->spec, std::move(phys), where));
    if (rowtime_ >= 0) {
      EDDY_RETURN_IF_ERROR(KeepTimedRows(
          &full, rowtime_, emitted_wm_, [&](size_t r) { return BadRow(rows_[r]); },
          [&](size_t, int64_t ts) { max_ts_ = std::max(max_ts_, ts); }));
    }
    sh_->metrics->rows_read += static_cast<int64_t>(full.num_rows());
    EDDY_RETURN_IF_ERROR(out->Emit(std::move(full)));
    if (rowtime_ < 0 || max_ts_ == INT64_MIN) return absl::OkStatus();
    int64_t wm = max_ts_ < INT64_MIN + delay_ ? INT64_MIN : max_ts_ - delay_;
    if (wm <= emitted_wm_) return absl::OkStatus();
    emitted_wm_ = wm;
    return out->EmitWatermark(wm);
  }

  // A generated row whose event time is NULL (a 'fields.#.null-rate' on it): the error policy.
  absl::Status BadRow(int64_t row) {
    const TableDef& t = *sh_->spec.table;
    std::string reason =
        fmt::format("the event-time column '{}' is NULL", t.columns[rowtime_].name);
    const std::string& policy = sh_->spec.error_policy;
    if (policy == "skip") {
      sh_->metrics->bad_skipped++;
      return absl::OkStatus();
    }
    if (policy == "dead-letter") {
      sh_->dead_letter->Write(fmt::format("datagen table '{}' row {}", t.name, row), 1, reason, "");
      sh_->metrics->bad_dead_lettered++;
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        fmt::format("datagen table '{}' row {}: bad row: {} (set 'error.policy' = 'skip' or "
                    "'dead-letter' to continue past bad rows)",
                    t.name, row, reason));
  }

  std::shared_ptr<Shared> sh_;
  runtime::SubtaskInfo info_;
  RowGenerator gen_;
  std::vector<RowRange> ranges_;  // the rows still to generate, in order
  std::vector<int64_t> rows_;     // the rows of the current batch
  double rate_ = 0;               // rows per second of this subtask
  double burst_ = 1;              // the most tokens the bucket holds
  double tokens_ = 1;
  int64_t last_ns_ = -1;
  int rowtime_ = -1;
  int64_t delay_ = 0;
  int64_t max_ts_ = INT64_MIN;
  int64_t emitted_wm_ = INT64_MIN;
};

class DatagenSourceFactory final : public SourceFactory {
 public:
  explicit DatagenSourceFactory(std::shared_ptr<Shared> sh) : sh_(std::move(sh)) {
    metrics = sh_->metrics;
  }
  absl::StatusOr<std::unique_ptr<runtime::SourceOperator>> Create(
      const runtime::SubtaskInfo& info) override {
    return std::unique_ptr<runtime::SourceOperator>(new DatagenSubtask(sh_, info));
  }
  bool chunked() const override { return false; }

 private:
  std::shared_ptr<Shared> sh_;
};

}  // namespace
}  // namespace datagen

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeDatagenSourceFactory(const ScanSpec& spec) {
  auto sh = std::make_shared<datagen::Shared>();
  sh->spec = spec;
  sh->metrics = std::make_shared<SourceMetrics>();
  sh->metrics->table = spec.table->name;
  EDDY_ASSIGN_OR_RETURN(sh->opt, datagen::ParseDatagenOptions(*spec.table));
  EDDY_ASSIGN_OR_RETURN(sh->dead_letter, OpenBadRowPolicy(spec));
  return std::shared_ptr<SourceFactory>(new datagen::DatagenSourceFactory(sh));
}

}  // namespace eddy::connectors
