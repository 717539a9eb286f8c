// Lookup joins (Flink SQL: `JOIN t FOR SYSTEM_TIME AS OF l.proc_time AS r ON l.k = r.k`): every
// left row is joined with the table's rows whose key equals its key, as of when the row is
// processed. Two ways to read the table:
//  * held in memory: read once when the job starts (a 'filesystem' table, e.g. airports.csv) and
//    never changed, so the result does not depend on timing;
//  * by key through a LookupFunction (a 'jdbc' table): the keys of each input batch that the
//    cache does not hold are looked up with one call, and the answers cached for
//    'lookup.cache.ttl' (Flink: LookupFunction with a partial cache).
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>
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

/// Reads rows of an external table by key for a lookup join (Flink: LookupFunction). One per
/// subtask, called from its thread only.
class LookupFunction {
 public:
  virtual ~LookupFunction() = default;
  /// The rows of the table (every column, in declaration order; any row order) whose key columns
  /// equal one of the `n` keys: `keys` holds one column per key column, `n` distinct keys without
  /// NULLs. Errors fail the job.
  virtual absl::StatusOr<Batch> Lookup(const std::vector<Column>& keys, size_t n) = 0;
};

/// The cache of a lookup join reading through a LookupFunction (Flink: 'lookup.cache.*').
struct LookupCacheConfig {
  int64_t max_rows = 0;       // keys cached at most (least recently used go first); 0: no cache
  int64_t ttl_ms = 0;         // how long an answer is used after it was read
  bool cache_missing = true;  // also cache that a key has no row
};

/// What a lookup join operator needs. Output rows: the left input's visible columns, then every
/// column of the table (NULL for an unmatched row of a LEFT join), then the left input's hidden
/// per-row watermark column when it has one. RowKinds pass through from the left row.
struct LookupJoinConfig {
  /// The table held in memory; or null, and `function` reads it by key.
  std::shared_ptr<const LookupTable> table;
  /// Per subtask: reads the table by key (when `table` is null).
  std::function<absl::StatusOr<std::unique_ptr<LookupFunction>>(const SubtaskInfo&)> function;
  LookupCacheConfig cache;
  /// With `function`: the table's columns, and the key expressions over them (pairwise with
  /// left_keys) that rows it returns are matched with.
  Schema table_schema;
  std::vector<BoundExprPtr> right_keys;
  /// Over the left input; types equal to the table's key columns, pairwise.
  std::vector<BoundExprPtr> left_keys;
  int left_visible = 0;  // left columns before the hidden ones
  int wm_col = -1;       // left's per-row watermark column, or -1
  /// Extra ON conditions over the output layout (null when none): a pair that fails them is no
  /// match.
  BoundExprPtr residual;
  bool left_outer = false;  // LEFT JOIN: a left row without a match is kept with NULLs
};

/// The operator. It keeps no state: the table is read when the job starts (by the job builder) or
/// by key as rows come (the cache is not state), and a job restored from a checkpoint or savepoint
/// reads it again, so its snapshot is empty and its uid() is empty. `info` makes the subtask's
/// LookupFunction. Errors from ProcessBatch: expression evaluation failures, the function's.
absl::StatusOr<std::unique_ptr<OneInputOperator>> MakeLookupJoin(LookupJoinConfig config,
                                                                 const SubtaskInfo& info);

}  // namespace eddy::runtime
