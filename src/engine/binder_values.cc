// Binder, part: constant rows. SELECT without FROM (Flink: a SELECT over one row of no columns),
// VALUES lists (Flink's Values node) and column aliases of FROM items (`AS t(x, y)`).
#include <fmt/format.h>

#include "base/status.h"
#include "base/strings.h"
#include "engine/binder_internal.h"
#include "engine/plan.h"

namespace eddy {

namespace {

// Whether `q` is one row of a VALUES list: a SELECT of expressions without FROM or any clause.
bool IsValuesRow(const sql::Query& q) {
  if (q.from || q.where || !q.group_by.empty() || q.having || q.distinct || !q.with.empty() ||
      !q.order_by.empty() || q.limit || !q.union_all.empty()) {
    return false;
  }
  for (const auto& it : q.items) {
    if (it.expr->kind == sql::ExprKind::kStar) return false;
  }
  return true;
}

PlanPtr ValuesNode(std::shared_ptr<runtime::ValuesConfig> cfg, const sql::Pos& pos,
                   std::string_view script) {
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kValues;
  n->schema = cfg->schema;
  n->values = std::move(cfg);
  n->pos = pos;
  n->script = script;
  return n;
}

}  // namespace

bool Binder::IsValuesList(const sql::Query& q) {
  if (q.union_all.size() < 2) return false;
  for (const auto& r : q.union_all) {
    if (!IsValuesRow(*r)) return false;
  }
  return true;
}

absl::StatusOr<Binder::FromResult> Binder::BindNoFrom(const sql::Query& q) {
  auto cfg = std::make_shared<runtime::ValuesConfig>();
  cfg->rows.emplace_back();  // one row, no columns
  FromResult r;
  r.pos = q.pos;
  r.node = ValuesNode(std::move(cfg), q.pos, script_);
  return r;
}

absl::StatusOr<PlanPtr> Binder::BindValuesList(const sql::Query& q) {
  if (!q.order_by.empty() || q.limit) {
    return Error(q.pos, "ORDER BY / LIMIT directly on VALUES is not supported",
                 "select from it: SELECT * FROM (VALUES …) AS t(a, b) ORDER BY a");
  }
  const size_t width = q.union_all[0]->items.size();
  std::vector<std::vector<BoundExprPtr>> rows;
  std::vector<DataType> types(width, DataType::Null());
  Scope empty;
  for (const auto& row : q.union_all) {
    if (row->items.size() != width) {
      return Error(row->pos, fmt::format("this VALUES row has {} columns, the first row has {}",
                                         row->items.size(), width));
    }
    std::vector<BoundExprPtr> exprs;
    for (size_t c = 0; c < width; ++c) {
      const sql::SelectItem& it = row->items[c];
      EDDY_ASSIGN_OR_RETURN(BoundExprPtr e, Bind(*it.expr, empty, nullptr));
      std::optional<DataType> common = CommonType(types[c], e->type());
      // Flink (Calcite) requires compatible types: no implicit STRING ↔ number conversion.
      if (common &&
          (!CanImplicitlyCast(e->type(), *common) || !CanImplicitlyCast(types[c], *common))) {
        common.reset();
      }
      if (!common) {
        return Error(it.pos, fmt::format("column {} of VALUES has type {} here and {} in the rows "
                                         "before: they have no common type",
                                         c + 1, e->type().ToString(), types[c].ToString()));
      }
      types[c] = *common;
      exprs.push_back(std::move(e));
    }
    rows.push_back(std::move(exprs));
  }
  auto cfg = std::make_shared<runtime::ValuesConfig>();
  for (size_t c = 0; c < width; ++c) {
    const sql::SelectItem& first = q.union_all[0]->items[c];
    std::string name = !first.alias.empty()                         ? first.alias
                       : first.expr->kind == sql::ExprKind::kColumn ? first.expr->name
                                                                    : fmt::format("EXPR${}", c);
    DataType t = types[c];
    t.time_attr = TimeAttr::kNone;
    cfg->schema.fields.push_back({name, t});
  }
  for (auto& row : rows) {
    for (size_t c = 0; c < width; ++c) {
      const DataType& t = cfg->schema.fields[c].type;
      if (!row[c]->type().SameAs(t)) {
        if (!CanCast(row[c]->type(), t)) {
          return Error(q.union_all[&row - &rows[0]]->items[c].pos,
                       fmt::format("a {} cannot be a value of column {} ({})",
                                   row[c]->type().ToString(), c + 1, t.ToString()));
        }
        row[c] = MakeCast(row[c], t, false);
      }
    }
  }
  cfg->rows = std::move(rows);
  return ValuesNode(std::move(cfg), q.pos, script_);
}

absl::StatusOr<PlanPtr> Binder::ApplyColumnAliases(const sql::TableRef& ref, PlanPtr node) {
  if (ref.column_aliases.empty()) return node;
  int visible = VisibleColumns(node->schema);
  if (static_cast<int>(ref.column_aliases.size()) != visible) {
    return Error(ref.column_aliases_pos, fmt::format("{} column aliases for {} columns",
                                                     ref.column_aliases.size(), visible));
  }
  for (size_t i = 0; i < ref.column_aliases.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (ToLower(ref.column_aliases[i]) == ToLower(ref.column_aliases[j])) {
        return Error(ref.column_aliases_pos,
                     fmt::format("duplicate column alias '{}'", ref.column_aliases[i]));
      }
    }
  }
  std::vector<BoundExprPtr> proj;
  std::vector<std::string> names;
  for (int i = 0; i < visible; ++i) {
    const Field& f = node->schema.fields[i];
    proj.push_back(MakeColumnRef(i, f.type, f.name));
    names.push_back(ref.column_aliases[i]);
  }
  // Hidden columns other than the row watermark (which MakeCalc carries) keep their names.
  for (size_t i = visible; i < node->schema.fields.size(); ++i) {
    const Field& f = node->schema.fields[i];
    if (f.name == kRowWatermarkColumn) continue;
    proj.push_back(MakeColumnRef(static_cast<int>(i), f.type, f.name));
    names.push_back(f.name);
  }
  PlanPtr calc = MakeCalc(node, nullptr, std::move(proj), std::move(names));
  calc->pos = ref.pos;
  calc->script = script_;
  return calc;
}

}  // namespace eddy
