#include "runtime/temporal_join.h"

#include <algorithm>
#include <map>
#include <utility>

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

using Row = std::vector<Value>;

struct KeyState {
  // Left rows waiting for the watermark, by time (rows of equal time in arrival order).
  std::multimap<int64_t, Row> pending;
  std::map<int64_t, Row> versions;  // version time → row (last one wins)
  // Time of this key's registered event-time timer (see TemporalJoin::NextTimer), INT64_MAX when
  // none. Not snapshotted: restore registers it again from the key's rows.
  int64_t timer = INT64_MAX;
  bool due = false;  // while ProcessWatermark handles the key
};

}  // namespace
}  // namespace eddy::runtime

namespace eddy::state {

// Snapshot encoding: varint count, then (int64 time, row) per pending left row by time (equal
// times in arrival order); then the versions as a map (varint count, (int64 time, row) by time).
template <>
struct StateSerializer<runtime::KeyState> {
  static void Write(const runtime::KeyState& k, StateWriter* w) {
    w->PutVarint(k.pending.size());
    for (const auto& [t, row] : k.pending) {
      w->PutInt64(t);
      StateSerializer<runtime::Row>::Write(row, w);
    }
    StateSerializer<std::map<int64_t, runtime::Row>>::Write(k.versions, w);
  }
  static absl::Status Read(StateReader* r, runtime::KeyState* k) {
    uint64_t n = 0;
    EDDY_RETURN_IF_ERROR(r->GetCount(&n));
    k->pending.clear();
    for (uint64_t i = 0; i < n; ++i) {
      int64_t t = 0;
      EDDY_RETURN_IF_ERROR(r->GetInt64(&t));
      if (!k->pending.empty() && t < std::prev(k->pending.end())->first) {
        return StateReader::Corrupt("temporal join rows out of time order");
      }
      auto it = k->pending.emplace_hint(k->pending.end(), t, runtime::Row{});
      EDDY_RETURN_IF_ERROR(StateSerializer<runtime::Row>::Read(r, &it->second));
    }
    EDDY_RETURN_IF_ERROR((StateSerializer<std::map<int64_t, runtime::Row>>::Read(r, &k->versions)));
    k->timer = INT64_MAX;
    return absl::OkStatus();
  }
};

}  // namespace eddy::state

namespace eddy::runtime {

namespace {

class TemporalJoin final : public TwoInputOperator {
 public:
  explicit TemporalJoin(TemporalJoinConfig c)
      : c_(std::move(c)),
        hash_keys_(JoinKeysHashAlike(c_.left_keys, c_.right_keys)),
        key_groups_(c_.subtask, c_.name),
        state_(key_groups_.range()) {
    for (const auto& t : c_.left_types) out_schema_.fields.push_back({"", t});
    for (const auto& t : c_.right_types) out_schema_.fields.push_back({"", t});
  }

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
    EDDY_ASSIGN_OR_RETURN(std::vector<Column> keys,
                          EvalColumns(input == 0 ? c_.left_keys : c_.right_keys, in, &ctx));
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(hash_keys_ ? keys : no_keys_, n));
    const Column& ts = in.columns[input == 0 ? c_.left_time : c_.right_time];
    size_t ncols = input == 0 ? c_.left_types.size() : c_.right_types.size();
    for (size_t r = 0; r < n; ++r) {
      c_.metrics->rows_in++;
      if (ts.IsNull(r)) continue;
      int64_t t = ts.i64[r];
      // A left row behind the watermark is counted as late but not dropped (Flink SQL's
      // TemporalRowTimeJoinOperator buffers every left row): it is joined at the next watermark
      // with the versions still kept, the newest one at or before the watermark of the last
      // cleanup and every later one, so it finds its version only if that is still kept.
      if (input == 0 && t <= wm.At(r)) c_.metrics->late_rows++;
      if (!IsAccumulate(in.kinds[r])) continue;  // versions are upserts; retractions add none
      std::string kb;
      bool null_key = false;
      for (auto& k : keys) {
        Value v = Value::FromColumn(k, r);
        null_key |= v.is_null;
        AppendKeyBytes(v, &kb);
      }
      // A NULL key has no version: a LEFT join still shows the row (with NULLs, at the
      // watermark), kept under its key in the key group it was routed by like any other row.
      if (null_key && (input == 1 || !c_.left_outer)) continue;
      Row row(ncols);  // assigned, not pushed: the moves then inline (fewer instructions)
      for (size_t c = 0; c < ncols; ++c) row[c] = Value::FromColumn(in.columns[c], r);
      KeyGroup kg = key_groups_[r];
      KeyState& ks = *state_.FindOrInsert(kg, kb).first;
      // The key's timer moves earlier when the row is its first waiting one, or its second version.
      int64_t next = t;
      if (input == 0) {
        ks.pending.emplace(t, std::move(row));
      } else {
        ks.versions[t] = std::move(row);
        next = NextTimer(ks);
      }
      if (next < ks.timer) SetTimer(kg, kb, &ks, next);
    }
    return absl::OkStatus();
  }

  // Each key has one event-time timer (NextTimer): at the time of its first waiting left row, or
  // at the time of its second version (from then on its first version can no longer apply to
  // any row still to come). When it fires, the key's rows up to the watermark are joined; the
  // rows of one watermark come out sorted by (time, key, arrival), whatever the parallelism and
  // hash order.
  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    // 1. The keys whose timer is due and their rows the watermark has passed, each with the
    // version valid at its time (the state does not change until step 3, so pointers hold).
    due_.clear();
    keys_.clear();
    items_.clear();
    Timer timer;
    while (timers_->PopEventTimer(watermark, &timer)) {
      KeyState* ks = state_.Find(timer.kg, timer.key);
      if (!ks) continue;
      if (ks->timer == timer.time) ks->timer = INT64_MAX;  // this one fired
      if (ks->due) continue;                               // a second timer of the key
      ks->due = true;
      auto k = static_cast<uint32_t>(keys_.size());
      for (auto it = ks->pending.begin(); it != ks->pending.end() && it->first <= watermark; ++it) {
        const Row* version = nullptr;
        auto v = ks->versions.upper_bound(it->first);  // first version after the row
        if (v != ks->versions.begin()) version = &std::prev(v)->second;
        items_.push_back({it->first, k, &it->second, version});
      }
      keys_.push_back(std::move(timer.key));
      due_.push_back({timer.kg, ks});
    }
    // 2. The joined rows by (time, key rank, arrival): sorted as plain integer pairs.
    if (!items_.empty()) {
      std::vector<uint32_t> rank = KeyRanks(keys_);
      order_.resize(items_.size());
      for (size_t i = 0; i < items_.size(); ++i) {
        order_[i] = {items_[i].time, uint64_t{rank[items_[i].key]} << 32 | i};
      }
      if (!std::is_sorted(order_.begin(), order_.end())) std::sort(order_.begin(), order_.end());
      Batch b = Batch::Empty(out_schema_);
      Arena* arena = b.NewArena();
      for (const auto& [t, rank_index] : order_) {
        const Item& item = items_[static_cast<uint32_t>(rank_index)];
        const Row* version = item.version;
        size_t before = b.num_rows();
        if (version) Append(*item.left, version, &b, arena);
        if (version && c_.residual) {
          EDDY_ASSIGN_OR_RETURN(bool ok, Passes(b, before));
          if (!ok) {
            Truncate(&b, before);
            version = nullptr;
          }
        }
        if (!version && c_.left_outer) Append(*item.left, nullptr, &b, arena);
      }
      if (b.num_rows() > 0) {
        c_.metrics->rows_out += static_cast<int64_t>(b.num_rows());
        EDDY_RETURN_IF_ERROR(out->Emit(std::move(b)));
      }
    }
    // 3. Each due key drops its joined rows and the versions older than the newest one at or
    // before the watermark (every left row still to come or still waiting is after it), then
    // moves its timer, or goes when nothing is left (a key of the left side only).
    for (size_t i = 0; i < due_.size(); ++i) {
      auto [kg, ks] = due_[i];
      ks->due = false;
      ks->pending.erase(ks->pending.begin(), ks->pending.upper_bound(watermark));
      auto v = ks->versions.upper_bound(watermark);
      if (v != ks->versions.begin()) ks->versions.erase(ks->versions.begin(), std::prev(v));
      if (ks->versions.empty() && ks->pending.empty()) {
        SetTimer(kg, keys_[i], ks, INT64_MAX);
        state_.Erase(kg, keys_[i]);  // erasing leaves the other keys where they are
      } else {
        SetTimer(kg, keys_[i], ks, NextTimer(*ks));
      }
    }
    return out->EmitWatermark(watermark);
  }

  // Keyed state, section kFirstOperatorSection of each key group: the KeyedMapState snapshot of
  // the key group (per key, its waiting left rows by time and its versions); the timers are in
  // the timer section. LEFT join rows with a NULL key wait under their own key, in the key group
  // they were routed by, so rescaling moves them like any other row. No operator state.
  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    SnapshotKeyedState(state_, kFirstOperatorSection, out);
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    EDDY_RETURN_IF_ERROR(RestoreKeyedState(in, kFirstOperatorSection, &state_));
    for (KeyGroup kg : in.KeyGroups()) {
      state_.ForEachInKeyGroup(kg, [&](KeyGroup g, std::string_view key, KeyState& ks) {
        SetTimer(g, key, &ks, NextTimer(ks));
      });
    }
    return absl::OkStatus();
  }

  // The hash maps, and the waiting rows and versions (walked: O(rows)), each in a tree node.
  size_t StateBytes() const override {
    constexpr size_t kNode = 32 + sizeof(int64_t) + sizeof(Row);
    size_t n = state_.ApproximateMemoryBytes();
    state_.ForEach([&](KeyGroup, std::string_view, const KeyState& ks) {
      for (const auto& [t, row] : ks.pending) n += RowBytes(row, kNode);
      for (const auto& [t, row] : ks.versions) n += RowBytes(row, kNode);
    });
    return n;
  }

 private:
  // When the key must be looked at again: its first waiting left row's time, or its second
  // version's time, whichever comes first (INT64_MAX: never).
  static int64_t NextTimer(const KeyState& ks) {
    int64_t t = ks.pending.empty() ? INT64_MAX : ks.pending.begin()->first;
    if (ks.versions.size() >= 2) t = std::min(t, std::next(ks.versions.begin())->first);
    return t;
  }
  // Moves the timer of key `key` to `time` (INT64_MAX: none).
  void SetTimer(KeyGroup kg, std::string_view key, KeyState* ks, int64_t time) {
    if (ks->timer == time) return;
    if (ks->timer != INT64_MAX) timers_->DeleteEventTimer(kg, key, 0, ks->timer);
    if (time != INT64_MAX) timers_->RegisterEventTimer(kg, key, 0, time);
    ks->timer = time;
  }

  void Append(const Row& left, const Row* right, Batch* b, Arena* arena) {
    size_t c = 0;
    for (const auto& v : left) v.AppendTo(&b->columns[c++], arena);
    for (size_t i = 0; i < c_.right_types.size(); ++i, ++c) {
      if (right) {
        (*right)[i].AppendTo(&b->columns[c], arena);
      } else {
        b->columns[c].AppendNull();
      }
    }
    b->kinds.push_back(RowKind::kInsert);
  }

  static void Truncate(Batch* b, size_t rows) {
    for (auto& c : b->columns) c.Resize(rows);
    b->kinds.resize(rows);
  }

  // Whether row `i` of `b` passes the extra ON conditions.
  absl::StatusOr<bool> Passes(const Batch& b, size_t i) {
    Batch one = b.Gather({static_cast<uint32_t>(i)});
    Column f(DataType::Boolean());
    EvalContext ctx;
    ctx.now_micros = NowMicros();
    ctx.arena = one.NewArena();
    EDDY_RETURN_IF_ERROR(c_.residual->Eval(one, &ctx, &f));
    return f.valid[0] && f.i64[0];
  }

  TemporalJoinConfig c_;
  Schema out_schema_;
  bool hash_keys_;               // key groups from the key values (else all in one key group)
  std::vector<Column> no_keys_;  // hashed when !hash_keys_
  KeyGroupAssigner key_groups_;
  // Keyed state: key bytes → waiting left rows and versions.
  state::KeyedMapState<KeyState> state_;
  TimerService* timers_ = nullptr;
  // ProcessWatermark's work: the due keys (key group, state; key bytes in keys_), and their left
  // rows to join (time, key index, row, version or null) in the order of emission (order_).
  struct Item {
    int64_t time;
    uint32_t key;
    const Row* left;
    const Row* version;
  };
  std::vector<std::pair<KeyGroup, KeyState*>> due_;
  std::vector<std::string> keys_;
  std::vector<Item> items_;
  std::vector<std::pair<int64_t, uint64_t>> order_;
};

}  // namespace

std::unique_ptr<TwoInputOperator> MakeTemporalJoin(TemporalJoinConfig config) {
  return std::make_unique<TemporalJoin>(std::move(config));
}

}  // namespace eddy::runtime
