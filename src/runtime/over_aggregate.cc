#include "runtime/over_aggregate.h"

#include <deque>
#include <map>

#include "base/status.h"
#include "runtime/key_groups.h"
#include "runtime/timer_service.h"
#include "state/keyed_map_state.h"
#include "state/value_serializer.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

struct Row {
  int64_t time = 0;
  std::vector<Value> values;
};

// Running sums for an UNBOUNDED frame (no row ever leaves it).
struct Running {
  int64_t count = 0;  // non-NULL values (or rows for COUNT(*))
  int64_t isum = 0;
  double dsum = 0;
  Value best;  // MIN/MAX so far
};

// A row waiting for the watermark, with the watermark it arrived behind.
struct Pending {
  int64_t arrival_watermark = INT64_MIN;
  std::vector<Value> row;
};

// The state of one PARTITION BY key. Rows wait in `pending` until the watermark passes them; an
// event-time timer of the operator's TimerService stands at the earliest pending time (or, when
// that row arrived behind the watermark, just after that watermark).
struct KeyState {
  // Rows waiting for the watermark: (time, seq) → the row and the watermark it arrived behind.
  std::map<std::pair<int64_t, int64_t>, Pending> pending;
  std::deque<Row> frame;                   // released rows (bounded)
  std::vector<Running> running;            // unbounded frames
  std::deque<std::vector<Value>> history;  // the last rows released (LAG), oldest first
  int64_t last_released = INT64_MIN;       // time of the last rows released (bounded frames)
};

}  // namespace

}  // namespace eddy::runtime

namespace eddy::state {

template <>
struct StateSerializer<runtime::Row> {
  static void Write(const runtime::Row& r, StateWriter* w) {
    w->PutInt64(r.time);
    StateSerializer<std::vector<Value>>::Write(r.values, w);
  }
  static absl::Status Read(StateReader* r, runtime::Row* v) {
    if (absl::Status s = r->GetInt64(&v->time); !s.ok()) return s;
    return StateSerializer<std::vector<Value>>::Read(r, &v->values);
  }
};

template <>
struct StateSerializer<runtime::Running> {
  static void Write(const runtime::Running& r, StateWriter* w) {
    w->PutInt64(r.count);
    w->PutInt64(r.isum);
    w->PutDouble(r.dsum);
    StateSerializer<Value>::Write(r.best, w);
  }
  static absl::Status Read(StateReader* r, runtime::Running* v) {
    if (absl::Status s = r->GetInt64(&v->count); !s.ok()) return s;
    if (absl::Status s = r->GetInt64(&v->isum); !s.ok()) return s;
    if (absl::Status s = r->GetDouble(&v->dsum); !s.ok()) return s;
    return StateSerializer<Value>::Read(r, &v->best);
  }
};

template <>
struct StateSerializer<runtime::Pending> {
  static void Write(const runtime::Pending& p, StateWriter* w) {
    w->PutInt64(p.arrival_watermark);
    StateSerializer<std::vector<Value>>::Write(p.row, w);
  }
  static absl::Status Read(StateReader* r, runtime::Pending* p) {
    if (absl::Status s = r->GetInt64(&p->arrival_watermark); !s.ok()) return s;
    return StateSerializer<std::vector<Value>>::Read(r, &p->row);
  }
};

// A key's state: pending rows ((time, arrival sequence) → arrival watermark and row), frame,
// running sums, LAG history, the time of the last rows released.
template <>
struct StateSerializer<runtime::KeyState> {
  static void Write(const runtime::KeyState& k, StateWriter* w) {
    StateSerializer<decltype(k.pending)>::Write(k.pending, w);
    StateSerializer<decltype(k.frame)>::Write(k.frame, w);
    StateSerializer<decltype(k.running)>::Write(k.running, w);
    StateSerializer<decltype(k.history)>::Write(k.history, w);
    w->PutInt64(k.last_released);
  }
  static absl::Status Read(StateReader* r, runtime::KeyState* k) {
    if (absl::Status s = StateSerializer<decltype(k->pending)>::Read(r, &k->pending); !s.ok()) {
      return s;
    }
    if (absl::Status s = StateSerializer<decltype(k->frame)>::Read(r, &k->frame); !s.ok()) {
      return s;
    }
    if (absl::Status s = StateSerializer<decltype(k->running)>::Read(r, &k->running); !s.ok()) {
      return s;
    }
    if (absl::Status s = StateSerializer<decltype(k->history)>::Read(r, &k->history); !s.ok()) {
      return s;
    }
    return r->GetInt64(&k->last_released);
  }
};

}  // namespace eddy::state

namespace eddy::runtime {

namespace {

bool Less(const Value& a, const Value& b) {
  switch (a.type.physical()) {
    case Physical::kInt64:
      return a.i < b.i;
    case Physical::kDouble:
      return a.d < b.d;
    case Physical::kString:
      return a.s < b.s;
  }
  return false;
}

// ProcessBatch checks for a cancelled job every this many rows.
constexpr size_t kCancelCheckRows = 1024;

class OverAggregate final : public OneInputOperator {
 public:
  explicit OverAggregate(OverAggregateConfig c)
      : c_(std::move(c)), key_groups_(c_.subtask, c_.name), keys_(key_groups_.range()) {
    for (const auto& call : c_.calls) {
      if (call.fn == "LAG") max_lag_ = std::max(max_lag_, call.offset);
    }
  }

  std::string uid() const override { return c_.name; }

  absl::Status Open(OperatorContext& ctx) override {
    timers_ = ctx.timers;
    return OneInputOperator::Open(ctx);
  }

  // Operator state: the next arrival sequence number. Section 1 of each key group: its keys'
  // states (KeyedMapState's format). The timers (one per key with pending rows) are the
  // runtime's section 0.
  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    state::StateWriter(&out->operator_state).PutInt64(seq_);
    for (int32_t kg = keys_.range().first().value(); kg <= keys_.range().last().value(); ++kg) {
      if (keys_.size(KeyGroup(kg)) == 0) continue;
      keys_.SnapshotKeyGroup(KeyGroup(kg), out->Section(KeyGroup(kg), kFirstOperatorSection));
    }
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    // Arrival sequence numbers only order the rows of one key, which all came to one old
    // subtask: continuing after the largest of every old subtask keeps each key's order.
    for (std::string_view op : in.OperatorStates()) {
      state::StateReader r(op);
      int64_t seq = 0;
      EDDY_RETURN_IF_ERROR(r.GetInt64(&seq));
      seq_ = std::max(seq_, seq);
    }
    for (KeyGroup kg : in.KeyGroups()) {
      std::string_view data = in.Section(kg, kFirstOperatorSection);
      if (data.empty()) continue;
      EDDY_RETURN_IF_ERROR(keys_.RestoreKeyGroup(kg, data));
      absl::Status st;
      keys_.ForEachInKeyGroup(
          kg, [&](KeyGroup, std::string_view key, std::unique_ptr<KeyState>& ks) {
            if (!ks || !FitsShape(*ks)) {
              st = state::StateReader::Corrupt("OVER key state of another shape");
              return;
            }
            // The timer is restored with the runtime's timers; registering it again is a no-op and
            // keeps rows from waiting forever should the timers and the state disagree.
            if (!ks->pending.empty()) {
              timers_->RegisterEventTimer(kg, key, 0, ks->pending.begin()->first.first);
              seq_ = std::max(seq_, ks->pending.rbegin()->first.second + 1);
            }
          });
      EDDY_RETURN_IF_ERROR(st);
    }
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& in, const RowWatermarks& wm, Output* out) override {
    const Column& ts = in.columns[c_.time_column];
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(in, c_.key_columns));
    for (size_t r = 0; r < in.num_rows(); ++r) {
      if (r % kCancelCheckRows == 0 && cancelled()) return absl::CancelledError("job cancelled");
      c_.metrics->rows_in++;
      if (ts.IsNull(r)) continue;
      int64_t t = ts.i64[r];
      std::string key;
      for (int k : c_.key_columns) AppendKeyBytes(Value::FromColumn(in.columns[k], r), &key);
      std::unique_ptr<KeyState>* found = keys_.Find(key_groups_[r], key);
      int64_t w = wm.At(r);
      if (IsLate(found ? found->get() : nullptr, t, w)) {
        c_.metrics->late_rows++;
        continue;
      }
      std::vector<Value> row;
      row.reserve(c_.input_columns);
      for (int c = 0; c < c_.input_columns; ++c) row.push_back(Value::FromColumn(in.columns[c], r));
      KeyGroup kg = key_groups_[r];
      std::unique_ptr<KeyState>& slot = *keys_.FindOrInsert(kg, key).first;
      if (!slot) slot = std::make_unique<KeyState>();
      KeyState& ks = *slot;
      if (ks.running.empty()) ks.running.resize(c_.calls.size());
      // The key's timer stands at its earliest pending time.
      if (ks.pending.empty() || t < ks.pending.begin()->first.first) {
        timers_->RegisterEventTimer(kg, key, 0, t);
      }
      ks.pending.emplace(std::make_pair(t, seq_++), Pending{w, std::move(row)});
    }
    return absl::OkStatus();
  }

  // Releases the rows the watermark passed. Keys come in their timers' order — by the time of
  // their earliest waiting row, then key — and each releases its rows up to the watermark in time
  // order (as Flink's operators do on a key's event-time timer), then its timer moves to its next
  // pending time. A cancelled job stops between two release steps with CancelledError (a bounded
  // frame re-reads its frame at each step).
  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    Batch b;
    Arena* arena = b.NewArena();
    Timer timer;
    while (true) {
      if (cancelled()) return absl::CancelledError("job cancelled");
      if (!timers_->PopEventTimer(watermark, &timer)) break;
      std::unique_ptr<KeyState>* found = keys_.Find(timer.kg, timer.key);
      if (!found) continue;
      KeyState& ks = **found;
      auto& p = ks.pending;
      // Rows at or before the watermark, in time order, except those that arrived behind this
      // very watermark (kept by a bounded frame although late): as Flink's timers, registered
      // behind the watermark, they fire at the next one. They come after all others here (their
      // time is after every row already processed for the key when they arrived).
      auto ready = [&] {
        return !p.empty() && p.begin()->first.first <= watermark &&
               p.begin()->second.arrival_watermark < watermark;
      };
      while (ready()) {
        if (cancelled()) {
          timers_->RegisterEventTimer(timer.kg, timer.key, 0, p.begin()->first.first);
          return absl::CancelledError("job cancelled");
        }
        // The rows released together with the same time are peers (one RANGE step).
        int64_t t = p.begin()->first.first;
        std::vector<std::vector<Value>> peers;
        while (ready() && p.begin()->first.first == t) {
          peers.push_back(std::move(p.begin()->second.row));
          p.erase(p.begin());
        }
        Release(ks, t, std::move(peers), &b, arena);
        ks.last_released = t;
      }
      // The next timer: at the earliest pending time, or after this watermark for a row that
      // arrived behind it (a timer at or before it would fire again in this loop). None after
      // the end of input: no later watermark comes.
      if (!p.empty() && watermark != INT64_MAX) {
        timers_->RegisterEventTimer(timer.kg, timer.key, 0,
                                    std::max(p.begin()->first.first, watermark + 1));
      }
    }
    if (b.num_rows() > 0) {
      c_.metrics->rows_out += static_cast<int64_t>(b.num_rows());
      EDDY_RETURN_IF_ERROR(out->Emit(std::move(b)));
    }
    return out->EmitWatermark(watermark);
  }

 private:
  // Whether a restored key's state has this operator's shape: aggregates index its rows.
  bool FitsShape(const KeyState& ks) const {
    size_t width = static_cast<size_t>(c_.input_columns);
    if (ks.running.size() != c_.calls.size()) return false;
    for (const auto& [at, p] : ks.pending) {
      if (p.row.size() != width) return false;
    }
    for (const Row& r : ks.frame) {
      if (r.values.size() != width) return false;
    }
    for (const auto& row : ks.history) {
      if (row.size() != width) return false;
    }
    return true;
  }

  // Whether a row at time `t` that arrives behind watermark `w` is late, for a key with state
  // `ks` (null: none yet). Flink SQL: an OVER aggregation with UNBOUNDED PRECEDING drops a row at
  // or behind the watermark (AbstractRowTimeUnboundedPrecedingOver); one with a bounded frame
  // drops a row at or before the last time it has processed for the row's key
  // (RowTimeRangeBoundedPrecedingFunction, RowTimeRowsBoundedPrecedingFunction: lastTriggeringTs),
  // so a row behind the watermark but after every processed row of its key is kept, and processed
  // at the next watermark in time order. A row is processed when a watermark at or after its time
  // arrives after it (Flink's event-time timer): the rows released, and the pending ones at or
  // before `w` that arrived behind an earlier watermark (a file source's rows carry their own
  // watermark, ahead of the last one the operator processed: RowWatermarks).
  bool IsLate(const KeyState* ks, int64_t t, int64_t w) const {
    if (c_.preceding < 0) return t <= w;
    if (!ks) return false;
    int64_t processed = ks->last_released;
    for (auto it = ks->pending.upper_bound({w, INT64_MAX}); it != ks->pending.begin();) {
      --it;
      if (it->second.arrival_watermark < w) {
        processed = std::max(processed, it->first.first);
        break;
      }
    }
    return t <= processed;
  }

  void Add(Running* r, const OverAggregateCall& call, const std::vector<Value>& row) {
    if (call.fn == "LAG") return;  // not an aggregate: read from the key's history
    if (call.column < 0) {
      ++r->count;
      return;
    }
    const Value& v = row[call.column];
    if (v.is_null) return;
    ++r->count;
    r->isum += v.i;
    r->dsum += v.d;
    if (r->best.is_null || (call.fn == "MIN" ? Less(v, r->best) : Less(r->best, v))) r->best = v;
  }

  Value Result(const Running& r, const OverAggregateCall& call) const {
    if (call.fn == "COUNT") return Value::Int64(DataType::Bigint(), r.count);
    if (r.count == 0) return Value::Null(call.type);
    if (call.fn == "MIN" || call.fn == "MAX") return r.best;
    bool dbl = call.type.physical() == Physical::kDouble;
    if (call.fn == "SUM") return dbl ? Value::Double(r.dsum) : Value::Int64(call.type, r.isum);
    return dbl ? Value::Double(r.dsum / r.count) : Value::Int64(call.type, r.isum / r.count);
  }

  // Processes the rows of one time `t` of a key (peers), appending output rows to `b`.
  void Release(KeyState& ks, int64_t t, std::vector<std::vector<Value>> peers, Batch* b,
               Arena* arena) {
    size_t nc = c_.calls.size();
    if (c_.preceding < 0 && !c_.rows) {
      // RANGE UNBOUNDED PRECEDING: every earlier row and all peers.
      for (const auto& row : peers) {
        for (size_t a = 0; a < nc; ++a) Add(&ks.running[a], c_.calls[a], row);
      }
      for (const auto& row : peers) Append(ks, row, ks.running, b, arena);
      return;
    }
    if (c_.preceding < 0) {
      // ROWS UNBOUNDED PRECEDING: every earlier row and the peers up to this one.
      for (const auto& row : peers) {
        for (size_t a = 0; a < nc; ++a) Add(&ks.running[a], c_.calls[a], row);
        Append(ks, row, ks.running, b, arena);
      }
      return;
    }
    if (!c_.rows) {
      // RANGE BETWEEN x PRECEDING: rows with time >= t - x, peers included.
      while (!ks.frame.empty() && ks.frame.front().time < t - c_.preceding) ks.frame.pop_front();
      for (auto& row : peers) ks.frame.push_back({t, row});
      std::vector<Running> acc(nc);
      for (const auto& r : ks.frame) {
        for (size_t a = 0; a < nc; ++a) Add(&acc[a], c_.calls[a], r.values);
      }
      for (const auto& row : peers) Append(ks, row, acc, b, arena);
      return;
    }
    // ROWS BETWEEN n PRECEDING: the n rows before this one and itself.
    for (auto& row : peers) {
      ks.frame.push_back({t, row});
      while (static_cast<int64_t>(ks.frame.size()) > c_.preceding + 1) ks.frame.pop_front();
      std::vector<Running> acc(nc);
      for (const auto& r : ks.frame) {
        for (size_t a = 0; a < nc; ++a) Add(&acc[a], c_.calls[a], r.values);
      }
      Append(ks, row, acc, b, arena);
    }
  }

  // Appends the output row of `row` (its aggregates from `acc`, LAG from the key's history), then
  // records `row` in the history.
  void Append(KeyState& ks, const std::vector<Value>& row, const std::vector<Running>& acc,
              Batch* b, Arena* arena) {
    if (b->columns.empty()) {
      for (const auto& v : row) b->columns.emplace_back(v.type);
      for (const auto& call : c_.calls) b->columns.emplace_back(call.type);
    }
    size_t c = 0;
    for (const auto& v : row) v.AppendTo(&b->columns[c++], arena);
    for (size_t a = 0; a < c_.calls.size(); ++a) {
      const OverAggregateCall& call = c_.calls[a];
      if (call.fn == "LAG") {
        int64_t h = static_cast<int64_t>(ks.history.size());
        const Value& v =
            call.offset <= h ? ks.history[h - call.offset][call.column] : call.default_value;
        v.AppendTo(&b->columns[c++], arena);
        continue;
      }
      Result(acc[a], call).AppendTo(&b->columns[c++], arena);
    }
    b->kinds.push_back(RowKind::kInsert);
    if (max_lag_ > 0) {
      ks.history.push_back(row);
      if (static_cast<int64_t>(ks.history.size()) > max_lag_) ks.history.pop_front();
    }
  }

  OverAggregateConfig c_;
  KeyGroupAssigner key_groups_;
  // Keyed state: PARTITION BY key bytes → its rows (unique_ptr: a small slot per key).
  state::KeyedMapState<std::unique_ptr<KeyState>> keys_;
  TimerService* timers_ = nullptr;
  int64_t seq_ = 0;      // arrival sequence number of the next row
  int64_t max_lag_ = 0;  // rows of history LAG needs
};

}  // namespace

std::unique_ptr<OneInputOperator> MakeOverAggregate(OverAggregateConfig config) {
  return std::make_unique<OverAggregate>(std::move(config));
}

}  // namespace eddy::runtime
