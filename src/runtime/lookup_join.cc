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

// The bytes of key `i` (one tag byte per part, then its value): equal keys give equal bytes, for
// cache lookups.
void KeyBytes(const std::vector<Column>& keys, size_t i, std::string* out) {
  out->clear();
  for (const Column& c : keys) {
    switch (c.type.physical()) {
      case Physical::kInt64:
        out->push_back('i');
        out->append(reinterpret_cast<const char*>(&c.i64[i]), sizeof(int64_t));
        break;
      case Physical::kDouble: {
        double d = c.f64[i] == 0 ? 0.0 : c.f64[i];  // -0.0 equals 0.0
        out->push_back('d');
        out->append(reinterpret_cast<const char*>(&d), sizeof(double));
        break;
      }
      case Physical::kString: {
        uint64_t len = c.str[i].size();
        out->push_back('s');
        out->append(reinterpret_cast<const char*>(&len), sizeof len);
        out->append(c.str[i]);
        break;
      }
    }
  }
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
  LookupJoin(LookupJoinConfig c, std::unique_ptr<LookupFunction> fn)
      : c_(std::move(c)), fn_(std::move(fn)), table_(c_.table) {}

  absl::Status Open(OperatorContext& ctx) override {
    EDDY_RETURN_IF_ERROR(OneInputOperator::Open(ctx));
    clock_ms_ = ctx.clock_ms;
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& in, const RowWatermarks& wm, Output* out) override {
    size_t n = in.num_rows();
    EvalContext ctx;
    ctx.now_micros = NowMicros();
    ctx.current_watermark = wm.base;
    Batch scratch;
    ctx.arena = scratch.NewArena();
    EDDY_ASSIGN_OR_RETURN(std::vector<Column> keys, EvalColumns(c_.left_keys, in, &ctx));
    if (fn_) EDDY_RETURN_IF_ERROR(LookUp(keys, n));
    HashKeys(keys, n, &hashes_);
    // Candidate pairs (left row, table row or -1), in left-row order.
    lsel_.clear();
    rsel_.clear();
    const LookupTable& t = *table_;
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
  // A cached answer: rows `rows` of `from` have the key.
  struct CacheEntry {
    std::shared_ptr<const LookupTable> from;
    std::vector<uint32_t> rows;
    int64_t loaded_ms = 0;
    std::list<std::string>::iterator lru;  // position in lru_ (front: most recently used)
  };

  int64_t Now() const {
    if (clock_ms_) return clock_ms_();
    return NowMicros() / 1000;
  }

  // Sets table_ to the rows of the table that have one of the keys of `keys` (n rows): cached
  // answers, and one LookupFunction call for the keys the cache does not hold.
  absl::Status LookUp(const std::vector<Column>& keys, size_t n) {
    const LookupCacheConfig& cc = c_.cache;
    const int64_t now = Now();
    absl::flat_hash_map<std::string, bool> seen;
    // Copies: entries may be evicted below.
    std::vector<std::pair<std::shared_ptr<const LookupTable>, std::vector<uint32_t>>> hits;
    std::vector<uint32_t> miss_rows;
    std::vector<std::string> miss_keys;
    std::string kb;
    for (size_t i = 0; i < n; ++i) {
      if (AnyNull(keys, i)) continue;
      KeyBytes(keys, i, &kb);
      if (!seen.emplace(kb, true).second) continue;
      if (cc.max_rows > 0) {
        auto it = cache_.find(kb);
        if (it != cache_.end() && now - it->second.loaded_ms < cc.ttl_ms) {
          lru_.splice(lru_.begin(), lru_, it->second.lru);
          hits.emplace_back(it->second.from, it->second.rows);
          continue;
        }
        if (it != cache_.end()) {
          lru_.erase(it->second.lru);
          cache_.erase(it);
        }
      }
      miss_rows.push_back(static_cast<uint32_t>(i));
      miss_keys.push_back(kb);
    }
    std::shared_ptr<const LookupTable> fetched;
    if (!miss_rows.empty()) {
      std::vector<Column> mk;
      for (const Column& c : keys) mk.push_back(c.Gather(miss_rows));
      EDDY_ASSIGN_OR_RETURN(Batch rows, fn_->Lookup(mk, miss_rows.size()));
      if (rows.columns.size() != c_.table_schema.fields.size()) {
        return absl::InternalError("lookup function returned rows of another shape");
      }
      EDDY_ASSIGN_OR_RETURN(fetched, LookupTable::Build(std::move(rows), c_.right_keys));
      if (cc.max_rows > 0) {
        absl::flat_hash_map<std::string, std::vector<uint32_t>> by_key;
        for (size_t r = 0; r < fetched->rows.num_rows(); ++r) {
          if (AnyNull(fetched->keys, r)) continue;
          KeyBytes(fetched->keys, r, &kb);
          by_key[kb].push_back(static_cast<uint32_t>(r));
        }
        for (std::string& k : miss_keys) {
          auto it = by_key.find(k);
          if (it == by_key.end() && !cc.cache_missing) continue;
          lru_.push_front(k);
          CacheEntry& e = cache_[k];
          e.from = fetched;
          if (it != by_key.end()) e.rows = std::move(it->second);
          e.loaded_ms = now;
          e.lru = lru_.begin();
          while (static_cast<int64_t>(cache_.size()) > cc.max_rows) {
            cache_.erase(lru_.back());
            lru_.pop_back();
          }
        }
      }
    }
    if (hits.empty() && fetched) {
      table_ = fetched;
      return absl::OkStatus();
    }
    // Cached rows (and fetched ones) in one table for this batch.
    Batch all = Batch::Empty(c_.table_schema);
    absl::flat_hash_map<const LookupTable*, bool> added;
    auto add = [&](const LookupTable& t, const std::vector<uint32_t>* rows) {
      if (added.emplace(&t, true).second) {
        for (const auto& a : t.rows.arenas) all.arenas.push_back(a);
      }
      size_t m = rows ? rows->size() : t.rows.num_rows();
      for (size_t j = 0; j < m; ++j) {
        size_t r = rows ? (*rows)[j] : j;
        for (size_t c = 0; c < all.columns.size(); ++c)
          all.columns[c].AppendFrom(t.rows.columns[c], r);
        all.kinds.push_back(RowKind::kInsert);
      }
    };
    for (const auto& [from, rows] : hits) add(*from, &rows);
    if (fetched) add(*fetched, nullptr);
    EDDY_ASSIGN_OR_RETURN(table_, LookupTable::Build(std::move(all), c_.right_keys));
    return absl::OkStatus();
  }

  // The output rows for the pairs (lsel_, rsel_).
  Batch Assemble(const Batch& in) {
    const LookupTable& t = *table_;
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
  std::unique_ptr<LookupFunction> fn_;        // reads by key, or null (the table is held whole)
  std::shared_ptr<const LookupTable> table_;  // the table, or this batch's rows of it
  std::function<int64_t()> clock_ms_;
  absl::flat_hash_map<std::string, CacheEntry> cache_;
  std::list<std::string> lru_;  // cached keys, most recently used first
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

absl::StatusOr<std::unique_ptr<OneInputOperator>> MakeLookupJoin(LookupJoinConfig config,
                                                                 const SubtaskInfo& info) {
  std::unique_ptr<LookupFunction> fn;
  if (!config.table) {
    if (!config.function) return absl::InternalError("lookup join without a table or function");
    EDDY_ASSIGN_OR_RETURN(fn, config.function(info));
  }
  return std::unique_ptr<OneInputOperator>(new LookupJoin(std::move(config), std::move(fn)));
}

}  // namespace eddy::runtime
