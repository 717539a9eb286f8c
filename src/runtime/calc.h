// Stateless operators: filter and projection (Flink: Calc), chained in the producing subtask.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "function/expr.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// Keeps the rows where `filter` is TRUE (NULL and FALSE drop the row; nullptr keeps all) and
/// emits `projections` evaluated over them (RowKinds preserved). Errors from expressions (a
/// failed CAST) fail the job with the operator's description.
/// `row_watermark_column`: index of the input's per-row watermark column (file sources), or -1;
/// it feeds CURRENT_WATERMARK.
std::unique_ptr<OneInputOperator> MakeCalc(BoundExprPtr filter,
                                           std::vector<BoundExprPtr> projections,
                                           int row_watermark_column = -1);

/// Current time in µs since the epoch (processing time).
int64_t NowMicros();

/// Evaluates `exprs` over `in` (one column each, e.g. join keys). Strings may point into
/// `ctx->arena`. Errors: from the expressions.
absl::StatusOr<std::vector<Column>> EvalColumns(const std::vector<BoundExprPtr>& exprs,
                                                const Batch& in, EvalContext* ctx);

}  // namespace eddy::runtime
