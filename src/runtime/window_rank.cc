#include "runtime/window_rank.h"

#include <fmt/format.h>

#include "base/status.h"
#include "runtime/aggregate_ops.h"
#include "runtime/key_groups.h"
#include "runtime/rank.h"
#include "runtime/timer_service.h"
#include "state/keyed_map_state.h"
#include "state/value_serializer.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

using Row = std::vector<Value>;

// The rows of one partition of one window: the current top N, in order.
struct WindowPartition {
  std::vector<Row> top;
};

}  // namespace

}  // namespace eddy::runtime

namespace eddy::state {

template <>
struct StateSerializer<runtime::WindowPartition> {
  static void Write(const runtime::WindowPartition& p, StateWriter* w) {
    StateSerializer<std::vector<runtime::Row>>::Write(p.top, w);
  }
  static absl::Status Read(StateReader* r, runtime::WindowPartition* p) {
    return StateSerializer<std::vector<runtime::Row>>::Read(r, &p->top);
  }
};

}  // namespace eddy::state

namespace eddy::runtime {

namespace {

// Window Top-N. Keyed state: (window end, PARTITION BY key) → the partition's top N, in the key
// group of the row's exchange keys (the PARTITION BY columns of the input; a TVF's windows are
// not there yet). Timers: one per partition at window_end − fire_lead_ (WindowFireLead), keyed by
// the state key, so windows fire in the order (window end, partition key).
class WindowRank final : public OneInputOperator {
 public:
  explicit WindowRank(WindowRankConfig c)
      : c_(std::move(c)),
        late_(c_.name, c_.input_fields, c_.metrics.get(), nullptr),
        key_groups_(c_.subtask, c_.name),
        parts_(key_groups_.range()),
        // On a window TVF: the lead of its time attribute; after a window aggregation: that of
        // window_time (TIMESTAMP(3)), Flink's 1 ms.
        fire_lead_(c_.assign_windows && c_.time_column >= 0 &&
                           c_.time_column < static_cast<int>(c_.input_fields.size())
                       ? WindowFireLead(c_.input_fields[c_.time_column].type)
                       : WindowFireLead(DataType::Timestamp(3))) {
    // The columns the exchange into this operator hashes (engine/job_builder.cc).
    for (int k : c_.key_columns) {
      if (k < c_.input_columns) exchange_keys_.push_back(k);
    }
  }

  std::string uid() const override { return c_.name; }

  absl::Status Open(OperatorContext& ctx) override {
    late_.set_output(ctx.late);
    timers_ = ctx.timers;
    return OneInputOperator::Open(ctx);
  }

  // Section 1 of each key group: its partitions (KeyedMapState's format), keyed by window end
  // (8 bytes, big-endian with the sign bit flipped) then the PARTITION BY key bytes.
  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    for (int32_t kg = parts_.range().first().value(); kg <= parts_.range().last().value(); ++kg) {
      if (parts_.size(KeyGroup(kg)) == 0) continue;
      parts_.SnapshotKeyGroup(KeyGroup(kg), out->Section(KeyGroup(kg), kFirstOperatorSection));
    }
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    for (KeyGroup kg : in.KeyGroups()) {
      std::string_view data = in.Section(kg, kFirstOperatorSection);
      if (data.empty()) continue;
      EDDY_RETURN_IF_ERROR(parts_.RestoreKeyGroup(kg, data));
      absl::Status st;
      parts_.ForEachInKeyGroup(kg, [&](KeyGroup, std::string_view key, WindowPartition& p) {
        if (key.size() < 8) {
          st = state::StateReader::Corrupt("window Top-N key without its window end");
          return;
        }
        for (const Row& row : p.top) {
          if (row.size() != RowWidth()) {
            st = state::StateReader::Corrupt("window Top-N row of another shape");
            return;
          }
        }
        // The timer is restored with the runtime's; registering it again is a no-op that keeps
        // a window from never firing should the timers and the state disagree.
        timers_->RegisterEventTimer(kg, key, 0, WindowEndOf(key) - fire_lead_);
      });
      EDDY_RETURN_IF_ERROR(st);
    }
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& in, const RowWatermarks& wm, Output*) override {
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(in, exchange_keys_));
    for (size_t r = 0; r < in.num_rows(); ++r) {
      c_.metrics->rows_in++;
      if (!IsAccumulate(in.kinds[r])) {
        return absl::InvalidArgumentError(
            fmt::format("{}: window Top-N takes an insert-only input, but received a retraction "
                        "({})",
                        c_.name, RowKindName(in.kinds[r])));
      }
      int64_t w = c_.processing_time ? INT64_MIN : wm.At(r);
      Row row;
      row.reserve(c_.input_columns + (c_.assign_windows ? 3 : 0));
      for (int c = 0; c < c_.input_columns; ++c) row.push_back(Value::FromColumn(in.columns[c], r));
      if (c_.assign_windows) {
        const Column& tc = in.columns[c_.time_column];
        if (!tc.valid[r]) {
          return absl::InvalidArgumentError(
              fmt::format("{}: the event-time attribute is NULL", c_.name));
        }
        int64_t ts = tc.i64[r];
        AssignWindows(c_.window, ts, &wins_);
        bool any = false;
        for (size_t k = 0; k < wins_.size(); ++k) {
          auto [start, end] = wins_[k];
          if (end - fire_lead_ <= w) continue;  // this window already fired
          any = true;
          Row copy = row;
          copy.push_back(Value::Int64(DataType::Timestamp(3), start));
          copy.push_back(Value::Int64(DataType::Timestamp(3), end));
          copy.push_back(Value::Int64(DataType::Timestamp(3), end - 1000));  // window_time
          Insert(std::move(copy), end, key_groups_[r]);
        }
        if (!any) late_.Add(in, r, ts, w);
        continue;
      }
      const Value& e = row[c_.window_end_column];
      if (e.is_null) {
        return absl::InvalidArgumentError(fmt::format("{}: window_end is NULL", c_.name));
      }
      int64_t end = e.i;
      if (end - fire_lead_ <= w) {
        late_.Add(in, r, end - 1000, w);  // the row's window_time as its event time
        continue;
      }
      Insert(std::move(row), end, key_groups_[r]);
    }
    return late_.Flush();
  }

  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    if (c_.processing_time && watermark != INT64_MAX) return out->EmitWatermark(watermark);
    EDDY_RETURN_IF_ERROR(Fire(watermark, out));
    return out->EmitWatermark(WindowOutputWatermark(watermark, fire_lead_));
  }

 private:
  size_t RowWidth() const {
    return static_cast<size_t>(c_.input_columns + (c_.assign_windows ? 3 : 0));
  }

  // The state key of a window's partition: window end (big-endian, sign bit flipped, so byte
  // order is time order), then the PARTITION BY key bytes.
  static void PutWindowEnd(int64_t end, std::string* key) {
    uint64_t u = static_cast<uint64_t>(end) ^ (uint64_t{1} << 63);
    for (int i = 7; i >= 0; --i) key->push_back(static_cast<char>(u >> (8 * i)));
  }
  static int64_t WindowEndOf(std::string_view key) {
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(key[static_cast<size_t>(i)]);
    return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
  }

  void Insert(Row row, int64_t end, KeyGroup kg) {
    key_.clear();
    PutWindowEnd(end, &key_);
    for (int k : c_.key_columns) AppendKeyBytes(row[k], &key_);
    auto [part, fresh] = parts_.FindOrInsert(kg, key_);
    if (fresh) timers_->RegisterEventTimer(kg, key_, 0, end - fire_lead_);
    std::vector<Row>& top = part->top;
    // Position: after every row that is not after it (ties keep arrival order), or, for ties to
    // the last row, before the rows equal to it.
    size_t p = top.size();
    while (p > 0) {
      int cmp = CompareRankOrder(row, top[p - 1], c_.order);
      if (cmp > 0 || (cmp == 0 && !c_.ties_to_last)) break;
      --p;
    }
    if (static_cast<int64_t>(p) >= c_.limit) return;  // not in the top N
    top.insert(top.begin() + static_cast<std::ptrdiff_t>(p), std::move(row));
    if (static_cast<int64_t>(top.size()) > c_.limit) top.pop_back();
  }

  // Emits the top N of every window that ends at or before watermark + fire_lead_ and frees them,
  // in the order (window end, partition key).
  absl::Status Fire(int64_t watermark, Output* out) {
    Batch b;
    Arena* arena = nullptr;
    auto flush = [&]() -> absl::Status {
      if (b.num_rows() == 0) return absl::OkStatus();
      c_.metrics->rows_out += static_cast<int64_t>(b.num_rows());
      Batch full = std::move(b);
      b = Batch();
      arena = nullptr;
      return out->Emit(std::move(full));
    };
    Timer timer;
    while (timers_->PopEventTimer(watermark, &timer)) {
      WindowPartition* part = parts_.Find(timer.kg, timer.key);
      if (!part) continue;
      for (size_t j = 0; j < part->top.size(); ++j) {
        const Row& row = part->top[j];
        if (!arena) {
          arena = b.NewArena();
          for (const auto& v : row) b.columns.emplace_back(v.type);
          b.columns.emplace_back(DataType::Bigint());
        }
        size_t c = 0;
        for (const auto& v : row) v.AppendTo(&b.columns[c++], arena);
        b.columns[c].AppendInt(static_cast<int64_t>(j + 1));
        b.kinds.push_back(RowKind::kInsert);
        if (b.num_rows() >= kMaxOutputRows) EDDY_RETURN_IF_ERROR(flush());
      }
      parts_.Erase(timer.kg, timer.key);
    }
    return flush();
  }

  static constexpr size_t kMaxOutputRows = 4096;  // rows per emitted batch

  WindowRankConfig c_;
  LateRows late_;
  KeyGroupAssigner key_groups_;
  std::vector<int> exchange_keys_;
  // Keyed state: (window end, PARTITION BY key) → the partition's top N.
  state::KeyedMapState<WindowPartition> parts_;
  TimerService* timers_ = nullptr;
  int64_t fire_lead_;  // a window [s, e) fires at watermark e - fire_lead_ (WindowFireLead)
  std::vector<std::pair<int64_t, int64_t>> wins_;
  std::string key_;
};

}  // namespace

std::unique_ptr<OneInputOperator> MakeWindowRank(WindowRankConfig config) {
  return std::make_unique<WindowRank>(std::move(config));
}

}  // namespace eddy::runtime
