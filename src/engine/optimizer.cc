// Filter push-down (engine/optimizer.h): filters move from above Calcs and joins into and below
// them, and logical joins are planned once every condition that can reach them has.
#include "engine/optimizer.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "base/status.h"

namespace eddy {

void SplitConjuncts(const BoundExprPtr& e, sql::Pos pos, std::vector<Predicate>* out) {
  if (e->function_name() == "AND") {
    for (const auto& c : e->children()) SplitConjuncts(c, pos, out);
    return;
  }
  out->push_back({e, pos});
}

BoundExprPtr AndOf(const std::vector<Predicate>& preds) {
  if (preds.empty()) return nullptr;
  if (preds.size() == 1) return preds[0].expr;
  std::vector<BoundExprPtr> args;
  for (const auto& p : preds) args.push_back(p.expr);
  return MakeAnd(std::move(args));
}

namespace {

void CollectColumns(const BoundExpr& e, std::set<int>* out) {
  if (e.column_index() >= 0) out->insert(e.column_index());
  for (const auto& c : e.children()) CollectColumns(*c, out);
}

// `e` with each column reference replaced by `f(reference)` (which may return it unchanged).
BoundExprPtr MapColumns(const BoundExprPtr& e,
                        const std::function<BoundExprPtr(const BoundExprPtr&)>& f) {
  if (e->column_index() >= 0) return f(e);
  std::vector<BoundExprPtr> kids = e->children();
  if (kids.empty()) return e;
  for (auto& k : kids) k = MapColumns(k, f);
  return e->WithChildren(std::move(kids));
}

// The name a column reference was bound with ("" when it prints as $n).
std::string RefName(const BoundExpr& ref) {
  std::string s = ref.ToString();
  return s == "$" + std::to_string(ref.column_index()) ? "" : s;
}

// Functions whose value depends on when or where they are evaluated: a condition using them is
// not moved (Flink pushes down deterministic conditions only).
bool Deterministic(const BoundExpr& e) {
  static const std::set<std::string_view> kDynamic = {
      "CURRENT_WATERMARK",    "PROCTIME",     "NOW",          "CURRENT_TIMESTAMP",
      "LOCALTIMESTAMP",       "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME",
      "UNIX_TIMESTAMP",       "RAND",         "RAND_INTEGER", "UUID",
      "CURRENT_ROW_TIMESTAMP"};
  if (kDynamic.count(e.function_name())) return false;
  for (const auto& c : e.children()) {
    if (!Deterministic(*c)) return false;
  }
  return true;
}

// A Calc that only filters `input`, keeping all its columns (hidden ones too); `input` when
// there is nothing to filter.
PlanPtr FilterOver(const PlanPtr& input, std::vector<Predicate> preds) {
  if (preds.empty()) return input;
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kCalc;
  n->input = input;
  n->schema = input->schema;
  n->updating = input->updating;
  for (size_t i = 0; i < input->schema.fields.size(); ++i) {
    const Field& f = input->schema.fields[i];
    n->projections.push_back(MakeColumnRef(static_cast<int>(i), f.type, f.name));
  }
  n->filter = AndOf(preds);
  n->predicates = std::move(preds);
  return n;
}

// Whether `n` is a Calc that only filters (every column of its input, in order).
bool IsFilterOnly(const PlanNode& n) {
  if (n.kind != PlanNode::Kind::kCalc || !n.filter) return false;
  if (n.projections.size() != n.input->schema.fields.size()) return false;
  for (size_t i = 0; i < n.projections.size(); ++i) {
    if (n.projections[i]->column_index() != static_cast<int>(i)) return false;
  }
  return true;
}

// Whether the Calc `n` outputs exactly its input's columns, in order, under the same names.
bool IsIdentity(const PlanNode& n) {
  const Schema& in = n.input->schema;
  if (n.projections.size() != in.fields.size()) return false;
  for (size_t i = 0; i < n.projections.size(); ++i) {
    if (n.projections[i]->column_index() != static_cast<int>(i) ||
        n.schema.fields[i].name != in.fields[i].name) {
      return false;
    }
  }
  return true;
}

// The conjuncts of a Calc's filter, with their positions when the binder kept them.
std::vector<Predicate> FilterConjuncts(const PlanNode& n) {
  std::vector<Predicate> out;
  if (!n.predicates.empty()) {
    for (const auto& p : n.predicates) SplitConjuncts(p.expr, p.pos, &out);
  } else if (n.filter) {
    SplitConjuncts(n.filter, n.pos, &out);
  }
  return out;
}

class FilterPushDown {
 public:
  // `n` with `preds` (conditions over its output) applied, as deep in it as they may go.
  absl::StatusOr<PlanPtr> Push(const PlanPtr& n, std::vector<Predicate> preds) {
    switch (n->kind) {
      case PlanNode::Kind::kCalc:
        return PushThroughCalc(n, std::move(preds));
      case PlanNode::Kind::kJoin:
        return PlanJoin(n, std::move(preds));
      case PlanNode::Kind::kRegularJoin:
      case PlanNode::Kind::kIntervalJoin:
        return PushBelowJoin(n, std::move(preds));
      default:
        return FilterOver(n, std::move(preds));
    }
  }

 private:
  absl::StatusOr<PlanPtr> PushThroughCalc(const PlanPtr& n, std::vector<Predicate> preds) {
    const auto& proj = n->projections;
    std::vector<Predicate> down, keep, own_keep;
    for (auto& p : preds) {
      bool simple = Deterministic(*p.expr);
      for (int c : ReferencedColumns(*p.expr)) {
        simple &= c < static_cast<int>(proj.size()) &&
                  (proj[c]->column_index() >= 0 || proj[c]->literal() != nullptr);
      }
      if (!simple) {
        keep.push_back(std::move(p));
        continue;
      }
      p.expr =
          MapColumns(p.expr, [&](const BoundExprPtr& ref) { return proj[ref->column_index()]; });
      down.push_back(std::move(p));
    }
    for (auto& p : FilterConjuncts(*n)) {
      (Deterministic(*p.expr) ? down : own_keep).push_back(std::move(p));
    }
    bool join_below = n->input->kind == PlanNode::Kind::kJoin;
    if (down.empty() && !join_below) return FilterOver(n, std::move(keep));
    EDDY_ASSIGN_OR_RETURN(PlanPtr input, Push(n->input, std::move(down)));
    auto c = std::make_shared<PlanNode>(*n);
    // Calc merging: a filter left directly on the input becomes this Calc's filter.
    if (input != n->input && IsFilterOnly(*input) && input->input) {
      for (auto& p : FilterConjuncts(*input)) own_keep.push_back(std::move(p));
      input = input->input;
    }
    c->input = input;
    c->filter = AndOf(own_keep);
    c->predicates = std::move(own_keep);
    RetypeCalc(c.get());
    // A Calc left without a filter that passes its input through unchanged goes away.
    if (!c->filter && IsIdentity(*c)) return FilterOver(input, std::move(keep));
    return FilterOver(c, std::move(keep));
  }

  // A Calc over a changed input: its column references and output types follow the input's
  // (a join planned below it may have dropped a time attribute or made a side nullable).
  static void RetypeCalc(PlanNode* c) {
    const Schema& in = c->input->schema;
    c->updating = c->input->updating;
    c->schema.rowtime_index = -1;
    for (size_t i = 0; i < c->projections.size(); ++i) {
      auto& p = c->projections[i];
      int k = p->column_index();
      if (k >= 0 && k < static_cast<int>(in.fields.size())) {
        p = MakeColumnRef(k, in.fields[k].type, RefName(*p));
        c->schema.fields[i].type = in.fields[k].type;
      }
      if (c->schema.fields[i].type.time_attr == TimeAttr::kRowtime && c->schema.rowtime_index < 0) {
        c->schema.rowtime_index = static_cast<int>(i);
      }
    }
  }

  // Which input of a join with `lv` left columns a condition reads only: 0 left, 1 right, -1
  // both or neither (or it is not deterministic).
  static int Side(const Predicate& p, int lv) {
    if (!Deterministic(*p.expr)) return -1;
    std::vector<int> cols = ReferencedColumns(*p.expr);
    if (cols.empty()) return -1;
    if (cols.back() < lv) return 0;
    if (cols.front() >= lv) return 1;
    return -1;
  }

  absl::StatusOr<PlanPtr> PushBelowJoin(const PlanPtr& n, std::vector<Predicate> preds) {
    if (preds.empty()) return n;
    bool left_outer = n->kind == PlanNode::Kind::kRegularJoin ? n->regular_join->left_outer
                                                              : n->interval->left_outer;
    bool right_outer = n->kind == PlanNode::Kind::kRegularJoin ? n->regular_join->right_outer
                                                               : n->interval->right_outer;
    int lv = VisibleColumns(n->input->schema);
    std::vector<Predicate> lp, rp, keep;
    for (auto& p : preds) {
      int side = Side(p, lv);
      // A WHERE condition goes to a preserved side only (an outer join's padded rows must see
      // it).
      if (side == 0 && !right_outer) {
        lp.push_back(std::move(p));
      } else if (side == 1 && !left_outer) {
        p.expr = ShiftColumns(p.expr, -lv);
        rp.push_back(std::move(p));
      } else {
        keep.push_back(std::move(p));
      }
    }
    auto j = std::make_shared<PlanNode>(*n);
    EDDY_ASSIGN_OR_RETURN(j->input, Push(n->input, std::move(lp)));
    EDDY_ASSIGN_OR_RETURN(j->right, Push(n->right, std::move(rp)));
    return FilterOver(j, std::move(keep));
  }

  absl::StatusOr<PlanPtr> PlanJoin(const PlanPtr& n, std::vector<Predicate> preds) {
    using sql::JoinType;
    JoinType type = n->join_type;
    bool inner = type == JoinType::kInner || type == JoinType::kCross;
    int lv = VisibleColumns(n->input->schema);
    std::vector<Predicate> cond, lp, rp, keep, above;
    for (const auto& p : n->condition) SplitConjuncts(p.expr, p.pos, &cond);
    for (auto& p : preds) {
      int side = Side(p, lv);
      if (inner && Deterministic(*p.expr)) {
        cond.push_back(std::move(p));  // WHERE over an inner join: a join condition
      } else if (side == 0 && type == JoinType::kLeft) {
        lp.push_back(std::move(p));
      } else if (side == 1 && type == JoinType::kRight) {
        p.expr = ShiftColumns(p.expr, -lv);
        rp.push_back(std::move(p));
      } else {
        above.push_back(std::move(p));
      }
    }
    // A condition of the join over one input only filters that input before the join, where
    // the join type allows it (an ON condition on the preserved side of an outer join decides
    // which rows match, not which rows appear).
    for (auto& p : cond) {
      int side = Side(p, lv);
      if (side == 0 && (inner || type == JoinType::kRight)) {
        lp.push_back(std::move(p));
      } else if (side == 1 && (inner || type == JoinType::kLeft)) {
        p.expr = ShiftColumns(p.expr, -lv);
        rp.push_back(std::move(p));
      } else {
        keep.push_back(std::move(p));
      }
    }
    EDDY_ASSIGN_OR_RETURN(PlanPtr left, Push(n->input, std::move(lp)));
    EDDY_ASSIGN_OR_RETURN(PlanPtr right, Push(n->right, std::move(rp)));
    EDDY_ASSIGN_OR_RETURN(PlanPtr j, PlanLogicalJoin(*n, left, right, std::move(keep)));
    return FilterOver(j, std::move(above));
  }
};

}  // namespace

std::vector<int> ReferencedColumns(const BoundExpr& e) {
  std::set<int> s;
  CollectColumns(e, &s);
  return std::vector<int>(s.begin(), s.end());
}

BoundExprPtr ShiftColumns(const BoundExprPtr& e, int delta) {
  return MapColumns(e, [&](const BoundExprPtr& ref) {
    return MakeColumnRef(ref->column_index() + delta, ref->type(), RefName(*ref));
  });
}

absl::StatusOr<PlanPtr> PushDownFilters(const PlanPtr& plan) {
  FilterPushDown rule;
  return rule.Push(plan, {});
}

}  // namespace eddy
