// Regular joins of two streams (Flink SQL: `l [LEFT|RIGHT|FULL] JOIN r ON l.k = r.k`): every row
// of each side is kept per key (for 'table.exec.state.ttl' when set, else forever), and the result
// is an updating changelog of joined rows: +I when a pair appears, -D when a row of a pair is
// retracted; outer joins emit a NULL-padded row for a preserved row without matches and retract
// it when its first match arrives. Inputs may be updating (retractions remove stored rows).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "function/expr.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// What a regular join needs. The vertex has two inputs: 0 = left, 1 = right. Output rows: the
/// left row's visible columns, then the right row's.
struct RegularJoinConfig {
  std::string name;
  std::vector<BoundExprPtr> left_keys;   // over the left input
  std::vector<BoundExprPtr> right_keys;  // over the right input, same types pairwise
  std::vector<DataType> left_types;      // visible columns of each side (NULL padding)
  std::vector<DataType> right_types;
  bool left_outer = false;   // LEFT or FULL: unmatched left rows are kept with NULLs
  bool right_outer = false;  // RIGHT or FULL
  BoundExprPtr residual;     // other ON conditions over the output row, or null
  /// 'table.exec.state.ttl' in ms (0 = forever): a stored row older than this (processing time
  /// since it arrived) is dropped without a retraction, as Flink's join state TTL does; later
  /// rows of the other side no longer join it.
  int64_t state_ttl_ms = 0;
  /// Processing time in ms for the TTL; when unset, the runtime's clock (OperatorContext::
  /// clock_ms, the wall clock), on which the TTL's processing-time timers fire.
  std::function<int64_t()> clock_ms;
  std::shared_ptr<OperatorMetrics> metrics;
  /// The subtask this instance runs as: its keyed state holds the key groups the subtask owns
  /// (the default, subtask 0 of 1, owns them all).
  SubtaskInfo subtask;
};

/// The operator. Its keyed state (the rows of both sides per key, with their match counts and
/// arrival times; rows with a NULL key part in the key group they were routed by) is snapshotted
/// per key group, and 'table.exec.state.ttl' expires a key's rows from a processing-time timer
/// of the key. Errors: expression evaluation failures; DataLoss on restoring corrupt state.
std::unique_ptr<TwoInputOperator> MakeRegularJoin(RegularJoinConfig config);

}  // namespace eddy::runtime
