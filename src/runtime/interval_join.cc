#include "runtime/interval_join.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

#include "base/status.h"
#include "runtime/calc.h"
#include "runtime/join_state.h"
#include "runtime/key_groups.h"
#include "runtime/timer_service.h"
#include "state/keyed_map_state.h"
#include "state/serializer.h"
#include "state/value_serializer.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

struct StoredRow {
  int64_t time = 0;
  std::vector<Value> values;
  bool matched = false;  // joined at least one row (outer joins pad the others with NULLs)
  bool kept = true;      // false: arrived after the other side could still match it (dropped
                         // once the batch's pairs are out; later rows do not see it). Always
                         // true between batches, so not snapshotted.
};

// The rows of one key, per side in arrival order. Deques: a stored row keeps its address while
// rows are added (pairs point at it until the batch is flushed), and while the key's state moves
// inside the hash map.
struct KeyState {
  std::deque<StoredRow> side[2];  // 0 = left, 1 = right
  // Time of this key's registered event-time timer (the earliest expiry of its rows), INT64_MAX
  // when none. Not snapshotted: restore registers it again from the rows.
  int64_t timer = INT64_MAX;
};

}  // namespace
}  // namespace eddy::runtime

namespace eddy::state {

// Snapshot encoding: int64 time, values (vector<Value>), bool matched.
template <>
struct StateSerializer<runtime::StoredRow> {
  static void Write(const runtime::StoredRow& r, StateWriter* w) {
    w->PutInt64(r.time);
    StateSerializer<std::vector<Value>>::Write(r.values, w);
    w->PutBool(r.matched);
  }
  static absl::Status Read(StateReader* r, runtime::StoredRow* v) {
    EDDY_RETURN_IF_ERROR(r->GetInt64(&v->time));
    EDDY_RETURN_IF_ERROR(StateSerializer<std::vector<Value>>::Read(r, &v->values));
    return r->GetBool(&v->matched);
  }
};

// Snapshot encoding: the left rows, then the right rows, each a deque of StoredRow in arrival
// order.
template <>
struct StateSerializer<runtime::KeyState> {
  static void Write(const runtime::KeyState& k, StateWriter* w) {
    for (const auto& side : k.side) StateSerializer<std::deque<runtime::StoredRow>>::Write(side, w);
  }
  static absl::Status Read(StateReader* r, runtime::KeyState* k) {
    for (auto& side : k->side) {
      EDDY_RETURN_IF_ERROR(StateSerializer<std::deque<runtime::StoredRow>>::Read(r, &side));
    }
    k->timer = INT64_MAX;
    return absl::OkStatus();
  }
};

}  // namespace eddy::state

namespace eddy::runtime {

namespace {

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

  std::string uid() const override { return c_.name; }

  absl::Status Open(OperatorContext& ctx) override {
    timers_ = ctx.timers;
    return TwoInputOperator::Open(ctx);
  }

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
          std::vector<Value> x;
          for (int c = 0; c < ncols; ++c) x.push_back(Value::FromColumn(in.columns[c], r));
          AppendPadded(input, x);
          EDDY_RETURN_IF_ERROR(FlushPadded(out));
        }
        continue;
      }
      KeyGroup kg = key_groups_[r];
      KeyState& ks = *state_.FindOrInsert(kg, kb).first;
      StoredRow& row = ks.side[input].emplace_back();
      row.time = t;
      row.values.resize(ncols);  // assigned, not pushed: the moves then inline
      for (int c = 0; c < ncols; ++c) row.values[c] = Value::FromColumn(in.columns[c], r);
      // Kept for the other side's later rows only while they can still match it: Flink caches a
      // row when the watermark is below the last time of the other side it can join. Only kept
      // rows need the key's expiry timer.
      row.kept = w < Reach(input, t);
      if (!row.kept) {
        transient_.emplace_back(kg, kb);
      } else if (int64_t expiry = Expiry(input, t); expiry < ks.timer) {
        SetTimer(kg, kb, &ks, expiry);
      }
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
          if (outer && !x.matched) AppendPadded(side, x.values);
          return true;
        });
      }
      if (ks->side[0].empty() && ks->side[1].empty()) {
        SetTimer(kg, key, ks, INT64_MAX);
        state_.Erase(kg, key);
      }
    }
    return FlushPadded(out);
  }

  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    // A left row can match right rows with r.ts in [l.ts - upper, l.ts - lower]; it expires when
    // the watermark passes l.ts - lower (Flink SQL's TimeIntervalJoin removes a cached row when
    // its time is <= watermark - relative size - 1, so a row of the other side exactly at its
    // reach, itself late, still finds it). Likewise for right rows. Each key has one event-time
    // timer, at the earliest expiry of its rows: when it fires, every expired row of the key
    // goes. The unmatched rows of an outer side come out padded with NULLs, sorted by (expiry,
    // key, side, arrival) whatever the parallelism and hash order, before the new output
    // watermark, which they are not behind (it lags the input by max(-lower, upper)).
    Timer timer;
    while (timers_->PopEventTimer(watermark, &timer)) {
      KeyState* ks = state_.Find(timer.kg, timer.key);
      if (!ks) continue;
      if (ks->timer == timer.time) ks->timer = INT64_MAX;  // this one fired
      int64_t next = INT64_MAX;
      size_t before = expired_.size();
      for (int side = 0; side < 2; ++side) {
        bool outer = side == 0 ? c_.left_outer : c_.right_outer;
        auto& rows = ks->side[side];
        for (StoredRow& x : rows) {
          int64_t e = Expiry(side, x.time);
          if (e > watermark) {
            next = std::min(next, e);
          } else if (outer && !x.matched) {
            expired_.push_back({e, side, expired_keys_.size(), std::move(x.values)});
          }
        }
        std::erase_if(rows, [&](const StoredRow& x) { return Expiry(side, x.time) <= watermark; });
      }
      bool empty = ks->side[0].empty() && ks->side[1].empty();
      SetTimer(timer.kg, timer.key, ks, empty ? INT64_MAX : next);
      if (empty) state_.Erase(timer.kg, timer.key);
      if (expired_.size() > before) expired_keys_.push_back(std::move(timer.key));
    }
    EDDY_RETURN_IF_ERROR(EmitExpired(out));
    if (watermark == INT64_MAX) return out->EmitWatermark(watermark);
    int64_t w =
        watermark < INT64_MIN + c_.watermark_delay ? INT64_MIN : watermark - c_.watermark_delay;
    if (w > emitted_) {
      emitted_ = w;
      return out->EmitWatermark(w);
    }
    return absl::OkStatus();
  }

  // Keyed state, section kFirstOperatorSection of each key group: the KeyedMapState snapshot of
  // the key group (per key, each side's rows in arrival order with their times, values and
  // matched flags); the expiry timers are in the timer section. Operator state: the last output
  // watermark (int64), restored as the greatest of the old subtasks', so no output watermark
  // goes back. Rows with a NULL key are never kept (they come out at once): nothing else is held.
  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    SnapshotKeyedState(state_, kFirstOperatorSection, out);
    state::StateWriter w(&out->operator_state);
    w.PutInt64(emitted_);
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    for (std::string_view blob : in.OperatorStates()) {
      if (blob.empty()) continue;
      state::StateReader r(blob);
      int64_t w = 0;
      EDDY_RETURN_IF_ERROR(r.GetInt64(&w));
      if (!r.done()) return state::StateReader::Corrupt("trailing bytes after the watermark");
      emitted_ = std::max(emitted_, w);
    }
    EDDY_RETURN_IF_ERROR(RestoreKeyedState(in, kFirstOperatorSection, &state_));
    // Each key's timer is at the earliest expiry of its rows (already restored with the timers;
    // a second registration is a no-op).
    for (KeyGroup kg : in.KeyGroups()) {
      state_.ForEachInKeyGroup(kg, [&](KeyGroup g, std::string_view key, KeyState& ks) {
        SetTimer(g, key, &ks, NextExpiry(ks));
      });
    }
    return absl::OkStatus();
  }

  // The hash maps, and the stored rows (walked: O(rows)).
  size_t StateBytes() const override { return SideRowsStateBytes(state_, sizeof(StoredRow)); }
  size_t StateKeys() const override { return state_.size(); }

 private:
  // The last event time of the other side that a row of `side` at time `t` can match: l.ts -
  // lower for a left row, r.ts + upper for a right row (saturated).
  int64_t Reach(int side, int64_t t) const {
    return side == 0 ? SaturatingSub(t, c_.lower) : SaturatingAdd(t, c_.upper);
  }
  // The watermark at which a kept row of side `side` at time `t` expires: the first one past its
  // reach (at most INT64_MAX - 1, so that every row has a timer the end of input fires).
  int64_t Expiry(int side, int64_t t) const {
    return std::min(SaturatingAdd(Reach(side, t), 1), INT64_MAX - 1);
  }
  // The earliest expiry of the rows of `ks` (INT64_MAX: no rows).
  int64_t NextExpiry(const KeyState& ks) const {
    int64_t e = INT64_MAX;
    for (int side = 0; side < 2; ++side) {
      for (const StoredRow& x : ks.side[side]) e = std::min(e, Expiry(side, x.time));
    }
    return e;
  }

  // Emits the expired unmatched rows of the outer sides collected by ProcessWatermark, padded
  // with NULLs, by (expiry, key, side, arrival).
  absl::Status EmitExpired(Output* out) {
    if (expired_.empty()) return absl::OkStatus();
    std::vector<uint32_t> rank = KeyRanks(expired_keys_);
    order_.resize(expired_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32_t>(i);
    std::stable_sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      const Expired& x = expired_[a];
      const Expired& y = expired_[b];
      if (x.expiry != y.expiry) return x.expiry < y.expiry;
      if (x.key != y.key) return rank[x.key] < rank[y.key];
      return x.side < y.side;
    });
    for (uint32_t i : order_) AppendPadded(expired_[i].side, expired_[i].values);
    expired_.clear();
    expired_keys_.clear();
    return FlushPadded(out);
  }
  // Moves the timer of key `key` to `time` (INT64_MAX: none).
  void SetTimer(KeyGroup kg, std::string_view key, KeyState* ks, int64_t time) {
    if (ks->timer == time) return;
    if (ks->timer != INT64_MAX) timers_->DeleteEventTimer(kg, key, 0, ks->timer);
    if (time != INT64_MAX) timers_->RegisterEventTimer(kg, key, 0, time);
    ks->timer = time;
  }

  // An empty output batch: the left columns, then the right columns.
  Batch EmptyOutput() const {
    Batch b;
    for (DataType t : c_.left_types) b.columns.emplace_back(t);
    for (DataType t : c_.right_types) b.columns.emplace_back(t);
    return b;
  }

  // Appends `values` of side `side` to the pending padded output, the other side's columns NULL.
  void AppendPadded(int side, const std::vector<Value>& values) {
    if (padded_.columns.empty()) {
      padded_ = EmptyOutput();
      padded_arena_ = padded_.NewArena();
    }
    size_t first = side == 0 ? 0 : c_.left_types.size();
    for (size_t c = 0; c < padded_.columns.size(); ++c) {
      if (c >= first && c - first < values.size()) {
        values[c - first].AppendTo(&padded_.columns[c], padded_arena_);
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
  TimerService* timers_ = nullptr;
  int64_t emitted_ = INT64_MIN;  // the last output watermark
  // Pairs (left, right) found in the current batch: stored rows, stable until the next watermark.
  std::vector<std::pair<StoredRow*, StoredRow*>> pairs_;
  // Keys of the current batch's rows that are not kept (StoredRow::kept).
  std::vector<std::pair<KeyGroup, std::string>> transient_;
  // Unmatched rows of the outer sides that expired at the current watermark: expiry, side, key
  // (index into expired_keys_), values; and their order of emission.
  struct Expired {
    int64_t expiry;
    int side;
    size_t key;
    std::vector<Value> values;
  };
  std::vector<Expired> expired_;
  std::vector<std::string> expired_keys_;
  std::vector<uint32_t> order_;
  // Unmatched rows of the outer sides with NULLs for the other side, not yet emitted.
  Batch padded_;
  Arena* padded_arena_ = nullptr;
};

}  // namespace

std::unique_ptr<TwoInputOperator> MakeIntervalJoin(IntervalJoinConfig config) {
  return std::make_unique<IntervalJoin>(std::move(config));
}

}  // namespace eddy::runtime
