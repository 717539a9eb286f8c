// Join planning (engine/optimizer.h, PlanLogicalJoin): a logical join and the conditions that
// reached it become an interval join or a regular join with equi-join keys.
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <functional>

#include "base/status.h"
#include "base/strings.h"
#include "connectors/connector.h"
#include "engine/optimizer.h"
#include "sql/sql_error.h"
#include "types/time_util.h"

namespace eddy {

namespace {

// `col`, `col + INTERVAL …` or `col - INTERVAL …` (a day-time interval) where col is an
// event-time attribute of one input (possibly CAST to another TIMESTAMP precision).
struct TimeTerm {
  int side = -1;  // 0 left, 1 right, -1 not a time term
  int col = -1;   // column of that input
  int64_t offset = 0;
  bool has_offset = false;
};

TimeTerm ReadTimeTerm(const BoundExprPtr& e, int lv, const Schema& left, const Schema& right) {
  TimeTerm t;
  BoundExprPtr x = e;
  std::string_view fn = x->function_name();
  if ((fn == "+" || fn == "-") && x->children().size() == 2) {
    const BoundExprPtr iv = x->children()[1];
    if (!iv->literal() || iv->literal()->is_null || iv->type().id != TypeId::kIntervalDayTime) {
      return t;
    }
    t.offset = fn == "-" ? -iv->literal()->i : iv->literal()->i;
    t.has_offset = true;
    x = x->children()[0];
  }
  if (x->function_name() == "CAST" && x->type().is_timestamp()) x = x->children()[0];
  int c = x->column_index();
  if (c < 0) return t;
  int side = c < lv ? 0 : 1;
  int col = side == 0 ? c : c - lv;
  const Schema& s = side == 0 ? left : right;
  if (col >= static_cast<int>(s.fields.size()) || !s.fields[col].type.is_timestamp() ||
      s.fields[col].type.time_attr != TimeAttr::kRowtime) {
    return t;
  }
  t.side = side;
  t.col = col;
  return t;
}

const char* JoinTypeName(sql::JoinType t) {
  switch (t) {
    case sql::JoinType::kLeft:
      return "LeftOuterJoin";
    case sql::JoinType::kRight:
      return "RightOuterJoin";
    case sql::JoinType::kFull:
      return "FullOuterJoin";
    default:
      return "InnerJoin";
  }
}

// Whether every table `n` scans ends by itself (its connector says so for its options).
bool Bounded(const PlanNode* n) {
  if (!n) return true;
  if (n->kind == PlanNode::Kind::kScan) {
    const connectors::ConnectorFactory* f =
        connectors::FindConnector(n->table->Option("connector"));
    if (!f || !f->IsBounded(*n->table)) return false;
  }
  return Bounded(n->input.get()) && Bounded(n->right.get());
}

}  // namespace

bool AlignKeyTypes(BoundExprPtr* l, BoundExprPtr* r) {
  DataType lt = (*l)->type(), rt = (*r)->type();
  if (lt.SameAs(rt) || (lt.is_string() && rt.is_string())) return true;
  if (!lt.is_numeric() || !rt.is_numeric()) return false;
  DataType common = lt.id == TypeId::kDouble || rt.id == TypeId::kDouble ||
                            lt.id == TypeId::kDecimal || rt.id == TypeId::kDecimal
                        ? DataType::Double()
                        : DataType::Bigint();
  if (!lt.SameAs(common)) *l = MakeCast(*l, common, false);
  if (!rt.SameAs(common)) *r = MakeCast(*r, common, false);
  return true;
}

absl::StatusOr<PlanPtr> PlanLogicalJoin(const PlanNode& join, PlanPtr left, PlanPtr right,
                                        std::vector<Predicate> conditions) {
  auto error = [&](sql::Pos pos, const std::string& msg) {
    return sql::SqlError(join.script, pos, msg);
  };
  const Schema& ls = left->schema;
  const Schema& rs = right->schema;
  int lv = VisibleColumns(ls), rv = VisibleColumns(rs);
  std::vector<BoundExprPtr> left_keys, right_keys;
  std::vector<std::string> key_texts;
  std::vector<Predicate> rest, bounds;
  int64_t lower = INT64_MIN, upper = INT64_MAX;
  int ltime = -1, rtime = -1;
  bool window_ends_equal = false;  // … L.window_end = R.window_end (a window join)
  // `a OP b` on time terms of the two sides: a bound on l.ts - r.ts (false otherwise).
  auto add_bound = [&](const Predicate& p, const BoundExprPtr& a, std::string_view op,
                       const BoundExprPtr& b) -> absl::StatusOr<bool> {
    TimeTerm ta = ReadTimeTerm(a, lv, ls, rs), tb = ReadTimeTerm(b, lv, ls, rs);
    if (ta.side < 0 || tb.side < 0 || ta.side == tb.side) return false;
    for (const TimeTerm* t : {&ta, &tb}) {
      if (t->offset > kMaxTimeBound || t->offset < -kMaxTimeBound) {
        return error(p.pos,
                     fmt::format("a time bound of a join must be at most {} days (100 years)",
                                 kMaxTimeBound / kMicrosPerDay));
      }
    }
    int lc = ta.side == 0 ? ta.col : tb.col, rc = ta.side == 0 ? tb.col : ta.col;
    if ((ltime >= 0 && ltime != lc) || (rtime >= 0 && rtime != rc)) {
      return error(p.pos,
                   "all time bounds of an interval join must use the same two time attributes");
    }
    ltime = lc;
    rtime = rc;
    // ta + oa OP tb + ob  <=>  (l - r) OP' k
    std::string_view o = op;
    int64_t k;
    if (ta.side == 0) {
      k = tb.offset - ta.offset;
    } else {
      k = ta.offset - tb.offset;
      o = op == "<" ? ">" : op == "<=" ? ">=" : op == ">" ? "<" : op == ">=" ? "<=" : op;
    }
    if (o == "<=") upper = std::min(upper, k);
    if (o == "<") upper = std::min(upper, k - 1);
    if (o == ">=") lower = std::max(lower, k);
    if (o == ">") lower = std::max(lower, k + 1);
    if (o == "=") {
      lower = std::max(lower, k);
      upper = std::min(upper, k);
    }
    return true;
  };
  for (auto& p : conditions) {
    std::string_view fn = p.expr->function_name();
    std::vector<BoundExprPtr> args = p.expr->children();
    bool used = false;
    if (args.size() == 2 && (fn == "<" || fn == "<=" || fn == ">" || fn == ">=" || fn == "=")) {
      EDDY_ASSIGN_OR_RETURN(used, add_bound(p, args[0], fn, args[1]));
      if (used) {
        bounds.push_back(p);
        continue;
      }
    }
    if (args.size() == 2 && fn == "=") {
      // An equality of an expression over each side: an equi-join key.
      std::vector<int> a = ReferencedColumns(*args[0]), b = ReferencedColumns(*args[1]);
      auto over = [&](const std::vector<int>& cols, int side) {
        if (cols.empty()) return false;
        return side == 0 ? cols.back() < lv : cols.front() >= lv;
      };
      for (int flip = 0; flip < 2 && !used; ++flip) {
        const BoundExprPtr& l = flip ? args[1] : args[0];
        const BoundExprPtr& r = flip ? args[0] : args[1];
        if (!over(flip ? b : a, 0) || !over(flip ? a : b, 1)) continue;
        BoundExprPtr lk = l, rk = ShiftColumns(r, -lv);
        if (!AlignKeyTypes(&lk, &rk)) continue;
        key_texts.push_back(fmt::format("{} = {}", l->ToString(), r->ToString()));
        window_ends_equal |= ToLower(key_texts.back()) == "window_end = window_end";
        left_keys.push_back(lk);
        right_keys.push_back(rk);
        used = true;
      }
    }
    if (!used) rest.push_back(std::move(p));
  }
  // Window join (Flink SQL): two window aggregations joined on window_start and window_end. Each
  // side's rows of a window carry window_time = window_end - 1 ms, so equal window ends mean equal
  // window times: an interval join with both bounds 0 on window_time.
  if (lower == INT64_MIN && upper == INT64_MAX && window_ends_equal) {
    int lw = -1, rw = -1;
    for (int i = 0; i < lv; ++i) {
      const Field& f = ls.fields[i];
      if (ToLower(f.name) == "window_time" && f.type.time_attr == TimeAttr::kRowtime) lw = i;
    }
    for (int i = 0; i < rv; ++i) {
      const Field& f = rs.fields[i];
      if (ToLower(f.name) == "window_time" && f.type.time_attr == TimeAttr::kRowtime) rw = i;
    }
    if (lw < 0 || rw < 0) {
      return error(join.pos,
                   "a window join needs window_time in the SELECT list of both windowed inputs "
                   "(it is their event-time attribute)");
    }
    ltime = lw;
    rtime = rw;
    lower = upper = 0;
  }
  bool left_outer =
      join.join_type == sql::JoinType::kLeft || join.join_type == sql::JoinType::kFull;
  bool right_outer =
      join.join_type == sql::JoinType::kRight || join.join_type == sql::JoinType::kFull;
  bool regular = lower == INT64_MIN || upper == INT64_MAX;
  if (!regular && (left->updating || right->updating)) {
    return error(join.pos, "an interval join takes insert-only inputs, not updating results");
  }
  if (!regular && left_keys.empty()) {
    return error(join.pos,
                 "an interval join needs an equality between the two sides (ON l.k = r.k)");
  }
  if (regular) {
    // Flink: without both bounds the time conditions are ordinary conditions of a regular join.
    for (auto& p : bounds) rest.push_back(std::move(p));
    if (left_keys.empty() && !(Bounded(left.get()) && Bounded(right.get()))) {
      return error(join.pos,
                   "a join without an equality between the two sides (a cross product) of an "
                   "unbounded input would keep every row of both inputs forever; add a condition "
                   "l.k = r.k (in ON or WHERE)");
    }
  }
  if (!regular && lower > upper) {
    return error(join.pos, "the time bounds of this join can never hold");
  }
  auto n = std::make_shared<PlanNode>();
  n->input = left;
  n->right = right;
  n->pos = join.pos;
  n->script = join.script;
  BoundExprPtr residual = AndOf(rest);
  if (regular) {
    auto cfg = std::make_shared<runtime::RegularJoinConfig>();
    cfg->left_keys = left_keys;
    cfg->right_keys = right_keys;
    cfg->left_outer = left_outer;
    cfg->right_outer = right_outer;
    n->kind = PlanNode::Kind::kRegularJoin;
    // An inner join of insert-only inputs only ever adds pairs (Flink: append-only); outer
    // joins retract their NULL-padded rows, and retractions of an input retract its pairs.
    n->updating = left_outer || right_outer || left->updating || right->updating;
    for (int side = 0; side < 2; ++side) {
      const Schema& s = side == 0 ? ls : rs;
      for (int i = 0; i < (side == 0 ? lv : rv); ++i) {
        DataType t = s.fields[i].type;
        t.time_attr = TimeAttr::kNone;  // a regular join's output has no time attribute
        (side == 0 ? cfg->left_types : cfg->right_types).push_back(t);
        n->schema.fields.push_back({s.fields[i].name, t});
      }
    }
    cfg->residual = residual;
    cfg->name = fmt::format("Join(joinType=[{}], on=[{}]{})", JoinTypeName(join.join_type),
                            fmt::join(key_texts, " AND "),
                            residual ? fmt::format(", where=[{}]", residual->ToString()) : "");
    n->regular_join = cfg;
    return n;
  }
  auto cfg = std::make_shared<runtime::IntervalJoinConfig>();
  cfg->left_columns = lv;
  cfg->right_columns = rv;
  cfg->left_keys = left_keys;
  cfg->right_keys = right_keys;
  cfg->left_time = ltime;
  cfg->right_time = rtime;
  cfg->lower = lower;
  cfg->upper = upper;
  // One µs more than the bound: a kept row expires at the first watermark past its reach, so the
  // output watermark before it stood at most at its time minus the bound; with the extra µs an
  // expired outer row is never at or behind the output watermark (late downstream) whichever
  // input's watermark happened to arrive first.
  cfg->watermark_delay = std::max<int64_t>({0, -lower, upper}) + 1;
  n->kind = PlanNode::Kind::kIntervalJoin;
  // Outer joins: the padded side's columns are NULL in some rows, so its time column is no time
  // attribute there; the output's time attribute is the preserved side's (none for FULL).
  cfg->left_outer = left_outer;
  cfg->right_outer = right_outer;
  for (int side = 0; side < 2; ++side) {
    const Schema& s = side == 0 ? ls : rs;
    bool padded = side == 0 ? right_outer : left_outer;
    for (int i = 0; i < (side == 0 ? lv : rv); ++i) {
      Field f = s.fields[i];
      if (padded) {
        f.type.nullable = true;
        f.type.time_attr = TimeAttr::kNone;
      }
      (side == 0 ? cfg->left_types : cfg->right_types).push_back(f.type);
      n->schema.fields.push_back(f);
    }
  }
  n->schema.rowtime_index = right_outer ? (left_outer ? -1 : lv + rtime) : ltime;
  cfg->residual = residual;
  auto human = [](int64_t us) { return fmt::format("{} ms", us / 1000); };
  cfg->name =
      fmt::format("IntervalJoin(joinType=[{}], on=[{}], time=[{} - {} BETWEEN {} AND {}]{})",
                  JoinTypeName(join.join_type), fmt::join(key_texts, " AND "),
                  ls.fields[ltime].name, rs.fields[rtime].name, human(lower), human(upper),
                  residual ? fmt::format(", where=[{}]", residual->ToString()) : "");
  n->interval = cfg;
  return n;
}

}  // namespace eddy
