#include "runtime/rank.h"

#include <fmt/format.h>

#include "base/status.h"
#include "runtime/key_groups.h"
#include "runtime/timer_service.h"
#include "state/keyed_map_state.h"
#include "state/value_serializer.h"
#include "types/value.h"

namespace eddy::runtime {

namespace {

using Row = std::vector<Value>;

// The state of one PARTITION BY key.
struct RankPartition {
  std::vector<Row> top;  // the current top N in order
  int64_t last_access_ms = 0;
};

}  // namespace

}  // namespace eddy::runtime

namespace eddy::state {

// Snapshot of a Top-N partition: its rows in rank order, then the time it was last updated.
template <>
struct StateSerializer<runtime::RankPartition> {
  static void Write(const runtime::RankPartition& p, StateWriter* w) {
    StateSerializer<std::vector<runtime::Row>>::Write(p.top, w);
    w->PutInt64(p.last_access_ms);
  }
  static absl::Status Read(StateReader* r, runtime::RankPartition* p) {
    if (absl::Status s = StateSerializer<std::vector<runtime::Row>>::Read(r, &p->top); !s.ok()) {
      return s;
    }
    return r->GetInt64(&p->last_access_ms);
  }
};

}  // namespace eddy::state

namespace eddy::runtime {

int CompareRankOrder(const std::vector<Value>& a, const std::vector<Value>& b,
                     const std::vector<std::pair<int, bool>>& order) {
  for (const auto& [c, desc] : order) {
    const Value& x = a[c];
    const Value& y = b[c];
    int cmp;
    if (x.is_null || y.is_null) {
      cmp = x.is_null == y.is_null ? 0 : (x.is_null ? -1 : 1);
    } else {
      switch (x.type.physical()) {
        case Physical::kInt64:
          cmp = x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
          break;
        case Physical::kDouble:
          cmp = x.d < y.d ? -1 : x.d > y.d ? 1 : 0;
          break;
        default:
          cmp = x.s < y.s ? -1 : x.s > y.s ? 1 : 0;
          break;
      }
    }
    if (desc) cmp = -cmp;
    if (cmp != 0) return cmp;
  }
  return 0;
}

namespace {

class Rank final : public OneInputOperator {
 public:
  explicit Rank(RankConfig c)
      : c_(std::move(c)), key_groups_(c_.subtask, c_.name), keys_(key_groups_.range()) {}

  std::string uid() const override { return c_.name; }

  // Section 1 of each key group: the partitions of its keys (KeyedMapState's format).
  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    for (int32_t kg = keys_.range().first().value(); kg <= keys_.range().last().value(); ++kg) {
      if (keys_.size(KeyGroup(kg)) == 0) continue;
      keys_.SnapshotKeyGroup(KeyGroup(kg), out->Section(KeyGroup(kg), kFirstOperatorSection));
    }
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    for (KeyGroup kg : in.KeyGroups()) {
      std::string_view data = in.Section(kg, kFirstOperatorSection);
      if (data.empty()) continue;
      EDDY_RETURN_IF_ERROR(keys_.RestoreKeyGroup(kg, data));
      bool fits = true;
      keys_.ForEachInKeyGroup(kg, [&](KeyGroup, std::string_view, RankPartition& p) {
        fits &= static_cast<int64_t>(p.top.size()) <= c_.limit;
        for (const Row& row : p.top) fits &= row.size() == static_cast<size_t>(c_.input_columns);
      });
      if (!fits) return state::StateReader::Corrupt("Top-N state of another shape");
    }
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& in, const RowWatermarks&, Output* out) override {
    Batch b;
    Arena* arena = b.NewArena();
    int64_t now = ttl_.enabled() ? ttl_.Now() : 0;
    if (ttl_.SweepDue(now)) {
      size_t expired = keys_.EraseIf([&](KeyGroup, std::string_view, const RankPartition& p) {
        return ttl_.Expired(p.last_access_ms, now);
      });
      c_.metrics->expired_keys += static_cast<int64_t>(expired);
    }
    EDDY_RETURN_IF_ERROR(key_groups_.Assign(in, c_.key_columns));
    for (size_t r = 0; r < in.num_rows(); ++r) {
      c_.metrics->rows_in++;
      if (!IsAccumulate(in.kinds[r])) {
        return absl::InvalidArgumentError(
            fmt::format("{}: Top-N takes an insert-only input, but received a retraction ({})",
                        c_.name, RowKindName(in.kinds[r])));
      }
      Row row;
      row.reserve(c_.input_columns);
      for (int c = 0; c < c_.input_columns; ++c) row.push_back(Value::FromColumn(in.columns[c], r));
      std::string key;
      for (int k : c_.key_columns) AppendKeyBytes(row[k], &key);
      RankPartition& part = *keys_.FindOrInsert(key_groups_[r], key).first;
      part.last_access_ms = now;
      std::vector<Row>& top = part.top;
      // Position after every row that is not after it (ties keep arrival order), or, with
      // ties_to_last, before every row that is not before it.
      size_t p = top.size();
      while (p > 0) {
        int cmp = CompareRankOrder(row, top[p - 1], c_.order);
        if (cmp > 0 || (cmp == 0 && !c_.ties_to_last)) break;
        --p;
      }
      if (static_cast<int64_t>(p) >= c_.limit) continue;  // never enters the top N
      size_t old = top.size();
      top.insert(top.begin() + static_cast<std::ptrdiff_t>(p), std::move(row));
      Row evicted;
      if (static_cast<int64_t>(top.size()) > c_.limit) {
        evicted = std::move(top.back());
        top.pop_back();
      }
      // Rank j+1 for j in [p, size): its previous occupant (the row at j before the insertion,
      // now at j+1, or evicted when j is the last rank) is replaced by the row now at j; a rank
      // that had no occupant is inserted.
      for (size_t j = p; j < top.size(); ++j) {
        if (j < old) {
          const Row& prev = j + 1 < top.size() ? top[j + 1] : evicted;
          Append(prev, j + 1, RowKind::kUpdateBefore, &b, arena);
          Append(top[j], j + 1, RowKind::kUpdateAfter, &b, arena);
        } else {
          Append(top[j], j + 1, RowKind::kInsert, &b, arena);
        }
      }
    }
    if (b.num_rows() > 0) {
      c_.metrics->rows_out += static_cast<int64_t>(b.num_rows());
      return out->Emit(std::move(b));
    }
    return absl::OkStatus();
  }

 private:
  void Append(const Row& row, size_t rank, RowKind kind, Batch* b, Arena* arena) {
    if (b->columns.empty()) {
      for (const auto& v : row) b->columns.emplace_back(v.type);
      b->columns.emplace_back(DataType::Bigint());
    }
    size_t c = 0;
    for (const auto& v : row) v.AppendTo(&b->columns[c++], arena);
    b->columns[c].AppendInt(static_cast<int64_t>(rank));
    b->kinds.push_back(kind);
  }

  RankConfig c_;
  KeyGroupAssigner key_groups_;
  state::KeyedMapState<RankPartition> keys_;  // PARTITION BY key bytes → its top N
  StateTtl ttl_{c_.state_ttl_ms, nullptr};
};

}  // namespace

std::unique_ptr<OneInputOperator> MakeRank(RankConfig config) {
  return std::make_unique<Rank>(std::move(config));
}

}  // namespace eddy::runtime
