// Binder, part 3: MATCH_RECOGNIZE (Flink SQL "Pattern Recognition"). DEFINE conditions and
// MEASURES are rewritten so that every navigation (PREV, LAST, FIRST, `A.price`, aggregates over
// a variable, MATCH_ROWTIME(), …) becomes a slot column of a one-row batch (runtime::PatternSlot),
// then bound as ordinary scalar expressions over those slots.
#include <fmt/format.h>

#include <algorithm>

#include "base/status.h"
#include "base/strings.h"
#include "engine/binder_internal.h"
#include "engine/plan.h"
#include "runtime/cep/pattern.h"
#include "types/text_codec.h"

namespace eddy {

namespace cep = runtime::cep;

using sql::Expr;
using sql::ExprKind;
using sql::Pos;

namespace {

const auto kMaxPartialMatches =
    catalog::SessionOption("eddy.cep.max-partial-matches")
        .Int(10'000)
        .Min(1)
        .Doc("Partial matches per key a MATCH_RECOGNIZE may hold before the job fails.");

struct SlotContext {
  bool define = true;       // DEFINE (else MEASURES)
  cep::VarId current = -1;  // the variable being defined
  const cep::Pattern* pattern = nullptr;
  const Schema* input = nullptr;  // visible input columns
  int input_columns = 0;
  int rowtime = -1;
  std::vector<runtime::PatternSlot> slots;
  int64_t max_prev = 1;
  bool final = false;  // inside FINAL(…) (MEASURES)
};

// Pos of byte `offset` of `script` (1-based line and column).
Pos PosAt(std::string_view script, size_t offset) {
  Pos p;
  p.offset = offset;
  for (size_t i = 0; i < offset && i < script.size(); ++i) {
    if (script[i] == '\n') {
      ++p.line;
      p.col = 1;
    } else if ((static_cast<unsigned char>(script[i]) & 0xC0) != 0x80) {
      ++p.col;
    }
  }
  return p;
}

}  // namespace

// Rewrites navigation in `e` into slot references ($s<k>), appending the slots to `ctx`.
absl::StatusOr<sql::ExprPtr> Binder::RewriteNavigation(const Expr& e, void* vctx) {
  auto* ctx = static_cast<SlotContext*>(vctx);
  auto slot_ref = [&](runtime::PatternSlot s, Pos pos) -> sql::ExprPtr {
    s.final = ctx->final;
    // Reuse an identical slot.
    size_t k = 0;
    for (; k < ctx->slots.size(); ++k) {
      const auto& o = ctx->slots[k];
      if (o.kind == s.kind && o.var == s.var && o.column == s.column && o.offset == s.offset &&
          o.agg == s.agg && o.final == s.final) {
        break;
      }
    }
    if (k == ctx->slots.size()) ctx->slots.push_back(s);
    auto r = std::make_shared<Expr>();
    r->kind = ExprKind::kColumn;
    r->pos = pos;
    r->name = fmt::format("$s{}", k);
    return r;
  };
  auto column = [&](const Expr& c, cep::VarId* var, int* col) -> absl::Status {
    *var = cep::kAnyVariable;
    if (!c.qualifier.empty()) {
      *var = ctx->pattern->FindVariable(c.qualifier);
      if (*var < 0) {
        return Error(c.pos, fmt::format("'{}' is not a pattern variable of PATTERN", c.qualifier));
      }
    }
    *col = -1;
    std::vector<std::string> names;
    for (int i = 0; i < ctx->input_columns; ++i) {
      names.push_back(ctx->input->fields[i].name);
      if (ToLower(ctx->input->fields[i].name) == ToLower(c.name)) *col = i;
    }
    if (*col < 0) {
      std::string near = ClosestName(c.name, names);
      return Error(c.pos, fmt::format("unknown column '{}'", c.name),
                   near.empty() ? "" : fmt::format("did you mean '{}'?", near));
    }
    return absl::OkStatus();
  };
  auto type_of = [&](int col) {
    DataType t = ctx->input->fields[col].type;
    t.time_attr = TimeAttr::kNone;
    return t;
  };
  auto offset_arg = [&](const Expr& call, size_t i) -> absl::StatusOr<int64_t> {
    if (call.args.size() <= i) return 0;
    const Expr& a = *call.args[i];
    if (a.kind != ExprKind::kLiteral || a.lit_type != sql::LiteralType::kInteger) {
      return Error(a.pos, fmt::format("the offset of {} must be an integer literal", call.name));
    }
    int64_t n = 0;
    if (!text::ParseInt64(a.text, &n)) {
      return Error(a.pos, fmt::format("the offset {} of {} is out of range", a.text, call.name));
    }
    return n;
  };
  std::string fn = ToUpper(e.name);
  if (e.kind == ExprKind::kColumn) {
    cep::VarId v;
    int c;
    EDDY_RETURN_IF_ERROR(column(e, &v, &c));
    runtime::PatternSlot s;
    s.column = c;
    s.type = type_of(c);
    if (ctx->define && (v == cep::kAnyVariable || v == ctx->current)) {
      s.kind = runtime::PatternSlot::Kind::kColumn;  // the candidate row
    } else {
      s.kind = runtime::PatternSlot::Kind::kLast;  // the last row mapped to v (FINAL in MEASURES)
      s.var = v;
    }
    return slot_ref(s, e.pos);
  }
  if (e.kind == ExprKind::kFunction && (fn == "PREV" || fn == "LAST" || fn == "FIRST")) {
    if (e.args.empty() || e.args.size() > 2 || e.args[0]->kind != ExprKind::kColumn) {
      return Error(e.pos, fmt::format("{} takes a column (optionally var.column) and an optional "
                                      "offset: {}(A.price, 1)",
                                      fn, fn));
    }
    cep::VarId v;
    int c;
    EDDY_RETURN_IF_ERROR(column(*e.args[0], &v, &c));
    EDDY_ASSIGN_OR_RETURN(int64_t n, offset_arg(e, 1));
    if (fn == "PREV" && e.args.size() == 1) n = 1;  // PREV(x) is the previous row
    runtime::PatternSlot s;
    s.column = c;
    s.type = type_of(c);
    s.offset = n;
    s.var = v;
    if (fn == "PREV") {
      if (!ctx->define) return Error(e.pos, "PREV is only supported in DEFINE");
      if (n > 100) return Error(e.pos, "PREV looks back at most 100 rows");
      s.kind = runtime::PatternSlot::Kind::kPrev;
      ctx->max_prev = std::max(ctx->max_prev, n);
    } else {
      s.kind =
          fn == "LAST" ? runtime::PatternSlot::Kind::kLast : runtime::PatternSlot::Kind::kFirst;
    }
    return slot_ref(s, e.pos);
  }
  if (e.kind == ExprKind::kFunction &&
      (fn == "SUM" || fn == "AVG" || fn == "MIN" || fn == "MAX" || fn == "COUNT")) {
    runtime::PatternSlot s;
    if (e.distinct || e.filter || e.over) {
      return Error(e.pos, "DISTINCT, FILTER and OVER are not supported in MATCH_RECOGNIZE");
    }
    if (fn == "COUNT" &&
        (e.star_arg || (e.args.size() == 1 && e.args[0]->kind == ExprKind::kStar))) {
      s.kind = runtime::PatternSlot::Kind::kCountRows;
      s.type = DataType::Bigint();
      if (!e.star_arg && !e.args[0]->qualifier.empty()) {
        s.var = ctx->pattern->FindVariable(e.args[0]->qualifier);
        if (s.var < 0) {
          return Error(e.args[0]->pos, fmt::format("'{}' is not a pattern variable of PATTERN",
                                                   e.args[0]->qualifier));
        }
      }
      return slot_ref(s, e.pos);
    }
    if (e.args.size() != 1 || e.args[0]->kind != ExprKind::kColumn) {
      return Error(e.pos,
                   fmt::format("{} in MATCH_RECOGNIZE takes one column: {}(A.price)", fn, fn));
    }
    int c;
    EDDY_RETURN_IF_ERROR(column(*e.args[0], &s.var, &c));
    s.kind = runtime::PatternSlot::Kind::kAggregate;
    s.column = c;
    s.agg = fn;
    s.type = fn == "COUNT" ? DataType::Bigint() : type_of(c);
    if (fn != "COUNT" && fn != "MIN" && fn != "MAX" && !s.type.is_integral() &&
        s.type.id != TypeId::kDouble) {
      return Error(e.pos, fmt::format("{} in MATCH_RECOGNIZE takes INT, BIGINT or DOUBLE, not {} "
                                      "(CAST it to DOUBLE)",
                                      fn, s.type.ToString()));
    }
    return slot_ref(s, e.pos);
  }
  if (e.kind == ExprKind::kFunction &&
      (fn == "MATCH_ROWTIME" || fn == "MATCH_NUMBER" || fn == "CLASSIFIER")) {
    if (ctx->define) return Error(e.pos, fmt::format("{}() is only supported in MEASURES", fn));
    if (!e.args.empty()) return Error(e.pos, fmt::format("{}() takes no arguments", fn));
    runtime::PatternSlot s;
    if (fn == "MATCH_ROWTIME") {
      s.kind = runtime::PatternSlot::Kind::kMatchRowtime;
      s.type = ctx->input->fields[ctx->rowtime].type;
      s.type.time_attr = TimeAttr::kRowtime;
    } else if (fn == "MATCH_NUMBER") {
      s.kind = runtime::PatternSlot::Kind::kMatchNumber;
      s.type = DataType::Bigint();
    } else {
      s.kind = runtime::PatternSlot::Kind::kClassifier;
      s.type = DataType::String();
    }
    return slot_ref(s, e.pos);
  }
  if (e.kind == ExprKind::kFunction && (fn == "RUNNING" || fn == "FINAL")) {
    // SQL:2016: RUNNING / FINAL qualify a navigation (LAST, FIRST) or an aggregate in MEASURES;
    // RUNNING is the default. FINAL sees the whole match also under ALL ROWS PER MATCH.
    std::string inner = e.args.size() == 1 && e.args[0]->kind == ExprKind::kFunction
                            ? ToUpper(e.args[0]->name)
                            : "";
    if (inner != "LAST" && inner != "FIRST" && inner != "SUM" && inner != "AVG" && inner != "MIN" &&
        inner != "MAX" && inner != "COUNT") {
      return Error(e.pos, fmt::format("{} applies to LAST, FIRST or an aggregate: {} LAST(A.price)",
                                      fn, fn));
    }
    if (ctx->define && fn == "FINAL") {
      return Error(e.pos, "FINAL is only supported in MEASURES (DEFINE sees the match so far)");
    }
    bool was = ctx->final;
    ctx->final = fn == "FINAL";
    auto r = RewriteNavigation(*e.args[0], ctx);
    ctx->final = was;
    return r;
  }
  if (e.kind == ExprKind::kFunction && fn == "NEXT") {
    return Error(e.pos, fmt::format("{} is not supported in MATCH_RECOGNIZE", fn));
  }
  if (e.over) return Error(e.pos, "OVER is not supported inside MATCH_RECOGNIZE");
  auto copy = std::make_shared<Expr>(e);
  for (auto& a : copy->args) {
    if (!a) continue;
    EDDY_ASSIGN_OR_RETURN(a, RewriteNavigation(*a, ctx));
  }
  if (copy->filter) {
    EDDY_ASSIGN_OR_RETURN(copy->filter, RewriteNavigation(*copy->filter, ctx));
  }
  return copy;
}

absl::StatusOr<Binder::FromResult> Binder::BindMatchRecognize(const sql::TableRef& ref) {
  const sql::MatchRecognize& mr = *ref.match;
  EDDY_ASSIGN_OR_RETURN(FromResult in, BindFrom(*ref.tvf_input));
  EDDY_RETURN_IF_ERROR(PlanJoins(&in));
  if (in.window) {
    return Error(ref.tvf_input->pos,
                 "MATCH_RECOGNIZE over a window TVF needs the window aggregation first: put it "
                 "in a view and match over the view");
  }
  if (in.node->updating) {
    return Error(ref.pos, "MATCH_RECOGNIZE takes an insert-only input, not an updating result");
  }
  const Schema& is = in.node->schema;
  int visible = 0;
  while (visible < static_cast<int>(is.fields.size()) &&
         is.fields[visible].name.rfind("$", 0) != 0) {
    ++visible;
  }
  auto find_col = [&](const Expr& e, const char* what) -> absl::StatusOr<int> {
    if (e.kind != ExprKind::kColumn) {
      return Error(e.pos, fmt::format("{} takes columns of the input", what));
    }
    std::vector<std::string> names;
    for (int i = 0; i < visible; ++i) {
      names.push_back(is.fields[i].name);
      if (ToLower(is.fields[i].name) == ToLower(e.name)) return i;
    }
    std::string near = ClosestName(e.name, names);
    return Error(e.pos, fmt::format("unknown column '{}'", e.name),
                 near.empty() ? "" : fmt::format("did you mean '{}'?", near));
  };
  auto cfg = std::make_shared<runtime::MatchRecognizeConfig>();
  cfg->input_columns = visible;
  for (const auto& p : mr.partition_by) {
    EDDY_ASSIGN_OR_RETURN(int c, find_col(*p, "PARTITION BY"));
    cfg->key_columns.push_back(c);
  }
  if (mr.order_by.size() != 1) {
    return Error(ref.pos,
                 "MATCH_RECOGNIZE is ordered by exactly one column: the event-time "
                 "attribute (ORDER BY rowtime)");
  }
  EDDY_ASSIGN_OR_RETURN(int oc, find_col(*mr.order_by[0].expr, "ORDER BY"));
  if (is.fields[oc].type.time_attr != TimeAttr::kRowtime || mr.order_by[0].desc) {
    return Error(mr.order_by[0].expr->pos,
                 fmt::format("MATCH_RECOGNIZE must be ordered by the input's event-time "
                             "attribute, ascending; '{}' is {}{}",
                             is.fields[oc].name, is.fields[oc].type.ToString(),
                             is.fields[oc].type.time_attr == TimeAttr::kProctime
                                 ? " (processing time is not supported)"
                                 : ""));
  }
  cfg->rowtime_column = oc;
  cfg->all_rows = mr.all_rows;
  int err_off = 0;
  auto pattern = cep::ParsePattern(mr.pattern, &err_off);
  if (!pattern.ok()) {
    std::string msg(pattern.status().message());
    size_t at = msg.find(" at offset");
    if (at != std::string::npos) msg = msg.substr(0, at);
    if (msg.rfind("PATTERN: ", 0) == 0) msg = msg.substr(9);
    return Error(PosAt(script_, mr.pattern_pos.offset + err_off), "PATTERN: " + msg);
  }
  cep::CompileOptions co;
  switch (mr.skip) {
    case sql::MatchRecognize::Skip::kPastLastRow:
      co.skip = cep::AfterMatchSkip::PastLastRow();
      break;
    case sql::MatchRecognize::Skip::kToNextRow:
      co.skip = cep::AfterMatchSkip::ToNextRow();
      break;
    case sql::MatchRecognize::Skip::kToFirst:
    case sql::MatchRecognize::Skip::kToLast: {
      cep::VarId v = pattern->FindVariable(mr.skip_var);
      if (v < 0) {
        return Error(mr.skip_pos, fmt::format("AFTER MATCH SKIP names '{}', which is not a "
                                              "pattern variable",
                                              mr.skip_var));
      }
      co.skip = mr.skip == sql::MatchRecognize::Skip::kToFirst ? cep::AfterMatchSkip::ToFirst(v)
                                                               : cep::AfterMatchSkip::ToLast(v);
      break;
    }
  }
  if (mr.within) {
    EDDY_ASSIGN_OR_RETURN(int64_t us, TimeBoundMicros(*mr.within, "WITHIN"));
    if (us <= 0) return Error(mr.within->pos, "WITHIN needs a positive interval");
    co.within_us = us;
  }
  size_t nvars = pattern->variables.size();
  cfg->var_names = pattern->variables;
  cfg->defines.assign(nvars, nullptr);
  cfg->define_slots.assign(nvars, {});
  co.conditions.assign(nvars, cep::ConditionKind::kNone);
  int64_t max_prev = 1;
  for (const auto& d : mr.define) {
    cep::VarId v = pattern->FindVariable(d.var);
    if (v < 0) {
      return Error(d.pos,
                   fmt::format("DEFINE names '{}', which is not a variable of PATTERN", d.var));
    }
    if (cfg->defines[v]) {
      return Error(d.pos, fmt::format("variable '{}' is defined twice", d.var));
    }
    SlotContext ctx;
    ctx.define = true;
    ctx.current = v;
    ctx.pattern = &*pattern;
    ctx.input = &is;
    ctx.input_columns = visible;
    ctx.rowtime = oc;
    EDDY_ASSIGN_OR_RETURN(auto rewritten, RewriteNavigation(*d.cond, &ctx));
    Scope slots;
    for (size_t k = 0; k < ctx.slots.size(); ++k) {
      slots.cols.push_back({"", fmt::format("$s{}", k), static_cast<int>(k), ctx.slots[k].type});
    }
    EDDY_ASSIGN_OR_RETURN(auto cond, Bind(*rewritten, slots, nullptr));
    if (cond->type().id != TypeId::kBoolean && cond->type().id != TypeId::kNull) {
      return Error(d.cond->pos, fmt::format("DEFINE {} needs a BOOLEAN condition, got {}", d.var,
                                            cond->type().ToString()));
    }
    bool row_only = true;
    for (const auto& s : ctx.slots) {
      row_only &= s.kind == runtime::PatternSlot::Kind::kColumn ||
                  s.kind == runtime::PatternSlot::Kind::kPrev;
    }
    co.conditions[v] =
        row_only ? cep::ConditionKind::kRowOnly : cep::ConditionKind::kMatchDependent;
    cfg->defines[v] = cond;
    cfg->define_slots[v] = ctx.slots;
    max_prev = std::max(max_prev, ctx.max_prev);
  }
  auto compiled = cep::Compile(*pattern, co);
  if (!compiled.ok()) {
    std::string msg(compiled.status().message());
    size_t off = 0;
    size_t at = msg.find(" at offset ");
    if (at != std::string::npos) {
      off = std::strtoul(msg.c_str() + at + 11, nullptr, 10);
      size_t end = msg.find_first_not_of("0123456789", at + 11);
      msg.erase(at, (end == std::string::npos ? msg.size() : end) - at);
    }
    if (msg.rfind("PATTERN: ", 0) == 0) msg = msg.substr(9);
    return Error(PosAt(script_, mr.pattern_pos.offset + std::min(off, mr.pattern.size())),
                 "PATTERN: " + msg);
  }
  cfg->pattern = *compiled;
  cfg->max_prev_rows = max_prev;
  cfg->limit_setting = kMaxPartialMatches.key();
  cfg->max_partial_matches = static_cast<size_t>(config_.Get(kMaxPartialMatches));
  // MEASURES share one slot list.
  SlotContext mctx;
  mctx.define = false;
  mctx.pattern = &*pattern;
  mctx.input = &is;
  mctx.input_columns = visible;
  mctx.rowtime = oc;
  std::vector<sql::ExprPtr> rewritten;
  for (const auto& m : mr.measures) {
    EDDY_ASSIGN_OR_RETURN(auto r, RewriteNavigation(*m.expr, &mctx));
    rewritten.push_back(r);
  }
  Scope mslots;
  for (size_t k = 0; k < mctx.slots.size(); ++k) {
    mslots.cols.push_back({"", fmt::format("$s{}", k), static_cast<int>(k), mctx.slots[k].type});
  }
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kMatchRecognize;
  n->input = in.node;
  std::vector<std::string> parts;
  for (int k : cfg->key_columns) {
    DataType t = is.fields[k].type;
    t.time_attr = TimeAttr::kNone;
    n->schema.fields.push_back({is.fields[k].name, t});
    parts.push_back(is.fields[k].name);
  }
  // ALL ROWS PER MATCH (SQL:2016): partition columns, ordering columns, measures, then the other
  // input columns in input order. The ordering column stays the event-time attribute.
  if (mr.all_rows) {
    n->schema.rowtime_index = static_cast<int>(n->schema.fields.size());
    n->schema.fields.push_back(is.fields[oc]);
  }
  std::vector<std::string> mtexts;
  for (size_t i = 0; i < rewritten.size(); ++i) {
    EDDY_ASSIGN_OR_RETURN(auto b, Bind(*rewritten[i], mslots, nullptr));
    cfg->measures.push_back(b);
    DataType t = b->type();
    if (t.time_attr == TimeAttr::kRowtime && n->schema.rowtime_index < 0) {
      n->schema.rowtime_index = static_cast<int>(n->schema.fields.size());
    } else {
      t.time_attr = TimeAttr::kNone;
    }
    n->schema.fields.push_back({mr.measures[i].alias, t});
    mtexts.push_back(mr.measures[i].alias);
  }
  if (mr.all_rows) {
    for (int c = 0; c < visible; ++c) {
      if (c == oc || std::find(cfg->key_columns.begin(), cfg->key_columns.end(), c) !=
                         cfg->key_columns.end()) {
        continue;
      }
      DataType t = is.fields[c].type;
      t.time_attr = TimeAttr::kNone;
      cfg->row_columns.push_back(c);
      n->schema.fields.push_back({is.fields[c].name, t});
    }
    // A measure named like an input column would give two columns of that name.
    size_t first_measure = cfg->key_columns.size() + 1;
    for (size_t i = 0; i < mr.measures.size(); ++i) {
      for (size_t j = 0; j < n->schema.fields.size(); ++j) {
        if (j != first_measure + i &&
            ToLower(n->schema.fields[j].name) == ToLower(mr.measures[i].alias)) {
          return Error(mr.measures[i].pos,
                       fmt::format("measure '{}' has the name of a column that ALL ROWS PER "
                                   "MATCH also outputs",
                                   mr.measures[i].alias),
                       "rename the measure");
        }
      }
    }
  }
  // Rows come out when their match is certain, which can be after the watermark passed their
  // time (or MATCH_ROWTIME()'s): the operator holds its output watermark back when the output has
  // an event-time attribute.
  cfg->hold_watermark = n->schema.rowtime_index >= 0;
  cfg->measure_slots = mctx.slots;
  cfg->name = fmt::format("Match(partitionBy=[{}], orderBy=[{}], measures=[{}], pattern=[{}]{}{})",
                          fmt::join(parts, ", "), is.fields[oc].name, fmt::join(mtexts, ", "),
                          cep::ToString(*pattern),
                          co.within_us ? fmt::format(", within=[{} ms]", *co.within_us / 1000) : "",
                          mr.all_rows ? ", rowsPerMatch=[ALL ROWS]" : "");
  n->match = cfg;
  FromResult r;
  r.pos = ref.pos;
  r.node = n;
  std::string qual = ToLower(ref.alias);
  for (size_t i = 0; i < n->schema.fields.size(); ++i) {
    r.scope.cols.push_back(
        {qual, n->schema.fields[i].name, static_cast<int>(i), n->schema.fields[i].type});
  }
  return r;
}

}  // namespace eddy
