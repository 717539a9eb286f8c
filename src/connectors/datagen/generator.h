// The 'datagen' connector's options and row generator (Flink's DataGen SQL connector:
// 'rows-per-second', 'number-of-rows', 'fields.#.kind' random | sequence with 'fields.#.min',
// '.max', '.max-past', '.length', '.var-len', '.start', '.end', '.null-rate').
//
// Rows are numbered globally from 0. Row g holds, in every sequence column, that column's start +
// g, and random values elsewhere. A scan generates rows [0, total) where total is the smaller of
// 'number-of-rows' and the length of the shortest sequence (unbounded when neither is set), and
// hands them to its subtasks as RowRanges: subtask i of P takes rows i, i + P, i + 2P, … (as
// Flink's SequenceGenerator does), so each value is generated exactly once at any parallelism and
// the subtasks' event times advance together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/table.h"
#include "types/batch.h"

namespace eddy::connectors::datagen {

/// How one physical column is generated. Values are in the column's physical representation
/// (types/batch.h): integers, DECIMAL (unscaled), DATE (days), TIMESTAMP (µs), INTERVAL DAY TO
/// SECOND (µs), INTERVAL YEAR TO MONTH (months) in `min`/`max`/`start`/`end`; DOUBLE in
/// `min_d`/`max_d`.
struct FieldSpec {
  std::string name;
  DataType type;
  bool sequence = false;
  // random: values uniform in [min, max] (inclusive; [min_d, max_d] for DOUBLE).
  int64_t min = 0;
  int64_t max = 0;
  double min_d = 0;
  double max_d = 0;
  /// random TIMESTAMP/TIMESTAMP_LTZ/DATE: the value is now minus a uniform [0, max_past] (µs).
  int64_t max_past_us = 0;
  /// random strings: this many lower-case hex digits ([1, length] of them with `var_len`).
  int64_t length = 100;
  bool var_len = false;
  /// sequence: start + g for row g, up to end (inclusive); for DECIMAL in whole units.
  int64_t start = 0;
  int64_t end = 0;
  /// The probability that a value is NULL (0 to 1).
  double null_rate = 0;
};

/// A scan's options, parsed and checked against the table's columns.
struct DatagenOptions {
  /// 'rows-per-second': the rate of the whole scan, shared by its subtasks.
  int64_t rows_per_second = 10000;
  /// Rows the scan generates in all ('number-of-rows' and the shortest sequence), nullopt when
  /// unbounded.
  std::optional<int64_t> total_rows;
  std::vector<FieldSpec> fields;  // one per physical column
};

/// Parses and checks the datagen options of `table` (its option values were already checked
/// against their types by catalog::ValidateTableOptions). Errors: InvalidArgument naming the
/// table and the option ('fields.<name>.<option>'): an unknown column, an option that does not
/// apply to the column's type or kind, min > max, start > end, values outside the type, a
/// sequence without 'start'/'end', a metadata column.
absl::StatusOr<DatagenOptions> ParseDatagenOptions(const TableDef& table);

/// The global rows first, first + step, …, `count` of them. `count` = kUnbounded: without end.
struct RowRange {
  static constexpr int64_t kUnbounded = INT64_MAX;
  int64_t first = 0;
  int64_t step = 1;
  int64_t count = 0;
  bool operator==(const RowRange&) const = default;
};

/// The rows that subtask `index` of `parallelism` generates out of `ranges` (the whole scan,
/// {0, 1, total}, or every old subtask's remaining rows after a restore at another parallelism):
/// each range split by striding, so range r gives the subtask r.first + index·r.step, then every
/// parallelism·r.step. Empty ranges are left out. Every row of `ranges` goes to exactly one
/// subtask.
std::vector<RowRange> SplitRows(const std::vector<RowRange>& ranges, int index, int parallelism);

/// Generates the physical columns of rows. Not thread-safe: one per subtask.
class RowGenerator {
 public:
  /// `seed` seeds the random values (each subtask its own).
  RowGenerator(const DatagenOptions* options, uint64_t seed);

  /// Appends the rows numbered `rows` to `out` (a batch of the table's physical columns), using
  /// `now_us` (µs since the epoch) as the current time of random timestamps; string bytes go to
  /// `arena`. Sets no RowKinds.
  void Generate(const std::vector<int64_t>& rows, int64_t now_us, Arena* arena, Batch* out);

  /// The next pseudo-random number (SplitMix64), for tests of the distribution helpers.
  uint64_t Next();
  /// A uniform integer in [lo, hi] (inclusive, lo <= hi; the whole int64 range allowed).
  int64_t Uniform(int64_t lo, int64_t hi);
  /// A uniform double in [lo, hi].
  double UniformDouble(double lo, double hi);

 private:
  void GenerateColumn(const FieldSpec& f, const std::vector<int64_t>& rows, int64_t now_us,
                      Arena* arena, Column* col);

  const DatagenOptions* options_;
  uint64_t state_;
  std::string text_;  // scratch for sequence strings
};

}  // namespace eddy::connectors::datagen
