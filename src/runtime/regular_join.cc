#include "runtime/regular_join.h"

#include <fmt/format.h>

#include <algorithm>

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

struct StoredRow {
  Row values;
  int64_t matches = 0;    // joined partners (outer joins: NULL row emitted while 0)
  int64_t stored_ms = 0;  // processing time it arrived (ms; 'table.exec.state.ttl')
};

// The rows of one join key, of both sides. A key with a NULL part (kept by an outer side only)
// has its own entry, under the key group its row was routed by, and never matches.
struct KeyState {
  std::vector<StoredRow> side[2];
  // Time (ms) of this key's registered 'table.exec.state.ttl' timer, INT64_MAX when none. Not
  // snapshotted: restore registers the timer again from the rows' stored times.
  int64_t ttl_timer = INT64_MAX;
};

}  // namespace
}  // namespace eddy::runtime

namespace eddy::state {

// Snapshot encoding: values (vector<Value>), int64 matches, int64 stored_ms.
template <>
struct StateSerializer<runtime::StoredRow> {
  static void Write(const runtime::StoredRow& r, StateWriter* w) {
    StateSerializer<runtime::Row>::Write(r.values, w);
    w->PutInt64(r.matches);
    w->PutInt64(r.stored_ms);
  }
  static absl::Status Read(StateReader* r, runtime::StoredRow* v) {
    EDDY_RETURN_IF_ERROR(StateSerializer<runtime::Row>::Read(r, &v->values));
    EDDY_RETURN_IF_ERROR(r->GetInt64(&v->matches));
    if (v->matches < 0) return StateReader::Corrupt("negative match count");
    return r->GetInt64(&v->stored_ms);
  }
};

// Snapshot encoding: the left rows, then the right rows (each a vector of StoredRow).
template <>
struct StateSerializer<runtime::KeyState> {
  static void Write(const runtime::KeyState& k, StateWriter* w) {
    for (const auto& side : k.side)
      StateSerializer<std::vector<runtime::StoredRow>>::Write(side, w);
  }
  static absl::Status Read(StateReader* r, runtime::KeyState* k) {
    for (auto& side : k->side) {
      EDDY_RETURN_IF_ERROR(StateSerializer<std::vector<runtime::StoredRow>>::Read(r, &side));
    }
    k->ttl_timer = INT64_MAX;
    return absl::OkStatus();
  }
};

}  // namespace eddy::state

namespace eddy::runtime {

namespace {

class RegularJoin final : public TwoInputOperator {
 public:
  explicit RegularJoin(RegularJoinConfig c)
      : c_(std::move(c)),
        hash_keys_(JoinKeysHashAlike(c_.left_keys, c_.right_keys)),
        key_groups_(c_.subtask, c_.name),
        state_(key_groups_.range()) {
    for (const auto& t : c_.left_types) pair_schema_.fields.push_back({"", t});
    for (const auto& t : c_.right_types) pair_schema_.fields.push_back({"", t});
  }

  std::string uid() const override { return c_.name; }

  absl::Status Open(OperatorContext& ctx) override {
    timers_ = ctx.timers;
    // The TTL clock: the configured one (tests), else the runtime's (wall clock), the clock
    // its processing-time timers fire on.
    if (!c_.clock_ms && ctx.clock_ms) ttl_ = StateTtl(c_.state_ttl_ms, ctx.clock_ms);
    return TwoInputOperator::Open(ctx);
  }

  absl::Status ProcessBatch1(Batch& b, const RowWatermarks& wm, Output* out) override {
    return ProcessInput(0, b, wm, out);
  }
  absl::Status ProcessBatch2(Batch& b, const RowWatermarks& wm, Output* out) override {
    return ProcessInput(1, b, wm, out);
  }

  absl::Status ProcessInput(int input, Batch& in, const RowWatermarks&, Output* out) {
    size_t n = in.num_rows();
    EvalContext ctx;
    ctx.now_micros = NowMicros();
    Batch scratch;
    ctx.arena = scratch.NewArena();
    const auto& key_exprs = input == 0 ? c_.left_keys : c_.right_keys;
    EDDY_ASSIGN_OR_RETURN(std::vector<Column> keys, EvalColumns(key_exprs, in, &ctx));
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(hash_keys_ ? keys : no_keys_, n));
    size_t ncols = input == 0 ? c_.left_types.size() : c_.right_types.size();
    out_ = Batch::Empty(pair_schema_);
    arena_ = out_.NewArena();
    bool self_outer = input == 0 ? c_.left_outer : c_.right_outer;
    bool other_outer = input == 0 ? c_.right_outer : c_.left_outer;
    // Stored with every row, also without a TTL, so that a job restored with
    // 'table.exec.state.ttl' set ages rows from their arrival.
    int64_t now_ms = ttl_.Now();
    for (size_t r = 0; r < n; ++r) {
      c_.metrics->rows_in++;
      Row row;
      row.reserve(ncols);
      for (size_t c = 0; c < ncols; ++c) row.push_back(Value::FromColumn(in.columns[c], r));
      std::string kb;
      bool null_key = false;
      for (auto& k : keys) {
        Value v = Value::FromColumn(k, r);
        null_key |= v.is_null;
        AppendKeyBytes(v, &kb);
      }
      bool acc = IsAccumulate(in.kinds[r]);
      // A NULL key matches nothing: only an outer side shows (and so keeps) such a row.
      if (null_key && !self_outer) continue;
      // NULL keys never match; an outer side still shows the row with NULLs (and keeps it under
      // its key, in the key group it was routed by). A retraction only looks its key up: a key
      // never seen has nothing to retract.
      KeyGroup kg = key_groups_[r];
      KeyState* found = acc ? state_.FindOrInsert(kg, kb).first : state_.Find(kg, kb);
      if (!found) continue;
      KeyState& ks = *found;
      auto& mine = ks.side[input];
      auto& other = null_key ? empty_ : ks.side[1 - input];
      // 'table.exec.state.ttl': rows past their TTL join nothing, even before their key's timer
      // drops them (Flink's NeverReturnExpired).
      auto expired = [&](const StoredRow& o) {
        return ttl_.enabled() && ttl_.Expired(o.stored_ms, now_ms);
      };
      if (acc) {
        StoredRow sr{row, 0, now_ms};
        for (auto& o : other) {
          if (expired(o)) continue;
          EDDY_ASSIGN_OR_RETURN(bool ok, Matches(input, row, o.values));
          if (!ok) continue;
          if (other_outer && o.matches == 0) Emit(1 - input, &o.values, nullptr, RowKind::kDelete);
          ++o.matches;
          ++sr.matches;
          Emit(input, &row, &o.values, RowKind::kInsert);
        }
        if (self_outer && sr.matches == 0) Emit(input, &row, nullptr, RowKind::kInsert);
        mine.push_back(std::move(sr));
        if (ttl_.enabled() && now_ms + ttl_.ttl_ms() < ks.ttl_timer) {
          SetTtlTimer(kg, kb, &ks, now_ms + ttl_.ttl_ms());
        }
      } else {
        auto it = std::find_if(mine.begin(), mine.end(),
                               [&](const StoredRow& s) { return SameValues(s.values, row); });
        if (it == mine.end()) continue;  // retraction of a row never seen (e.g. filtered)
        if (expired(*it)) {              // as if its timer had dropped it: nothing to retract
          mine.erase(it);
          if (ks.side[0].empty() && ks.side[1].empty()) DropKey(kg, kb, &ks);
          continue;
        }
        for (auto& o : other) {
          if (expired(o)) continue;
          EDDY_ASSIGN_OR_RETURN(bool ok, Matches(input, row, o.values));
          if (!ok) continue;
          Emit(input, &row, &o.values, RowKind::kDelete);
          --o.matches;
          if (other_outer && o.matches == 0) Emit(1 - input, &o.values, nullptr, RowKind::kInsert);
        }
        if (self_outer && it->matches == 0) Emit(input, &row, nullptr, RowKind::kDelete);
        mine.erase(it);
        if (ks.side[0].empty() && ks.side[1].empty()) DropKey(kg, kb, &ks);  // last row retracted
      }
    }
    if (out_.num_rows() == 0) return absl::OkStatus();
    c_.metrics->rows_out += static_cast<int64_t>(out_.num_rows());
    return out->Emit(std::move(out_));
  }

  // The result has no time attribute (it is updating); watermarks pass through unchanged.
  absl::Status ProcessWatermark(int64_t w, Output* out) override { return out->EmitWatermark(w); }

  // 'table.exec.state.ttl': each key has one processing-time timer, at the time its oldest row
  // expires. When it fires, the key's expired rows are dropped (without retractions, as Flink's
  // join state TTL does), then the timer moves to the next oldest row, or the key goes.
  absl::Status OnProcessingTime(int64_t now_ms, Output*) override {
    Timer t;
    while (timers_->PopProcessingTimer(now_ms, &t)) {
      KeyState* ks = state_.Find(t.kg, t.key);
      if (!ks) continue;
      if (ks->ttl_timer == t.time) ks->ttl_timer = INT64_MAX;  // this one fired
      if (!ttl_.enabled()) continue;  // restored from a job with a TTL, which this one has not
      for (auto& side : ks->side) {
        std::erase_if(side, [&](const StoredRow& r) { return ttl_.Expired(r.stored_ms, now_ms); });
      }
      if (ks->side[0].empty() && ks->side[1].empty()) {
        c_.metrics->expired_keys++;
        DropKey(t.kg, t.key, ks);
        continue;
      }
      SetTtlTimer(t.kg, t.key, ks, NextExpiry(*ks));
    }
    return absl::OkStatus();
  }

  // Keyed state, section kFirstOperatorSection of each key group: the KeyedMapState snapshot of
  // the key group (per key: the left rows, then the right rows, each with its values, match
  // count and stored time). Rows with a NULL key part are in their key group like any other, so
  // rescaling moves them with it: no row is lost or duplicated. The TTL timers are in the timer
  // section; restore registers them again from the stored times (so a restore that enables,
  // changes or disables the TTL ages the rows by it).
  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    SnapshotKeyedState(state_, kFirstOperatorSection, out);
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    EDDY_RETURN_IF_ERROR(RestoreKeyedState(in, kFirstOperatorSection, &state_));
    if (!ttl_.enabled()) return absl::OkStatus();
    for (KeyGroup kg : in.KeyGroups()) {
      state_.ForEachInKeyGroup(kg, [&](KeyGroup g, std::string_view key, KeyState& ks) {
        SetTtlTimer(g, key, &ks, NextExpiry(ks));
      });
    }
    return absl::OkStatus();
  }

  // The hash maps, and the stored rows (walked: O(rows)).
  size_t StateBytes() const override { return SideRowsStateBytes(state_, sizeof(StoredRow)); }
  size_t StateKeys() const override { return state_.size(); }

 private:
  // When the oldest row of `ks` expires (ms).
  int64_t NextExpiry(const KeyState& ks) const {
    int64_t oldest = INT64_MAX;
    for (const auto& side : ks.side) {
      for (const auto& r : side) oldest = std::min(oldest, r.stored_ms);
    }
    return oldest == INT64_MAX ? INT64_MAX : SaturatingAdd(oldest, ttl_.ttl_ms());
  }

  // Moves the TTL timer of key `key` to `time_ms` (INT64_MAX: none).
  void SetTtlTimer(KeyGroup kg, std::string_view key, KeyState* ks, int64_t time_ms) {
    if (ks->ttl_timer == time_ms) return;
    if (ks->ttl_timer != INT64_MAX) timers_->DeleteProcessingTimer(kg, key, 0, ks->ttl_timer);
    if (time_ms != INT64_MAX) timers_->RegisterProcessingTimer(kg, key, 0, time_ms);
    ks->ttl_timer = time_ms;
  }

  // Removes a key without rows, and its TTL timer. `ks` is invalid afterwards.
  void DropKey(KeyGroup kg, std::string_view key, KeyState* ks) {
    SetTtlTimer(kg, key, ks, INT64_MAX);
    state_.Erase(kg, key);
  }

  // Appends (left, right) to the output; `other` null pads that side with NULLs.
  void Emit(int side, const Row* row, const Row* other, RowKind kind) {
    const Row* l = side == 0 ? row : other;
    const Row* r = side == 0 ? other : row;
    size_t c = 0;
    for (size_t i = 0; i < c_.left_types.size(); ++i, ++c) {
      if (l) {
        (*l)[i].AppendTo(&out_.columns[c], arena_);
      } else {
        out_.columns[c].AppendNull();
      }
    }
    for (size_t i = 0; i < c_.right_types.size(); ++i, ++c) {
      if (r) {
        (*r)[i].AppendTo(&out_.columns[c], arena_);
      } else {
        out_.columns[c].AppendNull();
      }
    }
    out_.kinds.push_back(kind);
  }

  // Whether the pair passes the extra ON conditions.
  absl::StatusOr<bool> Matches(int side, const Row& row, const Row& other) {
    if (!c_.residual) return true;
    Batch b = Batch::Empty(pair_schema_);
    Arena* arena = b.NewArena();
    const Row& l = side == 0 ? row : other;
    const Row& r = side == 0 ? other : row;
    size_t c = 0;
    for (const auto& v : l) v.AppendTo(&b.columns[c++], arena);
    for (const auto& v : r) v.AppendTo(&b.columns[c++], arena);
    b.kinds.push_back(RowKind::kInsert);
    Column f(DataType::Boolean());
    EvalContext ctx;
    ctx.now_micros = NowMicros();
    ctx.arena = arena;
    EDDY_RETURN_IF_ERROR(c_.residual->Eval(b, &ctx, &f));
    return f.valid[0] && f.i64[0];
  }

  RegularJoinConfig c_;
  Schema pair_schema_;
  bool hash_keys_;               // key groups from the key values (else all in one key group)
  std::vector<Column> no_keys_;  // hashed when !hash_keys_
  KeyGroupAssigner key_groups_;
  state::KeyedMapState<KeyState> state_;  // key bytes → rows of both sides
  TimerService* timers_ = nullptr;
  StateTtl ttl_{c_.state_ttl_ms, c_.clock_ms};
  std::vector<StoredRow> empty_;
  Batch out_;
  Arena* arena_ = nullptr;
};

}  // namespace

std::unique_ptr<TwoInputOperator> MakeRegularJoin(RegularJoinConfig config) {
  return std::make_unique<RegularJoin>(std::move(config));
}

}  // namespace eddy::runtime
