#include "runtime/regular_join.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/status.h"
#include "runtime/calc.h"
#include "runtime/key_groups.h"
#include "state/keyed_map_state.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

using Row = std::vector<Value>;

struct StoredRow {
  Row values;
  int64_t matches = 0;    // joined partners (outer joins: NULL row emitted while 0)
  int64_t stored_ms = 0;  // processing time it arrived (ms; 'table.exec.state.ttl')
};

struct KeyState {
  std::vector<StoredRow> side[2];
};

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
    int64_t now_ms = 0;
    if (ttl_.enabled()) {
      now_ms = ttl_.Now();
      if (ttl_.SweepDue(now_ms)) ExpireState(now_ms);
    }
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
      // NULL keys never match; an outer side still shows the row with NULLs. A retraction only
      // looks its key up: a key never seen has nothing to retract.
      KeyState* found = null_key ? &null_rows_
                        : acc    ? state_.FindOrInsert(key_groups_[r], kb).first
                                 : state_.Find(key_groups_[r], kb);
      if (!found) continue;
      KeyState& ks = *found;
      auto& mine = ks.side[input];
      auto& other = null_key ? empty_ : ks.side[1 - input];
      // 'table.exec.state.ttl': rows past their TTL join nothing, even before the sweep drops
      // them (Flink's NeverReturnExpired).
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
      } else {
        auto it = std::find_if(mine.begin(), mine.end(),
                               [&](const StoredRow& s) { return SameValues(s.values, row); });
        if (it == mine.end()) continue;  // retraction of a row never seen (e.g. filtered)
        if (expired(*it)) {              // as if the sweep had dropped it: nothing to retract
          mine.erase(it);
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
        if (!null_key && ks.side[0].empty() && ks.side[1].empty()) {
          state_.Erase(key_groups_[r], kb);  // the key's last row retracted
        }
      }
    }
    if (out_.num_rows() == 0) return absl::OkStatus();
    c_.metrics->rows_out += static_cast<int64_t>(out_.num_rows());
    return out->Emit(std::move(out_));
  }

  // The result has no time attribute (it is updating); watermarks pass through unchanged.
  absl::Status ProcessWatermark(int64_t w, Output* out) override { return out->EmitWatermark(w); }

 private:
  // 'table.exec.state.ttl': drops rows stored longer ago than the TTL, and keys left without
  // rows; walks all state, as Top-N's sweep does (at most once per StateTtl cadence).
  void ExpireState(int64_t now) {
    auto expired = [&](const StoredRow& r) { return ttl_.Expired(r.stored_ms, now); };
    auto sweep = [&](KeyState& ks) {
      for (auto& side : ks.side)
        side.erase(std::remove_if(side.begin(), side.end(), expired), side.end());
      return ks.side[0].empty() && ks.side[1].empty();
    };
    sweep(null_rows_);
    state_.EraseIf([&](KeyGroup, std::string_view, KeyState& ks) {
      if (!sweep(ks)) return false;
      c_.metrics->expired_keys++;
      return true;
    });
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
  // Rows with a NULL key part (never matched; outer sides only). Operator-level, not keyed.
  KeyState null_rows_;
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
