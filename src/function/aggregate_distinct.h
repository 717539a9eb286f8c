// DISTINCT aggregates (Flink SQL: `agg(DISTINCT x)`, with or without FILTER): each distinct
// non-NULL value counts once, however many rows hold it, and retracting a row removes its value
// only when no other row holds it. Internal to function/ (ResolveAggregate builds them).
#pragma once

#include <memory>

#include "function/aggregate.h"

namespace eddy {

/// Wraps `inner` (bound to the argument type `arg`) so it sees each distinct non-NULL value once.
/// The state keeps, per distinct value, how many rows hold it (Flink's MapView-based distinct
/// aggregates). With `incremental` (COUNT, SUM, AVG: aggregates whose Retract undoes Accumulate
/// exactly) the state also holds the inner aggregate over the distinct values, updated when a
/// value's row count goes 0 → 1 or 1 → 0: accumulate, retract and Result are O(1) expected.
/// Otherwise (MIN, MAX, the variance family) Result recomputes the inner aggregate from the
/// distinct values in key order, O(distinct values). Both write the same checkpoint encoding
/// (docs/checkpoint-format.md: DISTINCT).
std::shared_ptr<const AggregateFunction> MakeDistinctAggregate(
    std::shared_ptr<const AggregateFunction> inner, const DataType& arg, bool incremental);

}  // namespace eddy
