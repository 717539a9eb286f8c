// EngineImpl: runs SQL statements against a session catalog.
#include "eddy/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "base/file_io.h"
#include "base/log.h"
#include "base/status.h"
#include "base/strings.h"
#include "catalog/session_config.h"
#include "catalog/table.h"
#include "connectors/connector.h"
#include "engine/job_builder.h"
#include "engine/plan.h"
#include "function/aggregate.h"
#include "runtime/worker_pool.h"
#include "sql/parser.h"
#include "sql/sql_error.h"
#include "state/checkpoint_storage.h"
#include "types/text_codec.h"
#include "types/value.h"

namespace eddy {

namespace {

const auto kLateRowsSink =
    catalog::SessionOption("table.exec.late-rows.sink")
        .String("")
        .Doc(
            "eddy: a table that receives the late rows of window aggregations and window Top-N "
            "(columns operator STRING, event_time TIMESTAMP(3), watermark TIMESTAMP(3), `row` "
            "STRING); while set, every job checks that the table exists and has these columns.");

// Checkpoints (Flink's execution.checkpointing.* and execution.savepoint.*).
const auto kPipelineName =
    catalog::SessionOption("pipeline.name")
        .String("")
        .Doc(
            "The job's id, under which its checkpoints are kept so that a restart finds them; "
            "empty: a hash of the statement text.");
const auto kCheckpointDir =
    catalog::SessionOption("execution.checkpointing.dir")
        .String("")
        .Doc("The directory of checkpoints, one directory per job under it.");
const auto kCheckpointsRetained =
    catalog::SessionOption("execution.checkpointing.num-retained")
        .Int(1)
        .Range(1, 1 << 20)
        .Doc("Complete checkpoints kept per job (older ones are deleted).");
const auto kCheckpointTimeout =
    catalog::SessionOption("execution.checkpointing.timeout")
        .Duration("10 min")
        .Min(absl::ZeroDuration())
        .Doc("A checkpoint not complete after this long is aborted (0 ms: 10 min).");
const auto kSavepointPath =
    catalog::SessionOption("execution.savepoint.path")
        .String("")
        .Doc(
            "Restore the job from this checkpoint or savepoint directory, or 'latest': the "
            "newest complete checkpoint of the job under 'execution.checkpointing.dir' (a fresh "
            "start when there is none).");
const auto kIgnoreUnclaimedState =
    catalog::SessionOption("execution.savepoint.ignore-unclaimed-state")
        .Bool(false)
        .Doc(
            "true: restored state that no operator of the job takes is dropped instead of "
            "failing the restore.");
[[maybe_unused]] const auto kStateBackend =
    catalog::SessionOption("state.backend.type")
        .Enum("hashmap", {"hashmap"})
        .Doc("The keyed state backend: 'hashmap' (in memory); Flink's 'rocksdb' is not there yet.");

// Prints the rows of an unbounded SELECT as they arrive (Flink's SQL client in tableau mode for
// a streaming query): a header with fixed column widths, then one line per row with its
// changelog kind when the result is updating; csv and json print one line per row. Stops the
// job once `limit` rows are printed (LIMIT n). Thread-safe.
class StreamPrinter {
 public:
  StreamPrinter(OutputOptions::Format format, FILE* out, std::vector<std::string> names,
                std::vector<DataType> types, bool updating, int64_t limit,
                runtime::CancelFlag* cancel)
      : format_(format),
        out_(out),
        names_(std::move(names)),
        types_(std::move(types)),
        updating_(updating),
        limit_(limit),
        cancel_(cancel) {
    for (size_t c = 0; c < names_.size(); ++c) {
      size_t w = 12;
      switch (types_[c].id) {
        case TypeId::kBoolean:
          w = 7;
          break;
        case TypeId::kTimestamp:
        case TypeId::kTimestampLtz:
          w = 23 + (types_[c].precision > 3 ? types_[c].precision - 3 : 0);
          break;
        case TypeId::kString:
          w = 20;
          break;
        default:
          w = 12;
      }
      widths_.push_back(std::max(w, names_[c].size()));
      numeric_.push_back(types_[c].is_numeric());
    }
  }

  void Rows(const Batch& b) {
    std::lock_guard<std::mutex> l(mu_);
    std::string text;
    if (!header_done_) {
      header_done_ = true;
      text += Header();
    }
    for (size_t r = 0; r < b.num_rows() && !Full(); ++r) {
      std::vector<std::string> cells;
      for (size_t c = 0; c < names_.size() && c < b.columns.size(); ++c) {
        cells.push_back(FormatCell(b.columns[c], r, "<NULL>", false));
      }
      text += Line(RowKindName(b.kinds[r]), cells);
      ++rows_;
    }
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
    if (Full()) cancel_->cancelled = true;
  }

  // After the job: the closing line and the row count.
  void Finish(bool interrupted) {
    std::lock_guard<std::mutex> l(mu_);
    std::string text;
    if (!header_done_ && format_ == OutputOptions::Format::kTable) text += Header();
    if (format_ == OutputOptions::Format::kTable) {
      text += Separator();
      text += fmt::format("Received a total of {} row{}{}\n", rows_, rows_ == 1 ? "" : "s",
                          interrupted ? " (stopped)" : "");
    }
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
  }
  int64_t rows() const { return rows_; }

 private:
  bool Full() const { return limit_ >= 0 && rows_ >= limit_; }
  std::string Separator() const {
    std::string sep = "+";
    if (updating_) sep += "----+";
    for (size_t w : widths_) sep += std::string(w + 2, '-') + "+";
    return sep + "\n";
  }
  std::string Cell(const std::string& v, size_t c) const {
    std::string s = v;
    if (s.size() > widths_[c]) s = s.substr(0, widths_[c] - 3) + "...";
    std::string pad(widths_[c] - std::min(widths_[c], s.size()), ' ');
    return numeric_[c] ? pad + s : s + pad;
  }
  std::string Header() const {
    if (format_ == OutputOptions::Format::kCsv) {
      return (updating_ ? "op," : "") + fmt::format("{}\n", fmt::join(names_, ","));
    }
    if (format_ == OutputOptions::Format::kJson) return "";
    std::string h = Separator() + "|";
    if (updating_) h += " op |";
    for (size_t c = 0; c < names_.size(); ++c) h += " " + Cell(names_[c], c) + " |";
    return h + "\n" + Separator();
  }
  std::string Line(const std::string& kind, const std::vector<std::string>& cells) const {
    if (format_ == OutputOptions::Format::kCsv) {
      std::string l = updating_ ? kind + "," : "";
      for (size_t c = 0; c < cells.size(); ++c) {
        l += (c ? "," : "") + (cells[c] == "<NULL>" ? std::string() : cells[c]);
      }
      return l + "\n";
    }
    if (format_ == OutputOptions::Format::kJson) {
      std::string l = "{";
      if (updating_) l += "\"op\":" + JsonQuote(kind) + ",";
      for (size_t c = 0; c < cells.size(); ++c) {
        std::string v = cells[c] == "<NULL>" ? "null"
                        : numeric_[c]        ? cells[c]
                                             : JsonQuote(cells[c]);
        l += (c ? "," : "") + JsonQuote(names_[c]) + ":" + v;
      }
      return l + "}\n";
    }
    std::string l = "|";
    if (updating_) l += " " + kind + " |";
    for (size_t c = 0; c < cells.size(); ++c) l += " " + Cell(cells[c], c) + " |";
    return l + "\n";
  }

  std::mutex mu_;
  OutputOptions::Format format_;
  FILE* out_;
  std::vector<std::string> names_;
  std::vector<DataType> types_;
  std::vector<size_t> widths_;
  std::vector<bool> numeric_;
  bool updating_;
  int64_t limit_;
  runtime::CancelFlag* cancel_;
  bool header_done_ = false;
  int64_t rows_ = 0;
};

// Collects the rows of a SELECT (thread-safe; the collect sink runs on one subtask), or prints
// them as they come when `printer` is set.
struct Collector {
  std::mutex mu;
  QueryResult result;
  std::unique_ptr<StreamPrinter> printer;
};

class CollectSink final : public runtime::OneInputOperator {
 public:
  CollectSink(std::shared_ptr<Collector> c, std::shared_ptr<connectors::SinkMetrics> m)
      : c_(std::move(c)), m_(std::move(m)) {}
  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    if (c_->printer) {
      c_->printer->Rows(b);
      m_->rows_written += static_cast<int64_t>(b.num_rows());
      return absl::OkStatus();
    }
    std::lock_guard<std::mutex> l(c_->mu);
    for (size_t r = 0; r < b.num_rows(); ++r) {
      std::vector<std::string> row;
      row.reserve(b.columns.size());
      for (const auto& col : b.columns) row.push_back(FormatCell(col, r, "<NULL>", false));
      c_->result.rows.push_back(std::move(row));
      c_->result.kinds.push_back(RowKindName(b.kinds[r]));
    }
    m_->rows_written += static_cast<int64_t>(b.num_rows());
    return absl::OkStatus();
  }
  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }

 private:
  std::shared_ptr<Collector> c_;
  std::shared_ptr<connectors::SinkMetrics> m_;
};

std::string Pad(const std::string& s, size_t w, bool right) {
  size_t len = 0;
  for (char c : s) len += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (len >= w) return s;
  return right ? std::string(w - len, ' ') + s : s + std::string(w - len, ' ');
}

// A total order on printed numbers (INT, BIGINT, DECIMAL, DOUBLE), so ORDER BY sorts with a
// valid comparator: integers exactly, others by value with Java's Double.compare order (-0.0
// before 0.0, NaN after every other value). 0 when equal.
int CompareNumberText(const std::string& x, const std::string& y) {
  int64_t a, b;
  if (text::ParseInt64(x, &a) && text::ParseInt64(y, &b)) return a < b ? -1 : a > b ? 1 : 0;
  double p = std::strtod(x.c_str(), nullptr), q = std::strtod(y.c_str(), nullptr);
  bool pn = std::isnan(p), qn = std::isnan(q);
  if (pn || qn) return pn == qn ? 0 : pn ? 1 : -1;
  if (p == q && p == 0) return std::signbit(q) - std::signbit(p);
  return p < q ? -1 : p > q ? 1 : 0;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

}  // namespace

/// Prints `r` in the given format (tableau like Flink's SQL client for kTable).
void PrintResult(const QueryResult& r, OutputOptions::Format format, FILE* out,
                 bool always_kind = false) {
  std::string text;
  bool op = r.updating || always_kind;
  if (format == OutputOptions::Format::kCsv) {
    std::vector<std::string> h;
    if (op) h.push_back("op");
    for (const auto& n : r.column_names) h.push_back(CsvField(n));
    text += fmt::format("{}\n", fmt::join(h, ","));
    for (size_t i = 0; i < r.rows.size(); ++i) {
      std::vector<std::string> f;
      if (op) f.push_back(r.kinds[i]);
      for (const auto& c : r.rows[i]) f.push_back(CsvField(c == "<NULL>" ? "" : c));
      text += fmt::format("{}\n", fmt::join(f, ","));
    }
  } else if (format == OutputOptions::Format::kJson) {
    for (size_t i = 0; i < r.rows.size(); ++i) {
      std::string line = "{";
      if (op) line += "\"op\":" + JsonQuote(r.kinds[i]) + ",";
      for (size_t c = 0; c < r.rows[i].size(); ++c) {
        const std::string& v = r.rows[i][c];
        std::string json;
        if (v == "<NULL>") {
          json = "null";
        } else if (r.numeric[c]) {
          json = v;
        } else if (r.column_types[c] == "BOOLEAN") {
          json = v == "TRUE" ? "true" : "false";
        } else {
          json = JsonQuote(v);
        }
        line += (c ? "," : "") + JsonQuote(r.column_names[c]) + ":" + json;
      }
      text += line + "}\n";
    }
  } else {
    std::vector<std::string> names = r.column_names;
    std::vector<bool> right = r.numeric;
    if (op) {
      names.insert(names.begin(), "op");
      right.insert(right.begin(), false);
    }
    std::vector<size_t> w(names.size());
    auto width = [](const std::string& t) {
      size_t n = 0;
      for (char ch : t) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
      return n;
    };
    for (size_t c = 0; c < names.size(); ++c) w[c] = width(names[c]);
    auto cell = [&](size_t i, size_t c) -> const std::string& {
      return op ? (c == 0 ? r.kinds[i] : r.rows[i][c - 1]) : r.rows[i][c];
    };
    for (size_t i = 0; i < r.rows.size(); ++i) {
      for (size_t c = 0; c < names.size(); ++c) w[c] = std::max(w[c], width(cell(i, c)));
    }
    std::string sep = "+";
    for (size_t c = 0; c < names.size(); ++c) sep += std::string(w[c] + 2, '-') + "+";
    text += sep + "\n|";
    for (size_t c = 0; c < names.size(); ++c) text += " " + Pad(names[c], w[c], right[c]) + " |";
    text += "\n" + sep + "\n";
    for (size_t i = 0; i < r.rows.size(); ++i) {
      text += "|";
      for (size_t c = 0; c < names.size(); ++c)
        text += " " + Pad(cell(i, c), w[c], right[c]) + " |";
      text += "\n";
    }
    text += sep + "\n";
    text += fmt::format("{} row{} in set\n", r.rows.size(), r.rows.size() == 1 ? "" : "s");
  }
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

// Flink's display of an interval literal: INTERVAL '5' MINUTE, or in seconds/ms when not whole.
std::string IntervalText(int64_t us) {
  const std::pair<int64_t, const char*> units[] = {{86400000000LL, "DAY"},
                                                   {3600000000LL, "HOUR"},
                                                   {60000000LL, "MINUTE"},
                                                   {1000000LL, "SECOND"}};
  for (const auto& [n, name] : units) {
    if (us % n == 0) return fmt::format("INTERVAL '{}' {}", us / n, name);
  }
  return fmt::format("INTERVAL '{}' SECOND", us / 1e6);
}

class EngineImpl {
 public:
  absl::Status ExecuteScript(std::string_view script_view, const OutputOptions& output) {
    auto script = std::make_shared<std::string>(script_view);
    scripts_.push_back(script);
    EDDY_ASSIGN_OR_RETURN(auto stmts, sql::ParseScript(*script));
    for (const auto& st : stmts) {
      EDDY_RETURN_IF_ERROR(Execute(*st, *script, output, nullptr));
    }
    return absl::OkStatus();
  }

  absl::Status Validate(std::string_view script_view, std::string* plans) {
    auto script = std::make_shared<std::string>(script_view);
    scripts_.push_back(script);
    EDDY_ASSIGN_OR_RETURN(auto stmts, sql::ParseScript(*script));
    char* buf = nullptr;
    size_t len = 0;
    FILE* out = plans ? open_memstream(&buf, &len) : std::fopen("/dev/null", "w");
    if (!out) return absl::InternalError("Validate: cannot open an output stream");
    OutputOptions quiet;
    quiet.out = out;
    absl::Status result;
    FILE* null = std::fopen("/dev/null", "w");
    OutputOptions ddl;
    ddl.out = null ? null : out;
    for (const auto& st : stmts) {
      bool job = st->kind == sql::StmtKind::kQuery || st->kind == sql::StmtKind::kInsert;
      result =
          job ? ExplainStatement(*st, *st, *script, quiet) : Execute(*st, *script, ddl, nullptr);
      if (!result.ok()) break;
    }
    if (null) std::fclose(null);
    std::fclose(out);
    if (plans && buf) *plans = std::string(buf, len);
    std::free(buf);
    return result;
  }

  absl::StatusOr<QueryResult> Query(std::string_view sql) {
    auto script = std::make_shared<std::string>(sql);
    scripts_.push_back(script);
    EDDY_ASSIGN_OR_RETURN(auto stmts, sql::ParseScript(*script));
    if (stmts.size() != 1 || stmts[0]->kind != sql::StmtKind::kQuery) {
      return absl::InvalidArgumentError("Query() takes exactly one SELECT statement");
    }
    QueryResult r;
    EDDY_RETURN_IF_ERROR(Execute(*stmts[0], *script, {}, &r));
    return r;
  }

  std::string Get(const std::string& k) const {
    auto it = config_.values().find(k);
    return it == config_.values().end() ? std::string() : it->second;
  }
  absl::Status Set(const std::string& k, const std::string& v) {
    std::string hint;
    absl::Status st = config_.Set(k, v, &hint);
    if (!st.ok() && !hint.empty()) {
      return absl::InvalidArgumentError(fmt::format("{} ({})", std::string(st.message()), hint));
    }
    return st;
  }
  const JobSummary& summary() const { return summary_; }
  void Cancel() { cancel_.cancelled = true; }
  void SetSavepointOnStop(const std::string& dir) { savepoint_on_stop_ = dir; }
  void Stop() {
    if (savepoint_on_stop_.empty()) {
      Cancel();
    } else {
      stop_requested_ = true;
    }
  }

 private:
  Binder MakeBinder(std::string_view script) { return Binder(tables_, views_, config_, script); }

  absl::Status Execute(const sql::Statement& st, const std::string& script,
                       const OutputOptions& output, QueryResult* capture) {
    using K = sql::StmtKind;
    switch (st.kind) {
      case K::kCreateTable: {
        std::string key = ToLower(st.name);
        if (tables_.count(key) || views_.count(key)) {
          if (st.if_not_exists) return absl::OkStatus();
          return sql::SqlError(script, st.name_pos,
                               fmt::format("table or view '{}' already exists", st.name));
        }
        Binder b = MakeBinder(script);
        EDDY_ASSIGN_OR_RETURN(auto t, b.BindTable(st));
        tables_[key] = t;
        return absl::OkStatus();
      }
      case K::kCreateView: {
        std::string key = ToLower(st.name);
        if (tables_.count(key) || views_.count(key)) {
          if (st.if_not_exists) return absl::OkStatus();
          return sql::SqlError(script, st.name_pos,
                               fmt::format("table or view '{}' already exists", st.name));
        }
        Binder b = MakeBinder(script);
        EDDY_RETURN_IF_ERROR(b.BindQuery(*st.query, nullptr).status());
        auto v = std::make_shared<ViewDef>();
        v->name = st.name;
        v->column_names = st.view_columns;
        v->text = st.text;
        views_[key] = v;
        return absl::OkStatus();
      }
      case K::kDropTable:
      case K::kDropView: {
        std::string key = ToLower(st.name);
        size_t n = st.kind == K::kDropTable ? tables_.erase(key) : views_.erase(key);
        if (n == 0 && !st.if_exists) {
          return sql::SqlError(script, st.name_pos,
                               fmt::format("{} '{}' does not exist",
                                           st.kind == K::kDropTable ? "table" : "view", st.name));
        }
        return absl::OkStatus();
      }
      case K::kSet: {
        if (st.key.empty()) {
          std::string text;
          for (const auto& [k, v] : config_.values()) text += fmt::format("'{}' = '{}'\n", k, v);
          std::fwrite(text.data(), 1, text.size(), output.out);
          return absl::OkStatus();
        }
        std::string hint;
        absl::Status s = config_.Set(st.key, st.value, &hint);
        if (!s.ok()) return sql::SqlError(script, st.pos, std::string(s.message()), hint);
        return absl::OkStatus();
      }
      case K::kReset: {
        if (st.key.empty()) {
          config_.ResetAll();
          return absl::OkStatus();
        }
        std::string hint;
        absl::Status s = config_.Reset(st.key, &hint);
        if (!s.ok()) return sql::SqlError(script, st.pos, std::string(s.message()), hint);
        return absl::OkStatus();
      }
      case K::kShowConnectors:
        return ShowConnectors(output);
      case K::kShowTables:
      case K::kShowViews:
      case K::kShowFunctions: {
        QueryResult r;
        r.numeric = {false};
        if (st.kind == K::kShowFunctions) {
          r.column_names = {"function name"};
          std::vector<std::string> names = ScalarFunctionNames();
          for (const auto& n : AggregateFunctionNames()) names.push_back(n);
          std::sort(names.begin(), names.end());
          for (const auto& n : names) r.rows.push_back({n});
        } else {
          r.column_names = {st.kind == K::kShowTables ? "table name" : "view name"};
          if (st.kind == K::kShowTables) {
            for (const auto& [k, t] : tables_) r.rows.push_back({t->name});
          }
          for (const auto& [k, v] : views_) r.rows.push_back({v->name});
        }
        r.kinds.assign(r.rows.size(), "+I");
        PrintResult(r, output.format, output.out);
        return absl::OkStatus();
      }
      case K::kDescribe:
        return Describe(st, script, output);
      case K::kExplain:
        return Explain(st, script, output);
      case K::kQuery: {
        ++job_index_;
        Binder b = MakeBinder(script);
        ResultOrder order;
        EDDY_ASSIGN_OR_RETURN(PlanPtr plan, b.BindQuery(*st.query, &order));
        QueryResult r;
        // An unbounded query prints its rows as they come and ends with Ctrl-C (or LIMIT).
        bool stream = !capture && Unbounded(plan.get());
        if (stream && !order.keys.empty()) {
          return sql::SqlError(script, st.pos,
                               "ORDER BY is not supported on an unbounded query (its result never "
                               "ends): drop it, or bound the source ('scan.bounded.mode')");
        }
        absl::Status s = RunSelect(plan, order, st.text, output, &r, stream);
        if (s.ok() && !capture && !stream) {
          PrintResult(r, output.format, output.out, output.always_kind);
        }
        if (output.on_summary) output.on_summary(st.text, summary_);
        if (s.ok() && capture) *capture = std::move(r);
        return s;
      }
      case K::kInsert:
        ++job_index_;
        return Insert(st, script, output);
    }
    return absl::UnimplementedError("statement not supported");
  }

  // SHOW CONNECTORS: every connector factory with what it can do (eddy's addition).
  absl::Status ShowConnectors(const OutputOptions& output) {
    QueryResult r;
    r.column_names = {"connector", "source", "sink", "lookup", "metadata columns", "description"};
    r.numeric.assign(r.column_names.size(), false);
    for (const connectors::ConnectorFactory* f : connectors::Connectors()) {
      connectors::ConnectorCapabilities c = f->capabilities();
      std::string source = "no";
      if (c.source) {
        source = c.bounded ? "bounded" : "unbounded";
        if (!c.bounded && !c.bounded_when.empty()) source += " (bounded by " + c.bounded_when + ")";
      }
      std::string sink = "no";
      if (c.sink) sink = c.sink_accepts_updates ? "+I, -U, +U, -D" : "+I";
      std::vector<std::string> meta;
      for (const auto& m : f->metadata_columns()) meta.push_back(m.key);
      r.rows.push_back({f->identifier(), source, sink, c.lookup ? "TRUE" : "FALSE",
                        fmt::format("{}", fmt::join(meta, ", ")), f->doc()});
    }
    r.kinds.assign(r.rows.size(), "+I");
    PrintResult(r, output.format, output.out);
    return absl::OkStatus();
  }

  absl::Status Describe(const sql::Statement& st, const std::string& script,
                        const OutputOptions& output) {
    QueryResult r;
    r.column_names = {"name", "type", "null", "key", "extras", "watermark"};
    r.numeric.assign(6, false);
    std::string key = ToLower(st.name);
    auto t = tables_.find(key);
    if (t != tables_.end()) {
      const TableDef& d = *t->second;
      for (size_t i = 0; i < d.columns.size(); ++i) {
        const Field& f = d.columns[i];
        bool pk =
            std::find(d.primary_key.begin(), d.primary_key.end(), f.name) != d.primary_key.end();
        std::string extras;
        if (d.computed[i]) extras = "computed";
        std::string wm;
        if (static_cast<int>(i) == d.rowtime) {
          wm = d.watermark_delay == 0
                   ? "`" + f.name + "`"
                   : fmt::format("`{}` - {}", f.name, IntervalText(d.watermark_delay));
        }
        DataType ty = f.type;
        r.rows.push_back({f.name, ty.ToString(), ty.nullable ? "TRUE" : "FALSE",
                          pk ? fmt::format("PRI({})", fmt::join(d.primary_key, ", ")) : "", extras,
                          wm});
      }
    } else if (views_.count(key)) {
      const ViewDef& view = *views_[key];
      Binder b = MakeBinder(view.text);
      EDDY_ASSIGN_OR_RETURN(sql::QueryPtr query, Binder::ViewQuery(view));
      EDDY_ASSIGN_OR_RETURN(PlanPtr p, b.BindQuery(*query, nullptr));
      size_t k = 0;
      for (auto f : p->schema.fields) {
        if (f.name.rfind("$", 0) == 0) continue;
        if (k < view.column_names.size()) f.name = view.column_names[k];
        ++k;
        r.rows.push_back(
            {f.name, f.type.ToString(), f.type.nullable ? "TRUE" : "FALSE", "", "", ""});
      }
    } else {
      return sql::SqlError(script, st.name_pos, fmt::format("unknown table or view '{}'", st.name));
    }
    r.kinds.assign(r.rows.size(), "+I");
    PrintResult(r, output.format, output.out);
    return absl::OkStatus();
  }

  absl::Status Explain(const sql::Statement& st, const std::string& script,
                       const OutputOptions& output) {
    return ExplainStatement(*st.explained, st, script, output);
  }

  // Plans `inner` (a query or an INSERT) as EXPLAIN does and prints the plan and the job graph;
  // `st` is the statement errors point at.
  absl::Status ExplainStatement(const sql::Statement& inner, const sql::Statement& st,
                                const std::string& script, const OutputOptions& output) {
    Binder b = MakeBinder(script);
    PlanPtr plan;
    SinkTarget sink;
    if (inner.kind == sql::StmtKind::kInsert) {
      EDDY_ASSIGN_OR_RETURN(auto target, InsertTarget(inner, script, &plan, &sink));
      (void)target;
    } else if (inner.kind == sql::StmtKind::kQuery) {
      ResultOrder order;
      EDDY_ASSIGN_OR_RETURN(plan, b.BindQuery(*inner.query, &order));
      sink.name = "Sink: collect (print to terminal)";
      sink.make = [](const runtime::SubtaskInfo&)
          -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
        return absl::InternalError("EXPLAIN does not run");
      };
    } else {
      return sql::SqlError(script, inner.pos, "EXPLAIN takes a query or an INSERT statement");
    }
    SinkTarget late;
    bool has_late = false;
    EDDY_RETURN_IF_ERROR(
        sql::AtSqlPosition(LateSink(script, plan.get(), &late, &has_late), script, st.pos));
    // Build only the graph (sources are opened to validate options, nothing runs).
    EDDY_ASSIGN_OR_RETURN(BuiltJob job, BuildJob(plan, config_, sink, has_late ? &late : nullptr));
    std::string text = "== Abstract Syntax Tree / Optimized Logical Plan ==\n" + ExplainPlan(plan) +
                       "\n== Job Graph ==\n" + job.Explain();
    std::fwrite(text.data(), 1, text.size(), output.out);
    return absl::OkStatus();
  }

  absl::Status LateSink(const std::string& script, const PlanNode* plan, SinkTarget* out,
                        bool* has) {
    std::string name = config_.Get(kLateRowsSink);
    *has = false;
    if (name.empty()) return absl::OkStatus();
    auto it = tables_.find(ToLower(name));
    if (it == tables_.end()) {
      return absl::InvalidArgumentError(
          fmt::format("'table.exec.late-rows.sink' names table '{}', which does not exist", name));
    }
    auto t = it->second;
    Schema ls = runtime::LateRowSchema();
    if (t->physical.fields.size() != ls.fields.size()) {
      return absl::InvalidArgumentError(fmt::format(
          "the late-row sink '{}' must have 4 columns (operator STRING, event_time TIMESTAMP(3), "
          "watermark TIMESTAMP(3), `row` STRING), but has {}",
          t->name, t->physical.fields.size()));
    }
    for (size_t i = 0; i < ls.fields.size(); ++i) {
      const DataType& want = t->physical.fields[i].type;
      const DataType& have = ls.fields[i].type;
      if (have.SameAs(want)) {
        out->casts.push_back(nullptr);
      } else if (CanCast(have, want) && (want.is_string() == have.is_string())) {
        out->casts.push_back(
            MakeCast(MakeColumnRef(static_cast<int>(i), have, ls.fields[i].name), want, false));
      } else {
        return absl::InvalidArgumentError(
            fmt::format("column {} of the late-row sink '{}' is {}, expected {}", i + 1, t->name,
                        want.ToString(), have.ToString()));
      }
    }
    std::vector<std::shared_ptr<const TableDef>> read;
    CollectTables(plan, &read);
    EDDY_RETURN_IF_ERROR(connectors::CheckFileSinkTarget(*t, read));
    EDDY_ASSIGN_OR_RETURN(auto sp,
                          connectors::MakeSink(t, t->physical, false, 1, JobId(script) + "-late"));
    out->name = fmt::format("Sink: {}", t->name);
    out->make = sp.make;
    out->metrics = sp.metrics;
    out->committer = sp.committer;
    out->requires_checkpoints = sp.requires_checkpoints;
    *has = true;
    return absl::OkStatus();
  }

  // Every table the plan reads (scans, lookup and temporal join tables).
  static void CollectTables(const PlanNode* n, std::vector<std::shared_ptr<const TableDef>>* out) {
    if (!n) return;
    if (n->table) out->push_back(n->table);
    CollectTables(n->input.get(), out);
    CollectTables(n->right.get(), out);
  }

  // The job's id: stable across runs of the same statement, so a restart finds its checkpoints
  // ('pipeline.name' when set, else a hash of the statement text with whitespace collapsed).
  std::string JobId(const std::string& text) const {
    std::string name = config_.Get(kPipelineName);
    if (!name.empty()) {
      std::string safe;
      for (char c : name) {
        safe += (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
      }
      // The jobs of one script: the first is the name, the next ones name-2, name-3, ...
      if (job_index_ > 1) safe += fmt::format("-{}", job_index_);
      return safe;
    }
    std::string norm;
    bool space = false;
    for (char c : text) {
      if (isspace(static_cast<unsigned char>(c))) {
        space = !norm.empty();
        continue;
      }
      if (space) norm += ' ';
      space = false;
      norm += c;
    }
    uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a: stable across builds and machines
    for (unsigned char c : norm) h = (h ^ c) * 0x100000001b3ULL;
    return fmt::format("job-{:016x}", h);
  }

  absl::StatusOr<std::shared_ptr<const TableDef>> InsertTarget(const sql::Statement& st,
                                                               const std::string& script,
                                                               PlanPtr* plan, SinkTarget* sink) {
    auto it = tables_.find(ToLower(st.name));
    if (it == tables_.end()) {
      std::vector<std::string> names;
      for (const auto& [k, t] : tables_) names.push_back(t->name);
      std::string near = ClosestName(st.name, names);
      if (views_.count(ToLower(st.name))) {
        return sql::SqlError(script, st.name_pos,
                             fmt::format("cannot INSERT INTO view '{}'", st.name));
      }
      return sql::SqlError(script, st.name_pos, fmt::format("unknown table '{}'", st.name),
                           near.empty() ? "" : fmt::format("did you mean '{}'?", near));
    }
    auto t = it->second;
    if (!st.insert_columns.empty()) {
      return sql::SqlError(script, st.name_pos, "INSERT with a column list is not supported yet");
    }
    Binder b = MakeBinder(script);
    EDDY_ASSIGN_OR_RETURN(*plan, b.BindQuery(*st.query, nullptr));
    std::vector<Field> vis;
    for (const auto& f : (*plan)->schema.fields) {
      if (f.name.rfind("$", 0) != 0) vis.push_back(f);
    }
    Schema writable = t->Writable();  // VIRTUAL metadata columns are not written
    const auto& want = writable.fields;
    auto schemas = [&]() {
      std::vector<std::string> a, b2;
      for (const auto& f : vis) a.push_back(fmt::format("{} {}", f.name, f.type.ToString()));
      for (const auto& f : want) b2.push_back(fmt::format("{} {}", f.name, f.type.ToString()));
      return fmt::format("query schema: [{}]\nsink schema:  [{}]", fmt::join(a, ", "),
                         fmt::join(b2, ", "));
    };
    if (vis.size() != want.size()) {
      return sql::SqlError(script, st.query->pos,
                           fmt::format("column types of query result and sink for '{}' do not "
                                       "match: {} columns versus {}",
                                       t->name, vis.size(), want.size()),
                           schemas());
    }
    int idx = 0;
    for (size_t i = 0; i < (*plan)->schema.fields.size(); ++i) {
      const Field& f = (*plan)->schema.fields[i];
      if (f.name.rfind("$", 0) == 0) continue;
      const DataType& w = want[idx].type;
      BoundExprPtr cast;
      if (!f.type.SameAs(w) || (w.is_string() && w.length >= 0 && f.type.length != w.length)) {
        if (!CanImplicitlyCast(f.type, w) && !(f.type.is_string() && w.is_string()) &&
            !(f.type.is_timestamp() && w.is_timestamp())) {
          return sql::SqlError(
              script, st.query->pos,
              fmt::format("column '{}' of the query is {}, which cannot be "
                          "written to column '{}' {} of '{}'",
                          f.name, f.type.ToString(), want[idx].name, w.ToString(), t->name),
              schemas());
        }
        cast = MakeCast(MakeColumnRef(static_cast<int>(i), f.type, f.name), w, false);
      }
      sink->casts.push_back(cast);
      ++idx;
    }
    std::vector<std::shared_ptr<const TableDef>> read;
    CollectTables(plan->get(), &read);
    absl::Status overlap = connectors::CheckFileSinkTarget(*t, read);
    if (!overlap.ok()) return sql::SqlError(script, st.name_pos, std::string(overlap.message()));
    int n = static_cast<int>(config_.Get(options::kParallelism));
    auto sp = connectors::MakeSink(t, writable, (*plan)->updating, n, JobId(st.text));
    if (!sp.ok()) return sql::AtSqlPosition(sp.status(), script, st.name_pos);
    sink->name = fmt::format("Sink: {} ({})", t->name, sp->description);
    sink->make = sp->make;
    sink->parallelism = sp->parallelism;
    sink->metrics = sp->metrics;
    sink->committer = sp->committer;
    sink->requires_checkpoints = sp->requires_checkpoints;
    return t;
  }

  absl::Status Insert(const sql::Statement& st, const std::string& script,
                      const OutputOptions& output) {
    PlanPtr plan;
    SinkTarget sink;
    EDDY_ASSIGN_OR_RETURN(auto t, InsertTarget(st, script, &plan, &sink));
    (void)t;
    absl::Status s = Run(plan, sink, st.text, output);
    if (output.on_summary) output.on_summary(st.text, summary_);
    return s;
  }

  // Whether a plan reads an unbounded source (a kafka table without 'scan.bounded.mode', an mqtt
  // table without 'scan.bounded.idle-timeout').
  static bool Unbounded(const PlanNode* n) {
    if (!n) return false;
    if (n->kind == PlanNode::Kind::kScan && n->table) {
      const connectors::ConnectorFactory* f =
          connectors::FindConnector(n->table->Option("connector"));
      if (f && !f->IsBounded(*n->table)) return true;
    }
    return Unbounded(n->input.get()) || Unbounded(n->right.get());
  }

  absl::Status RunSelect(const PlanPtr& plan, const ResultOrder& order, const std::string& text,
                         const OutputOptions& output, QueryResult* r, bool stream = false) {
    auto collector = std::make_shared<Collector>();
    if (stream) {
      std::vector<std::string> names;
      std::vector<DataType> types;
      for (const auto& f : plan->schema.fields) {
        if (f.name.rfind("$", 0) == 0) continue;
        names.push_back(f.name);
        types.push_back(f.type);
      }
      collector->printer = std::make_unique<StreamPrinter>(output.format, output.out, names, types,
                                                           plan->updating || output.always_kind,
                                                           order.limit, &cancel_);
      streaming_ = true;
    }
    SinkTarget sink;
    sink.name = "Sink: collect";
    sink.metrics = std::make_shared<connectors::SinkMetrics>();
    sink.metrics->table = "(terminal)";
    auto m = sink.metrics;
    sink.make = [collector, m](const runtime::SubtaskInfo&)
        -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
      return std::unique_ptr<runtime::StreamOperator>(new CollectSink(collector, m));
    };
    absl::Status run = Run(plan, sink, text, output);
    streaming_ = false;
    if (stream) {
      // Ctrl-C or the LIMIT ends an unbounded query: a normal end for the user.
      bool stopped = absl::IsCancelled(run);
      collector->printer->Finish(stopped && collector->printer->rows() != order.limit);
      if (stopped) {
        summary_.ok = true;
        summary_.stopped = true;
        return absl::OkStatus();
      }
      return run;
    }
    EDDY_RETURN_IF_ERROR(run);
    *r = std::move(collector->result);
    r->updating = plan->updating;
    for (const auto& f : plan->schema.fields) {
      if (f.name.rfind("$", 0) == 0) continue;
      r->column_names.push_back(f.name);
      DataType t = f.type;
      r->column_types.push_back(t.ToString());
      r->numeric.push_back(t.is_numeric());
    }
    if (r->updating && (!order.keys.empty() || order.limit >= 0)) {
      // ORDER BY / LIMIT rank the final result, so apply the changelog first.
      std::map<std::vector<std::string>, int64_t> table;  // row → multiplicity
      for (size_t i = 0; i < r->rows.size(); ++i) {
        const std::string& k = r->kinds[i];
        auto& n = table[r->rows[i]];
        n += (k == "+I" || k == "+U") ? 1 : -1;
      }
      r->rows.clear();
      for (const auto& [row, n] : table) {
        for (int64_t c = 0; c < n; ++c) r->rows.push_back(row);
      }
      r->kinds.assign(r->rows.size(), "+I");
      r->updating = false;
    }
    if (!order.keys.empty()) {
      std::vector<size_t> idx(r->rows.size());
      for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      auto less = [&](size_t a, size_t b) {
        for (auto [c, desc] : order.keys) {
          const std::string& x = r->rows[a][c];
          const std::string& y = r->rows[b][c];
          if (x == y) continue;
          bool xn = x == "<NULL>", yn = y == "<NULL>";
          int cmp;
          if (xn || yn) {
            cmp = xn ? -1 : 1;  // NULLs first ascending (Flink's default NULLS FIRST for ASC)
          } else if (r->numeric[c]) {
            cmp = CompareNumberText(x, y);
          } else {
            cmp = x < y ? -1 : 1;
          }
          if (cmp == 0) continue;
          return desc ? cmp > 0 : cmp < 0;
        }
        // Ties: by the whole row, so the printed order does not depend on parallelism.
        return r->rows[a] < r->rows[b];
      };
      std::stable_sort(idx.begin(), idx.end(), less);
      QueryResult s = *r;
      for (size_t i = 0; i < idx.size(); ++i) {
        s.rows[i] = r->rows[idx[i]];
        s.kinds[i] = r->kinds[idx[i]];
      }
      *r = std::move(s);
    }
    if (order.limit >= 0 && static_cast<int64_t>(r->rows.size()) > order.limit) {
      r->rows.resize(order.limit);
      r->kinds.resize(order.limit);
    }
    return absl::OkStatus();
  }

  absl::Status Run(const PlanPtr& plan, const SinkTarget& sink, const std::string& text,
                   const OutputOptions& output) {
    summary_ = JobSummary();  // a job that fails while it is built reports "failed"
    summary_.ok = false;
    SinkTarget late;
    bool has_late = false;
    EDDY_RETURN_IF_ERROR(
        sql::AtSqlPosition(LateSink(text, plan.get(), &late, &has_late), plan->script, plan->pos));
    EDDY_ASSIGN_OR_RETURN(BuiltJob job, BuildJob(plan, config_, sink, has_late ? &late : nullptr));
    runtime::CheckpointConfig cp;
    std::optional<state::LoadedCheckpoint> restored;
    EDDY_RETURN_IF_ERROR(CheckpointSettings(text, &cp, &restored));
    const SinkTarget* late_target = has_late ? &late : nullptr;
    for (const SinkTarget* s : {&sink, late_target}) {
      if (s && s->requires_checkpoints && cp.interval_ms == 0) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: 'sink.delivery-guarantee' = 'exactly-once' commits a Kafka transaction per "
            "checkpoint and needs checkpoints: set 'execution.checkpointing.interval' (and "
            "'execution.checkpointing.dir'), or use 'at-least-once'",
            s->name));
      }
    }
    runtime::CheckpointStats cp_stats;
    if (stop_requested_) {
      return absl::CancelledError("the script was stopped with a savepoint");
    }
    if (!savepoint_on_stop_.empty()) {
      cp.stop_requested = &stop_requested_;
      cp.savepoint_dir = savepoint_on_stop_;
    }
    cancel_.cancelled = false;
    auto start = std::chrono::steady_clock::now();
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread progress;
    auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    if (output.on_progress) {
      progress = std::thread([&] {
        std::unique_lock<std::mutex> l(mu);
        while (!cv.wait_for(l, std::chrono::milliseconds(250), [&] { return done; })) {
          Progress p;
          for (const auto& s : job.sources) {
            p.rows += s->rows_read.load();
            p.bytes += s->bytes_read.load();
            p.total_bytes += s->bytes_total.load();
          }
          p.seconds = elapsed();
          p.streaming = streaming_;
          for (const auto& v : job.graph.vertices) {
            VertexProgress vp;
            vp.name = v.name;
            vp.parallelism = v.parallelism;
            for (const auto& e : v.inputs) vp.inputs.push_back(e.from);
            vp.rows_in = v.metrics->rows_in.load();
            vp.rows_out = v.metrics->rows_out.load();
            vp.late_rows = v.metrics->late_rows.load();
            int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
            v.metrics->ForEachSubtask([&](int i, const runtime::SubtaskMetrics& m) {
              if (static_cast<size_t>(i) >= vp.subtasks.size()) vp.subtasks.resize(i + 1);
              SubtaskProgress& sp = vp.subtasks[i];
              constexpr auto r = std::memory_order_relaxed;
              sp.rows_in = m.rows_in.load(r);
              sp.rows_out = m.rows_out.load(r);
              sp.watermark = m.watermark.load(r);
              sp.state_bytes = m.state_bytes.load(r);
              sp.state_keys = m.state_keys.load(r);
              sp.busy_ns = m.busy_ns.load(r);
              sp.backpressured_ns = m.BackpressuredUntil(now_ns);
              sp.sampled_ns = now_ns;
            });
            p.vertices.push_back(std::move(vp));
          }
          for (size_t s = 0; s < job.sources.size() && s < job.source_vertices.size(); ++s) {
            size_t v = static_cast<size_t>(job.source_vertices[s]);
            if (v >= p.vertices.size()) continue;
            for (const auto& l : job.sources[s]->PartitionLags()) {
              p.vertices[v].source_lag.push_back(
                  {job.sources[s]->table, l.topic, l.partition, l.position, l.end_offset});
            }
          }
          output.on_progress(p);
        }
      });
    }
    absl::Status status = runtime::ExecuteJob(job.graph, &cancel_, Pool(), &cp, &cp_stats);
    {
      std::lock_guard<std::mutex> l(mu);
      done = true;
    }
    cv.notify_all();
    if (progress.joinable()) progress.join();
    summary_ = JobSummary();
    summary_.seconds = elapsed();
    summary_.ok = status.ok();
    for (const auto& s : job.sources) {
      summary_.sources.push_back(
          {s->table, s->rows_read.load(), s->bad_skipped.load(), s->bad_dead_lettered.load()});
    }
    for (const auto& s : job.sinks) summary_.sinks.push_back({s->table, s->rows_written.load()});
    for (const auto& w : job.windows) summary_.late.push_back({w->name, w->late_rows.load()});
    summary_.checkpoints_completed = cp_stats.completed;
    if (!cp_stats.savepoint_path.empty() && absl::IsCancelled(status)) {
      // Stopped with a savepoint: a clean end for the user.
      summary_.savepoint = cp_stats.savepoint_path;
      summary_.stopped = true;
      summary_.ok = true;
      return absl::CancelledError(
          fmt::format("stopped with a savepoint in {} (resume with --from-checkpoint {})",
                      cp_stats.savepoint_path, cp_stats.savepoint_path));
    }
    summary_.checkpoints_failed = cp_stats.failed;
    summary_.restored_from = restored ? restored->path : "";
    if (absl::IsCancelled(status) && cancel_.cancelled) {
      return absl::CancelledError("the job was cancelled");
    }
    return status;
  }

  // The checkpoint settings of the job of statement `text` (Flink's execution.checkpointing.*)
  // and the checkpoint or savepoint to restore ('execution.savepoint.path': a directory, or
  // 'latest' for the newest complete checkpoint of this job under the checkpoint directory).
  absl::Status CheckpointSettings(const std::string& text, runtime::CheckpointConfig* cp,
                                  std::optional<state::LoadedCheckpoint>* restored) {
    cp->interval_ms = absl::ToInt64Milliseconds(config_.Get(options::kCheckpointInterval));
    cp->timeout_ms = absl::ToInt64Milliseconds(config_.Get(kCheckpointTimeout));
    if (cp->timeout_ms == 0) cp->timeout_ms = 10 * 60 * 1000;
    cp->dir = config_.Get(kCheckpointDir);
    cp->job_id = JobId(text);
    cp->num_retained = static_cast<int>(config_.Get(kCheckpointsRetained));
    cp->ignore_unclaimed_state = config_.Get(kIgnoreUnclaimedState);
    if (cp->interval_ms > 0 && cp->dir.empty()) {
      return absl::InvalidArgumentError(
          "'execution.checkpointing.interval' is set but 'execution.checkpointing.dir' is not: "
          "set it to the directory where checkpoints go");
    }
    if (cp->interval_ms > 0) {
      // A checkpoint directory that cannot be written is a mistake to report now, not at the
      // first checkpoint.
      std::error_code ec;
      std::filesystem::create_directories(cp->dir, ec);
      if (ec) {
        return absl::FailedPreconditionError(fmt::format(
            "the checkpoint directory '{}' cannot be created: {}", cp->dir, ec.message()));
      }
      std::string probe = (std::filesystem::path(cp->dir) / "eddy-write-probe").string();
      absl::Status w = WriteFileDurably(probe, "probe");
      if (absl::IsResourceExhausted(w)) {
        // A full disk is worth a warning, not a refusal: checkpoints fail until space is back.
        spdlog::warn(
            "the checkpoint directory '{}' is full ({}): checkpoints will fail until "
            "space is freed",
            cp->dir, std::string(w.message()));
      } else if (!w.ok()) {
        return absl::FailedPreconditionError(
            fmt::format("the checkpoint directory '{}' cannot be written: {}", cp->dir,
                        std::string(w.message())));
      }
      std::filesystem::remove(probe, ec);
    }
    std::string from = config_.Get(kSavepointPath);
    if (from.empty()) return absl::OkStatus();
    if (from == "latest") {
      if (cp->dir.empty()) {
        return absl::InvalidArgumentError(
            "restoring from 'latest' needs 'execution.checkpointing.dir' (where to look)");
      }
      std::string job_dir = (std::filesystem::path(cp->dir) / cp->job_id).string();
      EDDY_ASSIGN_OR_RETURN(*restored, state::CheckpointStorage::LoadLatest(job_dir));
      if (!*restored) {
        spdlog::info("no complete checkpoint of job {} under {}: starting from the beginning",
                     cp->job_id, cp->dir);
        return absl::OkStatus();
      }
    } else {
      auto c = state::CheckpointStorage::Load(from);
      if (!c.ok()) return c.status();
      *restored = std::move(*c);
    }
    spdlog::info("job {} restores {} (checkpoint {})", cp->job_id, (*restored)->path,
                 (*restored)->manifest.checkpoint_id);
    cp->restore = &**restored;
    return absl::OkStatus();
  }

  // The worker pool of this session: 'eddy.worker-threads' threads, made again when it changes.
  runtime::WorkerPool* Pool() {
    int n = static_cast<int>(config_.Get(options::kWorkerThreads));
    if (!pool_ || pool_->threads() != n) {
      pool_.reset();
      pool_ = std::make_unique<runtime::WorkerPool>(n);
    }
    return pool_.get();
  }

  std::unique_ptr<runtime::WorkerPool> pool_;
  std::map<std::string, std::shared_ptr<const TableDef>> tables_;
  std::map<std::string, std::shared_ptr<const ViewDef>> views_;
  std::vector<std::shared_ptr<std::string>> scripts_;
  SessionConfig config_;
  JobSummary summary_;
  runtime::CancelFlag cancel_;
  bool streaming_ = false;  // the running job prints its rows as they come
  int job_index_ = 0;       // jobs (INSERT, SELECT) started by this session, for job ids
  std::string savepoint_on_stop_;
  std::atomic<bool> stop_requested_{false};
};

Engine::Engine() : impl_(std::make_unique<EngineImpl>()) {}
Engine::~Engine() = default;
absl::Status Engine::Validate(std::string_view script, std::string* plans) {
  return impl_->Validate(script, plans);
}

absl::Status Engine::ExecuteScript(std::string_view script, const OutputOptions& output) {
  return impl_->ExecuteScript(script, output);
}
absl::StatusOr<QueryResult> Engine::Query(std::string_view select) { return impl_->Query(select); }
std::string Engine::Get(const std::string& key) const { return impl_->Get(key); }
absl::Status Engine::Set(const std::string& key, const std::string& value) {
  return impl_->Set(key, value);
}
const JobSummary& Engine::last_summary() const { return impl_->summary(); }
void Engine::Cancel() { impl_->Cancel(); }
void Engine::SetSavepointOnStop(const std::string& dir) { impl_->SetSavepointOnStop(dir); }
void Engine::Stop() { impl_->Stop(); }

}  // namespace eddy
