#include "runtime/temporal_join.h"

#include <map>
#include <set>

#include "base/status.h"
#include "runtime/calc.h"
#include "runtime/key_groups.h"
#include "state/keyed_map_state.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

using Row = std::vector<Value>;

struct KeyState {
  std::map<std::pair<int64_t, int64_t>, Row> pending;  // left rows by (time, arrival)
  std::map<int64_t, Row> versions;                     // version time → row (last one wins)
};

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
      Row row;
      row.reserve(ncols);
      for (size_t c = 0; c < ncols; ++c) row.push_back(Value::FromColumn(in.columns[c], r));
      if (null_key) {
        if (input == 0 && c_.left_outer) nulls_.emplace(std::make_pair(t, seq_++), std::move(row));
        continue;
      }
      std::unique_ptr<KeyState>& slot = *state_.FindOrInsert(key_groups_[r], kb).first;
      if (!slot) slot = std::make_unique<KeyState>();
      if (input == 0) {
        slot->pending.emplace(std::make_pair(t, seq_++), std::move(row));
        waiting_.insert(slot.get());
      } else {
        slot->versions[t] = std::move(row);
      }
    }
    return absl::OkStatus();
  }

  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    Batch b = Batch::Empty(out_schema_);
    Arena* arena = b.NewArena();
    for (auto it = nulls_.begin(); it != nulls_.end() && it->first.first <= watermark;) {
      Append(it->second, nullptr, &b, arena);
      it = nulls_.erase(it);
    }
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      KeyState& ks = **it;
      while (!ks.pending.empty() && ks.pending.begin()->first.first <= watermark) {
        int64_t t = ks.pending.begin()->first.first;
        const Row& left = ks.pending.begin()->second;
        const Row* version = nullptr;
        auto v = ks.versions.upper_bound(t);  // first version after t
        if (v != ks.versions.begin()) version = &std::prev(v)->second;
        size_t before = b.num_rows();
        if (version) Append(left, version, &b, arena);
        if (version && c_.residual) {
          EDDY_ASSIGN_OR_RETURN(bool ok, Passes(b, before));
          if (!ok) {
            Truncate(&b, before);
            version = nullptr;
          }
        }
        if (!version && c_.left_outer) Append(left, nullptr, &b, arena);
        ks.pending.erase(ks.pending.begin());
      }
      it = ks.pending.empty() ? waiting_.erase(it) : std::next(it);
    }
    // Versions older than the newest one at or before the watermark can no longer apply: every
    // left row still to come is after the watermark.
    state_.EraseIf([&](KeyGroup, std::string_view, const std::unique_ptr<KeyState>& slot) {
      KeyState* ks = slot.get();
      auto v = ks->versions.upper_bound(watermark);
      if (v != ks->versions.begin()) ks->versions.erase(ks->versions.begin(), std::prev(v));
      // A key of the left side only, with nothing waiting: nothing to keep.
      return ks->versions.empty() && ks->pending.empty() && !waiting_.count(ks);
    });
    if (b.num_rows() > 0) {
      c_.metrics->rows_out += static_cast<int64_t>(b.num_rows());
      EDDY_RETURN_IF_ERROR(out->Emit(std::move(b)));
    }
    return out->EmitWatermark(watermark);
  }

 private:
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
  // Keyed state: key bytes → pending left rows and versions (unique_ptr: waiting_ points into it).
  state::KeyedMapState<std::unique_ptr<KeyState>> state_;
  std::set<KeyState*> waiting_;
  // LEFT join rows with a NULL key. Operator-level, not keyed.
  std::map<std::pair<int64_t, int64_t>, Row> nulls_;
  int64_t seq_ = 0;
};

}  // namespace

std::unique_ptr<TwoInputOperator> MakeTemporalJoin(TemporalJoinConfig config) {
  return std::make_unique<TemporalJoin>(std::move(config));
}

}  // namespace eddy::runtime
