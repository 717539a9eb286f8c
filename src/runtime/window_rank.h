// Window Top-N and window deduplication (Flink SQL "Window Top-N", "Window Deduplication"):
// `ROW_NUMBER() OVER (PARTITION BY window_start, window_end [, k…] ORDER BY c [DESC]) AS rn`
// with `WHERE rn <= N` over a window aggregation or directly over a TUMBLE, HOP or CUMULATE
// window TVF. Keeps the N first rows of each (partition, window) in the ORDER BY order and emits
// them, insert-only with their rank, once the watermark passes the window's end; then frees the
// window's state. No intermediate results and no retractions, unlike the updating Top-N
// (runtime/rank.h).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/aggregate_ops.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// What the operator needs (built by the planner).
///
/// Each input row becomes a *row* of values: the `input_columns` visible input columns, then,
/// when `assign_windows` is set, window_start, window_end and window_time (TIMESTAMP(3),
/// window_time = window_end - 1 ms as in Flink) of each window the row belongs to (one row per
/// window: HOP and CUMULATE give several). Column indices below are indices into that row.
struct WindowRankConfig {
  std::string name;
  int input_columns = 0;
  /// Window Top-N directly on a window TVF: the operator assigns the windows itself from the
  /// event-time column `time_column` of the input (µs), as the TVF would.
  bool assign_windows = false;
  WindowSpec window;  // TUMBLE, HOP or CUMULATE
  int time_column = -1;
  /// The row's window_end column (when assigning: input_columns + 1).
  int window_end_column = -1;
  std::vector<int> key_columns;             // PARTITION BY, window_start and window_end included
  std::vector<std::pair<int, bool>> order;  // (column, descending); NULL sorts lowest
  int64_t limit = 1;                        // N
  /// Ties in ORDER BY go to the later row (Flink's window deduplication keeping the last row:
  /// `ORDER BY rowtime DESC` with rn = 1). Otherwise ties keep arrival order (ROW_NUMBER).
  bool ties_to_last = false;
  /// Processing-time windows (over a PROCTIME() window aggregation): rows are never late and
  /// windows fire at the end of input only.
  bool processing_time = false;
  std::vector<Field> input_fields;  // names of the input's columns, for late-row records
  std::shared_ptr<OperatorMetrics> metrics;
  /// The subtask this instance runs as: its keyed state holds the key groups the subtask owns
  /// (the default, subtask 0 of 1, owns them all). Rows are in the key group of their PARTITION
  /// BY columns of the input (`key_columns` below `input_columns`), as the exchange routes them.
  SubtaskInfo subtask;
};

/// The operator. Output rows (+I only): the row's columns, then the rank (BIGINT, 1 to N). A
/// window [start, end) fires when the watermark reaches end − WindowFireLead (aggregate_ops.h) of
/// the time attribute (on a window TVF: its time column; after a window aggregation: window_time,
/// so 1 ms, as in Flink); its rows go out before the watermark is forwarded. A row is late when
/// every window it belongs to has fired: it is counted in `metrics->late_rows` and, when the
/// job has a late-row output (OperatorContext::late), written there as a late-row record (see
/// LateRowSchema), as window aggregations do. Rows of other windows are unaffected. Errors: a
/// retraction in the input (it must be insert-only); a NULL event time or window_end. Not
/// thread-safe (one instance per subtask).
std::unique_ptr<OneInputOperator> MakeWindowRank(WindowRankConfig config);

}  // namespace eddy::runtime
