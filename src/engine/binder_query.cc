// Binder, part 2: tables, FROM items, SELECT blocks, grouping and window TVFs.
#include <fmt/format.h>

#include <set>

#include "base/status.h"
#include "base/strings.h"
#include "catalog/legacy_options.h"
#include "catalog/options.h"
#include "connectors/connector.h"
#include "engine/binder_internal.h"
#include "engine/optimizer.h"
#include "engine/plan.h"
#include "function/aggregate.h"
#include "sql/parser.h"
#include "types/text_codec.h"
#include "types/time_util.h"

namespace eddy {

using sql::Expr;
using sql::ExprKind;
using sql::Pos;

std::vector<std::string> ConnectorNames(bool (*pred)(const connectors::ConnectorFactory&)) {
  std::vector<std::string> names;
  for (const connectors::ConnectorFactory* f : connectors::Connectors()) {
    if (!pred || pred(*f)) names.push_back(f->identifier());
  }
  return names;
}

namespace {

// Bounds of window TVF arguments: every interval at most 100 years, so window_start and
// window_end of any TIMESTAMP (years 0000-9999) stay far inside int64 µs, and at most 100,000
// windows per row (HOP size / slide, CUMULATE size / step).
constexpr int64_t kMaxWindowInterval = kMaxTimeBound;
constexpr int64_t kMaxWindowsPerRow = 100'000;

// The expressions of `table`'s computed columns (null for the others), from its DDL.
absl::StatusOr<std::vector<sql::ExprPtr>> ComputedColumns(const TableDef& table) {
  EDDY_ASSIGN_OR_RETURN(auto stmts, sql::ParseScript(table.ddl));
  if (stmts.size() != 1 || stmts[0]->kind != sql::StmtKind::kCreateTable) {
    return absl::InternalError(
        fmt::format("the DDL of table '{}' is not one CREATE TABLE", table.name));
  }
  std::vector<sql::ExprPtr> out(table.columns.size());
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (!table.computed[i]) continue;
    for (const auto& c : stmts[0]->columns) {
      if (c.name == table.columns[i].name && c.computed) out[i] = c.computed;
    }
    if (!out[i]) {
      return absl::InternalError(fmt::format("computed column '{}' of table '{}' is not in its DDL",
                                             table.columns[i].name, table.name));
    }
  }
  return out;
}

// Sets a binder's script for error positions and puts the old one back when it goes.
class ScriptSwap {
 public:
  ScriptSwap(std::string_view* script, std::string_view text) : script_(script), saved_(*script) {
    *script_ = text;
  }
  ~ScriptSwap() { *script_ = saved_; }

 private:
  std::string_view* script_;
  std::string_view saved_;
};

std::string Human(int64_t us) {
  if (us == 0) return "0 s";
  if (us % kMicrosPerDay == 0) return fmt::format("{} d", us / kMicrosPerDay);
  if (us % kMicrosPerHour == 0) return fmt::format("{} h", us / kMicrosPerHour);
  if (us % kMicrosPerMinute == 0) return fmt::format("{} min", us / kMicrosPerMinute);
  if (us % kMicrosPerSecond == 0) return fmt::format("{} s", us / kMicrosPerSecond);
  return fmt::format("{} ms", us / 1000.0);
}
}  // namespace

absl::StatusOr<std::shared_ptr<TableDef>> Binder::BindTable(const sql::Statement& s) {
  auto t = std::make_shared<TableDef>();
  t->name = s.name;
  t->ddl = s.text;
  // The connector first: its factory says which options and metadata columns the table may have.
  for (const auto& [k, v] : s.options) {
    if (t->options.count(k)) {
      return Error(s.name_pos, fmt::format("option '{}' is set twice in WITH (…)", k));
    }
    t->options[k] = v;
  }
  // Flink's old keys ('connector.type' = 'filesystem', 'format.type' = 'csv'): read as the new.
  {
    std::string hint;
    absl::Status legacy = catalog::MapLegacyTableOptions(&t->options, &hint);
    if (!legacy.ok()) return Error(s.name_pos, std::string(legacy.message()), hint);
  }
  std::string conn = t->Option("connector");
  if (conn.empty()) {
    return Error(s.name_pos,
                 fmt::format("table '{}' needs a 'connector' option in WITH (…)", s.name));
  }
  const connectors::ConnectorFactory* factory = connectors::FindConnector(conn);
  if (!factory) {
    std::vector<std::string> known = ConnectorNames(nullptr);
    std::string near = ClosestName(conn, known);
    return Error(s.name_pos, fmt::format("unknown connector '{}'", conn),
                 near.empty() ? fmt::format("available connectors: {} (SHOW CONNECTORS)",
                                            fmt::join(known, ", "))
                              : fmt::format("did you mean '{}'?", near));
  }
  const std::vector<connectors::MetadataColumn> metadata = factory->metadata_columns();
  Scope phys;
  for (const auto& c : s.columns) {
    for (const auto& f : t->columns) {
      if (ToLower(f.name) == ToLower(c.name)) {
        return Error(c.pos, fmt::format("column '{}' is declared twice", c.name));
      }
    }
    if (c.is_metadata) {
      if (metadata.empty()) {
        return Error(
            c.pos, fmt::format("the {} connector has no METADATA columns", conn),
            fmt::format("connectors with METADATA columns: {}",
                        fmt::join(ConnectorNames([](const connectors::ConnectorFactory& f) {
                                    return !f.metadata_columns().empty();
                                  }),
                                  ", ")));
      }
      std::string key = c.metadata_key.empty() ? c.name : c.metadata_key;
      const connectors::MetadataColumn* m = nullptr;
      std::vector<std::string> keys;
      for (const auto& x : metadata) {
        if (x.key == key) m = &x;
        keys.push_back(fmt::format("'{}'", x.key));
      }
      if (!m) {
        return Error(c.pos,
                     fmt::format("unknown metadata key '{}' for the {} connector (available: {})",
                                 key, conn, fmt::join(keys, ", ")));
      }
      if (!m->accepts(c.type)) {
        return Error(c.pos, fmt::format("metadata key '{}' reads as {}, not {}", key, m->type_name,
                                        c.type.ToString()));
      }
    }
    if (!c.computed) {
      phys.cols.push_back({"", c.name, static_cast<int>(t->physical.fields.size()), c.type});
      t->physical.fields.push_back({c.name, c.type});
      t->columns.push_back({c.name, c.type});
      t->computed.push_back(false);
      t->metadata.push_back(c.is_metadata ? (c.metadata_key.empty() ? c.name : c.metadata_key)
                                          : "");
      t->virtual_column.push_back(c.is_metadata && c.is_virtual);
    }
  }
  // Computed columns reference physical columns (Flink SQL: computed columns).
  for (const auto& c : s.columns) {
    if (!c.computed) continue;
    EDDY_ASSIGN_OR_RETURN(auto b, Bind(*c.computed, phys, nullptr));
    t->columns.push_back({c.name, b->type()});
    t->computed.push_back(true);
  }
  // Restore declaration order: physical and computed columns as written.
  {
    std::vector<Field> cols;
    std::vector<bool> comp;
    for (const auto& c : s.columns) {
      for (size_t i = 0; i < t->columns.size(); ++i) {
        if (t->columns[i].name == c.name) {
          cols.push_back(t->columns[i]);
          comp.push_back(t->computed[i]);
        }
      }
    }
    t->columns = std::move(cols);
    t->computed = std::move(comp);
  }
  if (s.watermark) {
    const auto& w = *s.watermark;
    int idx = -1;
    std::vector<std::string> names;
    for (size_t i = 0; i < t->columns.size(); ++i) {
      names.push_back(t->columns[i].name);
      if (ToLower(t->columns[i].name) == ToLower(w.column)) idx = static_cast<int>(i);
    }
    if (idx < 0) {
      std::string near = ClosestName(w.column, names);
      return Error(w.pos,
                   fmt::format("WATERMARK column '{}' is not a column of {}", w.column, s.name),
                   near.empty() ? "" : fmt::format("did you mean '{}'?", near));
    }
    if (!t->columns[idx].type.is_timestamp()) {
      return Error(w.pos,
                   fmt::format("the WATERMARK column '{}' must be TIMESTAMP or TIMESTAMP_LTZ, "
                               "not {}",
                               w.column, t->columns[idx].type.ToString()));
    }
    const Expr& e = *w.expr;
    auto is_col = [&](const Expr& x) {
      return x.kind == ExprKind::kColumn && ToLower(x.name) == ToLower(w.column);
    };
    if (is_col(e)) {
      t->watermark_delay = 0;
    } else if (e.kind == ExprKind::kBinary && e.op == "-" && is_col(*e.args[0]) &&
               e.args[1]->kind == ExprKind::kInterval) {
      EDDY_ASSIGN_OR_RETURN(t->watermark_delay, TimeBoundMicros(*e.args[1], "the watermark delay"));
      if (t->watermark_delay < 0)
        return Error(e.args[1]->pos, "the watermark delay must not be negative");
    } else {
      return Error(e.pos, fmt::format("eddy supports bounded out-of-orderness watermarks: "
                                      "WATERMARK FOR {0} AS {0} - INTERVAL 'n' unit",
                                      w.column));
    }
    t->rowtime = idx;
    t->has_watermark = true;
    t->columns[idx].type.time_attr = TimeAttr::kRowtime;
    for (auto& f : t->physical.fields) {
      if (f.name == t->columns[idx].name) f.type.time_attr = TimeAttr::kRowtime;
    }
  }
  t->primary_key = s.primary_key;
  std::string hint;
  absl::Status st =
      catalog::ValidateTableOptions(connectors::OptionRules(*factory), t->options, &hint);
  if (st.ok()) st = factory->Validate(*t);
  if (!st.ok()) return Error(s.name_pos, std::string(st.message()), hint);
  return t;
}

absl::StatusOr<PlanPtr> Binder::ScanTable(std::shared_ptr<const TableDef> table, Pos pos) {
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kScan;
  n->table = table;
  n->pos = pos;
  n->script = script_;
  Scope phys;
  for (size_t i = 0; i < table->physical.fields.size(); ++i) {
    phys.cols.push_back(
        {"", table->physical.fields[i].name, static_cast<int>(i), table->physical.fields[i].type});
  }
  std::vector<sql::ExprPtr> exprs(table->columns.size());
  if (std::find(table->computed.begin(), table->computed.end(), true) != table->computed.end()) {
    EDDY_ASSIGN_OR_RETURN(exprs, ComputedColumns(*table));
  }
  for (size_t i = 0; i < table->columns.size(); ++i) {
    BoundExprPtr c;
    if (exprs[i]) {
      ScriptSwap ddl(&script_, table->ddl);  // positions in the expression are the DDL's
      EDDY_ASSIGN_OR_RETURN(c, Bind(*exprs[i], phys, nullptr));
    }
    n->computed.push_back(c);
    n->schema.fields.push_back(table->columns[i]);
  }
  n->schema.rowtime_index = table->rowtime;
  if (table->has_watermark) n->schema.fields.push_back({kRowWatermarkColumn, DataType::Bigint()});
  return n;
}

absl::StatusOr<PlanPtr> Binder::BindNamed(const std::string& name, Pos pos) {
  std::string key = ToLower(name);
  auto c = ctes_.find(key);
  if (c != ctes_.end()) return BindQuery(*c->second, nullptr);
  auto v = views_.find(key);
  if (v != views_.end()) {
    const ViewDef& view = *v->second;
    EDDY_ASSIGN_OR_RETURN(sql::QueryPtr query, ViewQuery(view));
    absl::StatusOr<PlanPtr> r;
    {
      ScriptSwap text(&script_, view.text);
      r = BindQuery(*query, nullptr);
    }
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("in view '{}': {}", view.name, std::string(r.status().message())));
    }
    PlanPtr p = *r;
    if (!view.column_names.empty()) {
      std::vector<BoundExprPtr> proj;
      std::vector<std::string> names;
      size_t k = 0;
      for (size_t i = 0; i < p->schema.fields.size(); ++i) {
        const auto& f = p->schema.fields[i];
        if (f.name.rfind("$", 0) == 0) continue;
        proj.push_back(MakeColumnRef(static_cast<int>(i), f.type, f.name));
        names.push_back(k < view.column_names.size() ? view.column_names[k] : f.name);
        ++k;
      }
      p = MakeCalc(p, nullptr, proj, names);
    }
    return p;
  }
  auto t = tables_.find(key);
  if (t != tables_.end()) return ScanTable(t->second, pos);
  std::vector<std::string> names;
  for (const auto& [k, d] : tables_) names.push_back(d->name);
  for (const auto& [k, d] : views_) names.push_back(d->name);
  for (const auto& [k, d] : ctes_) names.push_back(k);
  std::string near = ClosestName(name, names);
  return Error(pos, fmt::format("unknown table or view '{}'", name),
               near.empty() ? (names.empty() ? "no tables are defined yet: CREATE TABLE first"
                                             : fmt::format("known tables and views: {}",
                                                           fmt::join(names, ", ")))
                            : fmt::format("did you mean '{}'?", near));
}

absl::StatusOr<Binder::FromResult> Binder::BindFrom(const sql::TableRef& ref) {
  FromResult r;
  r.pos = ref.pos;
  auto scope_of = [](const PlanPtr& p, const std::string& qual) {
    Scope s;
    for (size_t i = 0; i < p->schema.fields.size(); ++i) {
      s.cols.push_back(
          {ToLower(qual), p->schema.fields[i].name, static_cast<int>(i), p->schema.fields[i].type});
    }
    return s;
  };
  auto last_part = [](const std::string& n) {
    size_t d = n.rfind('.');
    return d == std::string::npos ? n : n.substr(d + 1);
  };
  switch (ref.kind) {
    case sql::TableRefKind::kNamed: {
      if (ref.system_time) {
        return Error(ref.pos,
                     "FOR SYSTEM_TIME AS OF (temporal and lookup joins) is not supported yet");
      }
      EDDY_ASSIGN_OR_RETURN(r.node, BindNamed(ref.name, ref.pos));
      EDDY_ASSIGN_OR_RETURN(r.node, ApplyColumnAliases(ref, r.node));
      r.scope = scope_of(r.node, ref.alias.empty() ? last_part(ref.name) : ref.alias);
      return r;
    }
    case sql::TableRefKind::kSubquery: {
      EDDY_ASSIGN_OR_RETURN(r.node, BindQuery(*ref.subquery, nullptr));
      EDDY_ASSIGN_OR_RETURN(r.node, ApplyColumnAliases(ref, r.node));
      r.scope = scope_of(r.node, ref.alias);
      return r;
    }
    case sql::TableRefKind::kJoin:
      return BindJoin(ref);
    case sql::TableRefKind::kMatchRecognize:
      return BindMatchRecognize(ref);
    case sql::TableRefKind::kWindowTvf:
      break;
  }
  // Window TVF.
  const sql::TableRef& in = *ref.tvf_input;
  EDDY_ASSIGN_OR_RETURN(FromResult inner, BindFrom(in));
  if (inner.window) return Error(in.pos, "a window TVF cannot take another window TVF as input");
  EDDY_RETURN_IF_ERROR(PlanJoins(&inner));
  r.node = inner.node;
  if (r.node->updating) {
    return Error(ref.pos,
                 "window TVFs take an insert-only input, but this input is an updating "
                 "result (e.g. a GROUP BY without window)");
  }
  std::string qual =
      ref.alias.empty() ? (in.alias.empty() ? last_part(in.name) : in.alias) : ref.alias;
  r.scope = scope_of(r.node, qual);
  int n = static_cast<int>(r.node->schema.fields.size());
  int tc = -1;
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    const auto& f = r.node->schema.fields[i];
    if (f.name.rfind("$", 0) == 0) continue;
    names.push_back(f.name);
    if (ToLower(f.name) == ToLower(ref.descriptor)) tc = i;
  }
  if (tc < 0) {
    std::string near = ClosestName(ref.descriptor, names);
    return Error(ref.descriptor_pos,
                 fmt::format("DESCRIPTOR column '{}' is not a column of the input", ref.descriptor),
                 near.empty() ? "" : fmt::format("did you mean '{}'?", near));
  }
  const DataType& tt = r.node->schema.fields[tc].type;
  if (tt.time_attr == TimeAttr::kNone) {
    return Error(ref.descriptor_pos,
                 fmt::format("the window function requires the time column to be a time attribute "
                             "(declare WATERMARK FOR {0} … or {0} AS PROCTIME()), but '{0}' is {1}",
                             ref.descriptor, tt.ToString()));
  }
  r.time_col = tc;
  r.proctime = tt.time_attr == TimeAttr::kProctime;
  EDDY_RETURN_IF_ERROR(BindWindowArgs(ref, &r));
  r.window = true;
  // The TVF adds window_start, window_end, window_time after the input's columns.
  r.scope.cols.push_back({ToLower(qual), "window_start", n, DataType::Timestamp(3)});
  r.scope.cols.push_back({ToLower(qual), "window_end", n + 1, DataType::Timestamp(3)});
  DataType wt = DataType::Timestamp(3);
  wt.time_attr = r.proctime ? TimeAttr::kProctime : TimeAttr::kRowtime;
  r.scope.cols.push_back({ToLower(qual), "window_time", n + 2, wt});
  return r;
}

// The window of a window TVF (or of a group window, binder_group_window.cc) from `ref.tvf` and
// its interval arguments `ref.tvf_args`: r->spec, r->window_text (and r->session_keys).
absl::Status Binder::BindWindowArgs(const sql::TableRef& ref, FromResult* rp) {
  FromResult& r = *rp;
  std::vector<int64_t> iv;
  for (const auto& a : ref.tvf_args) {
    EDDY_ASSIGN_OR_RETURN(int64_t us, IntervalMicros(*a));
    iv.push_back(us);
  }
  auto need = [&](size_t lo, size_t hi) -> absl::Status {
    if (iv.size() < lo || iv.size() > hi) {
      return Error(
          ref.pos,
          fmt::format("{} takes {} interval argument(s), got {}", ref.tvf,
                      lo == hi ? std::to_string(lo) : fmt::format("{} or {}", lo, hi), iv.size()));
    }
    return absl::OkStatus();
  };
  // Flink's window parameter rules (SliceAssigners, SessionWindowAssigner): sizes, slides, steps
  // and gaps > 0; HOP size and CUMULATE max size integral multiples of the slide/step; TUMBLE
  // |offset| < size. eddy adds bounds that keep window_start/window_end far inside int64 µs and
  // the number of windows per row finite.
  auto positive = [&](size_t i, const char* what) -> absl::Status {
    if (iv[i] <= 0) {
      return Error(ref.tvf_args[i]->pos,
                   fmt::format("the {} of a {} window must be positive, got {}", what, ref.tvf,
                               Human(iv[i])));
    }
    if (iv[i] > kMaxWindowInterval) {
      return Error(ref.tvf_args[i]->pos,
                   fmt::format("the {} of a {} window must be at most {} days (100 years), got {}",
                               what, ref.tvf, kMaxWindowInterval / kMicrosPerDay, Human(iv[i])));
    }
    return absl::OkStatus();
  };
  auto offset_at = [&](size_t i, int64_t limit, const char* limit_name) -> absl::StatusOr<int64_t> {
    if (iv.size() <= i) return 0;
    int64_t o = iv[i];
    if (o <= -limit || o >= limit) {
      return Error(ref.tvf_args[i]->pos,
                   fmt::format("the offset of a {} window must be less than its {} ({}) in "
                               "absolute value, got {}",
                               ref.tvf, limit_name, Human(limit), Human(o)));
    }
    return o;
  };
  auto windows_per_row = [&](size_t size_arg, int64_t per_row, const char* what) -> absl::Status {
    if (per_row > kMaxWindowsPerRow) {
      return Error(ref.tvf_args[size_arg]->pos,
                   fmt::format("a {} window of size {} and {} {} puts every row in {} windows; "
                               "eddy allows at most {}",
                               ref.tvf, Human(iv[size_arg]), what, Human(iv[1 - size_arg]), per_row,
                               kMaxWindowsPerRow));
    }
    return absl::OkStatus();
  };
  runtime::WindowSpec& s = r.spec;
  if (ref.tvf == "TUMBLE") {
    EDDY_RETURN_IF_ERROR(need(1, 2));
    EDDY_RETURN_IF_ERROR(positive(0, "size"));
    s.kind = runtime::WindowKind::kTumble;
    s.size = iv[0];
    EDDY_ASSIGN_OR_RETURN(s.offset, offset_at(1, s.size, "size"));
    r.window_text = fmt::format("TUMBLE(size=[{}]{})", Human(s.size),
                                s.offset ? fmt::format(", offset=[{}]", Human(s.offset)) : "");
  } else if (ref.tvf == "HOP") {
    EDDY_RETURN_IF_ERROR(need(2, 3));
    EDDY_RETURN_IF_ERROR(positive(0, "slide"));
    EDDY_RETURN_IF_ERROR(positive(1, "size"));
    s.kind = runtime::WindowKind::kHop;
    s.slide = iv[0];
    s.size = iv[1];
    if (s.size % s.slide != 0) {
      return Error(ref.tvf_args[1]->pos,
                   fmt::format("HOP window size must be an integral multiple of the slide, got "
                               "size {} and slide {}",
                               Human(s.size), Human(s.slide)));
    }
    EDDY_RETURN_IF_ERROR(windows_per_row(1, s.size / s.slide, "slide"));
    EDDY_ASSIGN_OR_RETURN(s.offset, offset_at(2, kMaxWindowInterval, "maximum"));
    r.window_text = fmt::format("HOP(slide=[{}], size=[{}]{})", Human(s.slide), Human(s.size),
                                s.offset ? fmt::format(", offset=[{}]", Human(s.offset)) : "");
  } else if (ref.tvf == "CUMULATE") {
    EDDY_RETURN_IF_ERROR(need(2, 3));
    EDDY_RETURN_IF_ERROR(positive(0, "step"));
    EDDY_RETURN_IF_ERROR(positive(1, "max size"));
    s.kind = runtime::WindowKind::kCumulate;
    s.step = iv[0];
    s.size = iv[1];
    if (s.size % s.step != 0) {
      return Error(ref.tvf_args[1]->pos,
                   fmt::format("CUMULATE window max size must be an integral multiple of the step, "
                               "got max size {} and step {}",
                               Human(s.size), Human(s.step)));
    }
    EDDY_RETURN_IF_ERROR(windows_per_row(1, s.size / s.step, "step"));
    EDDY_ASSIGN_OR_RETURN(s.offset, offset_at(2, kMaxWindowInterval, "maximum"));
    r.window_text = fmt::format("CUMULATE(step=[{}], size=[{}]{})", Human(s.step), Human(s.size),
                                s.offset ? fmt::format(", offset=[{}]", Human(s.offset)) : "");
  } else if (ref.tvf == "SESSION") {
    EDDY_RETURN_IF_ERROR(need(1, 1));
    EDDY_RETURN_IF_ERROR(positive(0, "gap"));
    s.kind = runtime::WindowKind::kSession;
    s.gap = iv[0];
    r.session_keys = ref.partition_by;
    r.window_text = fmt::format("SESSION(gap=[{}])", Human(s.gap));
  } else {
    return Error(ref.pos, fmt::format("unknown window function {}", ref.tvf));
  }
  return absl::OkStatus();
}

absl::StatusOr<PlanPtr> Binder::BindQuery(const sql::Query& q, ResultOrder* order) {
  if (++depth_ > 64) {
    --depth_;
    return Error(q.pos, "queries are nested too deeply");
  }
  struct DepthGuard {
    int* d;
    ~DepthGuard() { --*d; }
  } guard{&depth_};
  auto saved_ctes = ctes_;
  struct CteRestore {
    std::map<std::string, sql::QueryPtr>* target;
    std::map<std::string, sql::QueryPtr> saved;
    ~CteRestore() { *target = std::move(saved); }
  } restore{&ctes_, saved_ctes};
  for (const auto& [name, cq] : q.with) ctes_[ToLower(name)] = cq;

  if (!q.union_all.empty()) {
    if (IsValuesList(q)) return BindValuesList(q);
    if (q.union_all.size() > 1) return Error(q.pos, "UNION ALL is not supported yet");
    if (!q.order_by.empty() || q.limit) {
      return Error(q.pos, "ORDER BY / LIMIT on a parenthesized query is not supported");
    }
    return BindQuery(*q.union_all[0], order);
  }
  EDDY_ASSIGN_OR_RETURN(FromResult from, q.from ? BindFrom(*q.from) : BindNoFrom(q));
  PlanPtr node = from.node;
  Scope scope = from.scope;

  auto identity = [](const PlanPtr& p, std::vector<BoundExprPtr>* proj,
                     std::vector<std::string>* names) {
    for (size_t i = 0; i < p->schema.fields.size(); ++i) {
      const auto& f = p->schema.fields[i];
      if (f.name.rfind("$", 0) == 0) continue;
      proj->push_back(MakeColumnRef(static_cast<int>(i), f.type, f.name));
      names->push_back(f.name);
    }
  };

  // Top-N: a ROW_NUMBER() in the FROM item takes its limit from this WHERE.
  if (q.from &&
      (q.from->kind == sql::TableRefKind::kSubquery || q.from->kind == sql::TableRefKind::kNamed)) {
    EDDY_RETURN_IF_ERROR(ApplyRankLimit(node, scope, q.where.get(), q.from->pos));
  }
  // Hidden columns ($wm) are always last, so a filter's identity projection keeps every index.
  if (q.where) {
    Scope wscope = scope;
    if (from.window) wscope.cols.resize(wscope.cols.size() - 3);
    EDDY_ASSIGN_OR_RETURN(auto f, Bind(*q.where, wscope, nullptr));
    if (f->type().id != TypeId::kBoolean && f->type().id != TypeId::kNull) {
      return Error(q.where->pos,
                   fmt::format("WHERE needs a BOOLEAN condition, got {}", f->type().ToString()));
    }
    // Its conjuncts with their positions, for the optimizer (push-down, join conditions).
    std::vector<Predicate> preds;
    std::vector<sql::ExprPtr> conj;
    Conjuncts(q.where, &conj);
    for (const auto& c : conj) {
      EDDY_ASSIGN_OR_RETURN(auto b, Bind(*c, wscope, nullptr));
      preds.push_back({b, c->pos});
    }
    std::vector<BoundExprPtr> proj;
    std::vector<std::string> names;
    identity(node, &proj, &names);
    node = MakeCalc(node, f, proj, names);
    node->predicates = std::move(preds);
  }
  // Optimizer rules over FROM and WHERE: the WHERE's conditions pushed into and below joins,
  // logical joins planned (the enclosing query sees their output types: time attributes).
  EDDY_ASSIGN_OR_RETURN(node, PushDownFilters(node));
  RefreshScope(node, &scope);

  // OVER aggregation in the SELECT list (Flink SQL: Over Aggregation): an OVER node on top of
  // the input, and the SELECT list with each OVER call replaced by its result column.
  // Over a window TVF only a window Top-N (ROW_NUMBER() partitioned by window_start and
  // window_end, Flink SQL "Window Top-N") is bound here; it assigns the windows itself.
  // Group windows (GROUP BY TUMBLE(ts, …)): the aggregation's window, as a window TVF's.
  int group_window = -1;
  if (!from.window) {
    from.node = node;
    EDDY_ASSIGN_OR_RETURN(group_window, BindGroupWindow(q, &scope, &from));
  }
  std::unique_ptr<sql::Query> over_rewritten;
  bool window_ranked = false;
  if (!from.window) {
    EDDY_ASSIGN_OR_RETURN(bool has_over, BindOver(q, &node, &scope, &over_rewritten));
    (void)has_over;
  } else if (q.group_by.empty() && !q.having) {
    EDDY_ASSIGN_OR_RETURN(window_ranked, BindOver(q, &node, &scope, &over_rewritten, &from));
  }
  const sql::Query& qq = over_rewritten ? *over_rewritten : q;

  // Aggregation? A first pass over SELECT and HAVING gathers the aggregate calls.
  AggContext collect;
  collect.collecting = true;
  for (const auto& it : qq.items) {
    if (it.expr->kind == ExprKind::kStar) continue;
    EDDY_RETURN_IF_ERROR(Bind(*it.expr, scope, &collect).status());
  }
  if (qq.having) EDDY_RETURN_IF_ERROR(Bind(*qq.having, scope, &collect).status());
  bool has_agg = !qq.group_by.empty() || !collect.calls.empty();
  if (from.window && !has_agg && !window_ranked) {
    return Error(qq.from->pos,
                 "a window TVF must be followed by GROUP BY window_start, window_end (window "
                 "assignment without aggregation is not supported yet)");
  }
  if (window_ranked && has_agg) {
    return Error(qq.pos, "ROW_NUMBER() over a window TVF cannot be combined with aggregates");
  }
  if (qq.having && !has_agg) return Error(qq.having->pos, "HAVING needs GROUP BY or an aggregate");

  std::vector<BoundExprPtr> items;
  std::vector<std::string> names;
  BoundExprPtr having;
  if (has_agg) {
    if (node->updating && from.window) {
      return Error(qq.pos, "window aggregation over an updating input is not supported");
    }
    std::vector<BoundExprPtr> pre;
    std::vector<std::string> pre_names;
    std::vector<const Expr*> key_asts;
    bool ws = false, we = false;
    std::vector<std::pair<std::string, int>> window_keys;  // AstKey → offset (0 start,1 end,2 time)
    Scope kscope = scope;
    if (from.window) kscope.cols.resize(kscope.cols.size() - 3);
    for (const auto& g : qq.group_by) {
      if (group_window >= 0 && g == qq.group_by[group_window]) {
        ws = we = true;
        continue;
      }
      if (from.window && group_window < 0 && g->kind == ExprKind::kColumn) {
        std::string n = ToLower(g->name);
        if (n == "window_start" || n == "window_end" || n == "window_time") {
          ws |= n == "window_start";
          we |= n == "window_end";
          continue;
        }
      }
      if (g->kind == ExprKind::kLiteral) {
        return Error(g->pos,
                     "GROUP BY a constant is not supported (positional GROUP BY is not "
                     "Flink SQL)");
      }
      EDDY_ASSIGN_OR_RETURN(auto k, Bind(*g, kscope, nullptr));
      DataType kt = k->type();
      if (kt.time_attr != TimeAttr::kNone) {
        kt.time_attr = TimeAttr::kNone;
        k = MakeCast(k, kt, false);
      }
      pre.push_back(k);
      pre_names.push_back(g->kind == ExprKind::kColumn ? g->name
                                                       : fmt::format("EXPR${}", pre.size() - 1));
      key_asts.push_back(g.get());
    }
    if (from.window && !(ws && we)) {
      return Error(qq.group_by.empty() ? qq.pos : qq.group_by[0]->pos,
                   "GROUP BY of a window TVF must contain both window_start and window_end");
    }
    size_t nk = pre.size();
    if (from.window && from.spec.kind == runtime::WindowKind::kSession) {
      // Flink: the SESSION PARTITION BY keys and the GROUP BY keys must be the same.
      std::set<std::string> pk, gk;
      for (const auto& k : from.session_keys) pk.insert(AstKey(*k));
      for (const Expr* k : key_asts) gk.insert(AstKey(*k));
      if (!from.session_keys.empty() && pk != gk) {
        return Error(qq.from->pos,
                     "the GROUP BY keys of a SESSION window must equal its PARTITION BY keys");
      }
    }
    // Aggregate calls (deduplicated), their arguments and FILTER conditions.
    std::vector<runtime::AggCall> calls;
    std::vector<std::string> call_keys, call_texts;
    for (const Expr* c : collect.calls) {
      std::string key = AstKey(*c);
      if (std::find(call_keys.begin(), call_keys.end(), key) != call_keys.end()) continue;
      std::string name = ToUpper(c->name);
      runtime::AggCall call;
      std::vector<DataType> at;
      std::string arg_text = "*";
      if (!c->star_arg) {
        if (c->args.size() != 1) {
          return Error(c->pos, fmt::format("{} takes exactly one argument", name));
        }
        EDDY_ASSIGN_OR_RETURN(auto a, Bind(*c->args[0], kscope, nullptr));
        arg_text = a->ToString();
        DataType plain = a->type();
        if (plain.time_attr != TimeAttr::kNone) {
          plain.time_attr = TimeAttr::kNone;
          a = MakeCast(a, plain, false);
        }
        at.push_back(plain);
        call.arg = static_cast<int>(pre.size());
        pre.push_back(a);
        // The argument's column name (or its text) also names it in late-row records.
        pre_names.push_back(c->args[0]->kind == ExprKind::kColumn ? c->args[0]->name : arg_text);
      } else if (name != "COUNT") {
        return Error(c->pos, fmt::format("{}(*) is not allowed; only COUNT(*)", name));
      }
      auto fn = ResolveAggregate(name, at, c->distinct);
      if (!fn.ok()) return Error(c->pos, std::string(fn.status().message()));
      call.fn = *fn;
      // An updating input retracts rows; an aggregate that cannot take a row back would fail
      // when the first retraction arrives, which depends on timing: reject it here.
      if (node->updating && !call.fn->supports_retract()) {
        return Error(c->pos, fmt::format("{} over an updating input (e.g. a regular join or a "
                                         "GROUP BY without window) is not supported yet: it "
                                         "would have to forget retracted values",
                                         name));
      }
      if (c->filter) {
        EDDY_ASSIGN_OR_RETURN(auto f, Bind(*c->filter, kscope, nullptr));
        if (f->type().id != TypeId::kBoolean) {
          return Error(c->filter->pos, "FILTER needs a BOOLEAN condition");
        }
        call.filter = static_cast<int>(pre.size());
        pre.push_back(f);
        pre_names.push_back(fmt::format("$filter{}", pre.size()));
      }
      calls.push_back(call);
      call_keys.push_back(key);
      call_texts.push_back(fmt::format("{}({}{}){}", name, c->distinct ? "DISTINCT " : "", arg_text,
                                       c->filter ? " FILTER" : ""));
    }
    int time_pre = -1;
    if (from.window) {
      const Field& tf = node->schema.fields[from.time_col];
      time_pre = static_cast<int>(pre.size());
      pre.push_back(MakeColumnRef(from.time_col, tf.type, tf.name));
      pre_names.push_back("$time");
    }
    PlanPtr pre_node = MakeCalc(node, nullptr, pre, pre_names);
    auto agg = std::make_shared<PlanNode>();
    agg->kind = from.window ? PlanNode::Kind::kWindowAgg : PlanNode::Kind::kGroupAgg;
    agg->input = pre_node;
    agg->updating = !from.window;
    agg->proctime_window = from.proctime;
    agg->window_text = from.window_text;
    agg->agg_texts = call_texts;
    auto& cfg = agg->agg;
    for (size_t k = 0; k < nk; ++k) cfg.key_columns.push_back(static_cast<int>(k));
    cfg.aggs = calls;
    cfg.time_column = time_pre;
    cfg.window = from.spec;
    cfg.input_fields = pre_node->schema.fields;
    AggContext post;
    for (size_t k = 0; k < nk; ++k) {
      agg->schema.fields.push_back({pre_names[k], pre[k]->type()});
      post.keys[AstKey(*key_asts[k])] = {static_cast<int>(k), pre[k]->type()};
    }
    if (from.window) {
      int base = static_cast<int>(nk);
      DataType wt = DataType::Timestamp(3);
      wt.time_attr = from.proctime ? TimeAttr::kProctime : TimeAttr::kRowtime;
      agg->schema.fields.push_back({"window_start", DataType::Timestamp(3)});
      agg->schema.fields.push_back({"window_end", DataType::Timestamp(3)});
      agg->schema.fields.push_back({"window_time", wt});
      agg->schema.rowtime_index = base + 2;
      if (group_window >= 0) {
        for (const auto& [key, off] :
             GroupWindowAuxiliaries(*qq.group_by[group_window], from.proctime)) {
          post.keys[key] = {base + off, agg->schema.fields[base + off].type};
        }
      }
      Expr col;
      col.kind = ExprKind::kColumn;
      for (const char* n : {"window_start", "window_end", "window_time"}) {
        if (group_window >= 0) break;
        col.name = n;
        int off = std::string(n) == "window_start" ? 0 : std::string(n) == "window_end" ? 1 : 2;
        post.keys[AstKey(col)] = {base + off, agg->schema.fields[base + off].type};
      }
    }
    int abase = static_cast<int>(agg->schema.fields.size());
    for (size_t a = 0; a < calls.size(); ++a) {
      agg->schema.fields.push_back({fmt::format("EXPR${}", a), calls[a].fn->result_type()});
      post.aggs[call_keys[a]] = {abase + static_cast<int>(a), calls[a].fn->result_type()};
    }
    node = agg;
    for (size_t i = 0; i < qq.items.size(); ++i) {
      const auto& it = qq.items[i];
      if (it.expr->kind == ExprKind::kStar) {
        return Error(it.pos, "SELECT * cannot be combined with GROUP BY or aggregates");
      }
      EDDY_ASSIGN_OR_RETURN(auto b, Bind(*it.expr, scope, &post));
      items.push_back(b);
      names.push_back(!it.alias.empty()                    ? it.alias
                      : it.expr->kind == ExprKind::kColumn ? it.expr->name
                                                           : fmt::format("EXPR${}", i));
    }
    if (qq.having) {
      EDDY_ASSIGN_OR_RETURN(having, Bind(*qq.having, scope, &post));
      if (having->type().id != TypeId::kBoolean) {
        return Error(qq.having->pos, "HAVING needs a BOOLEAN condition");
      }
    }
  } else {
    for (size_t i = 0; i < qq.items.size(); ++i) {
      const auto& it = qq.items[i];
      if (it.expr->kind == ExprKind::kStar) {
        std::string qual = ToLower(it.expr->qualifier);
        bool any = false;
        for (const auto& c : scope.cols) {
          if (c.name.rfind("$", 0) == 0 || (!qual.empty() && c.qualifier != qual)) continue;
          items.push_back(MakeColumnRef(c.index, c.type, c.name));
          names.push_back(c.name);
          any = true;
        }
        if (!any)
          return Error(it.pos, fmt::format("no table named '{}' in FROM", it.expr->qualifier));
        continue;
      }
      EDDY_ASSIGN_OR_RETURN(auto b, Bind(*it.expr, scope, nullptr));
      items.push_back(b);
      names.push_back(!it.alias.empty()                    ? it.alias
                      : it.expr->kind == ExprKind::kColumn ? it.expr->name
                                                           : fmt::format("EXPR${}", i));
    }
  }
  // Duplicate output names get a counter suffix, as Flink (Calcite's uniquify) does: the second
  // `customer` becomes `customer0`, the third `customer1`.
  for (size_t i = 0; i < names.size(); ++i) {
    auto taken = [&](const std::string& n) {
      for (size_t j = 0; j < names.size(); ++j) {
        if (j != i && ToLower(names[j]) == ToLower(n)) return true;
      }
      return false;
    };
    bool dup = false;
    for (size_t j = 0; j < i; ++j) dup |= ToLower(names[j]) == ToLower(names[i]);
    if (!dup) continue;
    std::string base = names[i];
    for (int k = 0;; ++k) {
      std::string cand = fmt::format("{}{}", base, k);
      if (!taken(cand)) {
        names[i] = cand;
        break;
      }
    }
  }
  node = MakeCalc(node, having, items, names);
  node->pos = qq.pos;
  node->script = script_;
  if (qq.distinct) {
    auto d = std::make_shared<PlanNode>();
    d->kind = PlanNode::Kind::kGroupAgg;
    d->input = node;
    d->updating = true;
    d->pos = qq.pos;
    d->script = script_;
    for (size_t i = 0; i < items.size(); ++i) {
      d->agg.key_columns.push_back(static_cast<int>(i));
      d->schema.fields.push_back(node->schema.fields[i]);
      d->schema.fields.back().type.time_attr = TimeAttr::kNone;
    }
    d->agg.input_fields = node->schema.fields;
    d->agg_texts = {};
    node = d;
  }
  if (!qq.order_by.empty() || qq.limit) {
    if (!order) {
      return Error(qq.pos,
                   "ORDER BY and LIMIT are only supported on the outermost query whose "
                   "result is printed");
    }
    for (const auto& o : qq.order_by) {
      int idx = -1;
      if (o.expr->kind == ExprKind::kLiteral && o.expr->lit_type == sql::LiteralType::kInteger) {
        int64_t position = 0;
        if (!text::ParseInt64(o.expr->text, &position) || position < 1 ||
            position > static_cast<int64_t>(names.size())) {
          return Error(o.expr->pos, "ORDER BY position is out of range");
        }
        idx = static_cast<int>(position - 1);
      } else {
        std::string key = AstKey(*o.expr);
        for (size_t i = 0; i < qq.items.size() && idx < 0; ++i) {
          if (qq.items[i].expr->kind != ExprKind::kStar && AstKey(*qq.items[i].expr) == key) {
            idx = static_cast<int>(i);
          }
        }
        if (o.expr->kind == ExprKind::kColumn) {
          for (size_t i = 0; i < names.size() && idx < 0; ++i) {
            if (ToLower(names[i]) == ToLower(o.expr->name)) idx = static_cast<int>(i);
          }
        }
        if (idx < 0) {
          return Error(o.expr->pos, "ORDER BY must name a column or expression of the SELECT list");
        }
      }
      order->keys.push_back({idx, o.desc});
    }
    if (qq.limit) order->limit = *qq.limit;
  }
  return node;
}

}  // namespace eddy

namespace eddy {

absl::StatusOr<sql::QueryPtr> Binder::ViewQuery(const ViewDef& view) {
  EDDY_ASSIGN_OR_RETURN(auto stmts, sql::ParseScript(view.text));
  if (stmts.size() != 1 || stmts[0]->kind != sql::StmtKind::kCreateView || !stmts[0]->query) {
    return absl::InternalError(
        fmt::format("the text of view '{}' is not one CREATE VIEW", view.name));
  }
  return stmts[0]->query;
}

}  // namespace eddy
