// Event-time temporal joins (Flink SQL: `l JOIN v FOR SYSTEM_TIME AS OF l.ts AS r ON l.k = r.k`
// against a versioned table `v`: a stream with a PRIMARY KEY and a WATERMARK, each row a new
// version of its key from its time on). Each left row joins the version of its key that was
// valid at the left row's time: the right row with the greatest time <= l.ts. Left rows wait
// until the watermark (the minimum of both inputs) passes them, so every version that could
// apply has arrived; versions older than the newest one at or before the watermark are dropped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "function/expr.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// What a temporal join needs. Input 0 = left (probe) stream, 1 = versioned table. Output rows:
/// the left row's visible columns, then the version's (NULLs for a LEFT join without one).
struct TemporalJoinConfig {
  std::string name;
  std::vector<BoundExprPtr> left_keys;   // over the left input
  std::vector<BoundExprPtr> right_keys;  // over the versioned table (its primary key)
  int left_time = -1;                    // event-time columns
  int right_time = -1;
  std::vector<DataType> left_types;  // visible columns of each side
  std::vector<DataType> right_types;
  bool left_outer = false;
  BoundExprPtr residual;  // other ON conditions over the output row, or null
  std::shared_ptr<OperatorMetrics> metrics;
  /// The subtask this instance runs as: its keyed state holds the key groups the subtask owns
  /// (the default, subtask 0 of 1, owns them all).
  SubtaskInfo subtask;
};

/// The operator. Late left rows (at or behind the watermark on arrival) are counted, not dropped:
/// they join at the next watermark with the versions still kept (as Flink SQL's
/// TemporalRowTimeJoinOperator does), so one whose version has been superseded by a version at or
/// before an earlier watermark finds none (inner join: no output; LEFT: NULLs). Each key has an
/// event-time timer (its first waiting left row, or its second version), and the rows of a
/// watermark come out by (time, key, arrival); waiting rows and versions are snapshotted per key
/// group. Errors: expression evaluation failures; DataLoss on restoring corrupt state.
std::unique_ptr<TwoInputOperator> MakeTemporalJoin(TemporalJoinConfig config);

}  // namespace eddy::runtime
