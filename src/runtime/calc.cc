#include "runtime/calc.h"

#include <chrono>

#include "base/status.h"

namespace eddy::runtime {

absl::StatusOr<std::vector<Column>> EvalColumns(const std::vector<BoundExprPtr>& exprs,
                                                const Batch& in, EvalContext* ctx) {
  std::vector<Column> out;
  out.reserve(exprs.size());
  for (const auto& e : exprs) {
    Column c(e->type());
    c.Reserve(in.num_rows());
    EDDY_RETURN_IF_ERROR(e->Eval(in, ctx, &c));
    out.push_back(std::move(c));
  }
  return out;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

class Calc final : public OneInputOperator {
 public:
  Calc(BoundExprPtr filter, std::vector<BoundExprPtr> proj, int wm_col)
      : filter_(std::move(filter)), proj_(std::move(proj)), wm_col_(wm_col) {}

  absl::Status ProcessBatch(Batch& in, const RowWatermarks& wm, Output* out) override {
    EvalContext ctx;
    ctx.current_watermark = wm.base;
    ctx.now_micros = NowMicros();
    Batch tmp;
    const Batch* src = &in;
    if (filter_) {
      Column f(DataType::Boolean());
      f.Reserve(in.num_rows());
      ctx.arena = tmp.NewArena();
      if (wm_col_ >= 0) ctx.row_watermarks = in.columns[wm_col_].i64.data();
      EDDY_RETURN_IF_ERROR(filter_->Eval(in, &ctx, &f));
      sel_.clear();
      for (size_t i = 0; i < in.num_rows(); ++i) {
        if (f.valid[i] && f.i64[i]) sel_.push_back(static_cast<uint32_t>(i));
      }
      if (sel_.empty()) return absl::OkStatus();
      if (sel_.size() != in.num_rows()) {
        tmp = in.Gather(sel_);
        src = &tmp;
      }
    }
    Batch res;
    res.arenas = src->arenas;
    ctx.arena = res.NewArena();
    ctx.row_watermarks = wm_col_ >= 0 ? src->columns[wm_col_].i64.data() : nullptr;
    res.columns.reserve(proj_.size());
    for (const auto& p : proj_) {
      Column c(p->type());
      c.Reserve(src->num_rows());
      EDDY_RETURN_IF_ERROR(p->Eval(*src, &ctx, &c));
      res.columns.push_back(std::move(c));
    }
    res.kinds = src->kinds;
    return out->Emit(std::move(res));
  }

 private:
  BoundExprPtr filter_;
  std::vector<BoundExprPtr> proj_;
  std::vector<uint32_t> sel_;
  int wm_col_;
};

}  // namespace

std::unique_ptr<OneInputOperator> MakeCalc(BoundExprPtr filter,
                                           std::vector<BoundExprPtr> projections,
                                           int row_watermark_column) {
  return std::make_unique<Calc>(std::move(filter), std::move(projections), row_watermark_column);
}

}  // namespace eddy::runtime
