// Binder: SQL AST → logical plan (engine/plan.h). Flink SQL semantics for name resolution,
// implicit casts, window TVFs and grouping.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/status.h"
#include "base/strings.h"
#include "engine/binder_internal.h"
#include "engine/plan.h"
#include "function/aggregate.h"
#include "function/function_registry.h"
#include "function/numeric.h"
#include "sql/sql_error.h"
#include "types/text_codec.h"
#include "types/time_util.h"

namespace eddy {

using sql::Expr;
using sql::ExprKind;
using sql::Pos;

std::string AstKey(const Expr& e) {
  std::string s = fmt::format("{}|", static_cast<int>(e.kind));
  switch (e.kind) {
    case ExprKind::kColumn:
      return s + ToLower(e.name);
    case ExprKind::kLiteral:
      return s + fmt::format("{}:{}", static_cast<int>(e.lit_type), e.text);
    default:
      break;
  }
  s += ToUpper(e.name) + "|" + e.op + "|" + e.unit + "|" + e.unit2 + "|" + e.text + "|" +
       (e.distinct ? "D" : "") + (e.star_arg ? "*" : "") + (e.negated ? "N" : "") +
       (e.bool_value ? "T" : "") + e.cast_type.ToString() + (e.try_cast ? "T" : "");
  for (const auto& a : e.args) s += "(" + (a ? AstKey(*a) : "") + ")";
  if (e.filter) s += "F(" + AstKey(*e.filter) + ")";
  return s;
}

std::string PlanNode::Describe() const {
  auto cols = [](const Schema& s) {
    std::string r;
    for (const auto& f : s.fields) {
      if (f.name.rfind("$", 0) == 0) continue;
      r += (r.empty() ? "" : ", ") + f.name;
    }
    return r;
  };
  switch (kind) {
    case Kind::kScan:
      return fmt::format("TableSourceScan(table=[{}], fields=[{}], connector=[{}])", table->name,
                         cols(schema), table->Option("connector"));
    case Kind::kCalc: {
      std::string p;
      for (size_t i = 0; i < projections.size(); ++i) {
        if (schema.fields[i].name.rfind("$", 0) == 0) continue;
        std::string t = projections[i]->ToString();
        p += (p.empty() ? "" : ", ") +
             (t == schema.fields[i].name ? t : fmt::format("{} AS {}", t, schema.fields[i].name));
      }
      return fmt::format("Calc(select=[{}]{})", p,
                         filter ? fmt::format(", where=[{}]", filter->ToString()) : "");
    }
    case Kind::kWindowAgg:
    case Kind::kGroupAgg: {
      std::string keys, aggs;
      for (int k : agg.key_columns) {
        keys += (keys.empty() ? "" : ", ") + input->schema.fields[k].name;
      }
      for (const auto& a : agg_texts) aggs += (aggs.empty() ? "" : ", ") + a;
      if (kind == Kind::kGroupAgg) {
        return fmt::format("GroupAggregate(groupBy=[{}], select=[{}])", keys, aggs);
      }
      return fmt::format("WindowAggregate(groupBy=[{}], window=[{}], select=[{}])", keys,
                         window_text, aggs);
    }
    case Kind::kMatchRecognize:
      return match->name;
    case Kind::kIntervalJoin:
      return interval->name;
    case Kind::kOverAgg:
      return over_agg->name;
    case Kind::kRegularJoin:
      return regular_join->name;
    case Kind::kTemporalJoin:
      return temporal->name;
    case Kind::kRank:
      return rank->name + fmt::format(", rankRange=[rankStart=1, rankEnd={}])", rank->limit);
    case Kind::kWindowRank:
      return window_rank->name;
    case Kind::kJoin: {
      std::vector<std::string> c;
      for (const auto& p : condition) c.push_back(p.expr->ToString());
      const char* type = join_type == sql::JoinType::kLeft    ? "LeftOuterJoin"
                         : join_type == sql::JoinType::kRight ? "RightOuterJoin"
                         : join_type == sql::JoinType::kFull  ? "FullOuterJoin"
                         : join_type == sql::JoinType::kCross ? "CrossJoin"
                                                              : "InnerJoin";
      return fmt::format("LogicalJoin(joinType=[{}], condition=[{}])", type, fmt::join(c, " AND "));
    }
    case Kind::kValues: {
      std::vector<std::string> rows;
      for (const auto& row : values->rows) {
        std::vector<std::string> v;
        for (const auto& e : row) v.push_back(e->ToString());
        rows.push_back(v.empty() ? "{ }" : fmt::format("{{ {} }}", fmt::join(v, ", ")));
      }
      return fmt::format("Values(tuples=[[{}]], fields=[{}])", fmt::join(rows, ", "), cols(schema));
    }
    case Kind::kLookupJoin:
      return fmt::format("LookupJoin(table=[{}], joinType=[{}], on=[{}]{})", table->name,
                         left_outer ? "LeftOuterJoin" : "InnerJoin", join_text,
                         join_filter ? fmt::format(", where=[{}]", join_filter->ToString()) : "");
  }
  return "";
}

absl::Status Binder::Error(Pos pos, const std::string& msg, const std::string& hint) const {
  return sql::SqlError(script_, pos, msg, hint);
}

PlanPtr Binder::MakeCalc(PlanPtr input, BoundExprPtr filter, std::vector<BoundExprPtr> proj,
                         std::vector<std::string> names) {
  auto n = std::make_shared<PlanNode>();
  n->kind = PlanNode::Kind::kCalc;
  n->updating = input->updating;
  int wm = input->schema.IndexOf(kRowWatermarkColumn);
  if (wm >= 0) {
    proj.push_back(MakeColumnRef(wm, DataType::Bigint(), kRowWatermarkColumn));
    names.push_back(kRowWatermarkColumn);
  }
  for (size_t i = 0; i < proj.size(); ++i) {
    n->schema.fields.push_back({names[i], proj[i]->type()});
    if (proj[i]->type().time_attr == TimeAttr::kRowtime && n->schema.rowtime_index < 0) {
      n->schema.rowtime_index = static_cast<int>(i);
    }
  }
  n->filter = std::move(filter);
  n->projections = std::move(proj);
  n->input = std::move(input);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Expressions

namespace {

absl::StatusOr<Value> LiteralValue(const Expr& e) {
  switch (e.lit_type) {
    case sql::LiteralType::kNull:
      return Value::Null();
    case sql::LiteralType::kTrue:
      return Value::Bool(true);
    case sql::LiteralType::kFalse:
      return Value::Bool(false);
    case sql::LiteralType::kInteger: {
      int64_t v;
      if (!text::ParseInt64(e.text, &v)) {
        // Too large for BIGINT: Flink reads it as DECIMAL; eddy's DECIMAL holds 18 digits.
        return absl::InvalidArgumentError(
            fmt::format("integer literal {} is out of range", e.text));
      }
      if (v >= INT32_MIN && v <= INT32_MAX) return Value::Int64(DataType::Int(), v);
      return Value::Int64(DataType::Bigint(), v);
    }
    case sql::LiteralType::kDecimal: {
      size_t dot = e.text.find('.');
      int scale = dot == std::string::npos ? 0 : static_cast<int>(e.text.size() - dot - 1);
      int digits = 0;
      for (char c : e.text) digits += (c >= '0' && c <= '9');
      int precision = std::max(digits, scale);
      if (precision > 18) {
        double d;
        text::ParseDouble(e.text, &d);
        return Value::Double(d);
      }
      int64_t v;
      if (text::ParseDecimal(e.text, precision, scale, &v) != text::DecimalParse::kOk) {
        return absl::InvalidArgumentError(fmt::format("bad decimal literal {}", e.text));
      }
      return Value::Int64(DataType::Decimal(std::max(1, precision), scale), v);
    }
    case sql::LiteralType::kDouble: {
      double d;
      if (!text::ParseDouble(e.text, &d)) {
        return absl::InvalidArgumentError(fmt::format("bad number {}", e.text));
      }
      return Value::Double(d);
    }
    case sql::LiteralType::kString: {
      Value v = Value::String(e.text);
      return v;
    }
    case sql::LiteralType::kTimestamp: {
      auto ts = ParseTimestamp(e.text);
      if (!ts) {
        return absl::InvalidArgumentError(fmt::format("bad TIMESTAMP literal '{}'", e.text));
      }
      size_t dot = e.text.find('.');
      int p = dot == std::string::npos
                  ? 0
                  : std::min<int>(9, static_cast<int>(e.text.size() - dot - 1));
      return Value::Int64(DataType::Timestamp(std::min(p, 6)), *ts);
    }
    case sql::LiteralType::kDate: {
      auto d = ParseDate(e.text);
      if (!d) return absl::InvalidArgumentError(fmt::format("bad DATE literal '{}'", e.text));
      return Value::Int64(DataType::Date(), *d);
    }
    case sql::LiteralType::kTime:
      return absl::UnimplementedError("TIME values are not supported yet");
  }
  return absl::InternalError("unknown literal");
}

std::string SingularUnit(std::string u) {
  u = ToUpper(u);
  if (u.size() > 1 && u.back() == 'S') u.pop_back();
  return u;
}

}  // namespace

absl::StatusOr<int64_t> Binder::IntervalMicros(const Expr& e) {
  if (e.kind != ExprKind::kInterval) return Error(e.pos, "expected an INTERVAL literal");
  std::string unit = SingularUnit(e.unit), unit2 = SingularUnit(e.unit2);
  std::string value(text::Trim(e.text));
  bool neg = !value.empty() && value[0] == '-';
  if (neg || (!value.empty() && value[0] == '+')) value = value.substr(1);
  auto num = [&](std::string_view s, int64_t* v) { return text::ParseInt64(s, v) && *v >= 0; };
  auto out_of_range = [&]() {
    return Error(e.pos, fmt::format("interval '{}' {} is out of range (at most about 106751 days)",
                                    e.text, unit2.empty() ? unit : unit + " TO " + unit2));
  };
  // Seconds with a fraction, in µs (rounded half up); false when not a number or too large.
  auto seconds = [&](std::string_view s, int64_t* us) {
    double d;
    if (!text::ParseDouble(s, &d) || !(d >= 0)) return false;
    if (d >= 9.2e12) return false;  // INT64_MAX µs is about 9.22e12 s
    *us = static_cast<int64_t>(d * kMicrosPerSecond + 0.5);
    return true;
  };
  int64_t total = 0;
  auto mul = [](const std::string& u) -> int64_t {
    if (u == "DAY") return kMicrosPerDay;
    if (u == "HOUR") return kMicrosPerHour;
    if (u == "MINUTE") return kMicrosPerMinute;
    if (u == "SECOND") return kMicrosPerSecond;
    if (u == "MILLISECOND") return 1000;
    return 0;
  };
  if (unit2.empty()) {
    if (mul(unit) == 0) {
      return Error(e.pos, fmt::format("unsupported interval unit {} here (use DAY, HOUR, MINUTE, "
                                      "SECOND or MILLISECOND)",
                                      unit));
    }
    if (unit == "SECOND" && value.find('.') != std::string::npos) {
      double d;
      if (!text::ParseDouble(value, &d) || d < 0)
        return Error(e.pos, fmt::format("bad interval '{}'", e.text));
      if (!seconds(value, &total)) return out_of_range();
    } else {
      int64_t v;
      if (!num(value, &v)) return Error(e.pos, fmt::format("bad interval value '{}'", e.text));
      if (__builtin_mul_overflow(v, mul(unit), &total)) return out_of_range();
    }
  } else {
    // 'd hh:mm:ss' style: split on space and ':'; fields from `unit` down to `unit2`.
    static const std::vector<std::string> kOrder = {"DAY", "HOUR", "MINUTE", "SECOND"};
    auto from = std::find(kOrder.begin(), kOrder.end(), unit);
    auto to = std::find(kOrder.begin(), kOrder.end(), unit2);
    if (from == kOrder.end() || to == kOrder.end() || to < from) {
      return Error(e.pos, fmt::format("unsupported interval {} TO {}", unit, unit2));
    }
    std::vector<std::string> parts;
    std::string cur;
    for (char c : value) {
      if (c == ' ' || c == ':') {
        parts.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    parts.push_back(cur);
    if (parts.size() != static_cast<size_t>(to - from + 1)) {
      return Error(e.pos,
                   fmt::format("interval '{}' does not match {} TO {}", e.text, unit, unit2));
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& u = *(from + static_cast<long>(i));
      int64_t part;
      if (u == "SECOND" && parts[i].find('.') != std::string::npos) {
        double d;
        if (!text::ParseDouble(parts[i], &d) || d < 0) return Error(e.pos, "bad interval seconds");
        if (!seconds(parts[i], &part)) return out_of_range();
      } else {
        int64_t v;
        if (!num(parts[i], &v)) return Error(e.pos, fmt::format("bad interval '{}'", e.text));
        if (__builtin_mul_overflow(v, mul(u), &part)) return out_of_range();
      }
      if (__builtin_add_overflow(total, part, &total)) return out_of_range();
    }
  }
  return neg ? -total : total;
}

absl::StatusOr<int64_t> Binder::TimeBoundMicros(const Expr& e, std::string_view what) {
  EDDY_ASSIGN_OR_RETURN(int64_t us, IntervalMicros(e));
  if (us > kMaxTimeBound || us < -kMaxTimeBound) {
    return Error(e.pos, fmt::format("{} must be at most {} days (100 years)", what,
                                    kMaxTimeBound / kMicrosPerDay));
  }
  return us;
}

absl::StatusOr<BoundExprPtr> Binder::BindCall(const std::string& name,
                                              std::vector<BoundExprPtr> args,
                                              const std::vector<Pos>& arg_pos, Pos pos) {
  std::vector<DataType> types;
  std::vector<const Value*> lits;
  for (const auto& a : args) {
    types.push_back(a->type());
    lits.push_back(a->literal());
  }
  auto r = ResolveScalarFunction(name, types, lits);
  if (!r.ok()) {
    if (absl::IsNotFound(r.status())) {
      std::vector<std::string> names = ScalarFunctionNames();
      for (const auto& n : AggregateFunctionNames()) names.push_back(n);
      std::string near = ClosestName(name, names);
      return Error(pos, fmt::format("unknown function '{}'", name),
                   near.empty() ? "" : fmt::format("did you mean '{}'?", near));
    }
    return Error(pos, std::string(r.status().message()));
  }
  for (size_t i = 0; i < args.size() && i < r->arg_types.size(); ++i) {
    const DataType& want = r->arg_types[i];
    const DataType& have = args[i]->type();
    bool same = have.SameAs(want) &&
                (have.time_attr == TimeAttr::kNone || want.time_attr != TimeAttr::kNone || true);
    if (same || (want.is_string() && have.is_string())) continue;
    BoundExprPtr cast = MakeCast(args[i], want, false);
    if (args[i]->literal()) {
      auto v = EvalConstant(*cast);
      if (!v.ok())
        return Error(i < arg_pos.size() ? arg_pos[i] : pos, std::string(v.status().message()));
      cast = MakeLiteral(*v);
    }
    args[i] = cast;
  }
  bool all_const = !args.empty() && name != "CURRENT_WATERMARK";
  for (const auto& a : args) all_const &= a->literal() != nullptr;
  BoundExprPtr call = MakeCall(name, r->kernel, r->result, std::move(args));
  if (all_const) {
    auto v = EvalConstant(*call);
    if (!v.ok()) return Error(pos, std::string(v.status().message()));
    Value lit = *v;
    lit.type = r->result;
    return MakeLiteral(lit);
  }
  return call;
}

absl::StatusOr<BoundExprPtr> Binder::Bind(const Expr& e, const Scope& scope, AggContext* agg) {
  if (++depth_ > 200) {
    --depth_;
    return Error(e.pos, "expression is nested too deeply");
  }
  struct DepthGuard {
    int* d;
    ~DepthGuard() { --*d; }
  } guard{&depth_};

  if (agg && !agg->collecting) {
    std::string key = AstKey(e);
    auto k = agg->keys.find(key);
    if (k != agg->keys.end())
      return MakeColumnRef(k->second.first, k->second.second, e.name.empty() ? key : e.name);
    auto a = agg->aggs.find(key);
    if (a != agg->aggs.end()) return MakeColumnRef(a->second.first, a->second.second, "agg");
  }
  auto bind_args = [&](std::vector<BoundExprPtr>* out, std::vector<Pos>* pos) -> absl::Status {
    for (const auto& a : e.args) {
      EDDY_ASSIGN_OR_RETURN(auto b, Bind(*a, scope, agg));
      out->push_back(b);
      pos->push_back(a->pos);
    }
    return absl::OkStatus();
  };
  auto boolean = [&](const BoundExprPtr& b, Pos p) -> absl::Status {
    if (b->type().id != TypeId::kBoolean && b->type().id != TypeId::kNull) {
      return Error(p, fmt::format("expected a BOOLEAN expression, got {}", b->type().ToString()));
    }
    return absl::OkStatus();
  };
  switch (e.kind) {
    case ExprKind::kLiteral: {
      auto v = LiteralValue(e);
      if (!v.ok()) return Error(e.pos, std::string(v.status().message()));
      return MakeLiteral(*v);
    }
    case ExprKind::kInterval: {
      std::string unit = SingularUnit(e.unit);
      if ((unit == "YEAR" || unit == "MONTH") &&
          (e.unit2.empty() || SingularUnit(e.unit2) == "MONTH")) {
        int64_t months = 0;
        std::string t(text::Trim(e.text));
        bool neg = !t.empty() && t[0] == '-';
        if (neg || (!t.empty() && t[0] == '+')) t = t.substr(1);
        size_t dash = t.find('-');
        int64_t a = 0, b = 0;
        if (!e.unit2.empty() && dash != std::string::npos) {
          if (!text::ParseInt64(t.substr(0, dash), &a) ||
              !text::ParseInt64(t.substr(dash + 1), &b) || a < 0 || b < 0 || b > 11) {
            return Error(e.pos,
                         fmt::format("bad interval '{}' (YEAR TO MONTH is 'y-m', m < 12)", e.text));
          }
        } else if (!text::ParseInt64(t, &a) || a < 0) {
          return Error(e.pos, fmt::format("bad interval '{}'", e.text));
        }
        // Flink's widest leading field, YEAR(9) / MONTH(9): keeps month arithmetic from
        // overflowing.
        if (a > 999'999'999)
          return Error(e.pos, fmt::format("interval '{}' is out of range", e.text));
        months = !e.unit2.empty() || unit == "YEAR" ? a * 12 + b : a;
        if (neg) months = -months;
        return MakeLiteral(Value::Int64(DataType::IntervalYearMonth(), months));
      }
      EDDY_ASSIGN_OR_RETURN(int64_t us, IntervalMicros(e));
      return MakeLiteral(Value::Int64(DataType::IntervalDayTime(), us));
    }
    case ExprKind::kColumn: {
      if (agg && !agg->collecting && !agg->in_agg) {
        return Error(e.pos, fmt::format("column '{}' must appear in the GROUP BY clause or be used "
                                        "in an aggregate function",
                                        e.name));
      }
      std::string q = ToLower(e.qualifier), n = ToLower(e.name);
      const ScopeColumn* hit = nullptr;
      std::vector<std::string> names;
      for (const auto& c : scope.cols) {
        // Hidden columns ($wm) are invisible; MATCH_RECOGNIZE's slot columns ($s<k>) are only
        // referenced by the rewritten DEFINE/MEASURES expressions.
        if (c.name.rfind("$", 0) == 0 && n.rfind("$s", 0) != 0) continue;
        names.push_back(c.name);
        if (ToLower(c.name) != n) continue;
        if (!q.empty() && c.qualifier != q) continue;
        if (hit) return Error(e.pos, fmt::format("column '{}' is ambiguous", e.name));
        hit = &c;
      }
      if (!hit) {
        std::string near = ClosestName(e.name, names);
        return Error(e.pos,
                     fmt::format("unknown column '{}'{}",
                                 e.qualifier.empty() ? e.name : e.qualifier + "." + e.name,
                                 names.empty() ? "" : ""),
                     near.empty() ? fmt::format("available columns: {}", fmt::join(names, ", "))
                                  : fmt::format("did you mean '{}'?", near));
      }
      return MakeColumnRef(hit->index, hit->type, hit->name);
    }
    case ExprKind::kStar:
      return Error(e.pos, "'*' is only allowed in the SELECT list or in COUNT(*)");
    case ExprKind::kUnary: {
      EDDY_ASSIGN_OR_RETURN(auto a, Bind(*e.args[0], scope, agg));
      if (e.op == "+") return a;
      std::string fn = e.op == "-" ? "NEGATE" : "NOT";
      return BindCall(fn, {a}, {e.args[0]->pos}, e.pos);
    }
    case ExprKind::kBinary: {
      std::vector<BoundExprPtr> args;
      std::vector<Pos> pos;
      EDDY_RETURN_IF_ERROR(bind_args(&args, &pos));
      std::string op = ToUpper(e.op);
      if (op == "AND" || op == "OR") {
        EDDY_RETURN_IF_ERROR(boolean(args[0], pos[0]));
        EDDY_RETURN_IF_ERROR(boolean(args[1], pos[1]));
        return op == "AND" ? MakeAnd(args) : MakeOr(args);
      }
      if (op == "!=") op = "<>";
      return BindCall(op, args, pos, e.pos);
    }
    case ExprKind::kFunction: {
      std::string name = ToUpper(e.name);
      if (e.over) return Error(e.pos, "OVER windows are not supported yet");
      if (IsAggregateFunction(name)) {
        if (!agg) {
          return Error(e.pos, fmt::format("aggregate function {} is not allowed here", name));
        }
        if (agg->in_agg) return Error(e.pos, "aggregate calls cannot be nested");
        if (agg->collecting) {
          agg->calls.push_back(&e);
          agg->in_agg = true;
          for (const auto& a : e.args) {
            auto r = Bind(*a, scope, agg);
            if (!r.ok()) {
              agg->in_agg = false;
              return r.status();
            }
          }
          if (e.filter) {
            auto r = Bind(*e.filter, scope, agg);
            if (!r.ok()) {
              agg->in_agg = false;
              return r.status();
            }
          }
          agg->in_agg = false;
          return MakeLiteral(Value::Null());
        }
        return Error(e.pos, "internal: aggregate call not registered");
      }
      if (e.over) return Error(e.pos, "OVER windows are not supported yet");
      if (e.filter) return Error(e.pos, "FILTER (WHERE …) is only allowed on aggregate functions");
      // TUMBLE_START(ts, …) and the like: window columns of the aggregation once it is planned
      // (BindGroupWindow checks them against the GROUP BY's window).
      if (IsGroupWindowAuxiliary(name)) {
        if (agg && agg->collecting) return MakeLiteral(Value::Null());
        return Error(e.pos, fmt::format("{}(…) is only allowed in the SELECT list or HAVING of a "
                                        "query grouped by its window ({}(…))",
                                        name, name.substr(0, name.find('_'))));
      }
      if (name == "PROCTIME" && !e.args.empty())
        return Error(e.pos, "PROCTIME() takes no arguments");
      std::vector<BoundExprPtr> args;
      std::vector<Pos> pos;
      const ScalarFunctionEntry* entry = FindScalarFunction(name);
      if (entry && entry->unit_first && !e.args.empty() && e.args[0]->kind == ExprKind::kColumn &&
          e.args[0]->qualifier.empty()) {
        // TIMESTAMPDIFF(DAY, …): the unit keyword is read as a column name; pass it as text.
        args.push_back(MakeLiteral(Value::String(ToUpper(e.args[0]->name))));
        pos.push_back(e.args[0]->pos);
        for (size_t k = 1; k < e.args.size(); ++k) {
          EDDY_ASSIGN_OR_RETURN(auto a, Bind(*e.args[k], scope, agg));
          args.push_back(a);
          pos.push_back(e.args[k]->pos);
        }
        return BindCall(name, args, pos, e.pos);
      }
      EDDY_RETURN_IF_ERROR(bind_args(&args, &pos));
      if (name == "CEILING") name = "CEIL";
      if (name == "TRIM") {
        std::string mode = ToUpper(e.unit);
        name = mode == "LEADING" ? "LTRIM" : mode == "TRAILING" ? "RTRIM" : "TRIM";
      }
      if (name == "CURRENT_DATE") {
        return Error(e.pos, "CURRENT_DATE is not supported yet (use CURRENT_TIMESTAMP)");
      }
      return BindCall(name, args, pos, e.pos);
    }
    case ExprKind::kCase: {
      size_t i = 0;
      BoundExprPtr operand;
      if (e.case_has_operand) {
        EDDY_ASSIGN_OR_RETURN(operand, Bind(*e.args[0], scope, agg));
        i = 1;
      }
      size_t end = e.args.size() - (e.case_has_else ? 1 : 0);
      std::vector<BoundExprPtr> conds, vals;
      std::optional<DataType> t;
      for (; i + 1 < end + 1 && i < end; i += 2) {
        EDDY_ASSIGN_OR_RETURN(auto c, Bind(*e.args[i], scope, agg));
        if (operand) {
          EDDY_ASSIGN_OR_RETURN(
              c, BindCall("=", {operand, c}, {e.args[0]->pos, e.args[i]->pos}, e.args[i]->pos));
        }
        EDDY_RETURN_IF_ERROR(boolean(c, e.args[i]->pos));
        EDDY_ASSIGN_OR_RETURN(auto v, Bind(*e.args[i + 1], scope, agg));
        conds.push_back(c);
        vals.push_back(v);
        auto ct = t ? CommonType(*t, v->type()) : std::optional<DataType>(v->type());
        if (!ct) {
          return Error(e.args[i + 1]->pos,
                       fmt::format("CASE branches have incompatible types {} and {}", t->ToString(),
                                   v->type().ToString()));
        }
        t = ct;
      }
      BoundExprPtr els;
      if (e.case_has_else) {
        EDDY_ASSIGN_OR_RETURN(els, Bind(*e.args.back(), scope, agg));
        auto ct = CommonType(*t, els->type());
        if (!ct) return Error(e.args.back()->pos, "CASE ELSE has an incompatible type");
        t = ct;
      }
      DataType rt = *t;
      rt.time_attr = TimeAttr::kNone;
      if (rt.id == TypeId::kNull) rt = DataType::Int();
      for (auto& v : vals) {
        if (!v->type().SameAs(rt)) v = MakeCast(v, rt, false);
      }
      if (els && !els->type().SameAs(rt)) els = MakeCast(els, rt, false);
      return MakeCase(conds, vals, els, rt);
    }
    case ExprKind::kCast: {
      EDDY_ASSIGN_OR_RETURN(auto a, Bind(*e.args[0], scope, agg));
      if (!CanCast(a->type(), e.cast_type)) {
        return Error(e.pos, fmt::format("cannot cast {} to {}", a->type().ToString(),
                                        e.cast_type.ToString()));
      }
      auto c = MakeCast(a, e.cast_type, e.try_cast);
      if (a->literal()) {
        auto v = EvalConstant(*c);
        if (!v.ok()) return Error(e.pos, std::string(v.status().message()));
        Value lit = *v;
        lit.type = c->type();
        return MakeLiteral(lit);
      }
      return c;
    }
    case ExprKind::kIsNull: {
      EDDY_ASSIGN_OR_RETURN(auto a, Bind(*e.args[0], scope, agg));
      return BindCall(e.negated ? "IS NOT NULL" : "IS NULL", {a}, {e.args[0]->pos}, e.pos);
    }
    case ExprKind::kIsBool: {
      EDDY_ASSIGN_OR_RETURN(auto a, Bind(*e.args[0], scope, agg));
      std::string fn =
          std::string("IS ") + (e.negated ? "NOT " : "") + (e.bool_value ? "TRUE" : "FALSE");
      return BindCall(fn, {a}, {e.args[0]->pos}, e.pos);
    }
    case ExprKind::kIn: {
      EDDY_ASSIGN_OR_RETURN(auto x, Bind(*e.args[0], scope, agg));
      std::vector<BoundExprPtr> ors;
      for (size_t i = 1; i < e.args.size(); ++i) {
        EDDY_ASSIGN_OR_RETURN(auto v, Bind(*e.args[i], scope, agg));
        EDDY_ASSIGN_OR_RETURN(
            auto eq, BindCall("=", {x, v}, {e.args[0]->pos, e.args[i]->pos}, e.args[i]->pos));
        ors.push_back(eq);
      }
      BoundExprPtr r = ors.size() == 1 ? ors[0] : MakeOr(ors);
      if (e.negated) return BindCall("NOT", {r}, {e.pos}, e.pos);
      return r;
    }
    case ExprKind::kBetween: {
      std::vector<BoundExprPtr> a;
      std::vector<Pos> p;
      EDDY_RETURN_IF_ERROR(bind_args(&a, &p));
      EDDY_ASSIGN_OR_RETURN(auto lo, BindCall(">=", {a[0], a[1]}, {p[0], p[1]}, e.pos));
      EDDY_ASSIGN_OR_RETURN(auto hi, BindCall("<=", {a[0], a[2]}, {p[0], p[2]}, e.pos));
      BoundExprPtr r = MakeAnd({lo, hi});
      if (e.negated) return BindCall("NOT", {r}, {e.pos}, e.pos);
      return r;
    }
    case ExprKind::kLike: {
      std::vector<BoundExprPtr> a;
      std::vector<Pos> p;
      EDDY_RETURN_IF_ERROR(bind_args(&a, &p));
      return BindCall(e.negated ? "NOT LIKE" : "LIKE", a, p, e.pos);
    }
    case ExprKind::kExtract:
    case ExprKind::kFloorCeilTo: {
      EDDY_ASSIGN_OR_RETURN(auto a, Bind(*e.args[0], scope, agg));
      std::string fn = e.kind == ExprKind::kExtract ? "EXTRACT"
                       : ToUpper(e.name) == "FLOOR" ? "FLOOR_TO"
                                                    : "CEIL_TO";
      return BindCall(fn, {MakeLiteral(Value::String(SingularUnit(e.unit))), a},
                      {e.pos, e.args[0]->pos}, e.pos);
    }
  }
  return Error(e.pos, "unsupported expression");
}

absl::StatusOr<BoundExprPtr> Binder::BindScalar(const sql::Expr& e, const Schema& schema) {
  Scope scope;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    scope.cols.push_back({"", schema.fields[i].name, static_cast<int>(i), schema.fields[i].type});
  }
  return Bind(e, scope, nullptr);
}

}  // namespace eddy
