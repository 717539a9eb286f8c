// Binder, part 4: OVER aggregation in the SELECT list (Flink SQL "Over Aggregation"):
// agg(x) OVER (PARTITION BY … ORDER BY rowtime [RANGE|ROWS BETWEEN … PRECEDING AND CURRENT ROW]).
#include <fmt/format.h>

#include <functional>

#include "base/status.h"
#include "base/strings.h"
#include "engine/binder_internal.h"
#include "engine/plan.h"
#include "types/text_codec.h"

namespace eddy {

using sql::Expr;
using sql::ExprKind;
using sql::Pos;

namespace {

// What column `col` of `n` is: 0 window_start, 1 window_end or 2 window_time of the window
// aggregation or window Top-N `*src` it is taken from unchanged (through projections, filters and
// views), else -1.
int WindowColumnOf(const PlanNode* n, int col, const PlanNode** src) {
  while (n) {
    switch (n->kind) {
      case PlanNode::Kind::kCalc: {
        if (col < 0 || col >= static_cast<int>(n->projections.size())) return -1;
        col = n->projections[col]->column_index();
        n = n->input.get();
        continue;
      }
      case PlanNode::Kind::kWindowAgg: {
        int base = static_cast<int>(n->agg.key_columns.size());
        if (col < base || col > base + 2) return -1;
        *src = n;
        return col - base;
      }
      case PlanNode::Kind::kWindowRank: {
        const runtime::WindowRankConfig& c = *n->window_rank;
        if (c.assign_windows) {
          if (col < c.input_columns || col > c.input_columns + 2) return -1;
          *src = n;
          return col - c.input_columns;
        }
        if (col >= c.input_columns) return -1;
        n = n->input.get();
        continue;
      }
      default:
        return -1;
    }
  }
  return -1;
}

}  // namespace

absl::Status Binder::ApplyRankLimit(const PlanPtr& from, const Scope& scope, const sql::Expr* where,
                                    Pos pos) {
  // The rank node under the FROM item's projection, if any.
  const PlanNode* top = from.get();
  int rn_out = -1;
  PlanNode* rank = nullptr;
  auto is_rank = [](const PlanNode* n) {
    return n->kind == PlanNode::Kind::kRank || n->kind == PlanNode::Kind::kWindowRank;
  };
  // The rank number is the rank node's last column.
  auto rn_of = [](const PlanNode* n) { return static_cast<int>(n->schema.fields.size()) - 1; };
  if (top->kind == PlanNode::Kind::kCalc && top->input && is_rank(top->input.get())) {
    rank = top->input.get();
    int rn_in = rn_of(rank);
    for (size_t i = 0; i < top->projections.size(); ++i) {
      if (top->projections[i]->column_index() == rn_in) rn_out = static_cast<int>(i);
    }
  } else if (is_rank(top)) {
    rank = const_cast<PlanNode*>(top);
    rn_out = rn_of(rank);
  }
  if (!rank) return absl::OkStatus();
  int64_t& bound =
      rank->kind == PlanNode::Kind::kWindowRank ? rank->window_rank->limit : rank->rank->limit;
  if (bound > 0) return absl::OkStatus();
  std::vector<const sql::Expr*> conj;
  std::function<void(const sql::Expr*)> split = [&](const sql::Expr* e) {
    if (e->kind == ExprKind::kBinary && ToUpper(e->op) == "AND") {
      split(e->args[0].get());
      split(e->args[1].get());
    } else {
      conj.push_back(e);
    }
  };
  if (where) split(where);
  int64_t limit = -1;
  for (const sql::Expr* c : conj) {
    if (c->kind != ExprKind::kBinary) continue;
    for (int flip = 0; flip < 2; ++flip) {
      const sql::Expr& col = *c->args[flip];
      const sql::Expr& lit = *c->args[1 - flip];
      if (col.kind != ExprKind::kColumn || lit.kind != ExprKind::kLiteral ||
          lit.lit_type != sql::LiteralType::kInteger) {
        continue;
      }
      auto b = Bind(col, scope, nullptr);
      if (!b.ok() || rn_out < 0 || (*b)->column_index() != rn_out) continue;
      int64_t v = 0;
      if (!text::ParseInt64(lit.text, &v)) {
        return Error(lit.pos, fmt::format("the Top-N bound {} is out of range", lit.text));
      }
      std::string op = c->op;
      if (flip) op = op == "<" ? ">" : op == "<=" ? ">=" : op == ">" ? "<" : op == ">=" ? "<=" : op;
      if (op == "<=") limit = v;
      if (op == "<") limit = v - 1;
      if (op == "=" && v == 1) limit = 1;
    }
  }
  if (limit < 1) {
    return Error(
        pos,
        "ROW_NUMBER() OVER is only supported as Top-N: the enclosing query must bound it, e.g. "
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rn FROM "
        "t) WHERE rn <= 3");
  }
  bound = limit;
  if (rank->kind == PlanNode::Kind::kRank) {
    // Flink SQL "Deduplication": rn = 1 ordered by one time attribute (rowtime or proctime)
    // keeps the first row (ASC: a later row replaces it only with a strictly earlier time) or the
    // last row (DESC: a later row of equal or later time replaces it).
    runtime::RankConfig& c = *rank->rank;
    c.ties_to_last = limit == 1 && rank->rank_by_time && c.order[0].second;
  }
  if (rank->kind == PlanNode::Kind::kWindowRank) {
    // Flink SQL "Window Deduplication": rn = 1 ordered by a time attribute keeps the first row
    // (ASC) or the last row (DESC) of each partition and window; keeping the last row, a later
    // row with the same time replaces the earlier one.
    runtime::WindowRankConfig& c = *rank->window_rank;
    bool dedup = limit == 1 && rank->rank_by_time;
    bool last = dedup && c.order[0].second;
    c.ties_to_last = last;
    c.name = dedup ? fmt::format("WindowDeduplicate({}, keep=[{}])", c.name,
                                 last ? "LastRow" : "FirstRow")
                   : fmt::format(
                         "WindowRank({}, rankType=[ROW_NUMBER], rankRange=[rankStart=1, "
                         "rankEnd={}])",
                         c.name, limit);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Binder::BindOver(const sql::Query& q, PlanPtr* node, Scope* scope,
                                      std::unique_ptr<sql::Query>* rewritten,
                                      const FromResult* window) {
  // The OVER calls, in SELECT order.
  std::vector<const Expr*> calls;
  std::function<void(const Expr&)> find = [&](const Expr& e) {
    if (e.over) {
      calls.push_back(&e);
      return;
    }
    for (const auto& a : e.args) {
      if (a) find(*a);
    }
    if (e.filter) find(*e.filter);
  };
  for (const auto& it : q.items) find(*it.expr);
  if (calls.empty()) return false;
  if (window && ToUpper(calls[0]->name) != "ROW_NUMBER") return false;
  if (!q.group_by.empty() || q.having) {
    return Error(calls[0]->pos, "OVER aggregates cannot be combined with GROUP BY or HAVING");
  }
  const sql::OverSpec& spec = *calls[0]->over;
  auto spec_key = [](const sql::OverSpec& s) {
    std::string k;
    for (const auto& p : s.partition_by) k += AstKey(*p) + ",";
    k += "|";
    for (const auto& [e, desc] : s.order_by) k += AstKey(*e) + (desc ? " DESC," : ",");
    k += fmt::format("|{}|{}|{}|{}", s.has_frame, s.rows,
                     s.preceding ? AstKey(*s.preceding) : "UNBOUNDED", s.current_row_end);
    return k;
  };
  for (const Expr* c : calls) {
    if (spec_key(*c->over) != spec_key(spec)) {
      return Error(c->pos, "all OVER windows of a query must be the same (as in Flink)");
    }
  }
  // The SELECT list with each OVER call replaced by its result column ($sover<k>).
  auto finish = [&]() -> absl::StatusOr<bool> {
    std::function<sql::ExprPtr(const sql::ExprPtr&)> replace = [&](const sql::ExprPtr& e) {
      for (size_t k = 0; k < calls.size(); ++k) {
        if (e.get() == calls[k]) {
          auto r = std::make_shared<Expr>();
          r->kind = ExprKind::kColumn;
          r->pos = e->pos;
          r->name = fmt::format("$sover{}", k);
          return r;
        }
      }
      auto copy = std::make_shared<Expr>(*e);
      for (auto& a : copy->args) {
        if (a) a = replace(a);
      }
      return copy;
    };
    auto out = std::make_unique<sql::Query>(q);
    for (auto& it : out->items) {
      bool plain_call = it.expr->over != nullptr;
      std::string text = plain_call ? ToLower(it.expr->name) : "";
      it.expr = replace(it.expr);
      // An unnamed OVER item keeps a readable name, as Flink names it EXPR$n.
      if (plain_call && it.alias.empty()) it.alias = text;
    }
    *rewritten = std::move(out);
    return true;
  };
  if (ToUpper(calls[0]->name) == "ROW_NUMBER") {
    // Top-N: ROW_NUMBER() OVER (PARTITION BY … ORDER BY …) AS rn, bounded by the enclosing
    // query's WHERE rn <= N (ApplyRankLimit).
    if (calls.size() != 1) {
      return Error(calls[1]->pos, "ROW_NUMBER() cannot be combined with other OVER calls");
    }
    if (spec.has_frame) return Error(calls[0]->pos, "ROW_NUMBER() OVER takes no frame");
    if (!calls[0]->args.empty()) return Error(calls[0]->pos, "ROW_NUMBER() takes no arguments");
    if (spec.order_by.empty()) {
      return Error(calls[0]->pos, "ROW_NUMBER() OVER needs ORDER BY (as in Flink)");
    }
    const Schema& is = (*node)->schema;
    if ((*node)->updating) {
      return Error(calls[0]->pos, "Top-N over an updating input is not supported yet");
    }
    int visible = 0;
    while (visible < static_cast<int>(is.fields.size()) &&
           is.fields[visible].name.rfind("$", 0) != 0) {
      ++visible;
    }
    // Over a window TVF, the TVF's window_start, window_end and window_time (scope indices after
    // the input's columns) become the columns visible, visible + 1 and visible + 2 of the rows
    // the window Top-N assigns.
    Scope bscope = *scope;
    int row_columns = visible;
    if (window) {
      int n = static_cast<int>(is.fields.size());
      bscope.cols.clear();
      for (ScopeColumn c : scope->cols) {
        if (c.name.rfind("$", 0) == 0) continue;
        if (c.index >= n) c.index = visible + (c.index - n);
        bscope.cols.push_back(c);
      }
      row_columns = visible + 3;
    }
    std::vector<int> keys;
    std::vector<std::pair<int, bool>> order;
    std::vector<std::string> parts, orders;
    for (const auto& p : spec.partition_by) {
      EDDY_ASSIGN_OR_RETURN(auto b, Bind(*p, bscope, nullptr));
      if (b->column_index() < 0 || b->column_index() >= row_columns) {
        return Error(p->pos, "PARTITION BY of ROW_NUMBER() takes columns");
      }
      keys.push_back(b->column_index());
      parts.push_back(b->ToString());
    }
    bool by_time = spec.order_by.size() == 1;
    for (const auto& [e, desc] : spec.order_by) {
      EDDY_ASSIGN_OR_RETURN(auto b, Bind(*e, bscope, nullptr));
      if (b->column_index() < 0 || b->column_index() >= row_columns) {
        return Error(e->pos, "ORDER BY of ROW_NUMBER() takes columns");
      }
      by_time &= b->type().time_attr != TimeAttr::kNone;
      order.emplace_back(b->column_index(), desc);
      orders.push_back(b->ToString() + (desc ? " DESC" : " ASC"));
    }
    // Window Top-N (Flink SQL "Window Top-N"): PARTITION BY contains the window_start and
    // window_end of a window TVF or of a window aggregation (possibly through views).
    int ws = -1, we = -1;
    bool proctime = false;
    std::string window_text = "window_start, window_end";
    if (window) {
      bool has_ws = false, has_we = false;
      for (int k : keys) {
        has_ws |= k == visible;
        has_we |= k == visible + 1;
      }
      if (!has_ws || !has_we) {
        return Error(calls[0]->pos,
                     "ROW_NUMBER() over a window TVF must be partitioned by window_start and "
                     "window_end (window Top-N)");
      }
      if (window->spec.kind == runtime::WindowKind::kSession) {
        return Error(window->pos,
                     "window Top-N over a SESSION window TVF is not supported (as in Flink): "
                     "aggregate it first (GROUP BY window_start, window_end)");
      }
      if (window->proctime) {
        return Error(window->pos,
                     "window Top-N directly over a processing-time window TVF is not supported "
                     "yet");
      }
      ws = visible;
      we = visible + 1;
      window_text = window->window_text;
    } else {
      const PlanNode* src_s = nullptr;
      const PlanNode* src_e = nullptr;
      for (int k : keys) {
        const PlanNode* src = nullptr;
        int w = WindowColumnOf(node->get(), k, &src);
        if (w == 0 && ws < 0) {
          ws = k;
          src_s = src;
        } else if (w == 1 && we < 0) {
          we = k;
          src_e = src;
        }
      }
      if (ws < 0 || we < 0 || src_s != src_e) {
        ws = we = -1;
      } else if (src_s->kind == PlanNode::Kind::kWindowAgg) {
        proctime = src_s->proctime_window;
        window_text = src_s->window_text;
      } else {
        proctime = src_s->window_rank->processing_time;
      }
    }
    if (ws < 0) {
      // The updating Top-N (Flink SQL "Top-N").
      auto rc = std::make_shared<runtime::RankConfig>();
      rc->input_columns = visible;
      rc->limit = -1;
      rc->key_columns = keys;
      rc->order = order;
      rc->name = fmt::format("Rank(rankType=[ROW_NUMBER], partitionBy=[{}], orderBy=[{}]",
                             fmt::join(parts, ", "), fmt::join(orders, ", "));
      auto n = std::make_shared<PlanNode>();
      n->kind = PlanNode::Kind::kRank;
      n->input = *node;
      n->pos = calls[0]->pos;
      n->script = script_;
      n->updating = true;
      n->rank_by_time = by_time && order.size() == 1;
      for (int i = 0; i < visible; ++i) {
        DataType t = is.fields[i].type;
        t.time_attr = TimeAttr::kNone;  // an updating result has no time attribute
        n->schema.fields.push_back({is.fields[i].name, t});
      }
      n->schema.fields.push_back({"$sover0", DataType::Bigint()});
      scope->cols.push_back({"", "$sover0", visible, DataType::Bigint()});
      for (auto& c : scope->cols) {
        if (c.index < visible) c.type.time_attr = TimeAttr::kNone;
      }
      n->rank = rc;
      *node = n;
      return finish();
    }
    // Window Top-N: insert-only, the final top N of each window when it fires.
    auto wc = std::make_shared<runtime::WindowRankConfig>();
    wc->input_columns = visible;
    wc->assign_windows = window != nullptr;
    if (window) {
      wc->window = window->spec;
      wc->time_column = window->time_col;
    }
    wc->window_end_column = we;
    wc->key_columns = keys;
    wc->order = order;
    wc->limit = -1;
    wc->processing_time = proctime;
    wc->input_fields = is.fields;
    wc->name = fmt::format("window=[{}], partitionBy=[{}], orderBy=[{}]", window_text,
                           fmt::join(parts, ", "), fmt::join(orders, ", "));
    auto n = std::make_shared<PlanNode>();
    n->kind = PlanNode::Kind::kWindowRank;
    n->input = *node;
    n->pos = calls[0]->pos;
    n->script = script_;
    n->updating = false;
    n->rank_by_time = by_time;
    n->window_text = window_text;
    for (int i = 0; i < visible; ++i) {
      DataType t = is.fields[i].type;
      // Flink: after a window TVF the original time attribute is a plain TIMESTAMP; window_time
      // is the time attribute of the result.
      if (window) t.time_attr = TimeAttr::kNone;
      n->schema.fields.push_back({is.fields[i].name, t});
    }
    if (is.rowtime_index >= 0 && is.rowtime_index < visible && !window) {
      n->schema.rowtime_index = is.rowtime_index;
    }
    if (window) {
      DataType wt = DataType::Timestamp(3);
      wt.time_attr = TimeAttr::kRowtime;
      n->schema.fields.push_back({"window_start", DataType::Timestamp(3)});
      n->schema.fields.push_back({"window_end", DataType::Timestamp(3)});
      n->schema.fields.push_back({"window_time", wt});
      n->schema.rowtime_index = visible + 2;
      *scope = bscope;
      for (auto& c : scope->cols) {
        if (c.index < visible) c.type.time_attr = TimeAttr::kNone;
      }
    }
    n->schema.fields.push_back({"$sover0", DataType::Bigint()});
    scope->cols.push_back({"", "$sover0", row_columns, DataType::Bigint()});
    n->window_rank = wc;
    *node = n;
    return finish();
  }
  const PlanPtr in = *node;
  const Schema& is = in->schema;
  int visible = 0;
  while (visible < static_cast<int>(is.fields.size()) &&
         is.fields[visible].name.rfind("$", 0) != 0) {
    ++visible;
  }
  auto cfg = std::make_shared<runtime::OverAggregateConfig>();
  for (const auto& p : spec.partition_by) {
    EDDY_ASSIGN_OR_RETURN(auto b, Bind(*p, *scope, nullptr));
    if (b->column_index() < 0) {
      return Error(p->pos, "PARTITION BY of an OVER window takes columns");
    }
    cfg->key_columns.push_back(b->column_index());
  }
  if (spec.order_by.size() != 1 || spec.order_by[0].second) {
    return Error(calls[0]->pos,
                 "an OVER window is ordered by the event-time attribute, ascending (ORDER BY ts)");
  }
  EDDY_ASSIGN_OR_RETURN(auto ob, Bind(*spec.order_by[0].first, *scope, nullptr));
  if (ob->column_index() < 0 || ob->type().time_attr != TimeAttr::kRowtime) {
    return Error(spec.order_by[0].first->pos,
                 fmt::format("an OVER window is ordered by the input's event-time attribute; "
                             "'{}' is {}{}",
                             ob->ToString(), ob->type().ToString(),
                             ob->type().time_attr == TimeAttr::kProctime
                                 ? " (processing-time OVER windows are not supported yet)"
                                 : ""));
  }
  cfg->time_column = ob->column_index();
  if (!spec.current_row_end) {
    return Error(calls[0]->pos, "an OVER window frame must end at CURRENT ROW (as in Flink)");
  }
  cfg->rows = spec.has_frame && spec.rows;
  if (spec.preceding) {
    const Expr& pe = *spec.preceding;
    if (cfg->rows) {
      if (pe.kind != ExprKind::kLiteral || pe.lit_type != sql::LiteralType::kInteger) {
        return Error(pe.pos, "ROWS BETWEEN n PRECEDING takes an integer n");
      }
      if (!text::ParseInt64(pe.text, &cfg->preceding) || cfg->preceding > INT32_MAX) {
        return Error(pe.pos, fmt::format("ROWS BETWEEN n PRECEDING takes n up to {}, got {}",
                                         INT32_MAX, pe.text));
      }
    } else {
      EDDY_ASSIGN_OR_RETURN(cfg->preceding, TimeBoundMicros(pe, "the RANGE interval"));
      if (cfg->preceding < 0) return Error(pe.pos, "the RANGE interval must not be negative");
    }
  }
  // Arguments that are not plain columns are computed by a projection in front.
  std::vector<BoundExprPtr> extra;
  std::vector<std::string> extra_names;
  for (const Expr* c : calls) {
    std::string fn = ToUpper(c->name);
    if (fn == "ROW_NUMBER" || fn == "RANK" || fn == "DENSE_RANK" || fn == "LEAD") {
      return Error(c->pos,
                   fmt::format("{}() OVER is not supported yet{}", fn,
                               fn == "ROW_NUMBER" ? " together with other OVER calls" : ""));
    }
    if (fn == "LAG") {
      // LAG(x [, n [, default]]): the value of x n rows (default 1) before, or default (NULL).
      if (c->args.empty() || c->args.size() > 3) {
        return Error(c->pos, "LAG takes a column, an optional offset and an optional default");
      }
      EDDY_ASSIGN_OR_RETURN(auto a, Bind(*c->args[0], *scope, nullptr));
      if (a->column_index() < 0 || a->column_index() >= visible) {
        return Error(c->args[0]->pos, "LAG takes a column of the input");
      }
      runtime::OverAggregateCall call;
      call.fn = fn;
      call.column = a->column_index();
      call.type = a->type();
      call.type.time_attr = TimeAttr::kNone;
      call.default_value = Value::Null(call.type);
      if (c->args.size() > 1) {
        const Expr& o = *c->args[1];
        int64_t offset = 0;
        if (o.kind != ExprKind::kLiteral || o.lit_type != sql::LiteralType::kInteger ||
            !text::ParseInt64(o.text, &offset) || offset < 1 || offset > 1000) {
          return Error(o.pos, "the offset of LAG is an integer from 1 to 1000");
        }
        call.offset = offset;
      }
      if (c->args.size() > 2) {
        EDDY_ASSIGN_OR_RETURN(auto d, Bind(*c->args[2], *scope, nullptr));
        if (!d->literal()) return Error(c->args[2]->pos, "the default of LAG is a literal");
        if (!CanCast(d->type(), call.type)) {
          return Error(c->args[2]->pos, fmt::format("the default of LAG is {}, which cannot be "
                                                    "cast to the column's type {}",
                                                    d->type().ToString(), call.type.ToString()));
        }
        auto cast = MakeCast(d, call.type, false);
        Batch one;
        one.kinds.push_back(RowKind::kInsert);
        Column col(call.type);
        EvalContext ctx;
        ctx.arena = one.NewArena();
        absl::Status cs = cast->Eval(one, &ctx, &col);
        if (!cs.ok()) return Error(c->args[2]->pos, std::string(cs.message()));
        call.default_value = Value::FromColumn(col, 0);
        call.default_value.type = call.type;
      }
      cfg->calls.push_back(call);
      continue;
    }
    if (fn != "COUNT" && fn != "SUM" && fn != "AVG" && fn != "MIN" && fn != "MAX") {
      return Error(c->pos, fmt::format("{} OVER is not supported; OVER windows take COUNT, SUM, "
                                       "AVG, MIN and MAX",
                                       fn));
    }
    if (c->distinct || c->filter) {
      return Error(c->pos, "DISTINCT and FILTER are not supported in OVER aggregates yet");
    }
    runtime::OverAggregateCall call;
    call.fn = fn;
    if (c->star_arg) {
      if (fn != "COUNT") return Error(c->pos, fmt::format("{}(*) is not valid", fn));
      call.type = DataType::Bigint();
    } else {
      if (c->args.size() != 1) return Error(c->pos, fmt::format("{} takes one argument", fn));
      EDDY_ASSIGN_OR_RETURN(auto a, Bind(*c->args[0], *scope, nullptr));
      DataType t = a->type();
      t.time_attr = TimeAttr::kNone;
      if ((fn == "SUM" || fn == "AVG") && !t.is_integral() && t.id != TypeId::kDouble) {
        return Error(
            c->args[0]->pos,
            fmt::format("{} OVER takes INT, BIGINT or DOUBLE, not {} (CAST it)", fn, t.ToString()));
      }
      if (a->column_index() >= 0 && a->column_index() < visible) {
        call.column = a->column_index();
      } else {
        call.column = visible + static_cast<int>(extra.size());
        extra.push_back(a);
        extra_names.push_back(fmt::format("$sarg{}", extra.size() - 1));
      }
      call.type = fn == "COUNT" ? DataType::Bigint() : t;
    }
    cfg->calls.push_back(call);
  }
  PlanPtr input = in;
  if (!extra.empty()) {
    std::vector<BoundExprPtr> proj;
    std::vector<std::string> names;
    for (int i = 0; i < visible; ++i) {
      proj.push_back(MakeColumnRef(i, is.fields[i].type, is.fields[i].name));
      names.push_back(is.fields[i].name);
    }
    for (size_t k = 0; k < extra.size(); ++k) {
      proj.push_back(extra[k]);
      names.push_back(extra_names[k]);
    }
    input = MakeCalc(in, nullptr, proj, names);
  }
  cfg->input_columns = visible + static_cast<int>(extra.size());
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kOverAgg;
  n->input = input;
  for (int i = 0; i < cfg->input_columns; ++i) n->schema.fields.push_back(input->schema.fields[i]);
  n->schema.rowtime_index = is.rowtime_index;
  std::vector<std::string> texts;
  for (size_t k = 0; k < calls.size(); ++k) {
    std::string name = fmt::format("$sover{}", k);
    int index = static_cast<int>(n->schema.fields.size());
    n->schema.fields.push_back({name, cfg->calls[k].type});
    scope->cols.push_back({"", name, index, cfg->calls[k].type});
    texts.push_back(cfg->calls[k].column < 0
                        ? "COUNT(*)"
                        : fmt::format("{}({})", cfg->calls[k].fn,
                                      input->schema.fields[cfg->calls[k].column].name));
  }
  std::vector<std::string> parts;
  for (int k : cfg->key_columns) parts.push_back(is.fields[k].name);
  cfg->name = fmt::format(
      "OverAggregate(partitionBy=[{}], orderBy=[{}], {} BETWEEN {} PRECEDING AND CURRENT ROW, "
      "select=[{}])",
      fmt::join(parts, ", "), is.fields[cfg->time_column].name, cfg->rows ? "ROWS" : "RANGE",
      cfg->preceding < 0 ? "UNBOUNDED"
      : cfg->rows        ? std::to_string(cfg->preceding)
                         : fmt::format("{} ms", cfg->preceding / 1000),
      fmt::join(texts, ", "));
  n->over_agg = cfg;
  *node = n;
  return finish();
}

}  // namespace eddy
