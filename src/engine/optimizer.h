// Optimizer rules over logical plans (DESIGN.md §3 "Plans"): each rule is a function from plan to
// plan, tested by the plans it produces (EXPLAIN in tests/sql/joins/*.test). The binder calls them
// on each SELECT block's FROM and WHERE, because the enclosing query binds against their result
// (whether a join's output keeps its time attribute depends on how the join is planned).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engine/plan.h"

namespace eddy {

/// Filter push-down and join-condition extraction (Flink's FilterJoinRule, JoinConditionPush and
/// FilterCalcMerge; DuckDB's filter_pushdown.cpp), then join planning:
/// - a filter over a Calc goes below it when the Calc's projections of the columns it reads are
///   plain columns or constants; the Calc's own filter goes down with it;
/// - a filter over an inner or cross join joins its condition; a filter over an outer join goes
///   below it only for its preserved side (LEFT: the left input);
/// - conditions of a join over one side only go below it into that input (inner: both sides;
///   LEFT: the right side's ON conditions; RIGHT: the left side's; FULL: none);
/// - each logical join (PlanNode::Kind::kJoin) is then planned by PlanLogicalJoin;
/// - a filter that lands directly on a Calc merges into it.
/// Non-deterministic conditions (PROCTIME(), NOW(), CURRENT_WATERMARK, …) stay where they are.
/// Errors: SqlErrors of planning a join (PlanLogicalJoin), at the join's or the condition's
/// position.
absl::StatusOr<PlanPtr> PushDownFilters(const PlanPtr& plan);

/// Plans the logical join `join` (its inputs already planned: `left`, `right`) with the
/// conditions `conditions` over its output: equalities between an expression of each side become
/// the equi-join keys; bounds between the two sides' event-time attributes (l.ts BETWEEN r.ts -
/// INTERVAL … AND r.ts + INTERVAL …, or <, <=, >, >=, =) that bound l.ts - r.ts from both sides
/// make it an interval join (Flink SQL: Interval Joins); otherwise it is a regular join whose
/// residual condition is everything that is not a key (Flink plans q9's `B.dateTime BETWEEN
/// A.dateTime AND A.expires`, a bound by a column that is not a time attribute, so). A join
/// without keys (a cross product) is planned only when both inputs are bounded; over an
/// unbounded input it is an error, since every row of both sides would be kept forever.
absl::StatusOr<PlanPtr> PlanLogicalJoin(const PlanNode& join, PlanPtr left, PlanPtr right,
                                        std::vector<Predicate> conditions);

/// Casts two join key expressions to one type: equal types and two strings stay as they are;
/// numbers become BIGINT, or DOUBLE when either is DOUBLE or DECIMAL. False when the types
/// cannot be compared.
bool AlignKeyTypes(BoundExprPtr* l, BoundExprPtr* r);

/// The conjuncts of `e` (its AND operands, recursively), each at `pos`.
void SplitConjuncts(const BoundExprPtr& e, sql::Pos pos, std::vector<Predicate>* out);

/// The AND of `preds` (null when empty).
BoundExprPtr AndOf(const std::vector<Predicate>& preds);

/// The input columns `e` reads, in ascending order without duplicates.
std::vector<int> ReferencedColumns(const BoundExpr& e);

/// `e` with every column reference to column c replaced by a reference to column c + delta.
BoundExprPtr ShiftColumns(const BoundExprPtr& e, int delta);

}  // namespace eddy
