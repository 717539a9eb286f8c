// Binder, part 3: joins. JOIN … ON, CROSS JOIN and comma joins bind to a logical join
// (PlanNode::Kind::kJoin) that the optimizer (engine/optimizer.h) plans once the WHERE over it is
// known; lookup and temporal joins (FOR SYSTEM_TIME AS OF) are planned here.
#include <fmt/format.h>

#include "base/status.h"
#include "base/strings.h"
#include "connectors/connector.h"
#include "engine/binder_internal.h"
#include "engine/optimizer.h"
#include "engine/plan.h"

namespace eddy {

using sql::Expr;
using sql::ExprKind;
using sql::Pos;

void Conjuncts(const sql::ExprPtr& e, std::vector<sql::ExprPtr>* out) {
  if (e->kind == ExprKind::kBinary && ToUpper(e->op) == "AND") {
    Conjuncts(e->args[0], out);
    Conjuncts(e->args[1], out);
    return;
  }
  out->push_back(e);
}
absl::StatusOr<std::optional<Binder::JoinKey>> Binder::BindJoinKey(const sql::Expr& c,
                                                                   const Scope& ls,
                                                                   const Scope& rs) {
  if (c.kind != ExprKind::kBinary || c.op != "=") return std::optional<JoinKey>();
  for (int flip = 0; flip < 2; ++flip) {
    auto lk = Bind(*c.args[flip], ls, nullptr);
    auto rk = Bind(*c.args[1 - flip], rs, nullptr);
    if (!lk.ok() || !rk.ok()) continue;
    JoinKey key{*lk, *rk, fmt::format("{} = {}", (*lk)->ToString(), (*rk)->ToString()),
                (*rk)->column_index()};
    if (!AlignKeyTypes(&key.left, &key.right)) {
      return Error(c.pos, fmt::format("cannot compare {} with {} in a join condition",
                                      key.left->type().ToString(), key.right->type().ToString()));
    }
    return std::optional<JoinKey>(std::move(key));
  }
  return std::optional<JoinKey>();
}

// The extra ON conditions of a join (those that are not keys or time bounds), bound over the
// joined scope and ANDed; null when there are none.
absl::StatusOr<BoundExprPtr> Binder::BindJoinFilter(const std::vector<sql::ExprPtr>& rest,
                                                    const Scope& scope) {
  std::vector<BoundExprPtr> filters;
  for (const auto& c : rest) {
    EDDY_ASSIGN_OR_RETURN(auto f, Bind(*c, scope, nullptr));
    if (f->type().id != TypeId::kBoolean && f->type().id != TypeId::kNull) {
      return Error(c->pos,
                   fmt::format("ON needs BOOLEAN conditions, got {}", f->type().ToString()));
    }
    filters.push_back(f);
  }
  if (filters.empty()) return BoundExprPtr();
  if (filters.size() == 1) return filters[0];
  return MakeAnd(filters);
}

absl::StatusOr<Binder::FromResult> Binder::BindJoin(const sql::TableRef& ref) {
  if (ref.right && ref.right->kind == sql::TableRefKind::kNamed && ref.right->system_time) {
    return BindLookupJoin(ref);
  }
  if (!ref.on && ref.join_type != sql::JoinType::kCross) {
    return Error(ref.pos, "a join needs ON with an equality of the two sides");
  }
  EDDY_ASSIGN_OR_RETURN(FromResult left, BindFrom(*ref.left));
  EDDY_ASSIGN_OR_RETURN(FromResult right, BindFrom(*ref.right));
  if (left.window || right.window) {
    return Error(ref.pos, "window joins are not supported yet; join the windowed views instead");
  }
  int lv = VisibleColumns(left.node->schema), rv = VisibleColumns(right.node->schema);
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kJoin;
  n->join_type = ref.join_type;
  n->input = left.node;
  n->right = right.node;
  n->pos = ref.on ? ref.on->pos : ref.right->pos;
  n->script = script_;
  n->updating = left.node->updating || right.node->updating;
  // The types are the inputs' until the optimizer plans the join (a regular join's output has
  // no time attribute; an outer join's padded side is nullable).
  for (int i = 0; i < lv; ++i) n->schema.fields.push_back(left.node->schema.fields[i]);
  for (int i = 0; i < rv; ++i) n->schema.fields.push_back(right.node->schema.fields[i]);
  FromResult r;
  r.pos = ref.pos;
  r.node = n;
  r.scope = left.scope;
  for (auto c : right.scope.cols) {
    c.index += lv;
    r.scope.cols.push_back(c);
  }
  if (ref.on) {
    std::vector<sql::ExprPtr> conj;
    Conjuncts(ref.on, &conj);
    for (const auto& c : conj) {
      EDDY_ASSIGN_OR_RETURN(auto f, Bind(*c, r.scope, nullptr));
      if (f->type().id != TypeId::kBoolean && f->type().id != TypeId::kNull) {
        return Error(c->pos,
                     fmt::format("ON needs BOOLEAN conditions, got {}", f->type().ToString()));
      }
      n->condition.push_back({f, c->pos});
    }
  }
  return r;
}

absl::Status Binder::PlanJoins(FromResult* r) {
  EDDY_ASSIGN_OR_RETURN(r->node, PushDownFilters(r->node));
  RefreshScope(r->node, &r->scope);
  return absl::OkStatus();
}

void Binder::RefreshScope(const PlanPtr& node, Scope* scope) {
  for (auto& c : scope->cols) {
    if (c.index >= 0 && c.index < static_cast<int>(node->schema.fields.size())) {
      c.type = node->schema.fields[c.index].type;
    }
  }
}

// Flink SQL event-time temporal join: `l JOIN v FOR SYSTEM_TIME AS OF l.ts AS r ON l.k = r.pk`
// where `v` is a versioned table (PRIMARY KEY … NOT ENFORCED and a WATERMARK).
absl::StatusOr<Binder::FromResult> Binder::BindTemporalJoin(const sql::TableRef& ref,
                                                            FromResult left,
                                                            std::shared_ptr<const TableDef> table,
                                                            int left_time) {
  const sql::TableRef& rt = *ref.right;
  if (table->primary_key.empty() || !table->has_watermark) {
    return Error(rt.pos, fmt::format("an event-time temporal join needs a versioned table: '{}' "
                                     "must declare a PRIMARY KEY (… NOT ENFORCED) and a WATERMARK",
                                     table->name));
  }
  if (left.window) return Error(ref.left->pos, "a window TVF cannot be joined here");
  if (left.node->updating) {
    return Error(ref.pos, "a temporal join takes an insert-only left input");
  }
  EDDY_ASSIGN_OR_RETURN(PlanPtr right_plan, ScanTable(table, rt.pos));
  std::string qual = ToLower(rt.alias.empty() ? rt.name : rt.alias);
  auto visible = [](const Schema& s) {
    int v = 0;
    while (v < static_cast<int>(s.fields.size()) && s.fields[v].name.rfind("$", 0) != 0) ++v;
    return v;
  };
  int lv = visible(left.node->schema), rv = visible(right_plan->schema);
  Scope right;
  for (int i = 0; i < rv; ++i) {
    right.cols.push_back(
        {qual, right_plan->schema.fields[i].name, i, right_plan->schema.fields[i].type});
  }
  FromResult r;
  r.pos = ref.pos;
  r.scope = left.scope;
  for (auto c : right.cols) {
    c.index += lv;
    c.type.time_attr = TimeAttr::kNone;
    r.scope.cols.push_back(c);
  }
  auto cfg = std::make_shared<runtime::TemporalJoinConfig>();
  cfg->left_outer = ref.join_type == sql::JoinType::kLeft;
  if (ref.join_type != sql::JoinType::kInner && !cfg->left_outer) {
    return Error(ref.pos, "a temporal join is an INNER JOIN or LEFT JOIN");
  }
  if (!ref.on) return Error(ref.pos, "a temporal join needs ON with the versioned table's key");
  std::vector<sql::ExprPtr> conj;
  Conjuncts(ref.on, &conj);
  std::vector<sql::ExprPtr> rest;
  std::vector<std::string> key_texts, pk_seen;
  for (const auto& c : conj) {
    bool used = false;
    EDDY_ASSIGN_OR_RETURN(auto key, BindJoinKey(*c, left.scope, right));
    if (key && key->right_column >= 0) {
      std::string rname = ToLower(right_plan->schema.fields[key->right_column].name);
      bool is_pk = false;
      for (const auto& pk : table->primary_key) is_pk |= ToLower(pk) == rname;
      if (is_pk) {
        cfg->left_keys.push_back(key->left);
        cfg->right_keys.push_back(key->right);
        key_texts.push_back(key->text);
        pk_seen.push_back(rname);
        used = true;
      }
    }
    if (!used) rest.push_back(c);
  }
  for (const auto& pk : table->primary_key) {
    if (std::find(pk_seen.begin(), pk_seen.end(), ToLower(pk)) == pk_seen.end()) {
      return Error(ref.on->pos,
                   fmt::format("a temporal join must equate every primary key column of '{}' "
                               "with the left side; '{}' is missing",
                               table->name, pk));
    }
  }
  cfg->left_time = left_time;
  cfg->right_time = table->rowtime;
  for (int i = 0; i < lv; ++i) cfg->left_types.push_back(left.node->schema.fields[i].type);
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kTemporalJoin;
  n->input = left.node;
  n->right = right_plan;
  for (int i = 0; i < lv; ++i) n->schema.fields.push_back(left.node->schema.fields[i]);
  for (int i = 0; i < rv; ++i) {
    DataType t = right_plan->schema.fields[i].type;
    t.time_attr = TimeAttr::kNone;
    cfg->right_types.push_back(t);
    n->schema.fields.push_back({right_plan->schema.fields[i].name, t});
  }
  n->schema.rowtime_index = left.node->schema.rowtime_index;
  r.node = n;
  EDDY_ASSIGN_OR_RETURN(cfg->residual, BindJoinFilter(rest, r.scope));
  cfg->name =
      fmt::format("TemporalJoin(table=[{}], joinType=[{}], on=[{}], time=[{}]{})", table->name,
                  cfg->left_outer ? "LeftOuterJoin" : "InnerJoin", fmt::join(key_texts, " AND "),
                  left.node->schema.fields[left_time].name,
                  cfg->residual ? fmt::format(", where=[{}]", cfg->residual->ToString()) : "");
  n->temporal = cfg;
  return r;
}

// Flink SQL lookup join: `l JOIN t FOR SYSTEM_TIME AS OF l.proc_time [AS] r ON l.k = r.k [AND …]`
// with INNER or LEFT join; the table (of a connector that can serve lookups) is read when the job
// starts.
absl::StatusOr<Binder::FromResult> Binder::BindLookupJoin(const sql::TableRef& ref) {
  const sql::TableRef& rt = *ref.right;
  if (ref.join_type != sql::JoinType::kInner && ref.join_type != sql::JoinType::kLeft) {
    return Error(ref.pos, "a lookup join (FOR SYSTEM_TIME AS OF) is an INNER JOIN or LEFT JOIN");
  }
  if (!ref.on) return Error(ref.pos, "a lookup join needs ON with an equality of the two tables");
  EDDY_ASSIGN_OR_RETURN(FromResult left, BindFrom(*ref.left));
  if (left.window) {
    return Error(ref.left->pos, "a window TVF cannot be the left side of a lookup join");
  }
  EDDY_RETURN_IF_ERROR(PlanJoins(&left));
  auto it = tables_.find(ToLower(rt.name));
  if (it == tables_.end()) {
    return Error(rt.pos,
                 fmt::format("FOR SYSTEM_TIME AS OF needs a table; '{}' is not one", rt.name));
  }
  std::shared_ptr<const TableDef> table = it->second;
  // FOR SYSTEM_TIME AS OF the left side's event-time attribute: a temporal join against a
  // versioned table; its processing-time attribute: a lookup join.
  EDDY_ASSIGN_OR_RETURN(auto st, Bind(*rt.system_time, left.scope, nullptr));
  if (st->type().time_attr == TimeAttr::kRowtime) {
    return BindTemporalJoin(ref, std::move(left), table, st->column_index());
  }
  if (st->type().time_attr != TimeAttr::kProctime) {
    return Error(rt.system_time->pos,
                 "FOR SYSTEM_TIME AS OF takes a time attribute of the left side: its "
                 "processing-time attribute for a lookup join (`proc_time AS PROCTIME()`) or its "
                 "event-time attribute for a temporal join against a versioned table");
  }
  const connectors::ConnectorFactory* factory =
      connectors::FindConnector(table->Option("connector"));
  if (!factory || !factory->capabilities().lookup) {
    return Error(rt.pos,
                 fmt::format("lookup joins read a table of a lookup connector ({}); "
                             "table '{}' uses connector '{}' (for a table that changes, use an "
                             "event-time temporal join: FOR SYSTEM_TIME AS OF l.rowtime)",
                             fmt::join(ConnectorNames([](const connectors::ConnectorFactory& f) {
                                         return f.capabilities().lookup;
                                       }),
                                       ", "),
                             table->name, table->Option("connector")));
  }
  std::string qual = ToLower(rt.alias.empty() ? rt.name : rt.alias);
  Scope right;
  for (size_t i = 0; i < table->columns.size(); ++i) {
    DataType t = table->columns[i].type;
    t.time_attr = TimeAttr::kNone;
    right.cols.push_back({qual, table->columns[i].name, static_cast<int>(i), t});
  }
  // Output layout: left visible, table columns, left hidden.
  const Schema& ls = left.node->schema;
  int left_visible = 0;
  while (left_visible < static_cast<int>(ls.fields.size()) &&
         ls.fields[left_visible].name.rfind("$", 0) != 0) {
    ++left_visible;
  }
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kLookupJoin;
  n->input = left.node;
  n->table = table;
  n->pos = rt.pos;
  n->script = script_;
  n->updating = left.node->updating;
  n->left_outer = ref.join_type == sql::JoinType::kLeft;
  for (int i = 0; i < left_visible; ++i) n->schema.fields.push_back(ls.fields[i]);
  for (const auto& c : right.cols) n->schema.fields.push_back({c.name, c.type});
  for (size_t i = left_visible; i < ls.fields.size(); ++i) n->schema.fields.push_back(ls.fields[i]);
  n->schema.rowtime_index = ls.rowtime_index;
  FromResult r;
  r.pos = ref.pos;
  r.node = n;
  r.scope = left.scope;
  for (auto c : right.cols) {
    c.index += left_visible;
    r.scope.cols.push_back(c);
  }
  // ON: equalities between one side and the other are the key; the rest filters the pairs.
  std::vector<sql::ExprPtr> conj;
  Conjuncts(ref.on, &conj);
  std::vector<sql::ExprPtr> rest;
  std::vector<std::string> key_texts;
  for (const auto& c : conj) {
    EDDY_ASSIGN_OR_RETURN(auto key, BindJoinKey(*c, left.scope, right));
    if (key) {
      n->left_keys.push_back(key->left);
      n->right_keys.push_back(key->right);
      key_texts.push_back(key->text);
    }
    if (!key) rest.push_back(c);
  }
  if (n->left_keys.empty()) {
    return Error(ref.on->pos,
                 "a lookup join needs an equality between a column of each side in ON "
                 "(ON f.origin = a.iata)");
  }
  n->join_text = fmt::format("{}", fmt::join(key_texts, " AND "));
  EDDY_ASSIGN_OR_RETURN(n->join_filter, BindJoinFilter(rest, r.scope));
  return r;
}

}  // namespace eddy
