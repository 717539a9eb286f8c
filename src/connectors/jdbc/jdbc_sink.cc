// The 'jdbc' sink (Flink's JDBC connector, PostgreSQL over libpq). Two modes, as Flink chooses
// them:
//  * append, when the table declares no PRIMARY KEY (insert-only input): buffered rows go in with
//    one COPY … FROM STDIN per flush;
//  * upsert, when it declares PRIMARY KEY (…) NOT ENFORCED: the buffer keeps the last change per
//    key (Flink's reduced buffer): +I/+U become INSERT … ON CONFLICT (key) DO UPDATE, -D becomes
//    DELETE, -U is skipped (the +U that follows it overwrites the row), in multi-row statements.
// A flush is one transaction. It happens when 'sink.buffer-flush.max-rows' rows are buffered,
// 'sink.buffer-flush.interval' after the first buffered row, at every checkpoint barrier and at
// the end of input, so a checkpoint never leaves rows behind (at-least-once; upserts and deletes
// by key are idempotent, so a replay after a restore converges to the same table). A flush that
// fails because the connection was lost (or a transient error: serialization failure, deadlock,
// server shutdown) opens the connection again and is retried, up to 'sink.max-retries' times with
// a growing pause; other errors (a constraint violation, a value the column rejects) fail the job
// with PostgreSQL's message.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "base/log.h"
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/flush_timer.h"
#include "connectors/jdbc/postgres.h"

namespace eddy::connectors {

namespace {

using jdbc::JdbcOptions;
using jdbc::PgConnection;

// What the sink's subtasks share (immutable).
struct JdbcSinkShared {
  JdbcOptions o;
  Schema schema;
  std::vector<std::string> pg_columns;  // quoted PostgreSQL names, per schema column
  std::vector<int> key;                 // schema columns of the PRIMARY KEY (empty: append)
  std::shared_ptr<SinkMetrics> metrics;
};

// Rows per multi-row statement: at most 1000, and within PostgreSQL's 65535 parameters.
size_t RowsPerStatement(size_t columns) {
  return std::max<size_t>(1, std::min<size_t>(1000, 65535 / std::max<size_t>(1, columns)));
}

// COPY text format: backslash escapes for the bytes that delimit fields and rows.
void AppendCopyEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        *out += c;
    }
  }
}

class JdbcSink final : public runtime::OneInputOperator {
 public:
  explicit JdbcSink(std::shared_ptr<const JdbcSinkShared> sh) : sh_(std::move(sh)) {}

  absl::Status Open(runtime::OperatorContext& ctx) override {
    EDDY_RETURN_IF_ERROR(OneInputOperator::Open(ctx));
    flush_timer_.Open(ctx.timers, ctx.key_groups.first());
    clock_ms_ = ctx.clock_ms;
    EDDY_ASSIGN_OR_RETURN(conn_, PgConnection::Connect(sh_->o));
    return absl::OkStatus();
  }

  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    const size_t ncols = sh_->schema.fields.size();
    // PostgreSQL text cannot hold a NUL character (and a parameter would end at it).
    for (size_t c = 0; c < ncols; ++c) {
      const Column& col = b.columns[c];
      if (!col.type.is_string()) continue;
      for (size_t r = 0; r < b.num_rows(); ++r) {
        if (!col.IsNull(r) && col.str[r].find('\0') != std::string_view::npos) {
          return absl::InvalidArgumentError(fmt::format(
              "table '{}': column '{}' holds a NUL character, which PostgreSQL text cannot hold",
              sh_->o.table, sh_->schema.fields[c].name));
        }
      }
    }
    for (size_t r = 0; r < b.num_rows(); ++r) {
      if (sh_->key.empty()) {
        // Append: one COPY text line.
        for (size_t c = 0; c < ncols; ++c) {
          if (c) copy_.push_back('\t');
          const Column& col = b.columns[c];
          if (col.IsNull(r)) {
            copy_ += "\\N";
          } else {
            cell_.clear();
            jdbc::AppendPgText(col, r, &cell_);
            AppendCopyEscaped(cell_, &copy_);
          }
        }
        copy_.push_back('\n');
      } else {
        RowKind k = b.kinds[r];
        if (k == RowKind::kUpdateBefore) continue;  // the +U that follows overwrites the row
        std::string key;
        for (int c : sh_->key) {
          const Column& col = b.columns[static_cast<size_t>(c)];
          if (col.IsNull(r)) {
            key += '\0';
          } else {
            key += '\1';
            jdbc::AppendPgText(col, r, &key);
          }
          key += '\2';
        }
        Change& ch = changes_[key];
        ch.del = k == RowKind::kDelete;
        ch.values.assign(ncols, std::nullopt);
        for (size_t c = 0; c < ncols; ++c) {
          const Column& col = b.columns[c];
          if (col.IsNull(r)) continue;
          std::string v;
          jdbc::AppendPgText(col, r, &v);
          ch.values[c] = std::move(v);
        }
      }
      ++pending_;
      if (sh_->o.flush_max_rows > 0 && pending_ >= sh_->o.flush_max_rows) {
        EDDY_RETURN_IF_ERROR(Flush());
      }
    }
    if (pending_ > 0 && sh_->o.flush_interval_ms > 0 && !flush_timer_.armed()) {
      flush_timer_.Arm(Now() + sh_->o.flush_interval_ms);
    }
    return absl::OkStatus();
  }

  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }

  absl::Status OnProcessingTime(int64_t now_ms, runtime::Output*) override {
    return flush_timer_.Fired(now_ms) ? Flush() : absl::OkStatus();
  }

  // At a checkpoint barrier every buffered row is written (and committed) before the checkpoint
  // is taken, so a restore from it never loses one.
  absl::Status PrepareCommit(std::vector<std::string>*) override { return Flush(); }
  absl::Status Finish(runtime::Output*) override { return Flush(); }

 private:
  struct Change {
    bool del = false;
    std::vector<std::optional<std::string>> values;  // per schema column; nullopt = NULL
  };

  int64_t Now() const {
    if (clock_ms_) return clock_ms_();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // Waits `ms` in short steps; false when the job was cancelled meanwhile.
  bool Wait(int64_t ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (cancelled()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return !cancelled();
  }

  // Writes the buffer in one transaction, retrying on a lost connection.
  absl::Status Flush() {
    flush_timer_.Cancel();
    if (pending_ == 0) return absl::OkStatus();
    absl::Status st;
    for (int64_t attempt = 0;; ++attempt) {
      if (!conn_ || !conn_->ok()) {
        conn_.reset();
        auto c = PgConnection::Connect(sh_->o);
        if (c.ok()) conn_ = std::move(*c);
        st = c.status();
      }
      if (conn_) st = WriteOnce();
      if (st.ok()) break;
      if (!absl::IsUnavailable(st) || attempt >= sh_->o.max_retries) {
        if (attempt > 0) {
          st =
              absl::Status(st.code(), fmt::format("table '{}': {} (after {} retries)", sh_->o.table,
                                                  std::string(st.message()), attempt));
        }
        return st;
      }
      int64_t pause = std::min<int64_t>(5000, int64_t{100} << std::min<int64_t>(attempt, 6));
      static LogRateLimiter limiter;
      std::string line = fmt::format(
          "table '{}': flush of {} rows failed: {}; retry {} of {} in {} ms", sh_->o.table,
          pending_, std::string(st.message()), attempt + 1, sh_->o.max_retries, pause);
      int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
      if (limiter.Allow("jdbc-sink/" + sh_->o.table, line, now_us)) spdlog::warn("{}", line);
      if (!Wait(pause)) return absl::CancelledError("job cancelled");
    }
    sh_->metrics->rows_written += pending_;
    pending_ = 0;
    copy_.clear();
    changes_.clear();
    return absl::OkStatus();
  }

  absl::Status WriteOnce() {
    EDDY_RETURN_IF_ERROR(conn_->Exec("BEGIN").status());
    absl::Status st = sh_->key.empty() ? WriteAppend() : WriteUpserts();
    if (st.ok()) st = conn_->Exec("COMMIT").status();
    if (!st.ok() && conn_->ok()) (void)conn_->Exec("ROLLBACK");
    return st;
  }

  absl::Status WriteAppend() {
    return conn_->CopyIn(
        fmt::format("COPY {} ({}) FROM STDIN", sh_->o.table_name, fmt::join(sh_->pg_columns, ", ")),
        copy_);
  }

  absl::Status WriteUpserts() {
    const size_t ncols = sh_->schema.fields.size();
    std::vector<std::string> keys;
    for (int c : sh_->key) keys.push_back(sh_->pg_columns[static_cast<size_t>(c)]);
    std::vector<std::string> sets;
    for (size_t c = 0; c < ncols; ++c) {
      if (std::find(sh_->key.begin(), sh_->key.end(), static_cast<int>(c)) != sh_->key.end()) {
        continue;
      }
      sets.push_back(fmt::format("{0} = EXCLUDED.{0}", sh_->pg_columns[c]));
    }
    std::string conflict = sets.empty()
                               ? fmt::format("ON CONFLICT ({}) DO NOTHING", fmt::join(keys, ", "))
                               : fmt::format("ON CONFLICT ({}) DO UPDATE SET {}",
                                             fmt::join(keys, ", "), fmt::join(sets, ", "));
    std::vector<const Change*> ups, dels;
    for (const auto& [k, ch] : changes_) (ch.del ? dels : ups).push_back(&ch);
    // Upserts.
    const size_t per = RowsPerStatement(ncols);
    std::vector<std::optional<std::string>> params;
    for (size_t i = 0; i < ups.size(); i += per) {
      size_t end = std::min(ups.size(), i + per);
      std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ", sh_->o.table_name,
                                    fmt::join(sh_->pg_columns, ", "));
      params.clear();
      for (size_t r = i; r < end; ++r) {
        sql += r == i ? "(" : ", (";
        for (size_t c = 0; c < ncols; ++c) {
          params.push_back(ups[r]->values[c]);
          sql += std::string(c ? ", $" : "$") + std::to_string(params.size());
        }
        sql += ")";
      }
      sql += " " + conflict;
      EDDY_RETURN_IF_ERROR(conn_->Exec(sql, params).status());
    }
    // Deletes: WHERE (k1, k2) IN (($1, $2), …).
    const size_t kper = RowsPerStatement(keys.size());
    for (size_t i = 0; i < dels.size(); i += kper) {
      size_t end = std::min(dels.size(), i + kper);
      std::string sql =
          fmt::format("DELETE FROM {} WHERE ({}) IN (", sh_->o.table_name, fmt::join(keys, ", "));
      params.clear();
      for (size_t r = i; r < end; ++r) {
        sql += r == i ? "(" : ", (";
        for (size_t k = 0; k < sh_->key.size(); ++k) {
          params.push_back(dels[r]->values[static_cast<size_t>(sh_->key[k])]);
          sql += std::string(k ? ", $" : "$") + std::to_string(params.size());
        }
        sql += ")";
      }
      sql += ")";
      EDDY_RETURN_IF_ERROR(conn_->Exec(sql, params).status());
    }
    return absl::OkStatus();
  }

  std::shared_ptr<const JdbcSinkShared> sh_;
  std::unique_ptr<PgConnection> conn_;
  std::function<int64_t()> clock_ms_;
  FlushTimer flush_timer_;
  int64_t pending_ = 0;  // input rows buffered since the last flush
  std::string copy_;     // append mode: COPY text rows
  std::string cell_;
  std::map<std::string, Change> changes_;  // upsert mode: the last change per key
};

}  // namespace

absl::StatusOr<SinkPlan> MakeJdbcSink(std::shared_ptr<const TableDef> table, const Schema& schema) {
  auto sh = std::make_shared<JdbcSinkShared>();
  EDDY_ASSIGN_OR_RETURN(sh->o, jdbc::ParseJdbcOptions(*table));
  sh->schema = schema;
  for (const std::string& k : table->primary_key) {
    int c = schema.IndexOf(k);
    if (c < 0) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': PRIMARY KEY column '{}' is not written by INSERT", table->name, k));
    }
    sh->key.push_back(c);
  }
  // Checked now, before the job starts: the server, the credentials, the table, its columns, and
  // for upserts a unique index on the key (ON CONFLICT needs one).
  EDDY_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(sh->o));
  EDDY_ASSIGN_OR_RETURN(sh->pg_columns, jdbc::MatchColumns(conn.get(), sh->o, schema));
  if (!sh->key.empty()) {
    std::vector<std::string> keys;
    for (int c : sh->key) keys.push_back(sh->pg_columns[static_cast<size_t>(c)]);
    std::string cols = fmt::format("{}", fmt::join(sh->pg_columns, ", "));
    auto st = conn->Exec(fmt::format(
        "EXPLAIN INSERT INTO {0} ({1}) SELECT {1} FROM {0} WHERE false ON CONFLICT ({2}) DO "
        "NOTHING",
        sh->o.table_name, cols, fmt::join(keys, ", ")));
    if (!st.ok()) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': the PRIMARY KEY ({}) needs a primary key or unique index on ({}) in "
          "PostgreSQL table '{}' for upserts: {}",
          table->name, fmt::join(table->primary_key, ", "), fmt::join(keys, ", "), sh->o.table_name,
          std::string(st.status().message())));
    }
  }
  SinkPlan plan;
  plan.parallelism = static_cast<int>(sh->o.sink_parallelism);
  sh->metrics = plan.metrics;
  plan.description = fmt::format("jdbc {} {} ({})", sh->key.empty() ? "append" : "upsert",
                                 sh->o.table_name, sh->o.where);
  std::shared_ptr<const JdbcSinkShared> shared = std::move(sh);
  plan.make =
      [shared](
          const runtime::SubtaskInfo&) -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
    return std::unique_ptr<runtime::StreamOperator>(new JdbcSink(shared));
  };
  return plan;
}

}  // namespace eddy::connectors
