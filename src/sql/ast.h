// Abstract syntax tree of eddy's SQL (Flink SQL dialect). Produced by sql/parser.h, consumed by
// the binder. Every node carries the position of its first token for line:column errors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "types/data_type.h"

namespace eddy::sql {

/// 1-based line and column of a token, and its byte offset in the script.
struct Pos {
  int line = 1;
  int col = 1;
  size_t offset = 0;
};

struct Query;
using QueryPtr = std::shared_ptr<Query>;

/// Expression node. One struct with a kind tag; which fields are set depends on the kind.
struct Expr;
using ExprPtr = std::shared_ptr<Expr>;

enum class ExprKind {
  kLiteral,      // lit_type + text (see LiteralType)
  kColumn,       // qualifier (may be empty) + name; `a.b` → qualifier "a", name "b"
  kStar,         // `*` or `t.*` (qualifier); only as a select item or in COUNT(*)
  kUnary,        // op: "-", "+", "NOT"; args[0]
  kBinary,       // op: "+","-","*","/","%","||","=","<>","<","<=",">",">=","AND","OR"; args[0..1]
  kFunction,     // name (as written), args, distinct, star_arg (COUNT(*)), filter, over
  kCase,         // args: [operand?] then WHEN/THEN pairs then [ELSE]; see case_* fields
  kCast,         // args[0], cast_type, try_cast
  kIsNull,       // args[0], negated (IS NOT NULL)
  kIsBool,       // args[0] IS [NOT] TRUE/FALSE: bool_value, negated
  kIn,           // args[0] IN (args[1..]), negated
  kBetween,      // args[0] BETWEEN args[1] AND args[2], negated
  kLike,         // args[0] LIKE args[1] [ESCAPE args[2]], negated
  kExtract,      // EXTRACT(unit FROM args[0])
  kFloorCeilTo,  // FLOOR(args[0] TO unit) / CEIL(args[0] TO unit): name is "FLOOR" or "CEIL"
  kInterval,     // INTERVAL 'text' unit [TO unit2]; also INTERVAL '5' SECOND(3)
};

enum class LiteralType {
  kNull,
  kTrue,
  kFalse,
  kInteger,
  kDecimal,
  kDouble,
  kString,
  kTimestamp,
  kDate,
  kTime
};

/// Window frame / OVER clause (issue 4 uses it; parsed now so errors are clear).
struct OverSpec {
  std::vector<ExprPtr> partition_by;
  std::vector<std::pair<ExprPtr, bool>> order_by;  // (expr, descending)
  bool has_frame = false;
  bool rows = false;            // ROWS vs RANGE
  ExprPtr preceding;            // nullptr = UNBOUNDED PRECEDING
  bool current_row_end = true;  // ... AND CURRENT ROW
};

struct Expr {
  ExprKind kind;
  Pos pos;
  // literal
  LiteralType lit_type = LiteralType::kNull;
  std::string text;  // literal text (strings unquoted/unescaped), interval value text
  // identifiers / operators / functions
  std::string qualifier;
  std::string name;
  std::string op;
  std::vector<ExprPtr> args;
  bool distinct = false;
  bool star_arg = false;
  bool negated = false;
  bool bool_value = false;
  ExprPtr filter;                  // agg(x) FILTER (WHERE filter)
  std::shared_ptr<OverSpec> over;  // f(x) OVER (...)
  // CASE: has_operand → args[0] is the operand; then when/then pairs; has_else → last is ELSE
  bool case_has_operand = false;
  bool case_has_else = false;
  // CAST
  DataType cast_type;
  bool try_cast = false;
  // EXTRACT, FLOOR/CEIL TO, INTERVAL: upper-case unit names (YEAR, MONTH, DAY, HOUR, MINUTE,
  // SECOND, MILLISECOND, WEEK, QUARTER, DOW, DOY, EPOCH)
  std::string unit;
  std::string unit2;
};

/// A FROM item.
struct TableRef;
using TableRefPtr = std::shared_ptr<TableRef>;

enum class TableRefKind {
  kNamed,      // name [[AS] alias]
  kSubquery,   // (query) [AS] alias
  kWindowTvf,  // TABLE(TUMBLE|HOP|CUMULATE|SESSION(TABLE x [PARTITION BY k,…], DESCRIPTOR(c),
               // args…))
  kJoin,       // left [INNER|LEFT|RIGHT|FULL] JOIN right ON cond  (also CROSS JOIN, comma)
  kMatchRecognize,  // input MATCH_RECOGNIZE (…) [AS] alias   (input in `tvf_input`)
};

struct MatchRecognize;

enum class JoinType { kInner, kLeft, kRight, kFull, kCross };

struct TableRef {
  TableRefKind kind;
  Pos pos;
  std::string name;   // kNamed
  std::string alias;  // any kind
  // `[AS] alias (c1, c2, …)`: new names of the columns, in order (kNamed, kSubquery); empty: none
  std::vector<std::string> column_aliases;
  Pos column_aliases_pos;
  QueryPtr subquery;  // kSubquery
  // kWindowTvf
  std::string tvf;                    // "TUMBLE", "HOP", "CUMULATE", "SESSION" (upper case)
  TableRefPtr tvf_input;              // kNamed or kSubquery (TABLE t / TABLE (query)?)
  std::vector<ExprPtr> partition_by;  // SESSION(TABLE t PARTITION BY k, …)
  std::string descriptor;             // DESCRIPTOR(col)
  Pos descriptor_pos;
  std::vector<ExprPtr> tvf_args;  // the interval arguments, in order (size, slide, offset…)
  // kJoin
  JoinType join_type = JoinType::kInner;
  TableRefPtr left, right;
  ExprPtr on;
  // FOR SYSTEM_TIME AS OF expr (temporal / lookup join right side), on kNamed
  ExprPtr system_time;
  // kMatchRecognize
  std::shared_ptr<MatchRecognize> match;
};

struct SelectItem {
  ExprPtr expr;
  std::string alias;  // empty when none
  Pos pos;
};

struct OrderItem {
  ExprPtr expr;
  bool desc = false;
};

/// Flink SQL `MATCH_RECOGNIZE (…)` (SQL:2016 row pattern recognition).
struct MatchRecognize {
  std::vector<ExprPtr> partition_by;
  std::vector<OrderItem> order_by;
  std::vector<SelectItem> measures;
  bool all_rows = false;  // ALL ROWS PER MATCH (else ONE ROW PER MATCH)
  Pos rows_pos;
  enum class Skip { kPastLastRow, kToNextRow, kToFirst, kToLast };
  Skip skip = Skip::kPastLastRow;
  std::string skip_var;
  Pos skip_pos;
  std::string pattern;  // the raw text inside PATTERN ( … )
  Pos pattern_pos;      // of the pattern text's first character
  ExprPtr within;       // WITHIN INTERVAL '…' unit, or null
  struct Define {
    std::string var;
    ExprPtr cond;
    Pos pos;
  };
  std::vector<Define> define;
};

/// SELECT … FROM … WHERE … GROUP BY … HAVING … [ORDER BY … LIMIT n], or a UNION ALL of queries.
struct Query {
  Pos pos;
  // set operation: when `union_all` is non-empty this node is `union_all[0] UNION ALL …`
  std::vector<QueryPtr> union_all;
  // WITH name AS (query), …  (applies to this query)
  std::vector<std::pair<std::string, QueryPtr>> with;
  bool distinct = false;
  std::vector<SelectItem> items;
  TableRefPtr from;  // nullptr for SELECT without FROM
  ExprPtr where;
  std::vector<ExprPtr> group_by;
  ExprPtr having;
  std::vector<OrderItem> order_by;
  std::optional<int64_t> limit;
};

struct ColumnDef {
  std::string name;
  Pos pos;
  DataType type;
  ExprPtr computed;          // `name AS expr` computed column (type unset)
  std::string metadata_key;  // `METADATA [FROM 'key']` (issue 3); "" when none
  bool is_metadata = false;
  bool is_virtual = false;  // METADATA … VIRTUAL
};

struct WatermarkDef {
  std::string column;
  Pos pos;
  ExprPtr expr;
};

enum class StmtKind {
  kCreateTable,
  kCreateView,
  kDropTable,
  kDropView,
  kInsert,
  kQuery,
  kSet,
  kReset,
  kShowTables,
  kShowViews,
  kShowFunctions,
  kShowConnectors,
  kDescribe,
  kExplain,
};

struct Statement;
using StatementPtr = std::shared_ptr<Statement>;

struct Statement {
  StmtKind kind;
  Pos pos;
  std::string text;  // the statement's source text (without the trailing ';')
  // CREATE TABLE / VIEW, DROP, DESCRIBE, INSERT target
  std::string name;
  Pos name_pos;
  bool if_not_exists = false;
  bool if_exists = false;
  bool temporary = false;
  std::vector<ColumnDef> columns;
  std::optional<WatermarkDef> watermark;
  std::vector<std::string> primary_key;                      // PRIMARY KEY (a, b) NOT ENFORCED
  std::vector<std::pair<std::string, std::string>> options;  // WITH ('k' = 'v', …) in order
  std::vector<std::string> view_columns;                     // CREATE VIEW v (a, b) AS …
  // INSERT INTO name [(cols)] query; CREATE VIEW … AS query; query; EXPLAIN target
  std::vector<std::string> insert_columns;
  QueryPtr query;
  StatementPtr explained;  // EXPLAIN <statement>
  // SET 'k' = 'v' / RESET 'k'; key empty for bare SET / RESET
  std::string key;
  std::string value;
};

}  // namespace eddy::sql
