// OVER aggregation (Flink SQL "Over Aggregation"): for every input row, aggregates over the rows
// of its partition in an event-time frame ending at the row:
//   agg(x) OVER (PARTITION BY k ORDER BY rowtime
//                RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)   -- by time
//   agg(x) OVER (… ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)                   -- by row count
// (UNBOUNDED PRECEDING for both). Rows are buffered per key until the watermark passes them and
// processed in event-time order, so results do not depend on arrival order; in a RANGE frame,
// rows with the same time are peers and see each other. Each input row gives one output row (its
// columns, then the aggregates); append-only. Late rows are counted and dropped, as in Flink:
// with UNBOUNDED PRECEDING a row at or behind the watermark; with a bounded frame (n PRECEDING,
// INTERVAL … PRECEDING) a row at or before the latest time already processed for its key (a
// row behind the watermark that is still after all of them is kept).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/operator.h"
#include "types/value.h"

namespace eddy::runtime {

/// One aggregate of an OVER window.
struct OverAggregateCall {
  /// COUNT, SUM, AVG, MIN, MAX, or LAG: the value `offset` rows before in event-time order
  /// (ties in arrival order), `default_value` before the first.
  std::string fn;
  int column = -1;      // argument column of the input; -1 for COUNT(*)
  int64_t offset = 1;   // LAG
  Value default_value;  // LAG
  DataType type;        // result type (COUNT: BIGINT; LAG, MIN, MAX, SUM, AVG: the argument's type,
                        // integer AVG truncated as in Flink)
};

/// What the operator needs (built by the planner).
struct OverAggregateConfig {
  std::string name;
  std::vector<int> key_columns;  // PARTITION BY
  int time_column = -1;          // ORDER BY event-time attribute
  int input_columns = 0;         // visible input columns copied to the output
  bool rows = false;             // ROWS frame (else RANGE)
  int64_t preceding = -1;        // ROWS: rows before the current one; RANGE: µs; -1 unbounded
  std::vector<OverAggregateCall> calls;
  std::shared_ptr<OperatorMetrics> metrics;
  /// The subtask this instance runs as: its keyed state holds the key groups the subtask owns
  /// (the default, subtask 0 of 1, owns them all).
  SubtaskInfo subtask;
};

/// The operator.
std::unique_ptr<OneInputOperator> MakeOverAggregate(OverAggregateConfig config);

}  // namespace eddy::runtime
