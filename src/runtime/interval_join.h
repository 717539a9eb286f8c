// Interval joins (Flink SQL: `l JOIN r ON l.k = r.k AND l.ts BETWEEN r.ts - INTERVAL … AND
// r.ts + INTERVAL …`): rows of two streams with equal keys whose event times lie within a bounded
// distance. Each side's rows are kept per key until the watermark guarantees that no row of the
// other side can still match them, so state stays bounded. Append-only output; in LEFT, RIGHT
// and FULL joins a row of an outer side that matched nothing comes out with NULLs for the other
// side once the watermark shows nothing can match it any more (Flink's outer interval joins).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "function/expr.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// What an interval join needs. The vertex has two inputs: 0 = left, 1 = right. Output rows: the
/// left row's visible columns, then the right row's.
struct IntervalJoinConfig {
  std::string name;
  std::vector<BoundExprPtr> left_keys;   // over the left input
  std::vector<BoundExprPtr> right_keys;  // over the right input, same types pairwise
  int left_time = -1;                    // event-time column of each side
  int right_time = -1;
  int left_columns = 0;  // visible columns kept per side
  int right_columns = 0;
  std::vector<DataType> left_types;  // their types (left_columns and right_columns of them)
  std::vector<DataType> right_types;
  bool left_outer = false;   // LEFT or FULL: unmatched left rows come out padded with NULLs
  bool right_outer = false;  // RIGHT or FULL
  /// A pair matches when lower <= l.ts - r.ts <= upper (µs; `l.ts BETWEEN r.ts - X AND r.ts + Y`
  /// gives lower = -X, upper = Y).
  int64_t lower = 0;
  int64_t upper = 0;
  BoundExprPtr residual;  // other ON conditions over the output row, or null
  /// The output watermark is the input watermark minus this (µs): max(-lower, upper) + 1, so
  /// joined and expired outer rows, whose times can be up to max(-lower, upper) behind the input
  /// watermark, are not late downstream.
  int64_t watermark_delay = 0;
  std::shared_ptr<OperatorMetrics> metrics;
  /// The subtask this instance runs as: its keyed state holds the key groups the subtask owns
  /// (the default, subtask 0 of 1, owns them all).
  SubtaskInfo subtask;
};

/// The operator, following Flink SQL's TimeIntervalJoin. No row is dropped for being late: a row
/// joins the rows of the other side still kept, and is kept itself while the watermark is below
/// the last time of the other side it can match (l.ts − lower for a left row, r.ts + upper for a
/// right one); a row is removed when the watermark passes that time. A row that arrives at or
/// behind the watermark is counted as late. A row that is not kept and matched nothing, or a row
/// with a NULL key, of an outer side comes out padded at once. Each key's rows expire from an
/// event-time timer of the key (padded rows of a watermark come out by expiry time, then key); the
/// kept rows and their matched flags are snapshotted per key group, the last output watermark as
/// operator state. Errors: expression evaluation failures; DataLoss on restoring corrupt state.
std::unique_ptr<TwoInputOperator> MakeIntervalJoin(IntervalJoinConfig config);

}  // namespace eddy::runtime
