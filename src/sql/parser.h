// Recursive-descent parser for eddy's SQL, the Flink SQL dialect: text → AST (sql/ast.h).
// Purely syntactic: names, types and functions are resolved later by the binder.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/ast.h"
#include "types/data_type.h"

namespace eddy::sql {

/// Parses a script of statements separated by ';' (the last ';' is optional, empty statements are
/// skipped; an empty or comment-only script gives zero statements). Each Statement's `text` is its
/// own source text, trimmed and without the ';', and `pos` is its first token.
///
/// Statements (Flink SQL): query (SELECT / VALUES / WITH, UNION ALL, ORDER BY, LIMIT);
/// INSERT INTO t [(cols)] query; CREATE [TEMPORARY] TABLE [IF NOT EXISTS] (columns, computed
/// columns, METADATA columns, WATERMARK, PRIMARY KEY … NOT ENFORCED) [COMMENT] WITH (…);
/// CREATE [TEMPORARY] VIEW [IF NOT EXISTS] v [(cols)] AS query; DROP [TEMPORARY] TABLE|VIEW
/// [IF EXISTS]; SET ['k' = 'v']; RESET ['k']; SHOW TABLES|VIEWS|FUNCTIONS|CONNECTORS; DESCRIBE|DESC
/// t; EXPLAIN [PLAN FOR] query|INSERT. Unquoted SET/RESET keys and values are taken as raw text up
/// to ';', the end of the line or a comment (as Flink's SQL client does).
///
/// AST conventions beyond ast.h: a HOP/CUMULATE/TUMBLE/SESSION TVF's `tvf_args` follow Flink's
/// positional signature (TUMBLE: size[, offset]; HOP: slide, size[, offset]; CUMULATE: step,
/// size[, offset]; SESSION: gap), also when written with named arguments (DATA => …). A union
/// node (`union_all`) may hold a single query when ORDER BY / LIMIT / WITH is applied to a
/// parenthesized query that already has its own. VALUES (r1), (r2) becomes a UNION ALL of
/// FROM-less SELECTs (a single row: one SELECT). Special-syntax functions get canonical
/// upper-case names: TRIM (unit = BOTH|LEADING|TRAILING, args [s] or [s, chars]), POSITION(a IN
/// b) → args [a, b], OVERLAY(s PLACING r FROM a [FOR n]), SUBSTRING(s FROM a [FOR n]); ordinary
/// calls keep the name as written. CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME,
/// LOCALTIMESTAMP, LOCALTIME without parentheses are kFunction nodes without arguments. `!=` is
/// returned as op "<>". A window frame starting at CURRENT ROW has `preceding` = integer 0.
///
/// Errors: InvalidArgument from SqlError ("SQL error at line L, column C: …" plus the source line
/// and a caret) at the offending token: lexical errors, unexpected tokens ("unexpected 'FORM',
/// expected ',' or FROM"), unsupported syntax (INSERT OVERWRITE, UNION without ALL, subqueries
/// in expressions, …), invalid types (DECIMAL precision above 18, BYTES, TIME), and nesting
/// deeper than 256 levels or expressions higher than 1000 nodes.
absl::StatusOr<std::vector<StatementPtr>> ParseScript(std::string_view script);

/// Parses a single scalar expression (e.g. "a + 1", "CAST(x AS INT)"), the whole text. Errors as
/// for ParseScript, positions relative to `text`.
absl::StatusOr<ExprPtr> ParseExpression(std::string_view text);

/// Parses a Flink SQL data type, the whole text: BOOLEAN; TINYINT, SMALLINT, INT, INTEGER (→ INT);
/// BIGINT; FLOAT, REAL, DOUBLE [PRECISION] (→ DOUBLE); DECIMAL|DEC|NUMERIC[(p[, s])] (default
/// (10, 0), 1 <= p <= 18); STRING, VARCHAR[(n)], CHAR[(n)]; TIMESTAMP[(p)] [WITHOUT TIME ZONE];
/// TIMESTAMP_LTZ[(p)] and TIMESTAMP[(p)] WITH LOCAL TIME ZONE (default p 6); DATE; INTERVAL
/// YEAR [TO MONTH] | MONTH (→ kIntervalYearMonth) and INTERVAL DAY/HOUR/MINUTE/SECOND [TO …]
/// (→ kIntervalDayTime); each optionally followed by NOT NULL or NULL. Errors: SqlError for an
/// unknown or unsupported type (BYTES, BINARY, TIME, ARRAY, MAP, ROW, …) or bad parameters.
absl::StatusOr<DataType> ParseDataType(std::string_view text);

}  // namespace eddy::sql
