// The MATCH_RECOGNIZE operator (Flink SQL "Pattern Recognition", SQL:2016 row pattern
// recognition). Rows arrive partitioned by the PARTITION BY key (a key-group exchange in front of
// the operator); each key's rows are buffered until the watermark passes them, released in
// event-time order (equal times in arrival order) to the key's cep::Matcher, and every match
// becomes output rows. ONE ROW PER MATCH: one row, the partition columns, then the MEASURES over
// the whole match. ALL ROWS PER MATCH: one row per row of the match, in match order: the partition
// columns, the ORDER BY column, the MEASURES with RUNNING semantics (over the match's rows up to
// that row; FINAL slots over the whole match), then the other input columns (SQL:2016 / Oracle).
// Out-of-order input therefore gives the same matches as sorted input. Rows that arrive behind the
// watermark are late: counted and dropped, as Flink does.
//
// Output watermark: a match comes out when it is certain, possibly after the watermark passed
// its rows. When the output has an event-time attribute (ALL ROWS PER MATCH's ORDER BY column,
// or MATCH_ROWTIME()), the operator holds its output watermark below the time of the oldest row
// a match still in play starts at (cep::Matcher::OldestStartTime), so no output row is late
// downstream. A partial match that never ends (no WITHIN) holds it back until it dies.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "function/expr.h"
#include "runtime/cep/nfa.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// A value a DEFINE condition or a MEASURES expression reads besides constants: the expressions
/// are bound over a one-row batch with one column per slot.
struct PatternSlot {
  enum class Kind {
    kColumn,        // the candidate row's column (DEFINE: `price`, `A.price` defining A)
    kPrev,          // PREV(col, offset): `offset` rows before the candidate in the partition
    kLast,          // LAST(var.col, offset) (also `B.col` for another variable in DEFINE, and
                    // `var.col` in MEASURES)
    kFirst,         // FIRST(var.col, offset)
    kAggregate,     // SUM/AVG/MIN/MAX/COUNT(var.col) over the rows mapped to var
    kCountRows,     // COUNT(var.*) / COUNT(*)
    kMatchRowtime,  // MATCH_ROWTIME(): time of the output row (MEASURES only; ONE ROW PER MATCH:
                    // the match's last row)
    kMatchNumber,   // MATCH_NUMBER() (MEASURES only)
    kClassifier,    // CLASSIFIER(): the variable of the output row (MEASURES only)
  };
  Kind kind = Kind::kColumn;
  cep::VarId var = cep::kAnyVariable;
  int column = -1;     // input column
  int64_t offset = 0;  // PREV/LAST/FIRST offset
  std::string agg;     // "SUM", "AVG", "MIN", "MAX", "COUNT"
  DataType type;       // the slot column's type
  /// FINAL (MEASURES): over the whole match; else RUNNING: over the match's rows up to the output
  /// row. The same under ONE ROW PER MATCH, whose row is the match's last.
  bool final = false;
};

/// Everything the operator needs; built by the planner.
struct MatchRecognizeConfig {
  std::string name;              // for EXPLAIN and metrics
  std::vector<int> key_columns;  // PARTITION BY, input columns
  int rowtime_column = -1;       // ORDER BY time attribute
  int input_columns = 0;         // visible input columns stored per row
  /// ALL ROWS PER MATCH: one output row per matched row (else ONE ROW PER MATCH).
  bool all_rows = false;
  /// ALL ROWS PER MATCH: the input columns output after the measures (neither PARTITION BY nor
  /// ORDER BY columns), in input order.
  std::vector<int> row_columns;
  /// Hold the output watermark below the oldest start row in play (the output has an event-time
  /// attribute).
  bool hold_watermark = false;
  std::shared_ptr<const cep::CompiledPattern> pattern;
  std::vector<std::string> var_names;  // by VarId
  /// By VarId: the DEFINE condition over `define_slots[v]` (null: no condition).
  std::vector<BoundExprPtr> defines;
  std::vector<std::vector<PatternSlot>> define_slots;
  /// MEASURES over `measure_slots`.
  std::vector<BoundExprPtr> measures;
  std::vector<PatternSlot> measure_slots;
  size_t max_partial_matches = 10'000;
  std::string limit_setting;
  int64_t max_prev_rows = 1;
  std::shared_ptr<OperatorMetrics> metrics;
  /// The subtask this instance runs as: its keyed state holds the key groups the subtask owns
  /// (the default, subtask 0 of 1, owns them all).
  SubtaskInfo subtask;
};

/// The operator. Errors: the Matcher's (partial-match limit, SKIP TO errors) and expression
/// evaluation failures, prefixed with the operator name.
std::unique_ptr<OneInputOperator> MakeMatchRecognize(MatchRecognizeConfig config);

}  // namespace eddy::runtime
