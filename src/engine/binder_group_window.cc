// Binder, part: Flink's group windows (the syntax before window TVFs):
//   SELECT k, TUMBLE_START(ts, INTERVAL '1' HOUR), COUNT(*) FROM t
//   GROUP BY k, TUMBLE(ts, INTERVAL '1' HOUR)
// with HOP(ts, slide, size) and SESSION(ts, gap), and the auxiliary functions *_START, *_END
// (TIMESTAMP(3)), *_ROWTIME (a rowtime attribute: window end - 1 ms, usable by a following
// window) and *_PROCTIME (a proctime attribute) taking the window call's arguments. Flink plans
// them onto the same window aggregation as the window TVFs, and so does eddy: the group window
// becomes the window of the aggregation, exactly as `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), …))
// GROUP BY window_start, window_end` would (Flink SQL: "Group Window Aggregation").
#include <fmt/format.h>

#include "base/status.h"
#include "base/strings.h"
#include "engine/binder_internal.h"
#include "engine/plan.h"

namespace eddy {

namespace {

constexpr const char* kWindowFunctions[] = {"TUMBLE", "HOP", "SESSION"};
constexpr const char* kAuxiliarySuffixes[] = {"_START", "_END", "_ROWTIME", "_PROCTIME"};

bool IsWindowCall(const sql::Expr& e) {
  if (e.kind != sql::ExprKind::kFunction) return false;
  std::string n = ToUpper(e.name);
  for (const char* w : kWindowFunctions) {
    if (n == w) return true;
  }
  return false;
}

// The window function an auxiliary function belongs to ("TUMBLE" for TUMBLE_START), or "".
std::string AuxiliaryOf(const sql::Expr& e) {
  if (e.kind != sql::ExprKind::kFunction) return "";
  std::string n = ToUpper(e.name);
  for (const char* w : kWindowFunctions) {
    for (const char* s : kAuxiliarySuffixes) {
      if (n == std::string(w) + s) return w;
    }
  }
  return "";
}

// The first auxiliary call in `e` (depth first), or null.
const sql::Expr* FindAuxiliary(const sql::Expr& e) {
  if (!AuxiliaryOf(e).empty()) return &e;
  for (const auto& a : e.args) {
    if (!a) continue;
    if (const sql::Expr* f = FindAuxiliary(*a)) return f;
  }
  if (e.filter) return FindAuxiliary(*e.filter);
  return nullptr;
}

// `name(args…)` as written, for messages: TUMBLE(ts, INTERVAL '1' HOUR) → "TUMBLE(…)".
std::string CallText(const sql::Expr& e) { return ToUpper(e.name) + "(…)"; }

}  // namespace

bool IsGroupWindowAuxiliary(const std::string& upper_name) {
  sql::Expr e;
  e.kind = sql::ExprKind::kFunction;
  e.name = upper_name;
  return !AuxiliaryOf(e).empty();
}

std::vector<std::pair<std::string, int>> Binder::GroupWindowAuxiliaries(const sql::Expr& w,
                                                                        bool proctime) {
  std::vector<std::pair<std::string, int>> out;
  sql::Expr aux = w;
  std::string base = ToUpper(w.name);
  for (const char* s : kAuxiliarySuffixes) {
    std::string suffix = s;
    // *_ROWTIME exists on event-time windows, *_PROCTIME on processing-time windows.
    if ((suffix == "_ROWTIME" && proctime) || (suffix == "_PROCTIME" && !proctime)) continue;
    aux.name = base + suffix;
    int col = suffix == "_START" ? 0 : suffix == "_END" ? 1 : 2;
    out.emplace_back(AstKey(aux), col);
  }
  return out;
}

absl::StatusOr<int> Binder::BindGroupWindow(const sql::Query& q, Scope* scope, FromResult* from) {
  int found = -1;
  for (size_t i = 0; i < q.group_by.size(); ++i) {
    const sql::Expr& g = *q.group_by[i];
    if (!IsWindowCall(g)) continue;
    if (found >= 0) {
      return Error(g.pos, "only one group window (TUMBLE, HOP or SESSION) is allowed in GROUP BY");
    }
    found = static_cast<int>(i);
  }
  // Auxiliary functions need the same window in the GROUP BY.
  std::vector<const sql::Expr*> uses;
  for (const auto& it : q.items) {
    if (it.expr->kind != sql::ExprKind::kStar) uses.push_back(it.expr.get());
  }
  if (q.having) uses.push_back(q.having.get());
  if (q.where) uses.push_back(q.where.get());
  for (const auto& g : q.group_by) uses.push_back(g.get());
  std::vector<const sql::Expr*> auxiliaries;
  std::string window_key;
  if (found >= 0) {
    sql::Expr plain = *q.group_by[found];
    window_key = AstKey(plain);
  }
  for (const sql::Expr* u : uses) {
    if (u == (found >= 0 ? q.group_by[found].get() : nullptr)) continue;
    const sql::Expr* aux = FindAuxiliary(*u);
    if (!aux) continue;
    std::string w = AuxiliaryOf(*aux);
    if (found < 0) {
      return Error(aux->pos, fmt::format("{} needs a group window GROUP BY {}(…) with the same "
                                         "arguments",
                                         CallText(*aux), w));
    }
    const sql::Expr& win = *q.group_by[found];
    sql::Expr as_window = *aux;
    as_window.name = w;
    if (u == q.where.get()) {
      return Error(aux->pos, fmt::format("{} is not allowed in WHERE", CallText(*aux)));
    }
    if (ToUpper(win.name) != w || AstKey(as_window) != window_key) {
      return Error(aux->pos,
                   fmt::format("{} must take the same arguments as the GROUP BY's {}",
                               CallText(*aux), CallText(win)),
                   "Flink SQL: the auxiliary functions of a group window repeat its arguments");
    }
    auxiliaries.push_back(aux);
  }
  if (found < 0) return -1;

  const sql::Expr& win = *q.group_by[found];
  std::string name = ToUpper(win.name);
  if (win.distinct || win.star_arg || win.filter || win.over) {
    return Error(win.pos,
                 fmt::format("{}(…) in GROUP BY takes a time attribute and intervals", name));
  }
  if (win.args.empty()) {
    return Error(win.pos, fmt::format("{} needs a time attribute and {}", name,
                                      name == "HOP"       ? "a slide and a size"
                                      : name == "SESSION" ? "a gap"
                                                          : "a size"));
  }
  const sql::Expr& time_arg = *win.args[0];
  EDDY_ASSIGN_OR_RETURN(BoundExprPtr t, Bind(time_arg, *scope, nullptr));
  DataType tt = t->type();
  if (t->column_index() < 0 || tt.time_attr == TimeAttr::kNone) {
    return Error(time_arg.pos,
                 fmt::format("the first argument of {} must be a time attribute column (declare "
                             "WATERMARK FOR ts … or ts AS PROCTIME()), got {}",
                             name, tt.ToString()));
  }
  for (size_t i = 1; i < win.args.size(); ++i) {
    if (win.args[i]->kind != sql::ExprKind::kInterval) {
      return Error(win.args[i]->pos,
                   fmt::format("the arguments of {} after the time attribute are intervals "
                               "(INTERVAL '1' HOUR)",
                               name));
    }
  }
  for (const sql::Expr* aux : auxiliaries) {
    std::string n = ToUpper(aux->name);
    bool proctime = tt.time_attr == TimeAttr::kProctime;
    if ((proctime && n.ends_with("_ROWTIME")) || (!proctime && n.ends_with("_PROCTIME"))) {
      return Error(aux->pos, fmt::format("{} needs a window over a {} attribute, and '{}' is a {} "
                                         "attribute",
                                         CallText(*aux), proctime ? "rowtime" : "proctime",
                                         time_arg.name, proctime ? "proctime" : "rowtime"));
    }
  }
  // The window itself, with the window TVFs' argument rules.
  sql::TableRef ref;
  ref.kind = sql::TableRefKind::kWindowTvf;
  ref.pos = win.pos;
  ref.tvf = name;
  ref.tvf_args.assign(win.args.begin() + 1, win.args.end());
  if (name == "SESSION" && ref.tvf_args.size() != 1) {
    return Error(win.pos, "SESSION takes a time attribute and one gap interval");
  }
  FromResult& r = *from;
  EDDY_RETURN_IF_ERROR(BindWindowArgs(ref, &r));
  r.window = true;
  r.time_col = t->column_index();
  r.proctime = tt.time_attr == TimeAttr::kProctime;
  // The aggregation drops the last three scope columns of a window (a TVF's window_start,
  // window_end, window_time): hidden stand-ins that no name resolves to.
  int n = static_cast<int>(scope->cols.size());
  for (const char* c : {"$group_window_start", "$group_window_end", "$group_window_time"}) {
    scope->cols.push_back({"", c, n, DataType::Timestamp(3)});
  }
  return found;
}

}  // namespace eddy
