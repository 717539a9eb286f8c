#include "runtime/interval_join.h"

#include <fmt/format.h>

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
};

struct KeyState {
  std::vector<StoredRow> side[2];  // 0 = left, 1 = right
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

class IntervalJoin final : public Operator {
 public:
  explicit IntervalJoin(IntervalJoinConfig c)
      : c_(std::move(c)),
        hash_keys_(JoinKeysHashAlike(c_.left_keys, c_.right_keys)),
        key_groups_(c_.subtask, c_.name),
        state_(key_groups_.range()) {}

  absl::Status ProcessBatch(Batch& b, const RowWatermarks& wm, Output* out) override {
    return ProcessBatchFrom(0, b, wm, out);
  }

  absl::Status ProcessBatchFrom(int input, Batch& in, const RowWatermarks& wm,
                                Output* out) override {
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
    pairs_left_.clear();
    pairs_right_.clear();
    for (size_t r = 0; r < n; ++r) {
      c_.metrics->rows_in++;
      if (ts.IsNull(r)) continue;
      int64_t t = ts.i64[r];
      if (t <= wm.At(r)) {
        c_.metrics->late_rows++;  // behind the watermark: dropped, as Flink does
        continue;
      }
      bool has_null = false;
      std::string kb = KeyBytes(keys, r, &has_null);
      if (has_null) continue;  // NULL keys never match
      KeyState& ks = *state_.FindOrInsert(key_groups_[r], kb).first;
      StoredRow row{t, in.kinds[r], {}};
      row.values.reserve(ncols);
      for (int c = 0; c < ncols; ++c) row.values.push_back(Value::FromColumn(in.columns[c], r));
      // Match against the other side's rows of this key within the time bounds.
      for (const StoredRow& o : ks.side[1 - input]) {
        int64_t diff = input == 0 ? t - o.time : o.time - t;  // l.ts - r.ts
        if (diff < c_.lower || diff > c_.upper) continue;
        if (input == 0) {
          pairs_left_.push_back(row.values);
          pairs_right_.push_back(&o.values);
        } else {
          pairs_left_.push_back(o.values);
          pairs_right_.push_back(nullptr);
          pending_right_.push_back(row.values);
        }
      }
      ks.side[input].push_back(std::move(row));
      if (pairs_left_.size() >= 4096) EDDY_RETURN_IF_ERROR(Flush(out));
    }
    return Flush(out);
  }

  absl::Status ProcessWatermark(int64_t watermark, Output* out) override {
    // A left row can still match right rows with r.ts in [l.ts - upper, l.ts - lower]; every
    // future right row has r.ts > watermark. Likewise for right rows.
    state_.EraseIf([&](KeyGroup, std::string_view, KeyState& ks) {
      auto& l = ks.side[0];
      auto& r = ks.side[1];
      std::erase_if(l, [&](const StoredRow& x) { return x.time - c_.lower <= watermark; });
      std::erase_if(r, [&](const StoredRow& x) { return x.time + c_.upper <= watermark; });
      return l.empty() && r.empty();
    });
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
  // Emits the collected pairs (after the extra ON conditions).
  absl::Status Flush(Output* out) {
    if (pairs_left_.empty()) return absl::OkStatus();
    Batch b;
    Arena* arena = b.NewArena();
    size_t pr = 0;
    for (size_t i = 0; i < pairs_left_.size(); ++i) {
      const std::vector<Value>& lv = pairs_left_[i];
      const std::vector<Value>& rv = pairs_right_[i] ? *pairs_right_[i] : pending_right_[pr++];
      if (b.columns.empty()) {
        for (const auto& v : lv) b.columns.emplace_back(v.type);
        for (const auto& v : rv) b.columns.emplace_back(v.type);
      }
      size_t c = 0;
      for (const auto& v : lv) v.AppendTo(&b.columns[c++], arena);
      for (const auto& v : rv) v.AppendTo(&b.columns[c++], arena);
      b.kinds.push_back(RowKind::kInsert);
    }
    pairs_left_.clear();
    pairs_right_.clear();
    pending_right_.clear();
    if (c_.residual) {
      Column f(DataType::Boolean());
      EvalContext ctx;
      ctx.now_micros = NowMicros();
      ctx.arena = arena;
      EDDY_RETURN_IF_ERROR(c_.residual->Eval(b, &ctx, &f));
      std::vector<uint32_t> keep;
      for (size_t i = 0; i < b.num_rows(); ++i) {
        if (f.valid[i] && f.i64[i]) keep.push_back(static_cast<uint32_t>(i));
      }
      if (keep.size() != b.num_rows()) b = b.Gather(keep);
    }
    c_.metrics->rows_out += static_cast<int64_t>(b.num_rows());
    return out->Emit(std::move(b));
  }

  IntervalJoinConfig c_;
  bool hash_keys_;               // key groups from the key values (else all in one key group)
  std::vector<Column> no_keys_;  // hashed when !hash_keys_
  KeyGroupAssigner key_groups_;
  state::KeyedMapState<KeyState> state_;  // key bytes → rows of both sides
  int64_t emitted_ = INT64_MIN;
  // Pairs found in the current batch: the left values (copied), the right values (a stored row
  // of the right side, or null for the arriving right row, whose values are in pending_right_).
  std::vector<std::vector<Value>> pairs_left_;
  std::vector<const std::vector<Value>*> pairs_right_;
  std::vector<std::vector<Value>> pending_right_;
};

}  // namespace

std::unique_ptr<Operator> MakeIntervalJoin(IntervalJoinConfig config) {
  return std::make_unique<IntervalJoin>(std::move(config));
}

}  // namespace eddy::runtime
