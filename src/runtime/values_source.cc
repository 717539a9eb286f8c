#include "runtime/values_source.h"

#include <fmt/format.h>

#include "base/status.h"
#include "runtime/calc.h"
#include "state/serializer.h"

namespace eddy::runtime {
namespace {

constexpr uint64_t kStateVersion = 1;

class ValuesSource final : public SourceOperator {
 public:
  ValuesSource(std::shared_ptr<const ValuesConfig> config, const SubtaskInfo& info,
               size_t batch_rows)
      : config_(std::move(config)), batch_rows_(std::max<size_t>(batch_rows, 1)) {
    if (info.index != 0) next_ = config_->rows.size();
  }

  std::string uid() const override { return "Values"; }

  absl::Status SnapshotState(int64_t, state::OperatorSnapshot* out) override {
    state::StateWriter w(&out->operator_state);
    w.PutVarint(kStateVersion);
    w.PutVarint(next_ == config_->rows.size() ? 1 : 0);
    return absl::OkStatus();
  }

  absl::Status InitializeState(const state::OperatorRestore& in) override {
    for (std::string_view s : in.OperatorStates()) {
      if (s.empty()) continue;
      state::StateReader r(s);
      uint64_t version = 0, done = 0;
      EDDY_RETURN_IF_ERROR(r.GetVarint(&version));
      if (version != kStateVersion) {
        return absl::DataLossError(fmt::format("unknown VALUES source state version {}", version));
      }
      EDDY_RETURN_IF_ERROR(r.GetVarint(&done));
      // Subtask 0 of the old job emitted every row before its snapshot: none is emitted again.
      if (done != 0) next_ = config_->rows.size();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Step> NextStep(SourceOutput* out) override {
    const auto& rows = config_->rows;
    if (next_ >= rows.size()) return Step::kEnd;
    size_t end = std::min(rows.size(), next_ + batch_rows_);
    Batch b = Batch::Empty(config_->schema);
    EvalContext ctx;
    ctx.now_micros = NowMicros();
    ctx.arena = b.NewArena();
    Batch one;  // one row without columns: the input of a constant expression
    one.kinds.push_back(RowKind::kInsert);
    for (size_t r = next_; r < end; ++r) {
      for (size_t c = 0; c < b.columns.size(); ++c) {
        EDDY_RETURN_IF_ERROR(rows[r][c]->Eval(one, &ctx, &b.columns[c]));
      }
      b.kinds.push_back(RowKind::kInsert);
    }
    next_ = end;
    EDDY_RETURN_IF_ERROR(out->Emit(std::move(b)));
    return next_ >= rows.size() ? Step::kEnd : Step::kMore;
  }

 private:
  std::shared_ptr<const ValuesConfig> config_;
  size_t batch_rows_;
  size_t next_ = 0;  // the next row to emit
};

}  // namespace

std::unique_ptr<SourceOperator> MakeValuesSource(std::shared_ptr<const ValuesConfig> config,
                                                 const SubtaskInfo& info, size_t batch_rows) {
  return std::make_unique<ValuesSource>(std::move(config), info, batch_rows);
}

}  // namespace eddy::runtime
