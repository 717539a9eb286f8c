#include "connectors/jdbc/postgres.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "base/status.h"
#include "base/strings.h"
#include "catalog/options.h"
#include "types/text_codec.h"
#include "types/time_util.h"

namespace eddy::connectors::jdbc {

namespace {

const std::vector<std::string> kJdbc = {"jdbc"};

const auto kUrl =
    catalog::TableOption(kJdbc, "url")
        .String()
        .Required()
        .Doc(
            "The database: 'jdbc:postgresql://host[:port][/database][?param=value&…]' (PostgreSQL; "
            "params: sslmode, sslrootcert, sslcert, sslkey, connectTimeout, ApplicationName, "
            "currentSchema, user, password).");
const auto kTableName = catalog::TableOption(kJdbc, "table-name")
                            .String()
                            .Required()
                            .Doc("The PostgreSQL table read or written (may be schema.table).");
const auto kUsername = catalog::TableOption(kJdbc, "username")
                           .String("")
                           .Doc("The user to connect as (default: libpq's, the OS user).");
const auto kPassword =
    catalog::TableOption(kJdbc, "password").String("").Doc("The user's password (never logged).");
const auto kFlushRows = catalog::TableOption(kJdbc, "sink.buffer-flush.max-rows")
                            .Int(100)
                            .Range(0, 1 << 20)
                            .Doc(
                                "Buffered rows that make the sink flush (one transaction); 0: no "
                                "row limit.");
const auto kFlushInterval =
    catalog::TableOption(kJdbc, "sink.buffer-flush.interval")
        .Duration("1 s")
        .Min(absl::ZeroDuration())
        .Doc(
            "A buffered row is flushed at the latest this long after it arrived; 0: only at the "
            "row limit, checkpoints and the end of input.");
const auto kMaxRetries = catalog::TableOption(kJdbc, "sink.max-retries")
                             .Int(3)
                             .Range(0, 100)
                             .Doc(
                                 "Retries of a flush after a lost connection or a transient "
                                 "error (the connection is opened again).");
const auto kSinkParallelism = catalog::TableOption(kJdbc, "sink.parallelism")
                                  .Int(1)
                                  .Range(1, 1 << 20)
                                  .Doc("Sink subtasks (each with its own connection).");
const auto kPartitionColumn =
    catalog::TableOption(kJdbc, "scan.partition.column")
        .String()
        .Doc(
            "An integer column that splits the scan into 'scan.partition.num' ranges read by the "
            "source subtasks in turn (with the other scan.partition options).");
const auto kPartitionNum = catalog::TableOption(kJdbc, "scan.partition.num")
                               .Int()
                               .Range(1, 1 << 20)
                               .Doc("The number of ranges of a partitioned scan.");
const auto kLowerBound =
    catalog::TableOption(kJdbc, "scan.partition.lower-bound")
        .Int()
        .Doc("The first value of the first range (rows below it are not read).");
const auto kUpperBound = catalog::TableOption(kJdbc, "scan.partition.upper-bound")
                             .Int()
                             .Doc("The last value of the last range (rows above it are not read).");
const auto kFetchSize = catalog::TableOption(kJdbc, "scan.fetch-size")
                            .Int(0)
                            .Range(0, 1 << 24)
                            .Doc("Rows fetched per round trip (a cursor); 0: the batch size.");
const auto kCacheRows =
    catalog::TableOption(kJdbc, "lookup.cache.max-rows")
        .Int()
        .Range(0, int64_t{1} << 40)
        .Doc(
            "Lookup keys whose rows are cached (least recently used keys go first); with "
            "'lookup.cache.ttl'. No cache by default.");
const auto kCacheTtl = catalog::TableOption(kJdbc, "lookup.cache.ttl")
                           .Duration()
                           .Min(absl::Milliseconds(1))
                           .Doc("How long a cached lookup result is used after it was read.");
const auto kCacheMissing =
    catalog::TableOption(kJdbc, "lookup.cache.caching-missing-key")
        .Bool(true)
        .Doc("Cache that a key has no row too (else a missing key is looked up every time).");
const auto kLookupRetries = catalog::TableOption(kJdbc, "lookup.max-retries")
                                .Int(3)
                                .Range(0, 100)
                                .Doc("Retries of a lookup query after a lost connection.");

// 'url' → libpq keywords. Errors name the table and the part of the URL.
absl::Status ParseUrl(const std::string& table, const std::string& url,
                      std::map<std::string, std::string>* kv) {
  constexpr absl::string_view kPrefix = "jdbc:postgresql:";
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(fmt::format(
        "table '{}': 'url' = '{}': {} (expected 'jdbc:postgresql://host:port/database')", table,
        url, why));
  };
  if (!absl::StartsWith(url, kPrefix)) {
    return bad(absl::StartsWith(url, "jdbc:") ? "only PostgreSQL is supported" : "not a JDBC URL");
  }
  absl::string_view rest = absl::string_view(url).substr(kPrefix.size());
  absl::string_view query;
  if (size_t q = rest.find('?'); q != absl::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (absl::StartsWith(rest, "//")) {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    absl::string_view hostport = rest.substr(0, slash);
    absl::string_view db = slash == absl::string_view::npos ? "" : rest.substr(slash + 1);
    if (hostport.empty()) return bad("no host");
    absl::string_view host = hostport, port;
    if (hostport.front() == '[') {
      size_t close = hostport.find(']');
      if (close == absl::string_view::npos) return bad("unclosed '[' in the host");
      host = hostport.substr(1, close - 1);
      absl::string_view after = hostport.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') return bad("text after the host");
        port = after.substr(1);
      }
    } else if (size_t c = hostport.rfind(':'); c != absl::string_view::npos) {
      host = hostport.substr(0, c);
      port = hostport.substr(c + 1);
    }
    int p = 0;
    if (!port.empty() && (!absl::SimpleAtoi(port, &p) || p < 1 || p > 65535)) {
      return bad(fmt::format("bad port '{}'", std::string(port)));
    }
    (*kv)["host"] = std::string(host);
    if (!port.empty()) (*kv)["port"] = std::string(port);
    if (!db.empty()) (*kv)["dbname"] = PercentDecode(std::string_view(db.data(), db.size()));
  } else if (!rest.empty()) {
    (*kv)["dbname"] = PercentDecode(
        std::string_view(rest.data(), rest.size()));  // jdbc:postgresql:database (localhost)
  }
  static const std::map<std::string, std::string> kParams = {
      {"sslmode", "sslmode"},
      {"sslrootcert", "sslrootcert"},
      {"sslcert", "sslcert"},
      {"sslkey", "sslkey"},
      {"connectTimeout", "connect_timeout"},
      {"ApplicationName", "application_name"},
      {"user", "user"},
      {"password", "password"},
  };
  for (absl::string_view kvtext : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> p = absl::StrSplit(kvtext, absl::MaxSplits('=', 1));
    std::string value = PercentDecode(p.second);
    if (p.first == "currentSchema") {
      (*kv)["options"] = "-c search_path=" + value;
      continue;
    }
    auto it = kParams.find(p.first);
    if (it == kParams.end()) return bad(fmt::format("unsupported parameter '{}'", p.first));
    (*kv)[it->second] = value;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JdbcOptions> ParseJdbcOptions(const TableDef& t) {
  const auto& opts = t.options;
  JdbcOptions o;
  o.table = t.name;
  EDDY_ASSIGN_OR_RETURN(o.url, kUrl.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.table_name, kTableName.Get(opts));
  if (o.table_name.empty()) {
    return absl::InvalidArgumentError(fmt::format("table '{}': 'table-name' is empty", t.name));
  }
  std::map<std::string, std::string> kv;
  EDDY_RETURN_IF_ERROR(ParseUrl(t.name, o.url, &kv));
  EDDY_ASSIGN_OR_RETURN(std::string user, kUsername.Get(opts));
  EDDY_ASSIGN_OR_RETURN(std::string password, kPassword.Get(opts));
  if (!user.empty()) kv["user"] = user;
  if (!password.empty()) kv["password"] = password;
  if (!kv.count("connect_timeout")) kv["connect_timeout"] = "10";
  if (!kv.count("application_name")) kv["application_name"] = "eddy";
  kv["client_encoding"] = "UTF8";
  for (const auto& [k, v] : kv) o.conninfo.emplace_back(k, v);
  o.where =
      fmt::format("PostgreSQL {}:{}/{}{}", kv.count("host") ? kv["host"] : "localhost",
                  kv.count("port") ? kv["port"] : "5432", kv.count("dbname") ? kv["dbname"] : "",
                  kv.count("user") ? fmt::format(" as user '{}'", kv["user"]) : "");

  EDDY_ASSIGN_OR_RETURN(o.flush_max_rows, kFlushRows.Get(opts));
  EDDY_ASSIGN_OR_RETURN(absl::Duration interval, kFlushInterval.Get(opts));
  o.flush_interval_ms = absl::ToInt64Milliseconds(interval);
  EDDY_ASSIGN_OR_RETURN(o.max_retries, kMaxRetries.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.sink_parallelism, kSinkParallelism.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.fetch_size, kFetchSize.Get(opts));

  // Partitioned scan: all four options or none (Flink's JdbcDynamicTableFactory).
  EDDY_ASSIGN_OR_RETURN(auto col, kPartitionColumn.Find(opts));
  EDDY_ASSIGN_OR_RETURN(auto num, kPartitionNum.Find(opts));
  EDDY_ASSIGN_OR_RETURN(auto lower, kLowerBound.Find(opts));
  EDDY_ASSIGN_OR_RETURN(auto upper, kUpperBound.Find(opts));
  int given = !!col + !!num + !!lower + !!upper;
  if (given != 0 && given != 4) {
    return absl::InvalidArgumentError(fmt::format(
        "table '{}': either all or none of 'scan.partition.column', 'scan.partition.num', "
        "'scan.partition.lower-bound' and 'scan.partition.upper-bound' must be set",
        t.name));
  }
  if (given == 4) {
    if (*lower > *upper) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': 'scan.partition.lower-bound' ({}) is above 'scan.partition.upper-bound' "
          "({})",
          t.name, *lower, *upper));
    }
    int c = t.physical.IndexOf(*col);
    if (c < 0 || !t.physical.fields[static_cast<size_t>(c)].type.is_integral()) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': 'scan.partition.column' = '{}' must be an INT or BIGINT column of the "
          "table",
          t.name, *col));
    }
    o.partition_column = t.physical.fields[static_cast<size_t>(c)].name;
    o.partition_num = *num;
    o.lower_bound = *lower;
    o.upper_bound = *upper;
  }

  EDDY_ASSIGN_OR_RETURN(auto rows, kCacheRows.Find(opts));
  EDDY_ASSIGN_OR_RETURN(auto ttl, kCacheTtl.Find(opts));
  if (!!rows != !!ttl) {
    return absl::InvalidArgumentError(fmt::format(
        "table '{}': 'lookup.cache.max-rows' and 'lookup.cache.ttl' must be set together (the "
        "lookup cache is off without them)",
        t.name));
  }
  if (rows) {
    o.cache_max_rows = *rows;
    o.cache_ttl_ms = absl::ToInt64Milliseconds(*ttl);
  }
  EDDY_ASSIGN_OR_RETURN(o.cache_missing_key, kCacheMissing.Get(opts));
  EDDY_ASSIGN_OR_RETURN(o.lookup_max_retries, kLookupRetries.Get(opts));
  for (const auto& pk : t.primary_key) {
    if (t.physical.IndexOf(pk) < 0) {
      return absl::InvalidArgumentError(
          fmt::format("table '{}': PRIMARY KEY column '{}' is not a physical column", t.name, pk));
    }
  }
  return o;
}

std::string QuoteIdent(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const JdbcOptions& o) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : o.conninfo) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back("options");
  std::string options = "-c TimeZone=UTC -c DateStyle=ISO -c extra_float_digits=3";
  for (const auto& [k, v] : o.conninfo) {
    if (k == "options") options += " " + v;
  }
  values.push_back(options.c_str());
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), 0);
  if (!c) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    // libpq: 'connection to server at "h" (…), port p failed: FATAL:  password authentication…'
    std::string why = msg;
    if (size_t f = why.find("failed: "); f != std::string::npos) why = why.substr(f + 8);
    if (absl::StartsWith(why, "FATAL:  ")) why = why.substr(8);
    why = std::string(absl::StripAsciiWhitespace(why));
    for (char& ch : why) {
      if (ch == '\n' || ch == '\t') ch = ' ';
    }
    std::string text = fmt::format("table '{}': cannot connect to {}: {}", o.table, o.where, why);
    if (absl::StrContains(why, "authentication failed") ||
        absl::StrContains(why, "no password supplied") || absl::StrContains(why, "pg_hba.conf")) {
      return absl::PermissionDeniedError(text + " (check 'username' and 'password')");
    }
    if (absl::StrContains(why, "does not exist")) return absl::InvalidArgumentError(text);
    return absl::UnavailableError(text);
  }
  return std::unique_ptr<PgConnection>(new PgConnection(c, o.where));
}

absl::Status PgConnection::ErrorOf(const PGresult* r, const std::string& sql) const {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  std::string msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                            ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                            : PQresultErrorMessage(r)
                      : PQerrorMessage(conn_);
  msg = std::string(absl::StripAsciiWhitespace(msg));
  std::string shown = sql.size() > 200 ? sql.substr(0, 200) + "…" : sql;
  std::string text = fmt::format("{}: {}{} (in: {})", where_, msg,
                                 code.empty() ? "" : fmt::format(" [SQLSTATE {}]", code), shown);
  bool transient = !ok() || code.empty() || absl::StartsWith(code, "08") || code == "40001" ||
                   code == "40P01" || code == "57P01" || code == "57P02" || code == "57P03";
  if (transient) return absl::UnavailableError(text);
  if (code == "42P01") return absl::NotFoundError(text);
  return absl::InvalidArgumentError(text);
}

absl::StatusOr<PgResult> PgConnection::Exec(const std::string& sql,
                                            const std::vector<std::optional<std::string>>& params) {
  PGresult* r;
  if (params.empty()) {
    r = PQexec(conn_, sql.c_str());
  } else {
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) values[i] = params[i] ? params[i]->c_str() : nullptr;
    r = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                     nullptr, nullptr, 0);
  }
  PgResult res(r);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN) return res;
  return ErrorOf(r, sql);
}

absl::Status PgConnection::CopyIn(const std::string& sql, const std::string& data) {
  EDDY_ASSIGN_OR_RETURN(PgResult start, Exec(sql));
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) {
    return absl::InternalError(fmt::format("{}: '{}' did not start a COPY", where_, sql));
  }
  // Whole rows in pieces of about 1 MiB (libpq buffers what the socket does not take).
  constexpr size_t kPiece = 1 << 20;
  for (size_t i = 0; i < data.size();) {
    size_t end = std::min(data.size(), i + kPiece);
    if (PQputCopyData(conn_, data.data() + i, static_cast<int>(end - i)) != 1) {
      return ErrorOf(nullptr, sql);
    }
    i = end;
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) return ErrorOf(nullptr, sql);
  absl::Status result = absl::OkStatus();
  while (PGresult* r = PQgetResult(conn_)) {
    PgResult res(r);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && result.ok()) result = ErrorOf(r, sql);
  }
  return result;
}

void AppendPgText(const Column& col, size_t row, std::string* out) {
  const DataType& t = col.type;
  switch (t.id) {
    case TypeId::kBoolean:
      *out += col.i64[row] ? 't' : 'f';
      return;
    case TypeId::kInt:
    case TypeId::kBigint:
      text::AppendInt(col.i64[row], out);
      return;
    case TypeId::kDecimal:
      text::AppendJavaDecimal(col.i64[row], t.scale, true, out);
      return;
    case TypeId::kDouble: {
      double v = col.f64[row];
      if (std::isnan(v)) {
        *out += "NaN";
      } else if (std::isinf(v)) {
        *out += v > 0 ? "Infinity" : "-Infinity";
      } else {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out->append(buf, r.ptr);
      }
      return;
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampLtz:
      *out += FormatTimestamp(col.i64[row], 6);
      if (t.id == TypeId::kTimestampLtz) *out += "+00";
      return;
    case TypeId::kDate:
      *out += FormatDate(col.i64[row]);
      return;
    case TypeId::kIntervalDayTime:
      text::AppendInt(col.i64[row], out);
      *out += " microseconds";
      return;
    case TypeId::kIntervalYearMonth:
      text::AppendInt(col.i64[row], out);
      *out += " months";
      return;
    case TypeId::kString:
      *out += col.str[row];
      return;
    case TypeId::kNull:
      return;
  }
}

std::string SelectExpr(const std::string& q, const DataType& t) {
  switch (t.id) {
    case TypeId::kTimestamp:
    case TypeId::kTimestampLtz:
    case TypeId::kIntervalDayTime:
      return fmt::format("(EXTRACT(EPOCH FROM {}) * 1000000)::int8", q);
    case TypeId::kDate:
      return fmt::format("({}::date - DATE '1970-01-01')", q);
    case TypeId::kIntervalYearMonth:
      return fmt::format("(EXTRACT(YEAR FROM {0}) * 12 + EXTRACT(MONTH FROM {0}))::int8", q);
    default:
      return q;
  }
}

absl::Status AppendFromPg(Column* col, bool null, std::string_view s, Arena* arena) {
  if (null) {
    col->AppendNull();
    return absl::OkStatus();
  }
  const DataType& t = col->type;
  int64_t v = 0;
  bool ok = true;
  switch (t.id) {
    case TypeId::kBoolean: {
      ok = s == "t" || s == "f" || s == "true" || s == "false";
      v = s.front() == 't';
      break;
    }
    case TypeId::kInt:
      ok = text::ParseInt32(s, &v);
      break;
    case TypeId::kBigint:
    case TypeId::kTimestamp:
    case TypeId::kTimestampLtz:
    case TypeId::kDate:
    case TypeId::kIntervalDayTime:
    case TypeId::kIntervalYearMonth:
      ok = text::ParseInt64(s, &v);
      break;
    case TypeId::kDecimal:
      ok = text::ParseDecimal(s, t.precision, t.scale, &v) == text::DecimalParse::kOk;
      break;
    case TypeId::kDouble: {
      double d;
      if (s == "-Infinity") {
        d = -INFINITY;
      } else if (!text::ParseDouble(s, &d)) {
        ok = false;
        break;
      }
      col->AppendDouble(d);
      return absl::OkStatus();
    }
    case TypeId::kString:
      col->AppendString(arena->Add(s));
      return absl::OkStatus();
    case TypeId::kNull:
      col->AppendNull();
      return absl::OkStatus();
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        fmt::format("cannot read '{}' as {}", s.substr(0, 100), t.ToString()));
  }
  col->AppendInt(v);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MatchColumns(PgConnection* conn, const JdbcOptions& o,
                                                      const Schema& physical) {
  auto res = conn->Exec(fmt::format("SELECT * FROM {} LIMIT 0", o.table_name));
  if (!res.ok()) {
    if (absl::IsNotFound(res.status())) {
      return absl::NotFoundError(
          fmt::format("table '{}': 'table-name' = '{}': no such table in {} ({})", o.table,
                      o.table_name, o.where, std::string(res.status().message())));
    }
    return absl::Status(res.status().code(), fmt::format("table '{}': {}", o.table,
                                                         std::string(res.status().message())));
  }
  std::vector<std::string> pg;
  for (int i = 0; i < res->columns(); ++i) pg.emplace_back(PQfname(res->get(), i));
  std::vector<std::string> out;
  for (const Field& f : physical.fields) {
    std::string found;
    for (const std::string& p : pg) {
      if (p == f.name) found = p;  // an exact match wins
    }
    if (found.empty()) {
      for (const std::string& p : pg) {
        if (absl::EqualsIgnoreCase(p, f.name)) found = p;
      }
    }
    if (found.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("table '{}': PostgreSQL table '{}' has no column '{}' (its columns: {})",
                      o.table, o.table_name, f.name, fmt::join(pg, ", ")));
    }
    out.push_back(QuoteIdent(found));
  }
  return out;
}

}  // namespace eddy::connectors::jdbc
