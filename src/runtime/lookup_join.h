// Lookup joins (Flink SQL: `JOIN t FOR SYSTEM_TIME AS OF l.proc_time AS r ON l.k = r.k`) against a
// table held in memory: every left row is joined with the table's rows whose key equals its key,
// as of when the row is processed. The table is read once when the job starts (a 'filesystem'
// table, e.g. airports.csv) and never changes, so the result does not depend on timing.
#pragma once

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "function/expr.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// An immutable in-memory table with a hash index on its join key. Thread-safe to share once
/// built (read-only).
struct LookupTable {
  Batch rows;                // every column of the table
  std::vector<Column> keys;  // the key expressions evaluated per row
  /// Key hash → rows with that hash (rows with a NULL key part are not indexed: NULL never
  /// equals anything in a join).
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> index;

  /// Evaluates `key_exprs` (bound over `rows`' columns) and indexes every row.
  /// Errors: from expression evaluation.
  static absl::StatusOr<std::shared_ptr<const LookupTable>> Build(
      Batch rows, const std::vector<BoundExprPtr>& key_exprs);
};

/// What a lookup join operator needs. Output rows: the left input's visible columns, then every
/// column of the table (NULL for an unmatched row of a LEFT join), then the left input's hidden
/// per-row watermark column when it has one. RowKinds pass through from the left row.
struct LookupJoinConfig {
  std::shared_ptr<const LookupTable> table;
  /// Over the left input; types equal to the table's key columns, pairwise.
  std::vector<BoundExprPtr> left_keys;
  int left_visible = 0;  // left columns before the hidden ones
  int wm_col = -1;       // left's per-row watermark column, or -1
  /// Extra ON conditions over the output layout (null when none): a pair that fails them is no
  /// match.
  BoundExprPtr residual;
  bool left_outer = false;  // LEFT JOIN: a left row without a match is kept with NULLs
};

/// The operator. It keeps no state: the table is read when the job starts (by the job builder),
/// and a job restored from a checkpoint or savepoint reads it again, so its snapshot is empty
/// and its uid() is empty. Errors from ProcessBatch: expression evaluation failures.
std::unique_ptr<OneInputOperator> MakeLookupJoin(LookupJoinConfig config);

}  // namespace eddy::runtime
