// The source of a VALUES list and of a SELECT without FROM (Flink SQL: `VALUES (1, 'a'), …`,
// planned as Flink's Values node): a bounded stream of constant rows, then the end of input.
#pragma once

#include <memory>
#include <vector>

#include "function/expr.h"
#include "runtime/operator.h"

namespace eddy::runtime {

/// The rows of a VALUES source: `rows[r][c]` is the expression of column c of row r, evaluated
/// without input columns when the row is emitted (CURRENT_TIMESTAMP is the time it runs). Every
/// row has `schema.fields.size()` expressions of the schema's types.
struct ValuesConfig {
  Schema schema;
  std::vector<std::vector<BoundExprPtr>> rows;
};

/// Subtask `info.index` of a VALUES source: subtask 0 emits every row (batches of at most
/// `batch_rows`), the others none. Its state is whether the rows were emitted, so a job restored
/// after them does not emit them again. Errors: a row's expression fails (e.g. a bad CAST).
std::unique_ptr<SourceOperator> MakeValuesSource(std::shared_ptr<const ValuesConfig> config,
                                                 const SubtaskInfo& info, size_t batch_rows);

}  // namespace eddy::runtime
