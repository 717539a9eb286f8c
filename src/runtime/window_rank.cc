#include "runtime/window_rank.h"

#include <fmt/format.h>

#include <map>

#include "absl/container/flat_hash_map.h"
#include "base/status.h"
#include "runtime/aggregate_ops.h"
#include "runtime/rank.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

using Row = std::vector<Value>;

class WindowRank final : public OneInputOperator {
 public:
  explicit WindowRank(WindowRankConfig c)
      : c_(std::move(c)),
        late_(c_.name, c_.input_fields, c_.metrics.get(), nullptr),
        // On a window TVF: the lead of its time attribute; after a window aggregation: that of
        // window_time (TIMESTAMP(3)), Flink's 1 ms.
        fire_lead_(c_.assign_windows && c_.time_column >= 0 &&
                           c_.time_column < static_cast<int>(c_.input_fields.size())
                       ? WindowFireLead(c_.input_fields[c_.time_column].type)
                       : WindowFireLead(DataType::Timestamp(3))) {}

  absl::Status Open(OperatorContext& ctx) override {
    late_.set_output(ctx.late);
    return OneInputOperator::Open(ctx);
  }

  absl::Status ProcessBatch(Batch& in, const RowWatermarks& wm, Output*) override {
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
          Insert(std::move(copy), end);
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
      Insert(std::move(row), end);
    }
    return late_.Flush();
  }

  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    if (c_.processing_time && watermark != INT64_MAX) return out->EmitWatermark(watermark);
    EDDY_RETURN_IF_ERROR(Fire(watermark, out));
    return out->EmitWatermark(WindowOutputWatermark(watermark, fire_lead_));
  }

 private:
  // The rows of one partition of one window: the current top N, in order.
  struct Partition {
    std::vector<Row> top;
  };
  // The partitions of the windows that end at one time, in order of their first row. Not in
  // keyed state (state/keyed_map_state.h) yet: it lives only until its window fires, and the
  // output order of a window is the order of its partitions' first rows; a checkpoint would
  // snapshot it per (window end, key group) of the PARTITION BY columns the exchange hashes.
  struct Windows {
    std::vector<Partition> parts;
    absl::flat_hash_map<std::string, size_t> index;  // key bytes → parts
  };

  void Insert(Row row, int64_t end) {
    key_.clear();
    for (int k : c_.key_columns) AppendKeyBytes(row[k], &key_);
    Windows& ws = windows_[end];
    auto [it, fresh] = ws.index.try_emplace(key_, ws.parts.size());
    if (fresh) ws.parts.emplace_back();
    std::vector<Row>& top = ws.parts[it->second].top;
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

  // Emits the top N of every window that ends at or before watermark + fire_lead_ and frees them.
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
    while (!windows_.empty() && windows_.begin()->first - fire_lead_ <= watermark) {
      for (const Partition& part : windows_.begin()->second.parts) {
        for (size_t j = 0; j < part.top.size(); ++j) {
          const Row& row = part.top[j];
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
      }
      windows_.erase(windows_.begin());
    }
    return flush();
  }

  static constexpr size_t kMaxOutputRows = 4096;  // rows per emitted batch

  WindowRankConfig c_;
  LateRows late_;
  int64_t fire_lead_;  // a window [s, e) fires at watermark e - fire_lead_ (WindowFireLead)
  std::map<int64_t, Windows> windows_;  // open windows by window_end (µs)
  std::vector<std::pair<int64_t, int64_t>> wins_;
  std::string key_;
};

}  // namespace

std::unique_ptr<OneInputOperator> MakeWindowRank(WindowRankConfig config) {
  return std::make_unique<WindowRank>(std::move(config));
}

}  // namespace eddy::runtime
