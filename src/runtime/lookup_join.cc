#include "runtime/lookup_join.h"

#include "base/status.h"
#include "runtime/calc.h"

namespace eddy::runtime {

namespace {

bool SameKey(const std::vector<Column>& a, size_t i, const std::vector<Column>& b, size_t j) {
  for (size_t k = 0; k < a.size(); ++k) {
    const Column& x = a[k];
    const Column& y = b[k];
    if (x.IsNull(i) || y.IsNull(j)) return false;
    switch (x.type.physical()) {
      case Physical::kInt64:
        if (x.i64[i] != y.i64[j]) return false;
        break;
      case Physical::kDouble:
        if (x.f64[i] != y.f64[j]) return false;
        break;
      case Physical::kString:
        if (x.str[i] != y.str[j]) return false;
        break;
    }
  }
  return true;
}

bool AnyNull(const std::vector<Column>& keys, size_t i) {
  for (const auto& c : keys) {
    if (c.IsNull(i)) return true;
  }
  return false;
}

void HashKeys(std::vector<Column>& keys, size_t rows, std::vector<uint64_t>* out) {
  Batch b;
  b.columns = std::move(keys);
  b.kinds.resize(rows);
  std::vector<int> cols(b.columns.size());
  for (size_t i = 0; i < cols.size(); ++i) cols[i] = static_cast<int>(i);
  out->resize(rows);
  HashRows(b, cols, out->data());
  keys = std::move(b.columns);
}

// Stateless: no uid(), SnapshotState or InitializeState. The table is loaded when the job
// starts and shared read-only; a restored job loads it again (no state to restore), as Flink's
// lookup joins query their table again after a failover.
class LookupJoin final : public OneInputOperator {
 public:
  explicit LookupJoin(LookupJoinConfig c) : c_(std::move(c)) {}

  absl::Status ProcessBatch(Batch& in, const RowWatermarks& wm, Output* out) override {
    size_t n = in.num_rows();
    EvalContext ctx;
    ctx.now_micros = NowMicros();
    ctx.current_watermark = wm.base;
    Batch scratch;
    ctx.arena = scratch.NewArena();
    EDDY_ASSIGN_OR_RETURN(std::vector<Column> keys, EvalColumns(c_.left_keys, in, &ctx));
    HashKeys(keys, n, &hashes_);
    // Candidate pairs (left row, table row or -1), in left-row order.
    lsel_.clear();
    rsel_.clear();
    const LookupTable& t = *c_.table;
    for (size_t i = 0; i < n; ++i) {
      size_t before = lsel_.size();
      if (!AnyNull(keys, i)) {
        auto it = t.index.find(hashes_[i]);
        if (it != t.index.end()) {
          for (uint32_t r : it->second) {
            if (!SameKey(keys, i, t.keys, r)) continue;
            lsel_.push_back(static_cast<uint32_t>(i));
            rsel_.push_back(static_cast<int64_t>(r));
          }
        }
      }
      if (lsel_.size() == before && c_.left_outer && !c_.residual) {
        lsel_.push_back(static_cast<uint32_t>(i));
        rsel_.push_back(-1);
      }
    }
    if (!c_.residual) {
      if (lsel_.empty()) return absl::OkStatus();
      return out->Emit(Assemble(in));
    }
    // Extra ON conditions: keep the pairs that pass; a LEFT join keeps unmatched rows with NULLs
    // (also when no row of the batch had a candidate).
    Column f(DataType::Boolean());
    if (!lsel_.empty()) {
      Batch res = Assemble(in);
      f.Reserve(res.num_rows());
      ctx.arena = res.NewArena();
      EDDY_RETURN_IF_ERROR(c_.residual->Eval(res, &ctx, &f));
    }
    std::vector<uint32_t> keep_l;
    std::vector<int64_t> keep_r;
    size_t p = 0;
    for (size_t i = 0; i < n; ++i) {
      bool matched = false;
      for (; p < lsel_.size() && lsel_[p] == i; ++p) {
        if (f.valid[p] && f.i64[p]) {
          keep_l.push_back(lsel_[p]);
          keep_r.push_back(rsel_[p]);
          matched = true;
        }
      }
      if (!matched && c_.left_outer) {
        keep_l.push_back(static_cast<uint32_t>(i));
        keep_r.push_back(-1);
      }
    }
    if (keep_l.empty()) return absl::OkStatus();
    lsel_ = std::move(keep_l);
    rsel_ = std::move(keep_r);
    return out->Emit(Assemble(in));
  }

 private:
  // The output rows for the pairs (lsel_, rsel_).
  Batch Assemble(const Batch& in) {
    const LookupTable& t = *c_.table;
    Batch res;
    res.arenas = in.arenas;
    for (const auto& a : t.rows.arenas) res.arenas.push_back(a);
    for (int c = 0; c < c_.left_visible; ++c) res.columns.push_back(in.columns[c].Gather(lsel_));
    for (const Column& src : t.rows.columns) {
      Column col(src.type);
      col.Reserve(rsel_.size());
      for (int64_t r : rsel_) {
        if (r < 0) {
          col.AppendNull();
        } else {
          col.AppendFrom(src, static_cast<size_t>(r));
        }
      }
      res.columns.push_back(std::move(col));
    }
    if (c_.wm_col >= 0) res.columns.push_back(in.columns[c_.wm_col].Gather(lsel_));
    res.kinds.reserve(lsel_.size());
    for (uint32_t l : lsel_) res.kinds.push_back(in.kinds[l]);
    return res;
  }

  LookupJoinConfig c_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> lsel_;
  std::vector<int64_t> rsel_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const LookupTable>> LookupTable::Build(
    Batch rows, const std::vector<BoundExprPtr>& key_exprs) {
  auto t = std::make_shared<LookupTable>();
  size_t n = rows.num_rows();
  EvalContext ctx;
  ctx.now_micros = NowMicros();
  ctx.arena = rows.NewArena();
  EDDY_ASSIGN_OR_RETURN(t->keys, EvalColumns(key_exprs, rows, &ctx));
  std::vector<uint64_t> h;
  HashKeys(t->keys, n, &h);
  for (size_t i = 0; i < n; ++i) {
    if (AnyNull(t->keys, i)) continue;
    t->index[h[i]].push_back(static_cast<uint32_t>(i));
  }
  t->rows = std::move(rows);
  return std::shared_ptr<const LookupTable>(std::move(t));
}

std::unique_ptr<OneInputOperator> MakeLookupJoin(LookupJoinConfig config) {
  return std::make_unique<LookupJoin>(std::move(config));
}

}  // namespace eddy::runtime
