// Binder, part 4: OVER aggregation in the SELECT list (Flink SQL "Over Aggregation"):
// agg(x) OVER (PARTITION BY … ORDER BY rowtime [RANGE|ROWS BETWEEN … PRECEDING AND CURRENT ROW]).
#include <fmt/format.h>

#include <functional>

#include "base/status.h"
#include "base/strings.h"
#include "engine/binder_internal.h"
#include "engine/plan.h"

namespace eddy {

using sql::Expr;
using sql::ExprKind;

absl::Status Binder::ApplyRankLimit(const PlanPtr& from, const Scope& scope,
                                    const sql::Expr* where) {
  // The rank node under the FROM item's projection, if any.
  const PlanNode* top = from.get();
  int rn_out = -1;
  PlanNode* rank = nullptr;
  if (top->kind == PlanNode::Kind::kCalc && top->input &&
      top->input->kind == PlanNode::Kind::kRank) {
    rank = top->input.get();
    int rn_in = rank->rank->input_columns;
    for (size_t i = 0; i < top->projections.size(); ++i) {
      if (top->projections[i]->column_index() == rn_in) rn_out = static_cast<int>(i);
    }
  } else if (top->kind == PlanNode::Kind::kRank) {
    rank = const_cast<PlanNode*>(top);
    rn_out = rank->rank->input_columns;
  }
  if (!rank || rank->rank->limit > 0) return absl::OkStatus();
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
      int64_t v = std::stoll(lit.text);
      std::string op = c->op;
      if (flip) op = op == "<" ? ">" : op == "<=" ? ">=" : op == ">" ? "<" : op == ">=" ? "<=" : op;
      if (op == "<=") limit = v;
      if (op == "<") limit = v - 1;
      if (op == "=" && v == 1) limit = 1;
    }
  }
  if (limit < 1) {
    return absl::InvalidArgumentError(
        "ROW_NUMBER() OVER is only supported as Top-N: the enclosing query must bound it, e.g. "
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rn FROM "
        "t) WHERE rn <= 3");
  }
  rank->rank->limit = limit;
  return absl::OkStatus();
}

absl::StatusOr<bool> Binder::BindOver(const sql::Query& q, PlanPtr* node, Scope* scope,
                                      std::unique_ptr<sql::Query>* rewritten) {
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
    auto rc = std::make_shared<runtime::RankConfig>();
    rc->input_columns = visible;
    rc->limit = -1;
    std::vector<std::string> parts, orders;
    for (const auto& p : spec.partition_by) {
      EDDY_ASSIGN_OR_RETURN(auto b, Bind(*p, *scope, nullptr));
      if (b->column_index() < 0 || b->column_index() >= visible) {
        return Error(p->pos, "PARTITION BY of ROW_NUMBER() takes columns");
      }
      rc->key_columns.push_back(b->column_index());
      parts.push_back(b->ToString());
    }
    for (const auto& [e, desc] : spec.order_by) {
      EDDY_ASSIGN_OR_RETURN(auto b, Bind(*e, *scope, nullptr));
      if (b->column_index() < 0 || b->column_index() >= visible) {
        return Error(e->pos, "ORDER BY of ROW_NUMBER() takes columns");
      }
      rc->order.emplace_back(b->column_index(), desc);
      orders.push_back(b->ToString() + (desc ? " DESC" : " ASC"));
    }
    rc->name = fmt::format("Rank(rankType=[ROW_NUMBER], partitionBy=[{}], orderBy=[{}]",
                           fmt::join(parts, ", "), fmt::join(orders, ", "));
    auto n = std::make_shared<PlanNode>();
    n->kind = PlanNode::Kind::kRank;
    n->input = *node;
    n->updating = true;
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
      cfg->preceding = std::stoll(pe.text);
    } else {
      EDDY_ASSIGN_OR_RETURN(cfg->preceding, IntervalMicros(pe));
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
        if (o.kind != ExprKind::kLiteral || o.lit_type != sql::LiteralType::kInteger ||
            std::stoll(o.text) < 1 || std::stoll(o.text) > 1000) {
          return Error(o.pos, "the offset of LAG is an integer from 1 to 1000");
        }
        call.offset = std::stoll(o.text);
      }
      if (c->args.size() > 2) {
        EDDY_ASSIGN_OR_RETURN(auto d, Bind(*c->args[2], *scope, nullptr));
        if (!d->literal()) return Error(c->args[2]->pos, "the default of LAG is a literal");
        auto cast = MakeCast(d, call.type, false);
        Batch one;
        one.kinds.push_back(RowKind::kInsert);
        Column col(call.type);
        EvalContext ctx;
        ctx.arena = one.NewArena();
        EDDY_RETURN_IF_ERROR(cast->Eval(one, &ctx, &col));
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
