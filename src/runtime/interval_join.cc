#include "runtime/interval_join.h"

#include <fmt/format.h>

#include <deque>

#include "base/status.h"
#include "runtime/calc.h"
#include "runtime/key_groups.h"
#include "state/keyed_map_state.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

struct StoredRow {
  int64_t time;
  RowKind kind;
  std::vector<Value> values;
  bool matched = false;  // joined at least one row (outer joins pad the others with NULLs)
  bool kept = true;      // false: arrived after the other side could still match it (dropped
                         // once the batch's pairs are out; later rows do not see it)
};

// Deques: a stored row keeps its address while rows are added (pairs point at it until the
// batch is flushed), and while the key's state moves inside the hash map.
struct KeyState {
  std::deque<StoredRow> side[2];  // 0 = left, 1 = right
};

std::string KeyBytes(const std::vector<Column>& keys, size_t r, bool* has_null) {
  std::string s;
  *has_null = false;
  for (const auto& c : keys) {
    Value v = Value::FromColumn(c, r);
    *has_null |= v.is_null;
    AppendKeyBytes(v, &s);
  }
  return s;
}

class IntervalJoin final : public TwoInputOperator {
 public:
  explicit IntervalJoin(IntervalJoinConfig c)
      : c_(std::move(c)),
        hash_keys_(JoinKeysHashAlike(c_.left_keys, c_.right_keys)),
        key_groups_(c_.subtask, c_.name),
        state_(key_groups_.range()) {}

  absl::Status ProcessBatch1(Batch& b, const RowWatermarks& wm, Output* out) override {
    return ProcessInput(0, b, wm, out);
  }
  absl::Status ProcessBatch2(Batch& b, const RowWatermarks& wm, Output* out) override {
    return ProcessInput(1, b, wm, out);
  }

  absl::Status ProcessInput(int input, Batch& in, const RowWatermarks& wm, Output* out) {
    size_t n = in.num_rows();
    EvalContext ctx;
    ctx.now_micros = NowMicros();
    Batch scratch;
    ctx.arena = scratch.NewArena();
    const auto& key_exprs = input == 0 ? c_.left_keys : c_.right_keys;
    EDDY_ASSIGN_OR_RETURN(std::vector<Column> keys, EvalColumns(key_exprs, in, &ctx));
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(hash_keys_ ? keys : no_keys_, n));
    int time_col = input == 0 ? c_.left_time : c_.right_time;
    int ncols = input == 0 ? c_.left_columns : c_.right_columns;
    const Column& ts = in.columns[time_col];
    pairs_.clear();
    transient_.clear();
    for (size_t r = 0; r < n; ++r) {
      c_.metrics->rows_in++;
      if (ts.IsNull(r)) continue;
      int64_t t = ts.i64[r];
      int64_t w = wm.At(r);
      // Behind the watermark: counted as late, but not dropped (Flink SQL's TimeIntervalJoin
      // drops no row): it joins what is still kept of the other side, below.
      if (t <= w) c_.metrics->late_rows++;
      bool has_null = false;
      std::string kb = KeyBytes(keys, r, &has_null);
      if (has_null) {  // NULL keys never match: an outer side shows the row with NULLs
        bool outer = input == 0 ? c_.left_outer : c_.right_outer;
        if (outer) {
          EDDY_RETURN_IF_ERROR(Flush(out));  // keep the output in input order
          StoredRow x{t, in.kinds[r], {}};
          for (int c = 0; c < ncols; ++c) x.values.push_back(Value::FromColumn(in.columns[c], r));
          AppendPadded(input, x);
          EDDY_RETURN_IF_ERROR(FlushPadded(out));
        }
        continue;
      }
      KeyState& ks = *state_.FindOrInsert(key_groups_[r], kb).first;
      StoredRow& row = ks.side[input].emplace_back(StoredRow{t, in.kinds[r], {}});
      row.values.reserve(ncols);
      for (int c = 0; c < ncols; ++c) row.values.push_back(Value::FromColumn(in.columns[c], r));
      // Kept for the other side's later rows only while they can still match it: Flink caches a
      // row when the watermark is below the last time of the other side it can join.
      row.kept = w < Reach(input, t);
      if (!row.kept) transient_.emplace_back(key_groups_[r], kb);
      // Match against the other side's rows of this key within the time bounds that are kept and
      // not expired (ProcessWatermark drops those; a row watermark may be ahead of it).
      for (StoredRow& o : ks.side[1 - input]) {
        if (!o.kept || Reach(1 - input, o.time) < w) continue;
        int64_t diff = input == 0 ? t - o.time : o.time - t;  // l.ts - r.ts
        if (diff < c_.lower || diff > c_.upper) continue;
        pairs_.push_back(input == 0 ? std::pair{&row, &o} : std::pair{&o, &row});
      }
      if (pairs_.size() >= 4096) EDDY_RETURN_IF_ERROR(Flush(out));
    }
    EDDY_RETURN_IF_ERROR(Flush(out));
    // Rows not kept leave now; an outer side's row among them that matched nothing comes out
    // padded with NULLs at once (Flink: emitted when it is not cached).
    for (const auto& [kg, key] : transient_) {
      KeyState* ks = state_.Find(kg, key);
      if (!ks) continue;
      for (int side = 0; side < 2; ++side) {
        bool outer = side == 0 ? c_.left_outer : c_.right_outer;
        std::erase_if(ks->side[side], [&](const StoredRow& x) {
          if (x.kept) return false;
          if (outer && !x.matched) AppendPadded(side, x);
          return true;
        });
      }
      if (ks->side[0].empty() && ks->side[1].empty()) state_.Erase(kg, key);
    }
    return FlushPadded(out);
  }

  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    // A left row can match right rows with r.ts in [l.ts - upper, l.ts - lower]; it expires when
    // the watermark passes l.ts - lower (Flink SQL's TimeIntervalJoin removes a cached row when
    // its time is <= watermark - relative size - 1, so a row of the other side exactly at its
    // reach, itself late, still finds it). Likewise for right rows. An outer side's rows that
    // never matched come out with NULLs for the other side as they expire.
    state_.EraseIf([&](KeyGroup, std::string_view, KeyState& ks) {
      for (int side = 0; side < 2; ++side) {
        bool outer = side == 0 ? c_.left_outer : c_.right_outer;
        std::erase_if(ks.side[side], [&](const StoredRow& x) {
          if (Reach(side, x.time) >= watermark) return false;
          if (outer && !x.matched) AppendPadded(side, x);
          return true;
        });
      }
      return ks.side[0].empty() && ks.side[1].empty();
    });
    EDDY_RETURN_IF_ERROR(FlushPadded(out));
    if (watermark == INT64_MAX) return out->EmitWatermark(watermark);
    int64_t w =
        watermark < INT64_MIN + c_.watermark_delay ? INT64_MIN : watermark - c_.watermark_delay;
    if (w > emitted_) {
      emitted_ = w;
      return out->EmitWatermark(w);
    }
    return absl::OkStatus();
  }

 private:
  // The last event time of the other side that a row of `side` at time `t` can match: l.ts -
  // lower for a left row, r.ts + upper for a right row (saturated).
  int64_t Reach(int side, int64_t t) const {
    int64_t r;
    if (side == 0 ? __builtin_sub_overflow(t, c_.lower, &r)
                  : __builtin_add_overflow(t, c_.upper, &r)) {
      return (side == 0 ? c_.lower < 0 : c_.upper > 0) ? INT64_MAX : INT64_MIN;
    }
    return r;
  }

  // An empty output batch: the left columns, then the right columns.
  Batch EmptyOutput() const {
    Batch b;
    for (DataType t : c_.left_types) b.columns.emplace_back(t);
    for (DataType t : c_.right_types) b.columns.emplace_back(t);
    return b;
  }

  // Appends `row` of side `side` to the pending padded output, the other side's columns NULL.
  void AppendPadded(int side, const StoredRow& row) {
    if (padded_.columns.empty()) {
      padded_ = EmptyOutput();
      padded_arena_ = padded_.NewArena();
    }
    size_t first = side == 0 ? 0 : c_.left_types.size();
    for (size_t c = 0; c < padded_.columns.size(); ++c) {
      if (c >= first && c - first < row.values.size()) {
        row.values[c - first].AppendTo(&padded_.columns[c], padded_arena_);
      } else {
        padded_.columns[c].AppendNull();
      }
    }
    padded_.kinds.push_back(RowKind::kInsert);
  }

  // Emits the collected pairs (after the extra ON conditions) and marks their rows matched.
  absl::Status Flush(Output* out) {
    if (pairs_.empty()) return absl::OkStatus();
    Batch b = EmptyOutput();
    Arena* arena = b.NewArena();
    for (const auto& [l, r] : pairs_) {
      size_t c = 0;
      for (const auto& v : l->values) v.AppendTo(&b.columns[c++], arena);
      for (const auto& v : r->values) v.AppendTo(&b.columns[c++], arena);
      b.kinds.push_back(RowKind::kInsert);
    }
    std::vector<uint32_t> keep;
    if (c_.residual) {
      Column f(DataType::Boolean());
      EvalContext ctx;
      ctx.now_micros = NowMicros();
      ctx.arena = arena;
      EDDY_RETURN_IF_ERROR(c_.residual->Eval(b, &ctx, &f));
      for (size_t i = 0; i < b.num_rows(); ++i) {
        if (f.valid[i] && f.i64[i]) keep.push_back(static_cast<uint32_t>(i));
      }
      if (keep.size() != b.num_rows()) b = b.Gather(keep);
    }
    if (c_.left_outer || c_.right_outer) {
      auto mark = [&](size_t i) { pairs_[i].first->matched = pairs_[i].second->matched = true; };
      if (c_.residual) {
        for (uint32_t i : keep) mark(i);
      } else {
        for (size_t i = 0; i < pairs_.size(); ++i) mark(i);
      }
    }
    pairs_.clear();
    if (b.num_rows() == 0) return absl::OkStatus();
    c_.metrics->rows_out += static_cast<int64_t>(b.num_rows());
    return out->Emit(std::move(b));
  }

  // Emits the expired unmatched rows of the outer sides, padded with NULLs.
  absl::Status FlushPadded(Output* out) {
    if (padded_.num_rows() == 0) return absl::OkStatus();
    c_.metrics->rows_out += static_cast<int64_t>(padded_.num_rows());
    Batch b = std::move(padded_);
    padded_ = Batch();
    return out->Emit(std::move(b));
  }

  IntervalJoinConfig c_;
  bool hash_keys_;               // key groups from the key values (else all in one key group)
  std::vector<Column> no_keys_;  // hashed when !hash_keys_
  KeyGroupAssigner key_groups_;
  state::KeyedMapState<KeyState> state_;  // key bytes → rows of both sides
  int64_t emitted_ = INT64_MIN;
  // Pairs (left, right) found in the current batch: stored rows, stable until the next watermark.
  std::vector<std::pair<StoredRow*, StoredRow*>> pairs_;
  // Keys of the current batch's rows that are not kept (StoredRow::kept).
  std::vector<std::pair<KeyGroup, std::string>> transient_;
  // Unmatched rows of the outer sides with NULLs for the other side, not yet emitted.
  Batch padded_;
  Arena* padded_arena_ = nullptr;
};

}  // namespace

std::unique_ptr<TwoInputOperator> MakeIntervalJoin(IntervalJoinConfig config) {
  return std::make_unique<IntervalJoin>(std::move(config));
}

}  // namespace eddy::runtime
