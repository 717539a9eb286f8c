// The 'jdbc' scan source and lookup source (Flink's JDBC connector, PostgreSQL over libpq).
//  * Scan (bounded): SELECT of the table's physical columns through a cursor, 'scan.fetch-size'
//    rows per FETCH. With the 'scan.partition.*' options the scan is split as Flink's
//    JdbcNumericBetweenParametersProvider splits it: [lower-bound, upper-bound] in
//    'scan.partition.num' ranges of nearly equal length (`col BETWEEN a AND b`), range i read by
//    subtask i mod parallelism; rows outside the bounds or with a NULL partition column are not
//    read. Without them subtask 0 reads the whole table.
//  * Lookup: a lookup join asks for the missing keys of each input batch at once: one
//    `SELECT … WHERE k = ANY($1)` (one key column) or `WHERE (k1, k2) IN (($1, $2), …)` per
//    batch; the runtime's lookup join caches the answers ('lookup.cache.*'). A lost connection
//    is opened again and the query retried up to 'lookup.max-retries' times.
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "base/log.h"
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/jdbc/postgres.h"
#include "runtime/lookup_join.h"

namespace eddy::connectors {

namespace {

using jdbc::JdbcOptions;
using jdbc::PgConnection;
using jdbc::PgResult;

// Rows of `res` (columns as `schema`) as a batch of inserts.
absl::StatusOr<Batch> ToBatch(const PgResult& res, const Schema& schema, const JdbcOptions& o) {
  Batch b = Batch::Empty(schema);
  auto arena = std::make_shared<Arena>();
  int rows = res.rows();
  for (auto& c : b.columns) c.Reserve(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    for (size_t c = 0; c < schema.fields.size(); ++c) {
      int pc = static_cast<int>(c);
      absl::Status st =
          jdbc::AppendFromPg(&b.columns[c], res.IsNull(r, pc), res.Text(r, pc), arena.get());
      if (!st.ok()) {
        return absl::InvalidArgumentError(fmt::format("table '{}': column '{}' of {}: {}", o.table,
                                                      schema.fields[c].name, o.table_name,
                                                      std::string(st.message())));
      }
    }
  }
  b.arenas.push_back(std::move(arena));
  b.kinds.assign(static_cast<size_t>(rows), RowKind::kInsert);
  return b;
}

std::string SelectList(const std::vector<std::string>& pg, const Schema& schema) {
  std::string s;
  for (size_t c = 0; c < pg.size(); ++c) {
    if (c) s += ", ";
    s += jdbc::SelectExpr(pg[c], schema.fields[c].type);
  }
  return s;
}

struct ScanShared {
  ScanSpec spec;
  JdbcOptions o;
  std::vector<std::string> pg_columns;  // quoted, per physical column
  std::shared_ptr<SourceMetrics> metrics;
};

// Flink's numeric BETWEEN splits of [lo, hi] into n ranges: the first (hi - lo + 1) mod n ranges
// (or all, when it divides evenly) are one longer than the rest.
std::vector<std::pair<int64_t, int64_t>> Splits(int64_t lo, int64_t hi, int64_t n) {
  std::vector<std::pair<int64_t, int64_t>> out;
  __int128 count = static_cast<__int128>(hi) - lo + 1;
  if (n > count) n = static_cast<int64_t>(count);
  __int128 size = (count + n - 1) / n;
  __int128 big = count - (size - 1) * n;  // ranges of length `size`
  __int128 start = lo;
  for (int64_t i = 0; i < n; ++i) {
    __int128 end = start + size - 1 - (i >= big ? 1 : 0);
    out.emplace_back(static_cast<int64_t>(start), static_cast<int64_t>(end));
    start = end + 1;
  }
  return out;
}

class JdbcScan final : public runtime::SourceOperator {
 public:
  JdbcScan(std::shared_ptr<const ScanShared> sh, runtime::SubtaskInfo info)
      : sh_(std::move(sh)), info_(info) {
    const TableDef& t = *sh_->spec.table;
    if (t.has_watermark) {
      rowtime_ = t.rowtime;
      delay_ = t.watermark_delay;
    }
  }

  absl::Status Connect() {
    const JdbcOptions& o = sh_->o;
    std::string base = fmt::format(
        "SELECT {} FROM {}", SelectList(sh_->pg_columns, sh_->spec.table->physical), o.table_name);
    if (o.partition_column.empty()) {
      if (info_.index == 0) queries_.push_back(base);
    } else {
      int c = sh_->spec.table->physical.IndexOf(o.partition_column);
      const std::string& col = sh_->pg_columns[static_cast<size_t>(c)];
      auto splits = Splits(o.lower_bound, o.upper_bound, o.partition_num);
      for (size_t i = 0; i < splits.size(); ++i) {
        if (static_cast<int>(i % static_cast<size_t>(info_.parallelism)) != info_.index) continue;
        queries_.push_back(fmt::format("{} WHERE {} BETWEEN {} AND {}", base, col, splits[i].first,
                                       splits[i].second));
      }
    }
    if (queries_.empty()) return absl::OkStatus();
    EDDY_ASSIGN_OR_RETURN(conn_, PgConnection::Connect(o));
    return absl::OkStatus();
  }

  absl::StatusOr<Step> NextStep(runtime::SourceOutput* out) override {
    if (next_ >= queries_.size() && !open_) return Step::kEnd;
    const JdbcOptions& o = sh_->o;
    if (!open_) {
      EDDY_RETURN_IF_ERROR(Check(conn_->Exec("BEGIN READ ONLY").status()));
      EDDY_RETURN_IF_ERROR(Check(
          conn_->Exec("DECLARE eddy_scan NO SCROLL CURSOR FOR " + queries_[next_++]).status()));
      open_ = true;
    }
    int64_t fetch = o.fetch_size > 0 ? o.fetch_size : static_cast<int64_t>(sh_->spec.batch_size);
    auto res = conn_->Exec(fmt::format("FETCH {} FROM eddy_scan", fetch));
    EDDY_RETURN_IF_ERROR(Check(res.status()));
    if (res->rows() == 0) {
      EDDY_RETURN_IF_ERROR(Check(conn_->Exec("CLOSE eddy_scan").status()));
      EDDY_RETURN_IF_ERROR(Check(conn_->Exec("COMMIT").status()));
      open_ = false;
      return Step::kMore;
    }
    const TableDef& t = *sh_->spec.table;
    EDDY_ASSIGN_OR_RETURN(Batch phys, ToBatch(*res, t.physical, o));
    std::string where = fmt::format("jdbc table '{}'", o.table_name);
    EDDY_ASSIGN_OR_RETURN(Batch full, CompleteScanBatch(sh_->spec, std::move(phys), where));
    if (rowtime_ >= 0) {
      EDDY_RETURN_IF_ERROR(KeepTimedRows(
          &full, rowtime_, emitted_wm_,
          [&](size_t) -> absl::Status {
            if (sh_->spec.error_policy != "fail") {
              ++sh_->metrics->bad_skipped;
              return absl::OkStatus();
            }
            return absl::InvalidArgumentError(
                fmt::format("{}: bad row in table '{}': the event-time column '{}' is NULL (set "
                            "'error.policy' = 'skip' to continue past bad rows)",
                            where, t.name, t.columns[static_cast<size_t>(rowtime_)].name));
          },
          [&](size_t, int64_t ts) { max_ts_ = std::max(max_ts_, ts); }));
    }
    sh_->metrics->rows_read += static_cast<int64_t>(full.num_rows());
    EDDY_RETURN_IF_ERROR(out->Emit(std::move(full)));
    if (rowtime_ >= 0 && max_ts_ != INT64_MIN) {
      int64_t wm = max_ts_ < INT64_MIN + delay_ ? INT64_MIN : max_ts_ - delay_;
      if (wm > emitted_wm_) {
        emitted_wm_ = wm;
        EDDY_RETURN_IF_ERROR(out->EmitWatermark(wm));
      }
    }
    return Step::kMore;
  }

 private:
  absl::Status Check(absl::Status st) const {
    if (st.ok()) return st;
    return absl::Status(
        st.code(), fmt::format("table '{}': scan: {}", sh_->o.table, std::string(st.message())));
  }

  std::shared_ptr<const ScanShared> sh_;
  runtime::SubtaskInfo info_;
  std::unique_ptr<PgConnection> conn_;
  std::vector<std::string> queries_;  // this subtask's ranges
  size_t next_ = 0;
  bool open_ = false;  // a cursor is open
  int rowtime_ = -1;
  int64_t delay_ = 0;
  int64_t max_ts_ = INT64_MIN;
  int64_t emitted_wm_ = INT64_MIN;
};

class JdbcScanFactory final : public SourceFactory {
 public:
  explicit JdbcScanFactory(std::shared_ptr<const ScanShared> sh) : sh_(std::move(sh)) {
    metrics = sh_->metrics;
  }
  absl::StatusOr<std::unique_ptr<runtime::SourceOperator>> Create(
      const runtime::SubtaskInfo& info) override {
    auto s = std::make_unique<JdbcScan>(sh_, info);
    EDDY_RETURN_IF_ERROR(s->Connect());
    return std::unique_ptr<runtime::SourceOperator>(std::move(s));
  }
  bool chunked() const override { return false; }

 private:
  std::shared_ptr<const ScanShared> sh_;
};

// Looks keys up with one query per call.
struct LookupShared {
  JdbcOptions o;
  Schema physical;
  std::vector<std::string> pg_columns;
  std::vector<int> key_columns;  // physical columns compared with the keys
  std::string select;            // "SELECT … FROM t WHERE "
};

class JdbcLookup final : public runtime::LookupFunction {
 public:
  explicit JdbcLookup(std::shared_ptr<const LookupShared> sh) : sh_(std::move(sh)) {}

  absl::StatusOr<Batch> Lookup(const std::vector<Column>& keys, size_t n) override {
    const LookupShared& s = *sh_;
    std::string sql = s.select;
    std::vector<std::optional<std::string>> params;
    if (keys.size() == 1) {
      // One key column: its values as one array literal.
      std::string arr = "{";
      std::string v;
      for (size_t i = 0; i < n; ++i) {
        if (i) arr += ',';
        v.clear();
        jdbc::AppendPgText(keys[0], i, &v);
        arr += '"';
        for (char c : v) {
          if (c == '"' || c == '\\') arr += '\\';
          arr += c;
        }
        arr += '"';
      }
      arr += '}';
      sql += fmt::format("{} = ANY($1)", s.pg_columns[static_cast<size_t>(s.key_columns[0])]);
      params.push_back(std::move(arr));
    } else {
      std::vector<std::string> cols;
      for (int c : s.key_columns) cols.push_back(s.pg_columns[static_cast<size_t>(c)]);
      sql += fmt::format("({}) IN (", fmt::join(cols, ", "));
      for (size_t i = 0; i < n; ++i) {
        sql += i ? ", (" : "(";
        for (size_t k = 0; k < keys.size(); ++k) {
          std::string v;
          jdbc::AppendPgText(keys[k], i, &v);
          params.push_back(std::move(v));
          sql += std::string(k ? ", $" : "$") + std::to_string(params.size());
        }
        sql += ")";
      }
      sql += ")";
    }
    absl::Status st;
    for (int64_t attempt = 0;; ++attempt) {
      if (!conn_ || !conn_->ok()) {
        conn_.reset();
        auto c = PgConnection::Connect(s.o);
        if (c.ok()) conn_ = std::move(*c);
        st = c.status();
      }
      if (conn_) {
        auto res = conn_->Exec(sql, params);
        if (res.ok()) return ToBatch(*res, s.physical, s.o);
        st = res.status();
      }
      if (!absl::IsUnavailable(st) || attempt >= s.o.lookup_max_retries) break;
      spdlog::warn("table '{}': lookup failed: {}; retry {} of {}", s.o.table,
                   std::string(st.message()), attempt + 1, s.o.lookup_max_retries);
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << std::min<int64_t>(attempt, 5)));
    }
    return absl::Status(
        st.code(), fmt::format("table '{}': lookup: {}", s.o.table, std::string(st.message())));
  }

 private:
  std::shared_ptr<const LookupShared> sh_;
  std::unique_ptr<PgConnection> conn_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeJdbcSourceFactory(const ScanSpec& spec) {
  auto sh = std::make_shared<ScanShared>();
  sh->spec = spec;
  EDDY_ASSIGN_OR_RETURN(sh->o, jdbc::ParseJdbcOptions(*spec.table));
  sh->metrics = std::make_shared<SourceMetrics>();
  sh->metrics->table = spec.table->name;
  // Checked now, before the job starts: server, credentials, table and columns.
  EDDY_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(sh->o));
  EDDY_ASSIGN_OR_RETURN(sh->pg_columns,
                        jdbc::MatchColumns(conn.get(), sh->o, spec.table->physical));
  return std::shared_ptr<SourceFactory>(std::make_shared<JdbcScanFactory>(std::move(sh)));
}

absl::StatusOr<LookupPlan> MakeJdbcLookup(const LookupSpec& spec) {
  const TableDef& t = *spec.table;
  auto sh = std::make_shared<LookupShared>();
  EDDY_ASSIGN_OR_RETURN(sh->o, jdbc::ParseJdbcOptions(t));
  sh->physical = t.physical;
  for (int c : spec.key_columns) {
    if (c < 0 || c >= static_cast<int>(t.physical.fields.size())) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': a lookup join on a jdbc table compares columns of the table with the "
          "other side (ON s.k = t.col, casting the other side when the types differ)",
          t.name));
    }
    sh->key_columns.push_back(c);
  }
  EDDY_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(sh->o));
  EDDY_ASSIGN_OR_RETURN(sh->pg_columns, jdbc::MatchColumns(conn.get(), sh->o, t.physical));
  sh->select = fmt::format("SELECT {} FROM {} WHERE ", SelectList(sh->pg_columns, t.physical),
                           sh->o.table_name);
  LookupPlan plan;
  plan.cache.max_rows = sh->o.cache_max_rows;
  plan.cache.ttl_ms = sh->o.cache_ttl_ms;
  plan.cache.cache_missing = sh->o.cache_missing_key;
  std::vector<std::string> keys;
  for (int c : sh->key_columns) keys.push_back(t.physical.fields[static_cast<size_t>(c)].name);
  plan.description = fmt::format("jdbc {} by ({})", sh->o.table_name, fmt::join(keys, ", "));
  std::shared_ptr<const LookupShared> shared = std::move(sh);
  plan.make =
      [shared](
          const runtime::SubtaskInfo&) -> absl::StatusOr<std::unique_ptr<runtime::LookupFunction>> {
    return std::unique_ptr<runtime::LookupFunction>(new JdbcLookup(shared));
  };
  return plan;
}

}  // namespace eddy::connectors
