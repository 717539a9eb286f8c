// Logical plans: the binder turns a SQL query into a chain of plan nodes (scan, calc, window
// aggregate, group aggregate); the job builder lowers them to a runtime::JobGraph.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/session_config.h"
#include "catalog/table.h"
#include "function/expr.h"
#include "runtime/aggregate_ops.h"
#include "runtime/interval_join.h"
#include "runtime/match_recognize.h"
#include "runtime/over_aggregate.h"
#include "runtime/rank.h"
#include "runtime/regular_join.h"
#include "runtime/temporal_join.h"
#include "runtime/values_source.h"
#include "runtime/window_rank.h"
#include "sql/ast.h"

namespace eddy {

/// Name of the hidden per-row watermark column a file source appends (see RowWatermarks).
inline constexpr const char* kRowWatermarkColumn = "$wm";

struct PlanNode;
using PlanPtr = std::shared_ptr<PlanNode>;

/// One conjunct of a filter or join condition and where it is written in the SQL (its errors
/// point there; `pos` is empty for conditions the optimizer derived).
struct Predicate {
  BoundExprPtr expr;
  sql::Pos pos;
};

/// One node of a logical plan. A scan has no input, an interval join two (`input`, `right`),
/// every other node one.
struct PlanNode {
  enum class Kind {
    kScan,
    kCalc,
    kWindowAgg,
    kGroupAgg,
    kLookupJoin,
    kMatchRecognize,
    kIntervalJoin,
    kOverAgg,
    kRank,
    kWindowRank,
    kRegularJoin,
    kTemporalJoin,
    kJoin,
    kValues
  };
  Kind kind = Kind::kScan;
  PlanPtr input;
  /// Output columns. Hidden columns (names starting with '$') are not visible to SQL.
  Schema schema;
  /// Whether the output is a changelog with retractions (-U/-D), not insert-only.
  bool updating = false;
  // kScan
  std::shared_ptr<const TableDef> table;
  std::vector<BoundExprPtr> computed;  // per table column: null for physical, else expression
  // kCalc
  BoundExprPtr filter;
  std::vector<BoundExprPtr> projections;
  /// The conjuncts of `filter` with their positions, when the binder knows them (a WHERE).
  std::vector<Predicate> predicates;
  // kWindowAgg / kGroupAgg
  runtime::AggregateConfig agg;
  bool proctime_window = false;
  std::string window_text;  // "TUMBLE(size=1 h)" for EXPLAIN
  std::vector<std::string> agg_texts;
  // kLookupJoin: `input` joined with `table` (read when the job starts). Output: input's visible
  // columns, the table's columns, then input's hidden columns.
  std::vector<BoundExprPtr> left_keys;   // over `input`
  std::vector<BoundExprPtr> right_keys;  // over the table's columns
  BoundExprPtr join_filter;              // extra ON conditions over the output, or null
  bool left_outer = false;
  std::string join_text;  // "origin = iata" for EXPLAIN
  // kMatchRecognize: the operator's configuration (metrics set by the job builder).
  std::shared_ptr<const runtime::MatchRecognizeConfig> match;
  // kIntervalJoin: `input` (left) and `right` joined; the operator's configuration.
  PlanPtr right;
  std::shared_ptr<const runtime::IntervalJoinConfig> interval;
  // kOverAgg: the operator's configuration.
  std::shared_ptr<const runtime::OverAggregateConfig> over_agg;
  // kRank (Top-N): the operator's configuration; the limit is set by the enclosing query's
  // WHERE rn <= N (-1 until then).
  std::shared_ptr<runtime::RankConfig> rank;
  // kWindowRank (window Top-N / window deduplication, insert-only): the operator's configuration;
  // the limit is set as for kRank. `window_text` describes the window; `rank_by_time`: ORDER BY
  // is one time attribute (rn = 1 is then a window deduplication).
  std::shared_ptr<runtime::WindowRankConfig> window_rank;
  bool rank_by_time = false;
  // kRegularJoin: `input` (left) and `right` joined without time bounds (updating result).
  std::shared_ptr<const runtime::RegularJoinConfig> regular_join;
  // kTemporalJoin: `input` (left) joined with the versioned table scanned by `right`.
  std::shared_ptr<const runtime::TemporalJoinConfig> temporal;
  // kJoin: a logical join of `input` (left) and `right` as written (JOIN … ON, CROSS JOIN, comma),
  // before the optimizer (engine/optimizer.h) pushes filters into it and below it and plans it as
  // an interval join or a regular join. Output: left's visible columns, then right's; `condition`
  // is over that output (kCross: none). `pos` is the join's position (errors of planning it).
  sql::JoinType join_type = sql::JoinType::kInner;
  std::vector<Predicate> condition;
  // kValues: constant rows (a VALUES list, or the one row without columns a SELECT without FROM
  // reads); no input.
  std::shared_ptr<const runtime::ValuesConfig> values;

  /// Where in the SQL the construct this node comes from is (the FROM item of a scan, the table
  /// of a lookup join, the ROW_NUMBER() call of a rank, the SELECT of a query's last node) and
  /// the text that position is in (the statement, or a view's definition), so that BuildJob
  /// reports errors about the node with its line:column. The text outlives the statement being
  /// planned (the engine keeps every script and view text); empty: no position.
  sql::Pos pos;
  std::string_view script;

  /// One-line description for EXPLAIN and logs.
  std::string Describe() const;
};

/// The number of visible columns of `s` (hidden columns, named '$…', come last).
inline int VisibleColumns(const Schema& s) {
  int v = 0;
  while (v < static_cast<int>(s.fields.size()) && s.fields[v].name.rfind("$", 0) != 0) ++v;
  return v;
}

/// The largest window size, slide, step, gap, offset and time bound (watermark delay, interval
/// join bound, OVER RANGE, WITHIN) the binder accepts: 36,500 days (100 years) in µs. Event times
/// of TIMESTAMPs (years 0000-9999) plus or minus it stay far inside int64 µs.
inline constexpr int64_t kMaxTimeBound = int64_t{36500} * 24 * 3600 * 1'000'000;

/// ORDER BY / LIMIT of a top-level SELECT (applied when its bounded result is printed).
struct ResultOrder {
  std::vector<std::pair<int, bool>> keys;  // (output column, descending)
  int64_t limit = -1;
};

/// Name resolution and plan construction for one statement. Not thread-safe.
class Binder {
 public:
  Binder(const std::map<std::string, std::shared_ptr<const TableDef>>& tables,
         const std::map<std::string, std::shared_ptr<const ViewDef>>& views,
         const SessionConfig& config, std::string_view script)
      : tables_(tables), views_(views), config_(config), script_(script) {}

  /// Binds a query. `order` receives ORDER BY/LIMIT when allowed (top-level SELECT), else must
  /// be null and ORDER BY is an error. Errors: SqlError with line:column for unknown names (with
  /// a "did you mean" hint), type errors, unsupported constructs.
  absl::StatusOr<PlanPtr> BindQuery(const sql::Query& q, ResultOrder* order);

  /// Binds the columns of a CREATE TABLE into a TableDef (computed column and watermark checks).
  absl::StatusOr<std::shared_ptr<TableDef>> BindTable(const sql::Statement& s);

  /// Binds a scalar expression over `schema` (used for sink casts and tests).
  absl::StatusOr<BoundExprPtr> BindScalar(const sql::Expr& e, const Schema& schema);

  /// Plan that reads every column of `table` (a scan plus its computed columns); `pos` is the
  /// table's reference in the SQL being bound (errors of its source are reported there).
  absl::StatusOr<PlanPtr> ScanTable(std::shared_ptr<const TableDef> table, sql::Pos pos = {});

  /// The query of `view`, parsed again from its text (positions relative to `view.text`).
  static absl::StatusOr<sql::QueryPtr> ViewQuery(const ViewDef& view);

 private:
  struct ScopeColumn {
    std::string qualifier;  // lower case
    std::string name;
    int index;
    DataType type;
  };
  struct Scope {
    std::vector<ScopeColumn> cols;
  };
  struct AggContext {
    // Post-aggregation binding: expressions matching a GROUP BY key or an aggregate call become
    // references to the aggregate's output columns.
    std::map<std::string, std::pair<int, DataType>> keys;  // AstKey → output column
    std::map<std::string, std::pair<int, DataType>> aggs;  // AstKey of the call → output column
    bool collecting = false;                               // first pass: gather aggregate calls
    std::vector<const sql::Expr*> calls;                   // gathered calls (first pass)
    bool in_agg = false;
  };
  struct FromResult;

  absl::StatusOr<FromResult> BindFrom(const sql::TableRef& ref);
  absl::StatusOr<FromResult> BindJoin(const sql::TableRef& ref);
  absl::StatusOr<FromResult> BindLookupJoin(const sql::TableRef& ref);
  absl::StatusOr<FromResult> BindMatchRecognize(const sql::TableRef& ref);
  absl::StatusOr<BoundExprPtr> BindJoinFilter(const std::vector<sql::ExprPtr>& rest,
                                              const Scope& scope);
  /// A join key: `left = right` with one side over each input, types aligned.
  struct JoinKey {
    BoundExprPtr left, right;
    std::string text;       // "origin = iata" for EXPLAIN
    int right_column = -1;  // the right side's column when it is a plain column
  };
  /// `c` as an equality between an expression over `ls` and one over `rs` (either order), or
  /// nullopt. Errors: the two sides' types cannot be compared.
  absl::StatusOr<std::optional<JoinKey>> BindJoinKey(const sql::Expr& c, const Scope& ls,
                                                     const Scope& rs);
  absl::StatusOr<FromResult> BindTemporalJoin(const sql::TableRef& ref, FromResult left,
                                              std::shared_ptr<const TableDef> table, int left_time);
  /// Plans the logical joins of `r` (optimizer rules: filter push-down, join planning) and
  /// updates its scope's types to the planned output's (a regular join's has no time attribute).
  absl::Status PlanJoins(FromResult* r);
  /// The types of `scope`'s columns set to `node`'s output types.
  static void RefreshScope(const PlanPtr& node, Scope* scope);
  /// OVER aggregation in the SELECT list of `q`: when there is one, adds the OVER node on top of
  /// `*node`, extends `*scope` with its results and sets `*rewritten` to `q` with each OVER call
  /// replaced by a reference to its result. Returns whether `q` has OVER calls.
  /// `window`: the window TVF `q` reads from, if any; then only a window Top-N (ROW_NUMBER()
  /// partitioned by window_start, window_end) is bound, with the TVF's window assignment fused
  /// into it, and false is returned for other OVER calls.
  absl::StatusOr<bool> BindOver(const sql::Query& q, PlanPtr* node, Scope* scope,
                                std::unique_ptr<sql::Query>* rewritten,
                                const FromResult* window = nullptr);
  /// Top-N: when `from` is a query over ROW_NUMBER() and `where` bounds its result (rn <= N,
  /// rn < N, rn = 1), sets the limit of the rank node (kRank or kWindowRank). Errors (SqlError):
  /// a ROW_NUMBER() without such a bound (at `pos`, the FROM item), a bound out of range.
  absl::Status ApplyRankLimit(const PlanPtr& from, const Scope& scope, const sql::Expr* where,
                              sql::Pos pos);
  /// MATCH_RECOGNIZE: `e` with navigation replaced by slot references (ctx: a SlotContext).
  absl::StatusOr<sql::ExprPtr> RewriteNavigation(const sql::Expr& e, void* ctx);
  absl::StatusOr<PlanPtr> BindNamed(const std::string& name, sql::Pos pos);
  /// binder_values.cc: whether `q` is a VALUES list of several rows (a UNION ALL of SELECTs
  /// without FROM or clauses); the FROM of a SELECT without FROM (one row of no columns);
  /// a VALUES list of several rows (column types: the rows' common types); `node` with its
  /// visible columns renamed by `ref`'s column aliases (`AS t(x, y)`).
  static bool IsValuesList(const sql::Query& q);
  absl::StatusOr<FromResult> BindNoFrom(const sql::Query& q);
  absl::StatusOr<PlanPtr> BindValuesList(const sql::Query& q);
  absl::StatusOr<PlanPtr> ApplyColumnAliases(const sql::TableRef& ref, PlanPtr node);
  /// The window (spec, EXPLAIN text) of a window TVF or group window `ref` (tvf, tvf_args, pos).
  absl::Status BindWindowArgs(const sql::TableRef& ref, FromResult* r);
  /// binder_group_window.cc: Flink's group windows. When `q` groups by TUMBLE(ts, size),
  /// HOP(ts, slide, size) or SESSION(ts, gap), makes `*from` that window over `ts` (as a window
  /// TVF would) and returns the GROUP BY index of the window call, else -1. Errors: a second
  /// window, bad arguments, ts not a time attribute of `scope`.
  absl::StatusOr<int> BindGroupWindow(const sql::Query& q, Scope* scope, FromResult* from);
  /// The AstKeys of the auxiliary functions of group window `w` (TUMBLE_START(ts, size) …) and
  /// the window column each one is: 0 start, 1 end, 2 the time attribute.
  static std::vector<std::pair<std::string, int>> GroupWindowAuxiliaries(const sql::Expr& w,
                                                                         bool proctime);
  absl::StatusOr<BoundExprPtr> Bind(const sql::Expr& e, const Scope& scope, AggContext* agg);
  absl::StatusOr<BoundExprPtr> BindCall(const std::string& name, std::vector<BoundExprPtr> args,
                                        const std::vector<sql::Pos>& arg_pos, sql::Pos pos);
  absl::StatusOr<int64_t> IntervalMicros(const sql::Expr& e);
  /// IntervalMicros of a time bound (watermark delay, interval join bound, OVER RANGE, WITHIN):
  /// at most kMaxTimeBound in absolute value, so event-time arithmetic on it cannot overflow.
  /// `what` names it in the error ("the watermark delay").
  absl::StatusOr<int64_t> TimeBoundMicros(const sql::Expr& e, std::string_view what);
  absl::Status Error(sql::Pos pos, const std::string& msg, const std::string& hint = "") const;
  PlanPtr MakeCalc(PlanPtr input, BoundExprPtr filter, std::vector<BoundExprPtr> proj,
                   std::vector<std::string> names);

  const std::map<std::string, std::shared_ptr<const TableDef>>& tables_;
  const std::map<std::string, std::shared_ptr<const ViewDef>>& views_;
  std::map<std::string, sql::QueryPtr> ctes_;
  const SessionConfig& config_;
  std::string_view script_;
  int depth_ = 0;
};

/// Canonical text of an AST expression (identifiers lower-cased, qualifiers dropped), used to
/// match SELECT expressions against GROUP BY expressions.
std::string AstKey(const sql::Expr& e);

}  // namespace eddy
