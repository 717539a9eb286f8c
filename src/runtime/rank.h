// Top-N (Flink SQL "Top-N"): `ROW_NUMBER() OVER (PARTITION BY k ORDER BY c [DESC]) AS rn` with
// `WHERE rn <= N`. Keeps the N first rows of each partition in the ORDER BY order (ties in
// arrival order) and emits an updating result keyed by (partition, rank), as Flink's append-only
// Top-N does with the rank number in its output: a row entering at rank p gives -U/+U for every
// rank from p to the last one that changed, and +I for a rank filled for the first time. Rows
// that are not in the top N when they arrive can never enter it later (the input is insert-only),
// so only N rows per key are kept.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/operator.h"
#include "types/value.h"

namespace eddy::runtime {

/// What the operator needs (built by the planner).
struct RankConfig {
  std::string name;
  std::vector<int> key_columns;             // PARTITION BY
  std::vector<std::pair<int, bool>> order;  // (column, descending); NULL sorts lowest
  int input_columns = 0;                    // visible input columns copied to the output
  int64_t limit = 1;                        // N
  /// Rows that tie in the ORDER BY order: false keeps them in arrival order (a later row ranks
  /// after the earlier ones), true ranks the later row first. Flink SQL "Deduplication" keeping
  /// the last row (ORDER BY a time attribute DESC, rn = 1) keeps the later-arriving row of equal
  /// time (Flink's DeduplicateFunctionHelper.shouldKeepCurrentRow: previous <= current).
  bool ties_to_last = false;
  /// 'table.exec.state.ttl' in ms (0 = forever): a partition not updated for this long
  /// (processing time) is dropped; later rows of its key start a new top N, as in Flink.
  int64_t state_ttl_ms = 0;
  std::shared_ptr<OperatorMetrics> metrics;
  /// The subtask this instance runs as: its keyed state holds the key groups the subtask owns
  /// (the default, subtask 0 of 1, owns them all).
  SubtaskInfo subtask;
};

/// Three-way comparison of two rows in an ORDER BY order: (column, descending) pairs, NULL
/// lowest; < 0 when `a` comes first. Shared by Top-N and window Top-N.
int CompareRankOrder(const std::vector<Value>& a, const std::vector<Value>& b,
                     const std::vector<std::pair<int, bool>>& order);

/// The operator. Output rows: the input's visible columns, then the rank (BIGINT, 1-based).
/// Errors: a retraction in the input (the input must be insert-only).
std::unique_ptr<OneInputOperator> MakeRank(RankConfig config);

}  // namespace eddy::runtime
