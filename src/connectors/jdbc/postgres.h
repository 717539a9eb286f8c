// What the 'jdbc' connector's sink, scan source and lookup source share: its options (Flink's JDBC
// connector names), a PostgreSQL connection over libpq, and the conversion of column values to and
// from PostgreSQL's text format (docs/sql-reference.md "### jdbc" has the type mapping).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/table.h"
#include "types/batch.h"

namespace eddy::connectors::jdbc {

/// A table's 'jdbc' options, parsed and checked (CREATE TABLE checks them too).
struct JdbcOptions {
  std::string table;       // the eddy table's name, for messages
  std::string url;         // 'url' as written: jdbc:postgresql://host[:port][/database][?k=v&…]
  std::string table_name;  // 'table-name' as written (may be schema-qualified)
  /// libpq connection keywords and values from 'url', 'username' and 'password'.
  std::vector<std::pair<std::string, std::string>> conninfo;
  std::string where;  // "PostgreSQL 127.0.0.1:5432/db as user 'u'" (no password), for messages
  // Sink.
  int64_t flush_max_rows = 100;      // 0: no row limit
  int64_t flush_interval_ms = 1000;  // 0: no timer
  int64_t max_retries = 3;
  int64_t sink_parallelism = 1;
  // Scan.
  std::string partition_column;  // "" when the scan is not partitioned
  int64_t partition_num = 0;
  int64_t lower_bound = 0;
  int64_t upper_bound = 0;
  int64_t fetch_size = 0;  // 0: the batch size
  // Lookup.
  int64_t cache_max_rows = 0;  // 0: no cache
  int64_t cache_ttl_ms = 0;
  bool cache_missing_key = true;
  int64_t lookup_max_retries = 3;
};

/// Parses and checks the options of `table` (Flink JDBC connector names). Errors:
/// InvalidArgument naming the table and the option (a URL that is not jdbc:postgresql:, partition
/// options given only in part or on a column that is not an integer, a lookup cache with
/// 'lookup.cache.max-rows' but no 'lookup.cache.ttl' or the other way round).
absl::StatusOr<JdbcOptions> ParseJdbcOptions(const TableDef& table);

/// `s` as a PostgreSQL identifier in double quotes ("a""b" for a"b).
std::string QuoteIdent(const std::string& s);

/// One query's result (libpq PGresult), freed on destruction. Move-only.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  PGresult* get() const { return r_.get(); }
  int rows() const { return PQntuples(r_.get()); }
  int columns() const { return PQnfields(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
  std::string_view Text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_{nullptr, &PQclear};
};

/// A connection to PostgreSQL. Not thread-safe: one per subtask (or per check).
class PgConnection {
 public:
  ~PgConnection();
  /// Connects with `o.conninfo` (session time zone UTC, so timestamptz values are read and written
  /// in UTC). Errors: Unavailable when the server cannot be reached; PermissionDenied when it
  /// refuses the credentials; InvalidArgument for other refusals (unknown database); each message
  /// names the table, the server and the user, never the password.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const JdbcOptions& o);

  /// Runs `sql` with text parameters (nullopt = NULL; untyped: the server infers each from its
  /// place). Errors: Unavailable when the connection is lost or the error is transient
  /// (SQLSTATE classes 08, 40001/40P01 serialization/deadlock, 57P01 terminated by an
  /// administrator), InvalidArgument for others, with PostgreSQL's message and SQLSTATE.
  absl::StatusOr<PgResult> Exec(const std::string& sql,
                                const std::vector<std::optional<std::string>>& params = {});
  /// Sends `data` (text format rows, each ending in '\n') to a COPY … FROM STDIN started by
  /// Exec. Errors as Exec.
  absl::Status CopyIn(const std::string& sql, const std::string& data);
  /// Whether the connection is still usable.
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }

 private:
  explicit PgConnection(PGconn* c, std::string where) : conn_(c), where_(std::move(where)) {}
  absl::Status ErrorOf(const PGresult* r, const std::string& sql) const;
  PGconn* conn_;
  std::string where_;
};

/// The text PostgreSQL reads for row `row` of `col` (COPY text format escapes it further): BOOLEAN
/// 't'/'f', integers and DECIMAL in decimal, DOUBLE round-trip exact ('NaN', 'Infinity'),
/// TIMESTAMP 'yyyy-MM-dd HH:mm:ss.ffffff', TIMESTAMP_LTZ the same with '+00', DATE 'yyyy-MM-dd',
/// intervals in microseconds or months, STRING as is. The caller handles NULL.
void AppendPgText(const Column& col, size_t row, std::string* out);

/// The select-list expression that reads PostgreSQL column `quoted` as eddy type `t`: timestamps
/// and day-time intervals as microseconds (EXTRACT(EPOCH …)), dates as days since 1970-01-01,
/// year-month intervals as months, everything else as PostgreSQL's text output.
std::string SelectExpr(const std::string& quoted, const DataType& t);

/// Appends the value of a SelectExpr result (`text`; NULL when `null`) to `col`. String bytes are
/// copied into `arena`. Errors: InvalidArgument "cannot read '<text>' as <TYPE>".
absl::Status AppendFromPg(Column* col, bool null, std::string_view text, Arena* arena);

/// Matches the columns of `t` (every physical column) to the columns of PostgreSQL table
/// `o.table_name`, case-insensitively, and returns the PostgreSQL names (quoted), one per physical
/// column. Errors: NotFound when the table does not exist; InvalidArgument naming a column the
/// table lacks; the connection's errors.
absl::StatusOr<std::vector<std::string>> MatchColumns(PgConnection* conn, const JdbcOptions& o,
                                                      const Schema& physical);

}  // namespace eddy::connectors::jdbc
