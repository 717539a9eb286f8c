#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "function/aggregate.h"
#include "function/expr.h"
#include "state/serializer.h"
#include "types/time_util.h"

namespace eddy {
namespace {

// Evaluates function `name` over constant arguments.
absl::StatusOr<Value> Call(const std::string& name, std::vector<Value> args) {
  std::vector<DataType> types;
  std::vector<const Value*> lits;
  std::vector<BoundExprPtr> exprs;
  for (auto& a : args) types.push_back(a.type);
  for (auto& a : args) lits.push_back(&a);
  auto r = ResolveScalarFunction(name, types, lits);
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < args.size(); ++i) {
    BoundExprPtr e = MakeLiteral(args[i]);
    if (!args[i].type.SameAs(r->arg_types[i])) e = MakeCast(e, r->arg_types[i], false);
    exprs.push_back(e);
  }
  return EvalConstant(*MakeCall(name, r->kernel, r->result, exprs));
}

Value I(int64_t v) { return Value::Int64(DataType::Int(), v); }
Value B(int64_t v) { return Value::Int64(DataType::Bigint(), v); }
Value S(std::string v) { return Value::String(std::move(v)); }
Value Ts(const char* t) { return Value::Int64(DataType::Timestamp(3), *ParseTimestamp(t)); }

TEST(Scalar, IntegerArithmeticLikeJava) {
  EXPECT_EQ(Call("/", {I(7), I(2)})->i, 3);
  EXPECT_EQ(Call("/", {I(-7), I(2)})->i, -3);
  EXPECT_EQ(Call("%", {I(-7), I(3)})->i, -1);
  EXPECT_EQ(Call("+", {I(2147483647), I(1)})->i, -2147483648LL);  // INT wraps
  EXPECT_EQ(Call("+", {I(2147483647), B(1)})->i, 2147483648LL);   // BIGINT does not
  EXPECT_FALSE(Call("/", {I(1), I(0)}).ok());
  EXPECT_EQ(Call("*", {I(3), Value::Double(0.5)})->d, 1.5);
}

TEST(Scalar, NullPropagationAndComparison) {
  EXPECT_TRUE(Call("+", {I(1), Value::Null(DataType::Int())})->is_null);
  EXPECT_EQ(Call("<", {S("abc"), S("abd")})->i, 1);
  EXPECT_EQ(Call("=", {I(1), B(1)})->i, 1);
  EXPECT_TRUE(Call("=", {I(1), Value::Null(DataType::Int())})->is_null);
  EXPECT_EQ(Call("IS NULL", {Value::Null(DataType::Int())})->i, 1);
}

TEST(Scalar, ThreeValuedLogic) {
  auto t = MakeLiteral(Value::Bool(true));
  auto f = MakeLiteral(Value::Bool(false));
  auto n = MakeLiteral(Value::Null(DataType::Boolean()));
  EXPECT_EQ(EvalConstant(*MakeAnd({f, n}))->i, 0);
  EXPECT_FALSE(EvalConstant(*MakeAnd({f, n}))->is_null);
  EXPECT_TRUE(EvalConstant(*MakeAnd({t, n}))->is_null);
  EXPECT_EQ(EvalConstant(*MakeOr({t, n}))->i, 1);
  EXPECT_TRUE(EvalConstant(*MakeOr({f, n}))->is_null);
}

TEST(Scalar, Strings) {
  EXPECT_EQ(Call("UPPER", {S("lax")})->s, "LAX");
  EXPECT_EQ(Call("SUBSTRING", {S("hello"), I(2), I(3)})->s, "ell");
  EXPECT_EQ(Call("SUBSTRING", {S("hello"), I(4)})->s, "lo");
  EXPECT_EQ(Call("CHAR_LENGTH", {S("h\xC3\xA9llo")})->i, 5);
  EXPECT_EQ(Call("CONCAT", {S("a"), S("b"), S("c")})->s, "abc");
  EXPECT_TRUE(Call("CONCAT", {S("a"), Value::Null(DataType::String())})->is_null);
  EXPECT_EQ(Call("TRIM", {S("  x  ")})->s, "x");
  EXPECT_EQ(Call("LIKE", {S("ORD"), S("O%")})->i, 1);
  EXPECT_EQ(Call("LIKE", {S("ORD"), S("_R_")})->i, 1);
  EXPECT_EQ(Call("LIKE", {S("ORD"), S("%X%")})->i, 0);
  EXPECT_EQ(Call("REGEXP_EXTRACT", {S("flight UA123"), S("([A-Z]{2})([0-9]+)"), I(2)})->s, "123");
  EXPECT_FALSE(Call("REGEXP_EXTRACT", {S("x"), S("(")}).ok());
}

TEST(Scalar, Math) {
  EXPECT_EQ(Call("ROUND", {Value::Double(2.345), I(2)})->d, 2.35);
  EXPECT_EQ(Call("ABS", {I(-4)})->i, 4);
  EXPECT_EQ(Call("POWER", {I(2), I(10)})->d, 1024.0);
  EXPECT_EQ(Call("MOD", {I(10), I(3)})->i, 1);
  EXPECT_EQ(Call("FLOOR", {Value::Double(-1.5)})->d, -2.0);
}

TEST(Scalar, Time) {
  EXPECT_EQ(Call("EXTRACT", {S("HOUR"), Ts("2001-01-05 17:42:00")})->i, 17);
  EXPECT_EQ(Call("EXTRACT", {S("DOW"), Ts("2001-01-07 00:00:00")})->i, 1);  // a Sunday
  EXPECT_EQ(Call("FLOOR_TO", {S("HOUR"), Ts("2001-01-05 17:42:10")})->i,
            *ParseTimestamp("2001-01-05 17:00:00"));
  EXPECT_EQ(Call("CEIL_TO", {S("DAY"), Ts("2001-01-05 17:42:10")})->i,
            *ParseTimestamp("2001-01-06 00:00:00"));
  EXPECT_EQ(Call("FLOOR_TO", {S("MONTH"), Ts("2001-02-15 01:00:00")})->i,
            *ParseTimestamp("2001-02-01 00:00:00"));
  EXPECT_EQ(Call("DATE_FORMAT", {Ts("2001-01-05 17:42:00"), S("yyyy-MM-dd HH")})->s,
            "2001-01-05 17");
  EXPECT_EQ(Call("TO_TIMESTAMP_LTZ", {B(1000), I(3)})->i, 1'000'000);
  EXPECT_TRUE(Call("TO_TIMESTAMP", {S("not a time")})->is_null);
}

TEST(Cast, ConversionsAndErrors) {
  auto cast = [](Value v, DataType t, bool try_cast) {
    return EvalConstant(*MakeCast(MakeLiteral(v), t, try_cast));
  };
  EXPECT_EQ(cast(S(" 42 "), DataType::Int(), false)->i, 42);
  EXPECT_FALSE(cast(S("4x2"), DataType::Int(), false).ok());
  EXPECT_TRUE(cast(S("4x2"), DataType::Int(), true)->is_null);
  EXPECT_EQ(cast(Value::Double(1.9), DataType::Int(), false)->i, 1);
  EXPECT_EQ(cast(S("12.345"), DataType::Decimal(10, 2), false)->i, 1235);
  EXPECT_EQ(cast(I(5), DataType::String(), false)->s, "5");
  EXPECT_EQ(cast(Ts("2001-01-01 10:00:00"), DataType::Date(), false)->i, 11323);
  EXPECT_FALSE(CanCast(DataType::Int(), DataType::Timestamp(3)));
  EXPECT_TRUE(CanImplicitlyCast(DataType::Int(), DataType::Bigint()));
  EXPECT_FALSE(CanImplicitlyCast(DataType::Double(), DataType::Int()));
}

// Accumulates `values` (NULL = nullopt) into aggregate `name` and returns the result.
Value Agg(const std::string& name, DataType t, const std::vector<std::optional<int64_t>>& values,
          bool distinct = false) {
  auto fn = *ResolveAggregate(name, {t}, distinct);
  std::vector<char> st(fn->state_size());
  fn->Init(st.data());
  Column c(t);
  for (auto v : values) {
    if (v)
      c.AppendInt(*v);
    else
      c.AppendNull();
  }
  for (size_t i = 0; i < c.size(); ++i) fn->Accumulate(st.data(), &c, i);
  Value r = fn->Result(st.data());
  fn->Destroy(st.data());
  return r;
}

TEST(Aggregate, FlinkResultTypes) {
  EXPECT_EQ(Agg("AVG", DataType::Int(), {1, 2}).i, 1);  // integer AVG truncates
  EXPECT_EQ(Agg("AVG", DataType::Int(), {1, 2}).type.id, TypeId::kInt);
  EXPECT_EQ(Agg("SUM", DataType::Int(), {1, std::nullopt, 5}).i, 6);
  EXPECT_TRUE(Agg("SUM", DataType::Int(), {std::nullopt}).is_null);
  EXPECT_EQ(Agg("COUNT", DataType::Int(), {1, std::nullopt, 5}).i, 2);
  EXPECT_EQ(Agg("MIN", DataType::Int(), {3, -2, 7}).i, -2);
  EXPECT_EQ(Agg("COUNT", DataType::Int(), {1, 1, 2, std::nullopt}, true).i, 2);
  EXPECT_EQ(Agg("SUM", DataType::Int(), {1, 1, 2}, true).i, 3);
}

TEST(Aggregate, VarianceMatchesTwoPassFormula) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> d(-100, 100);
  std::vector<double> xs(1000);
  for (auto& x : xs) x = d(rng);
  double mean = 0;
  for (double x : xs) mean += x;
  mean /= xs.size();
  double ss = 0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  auto run = [&](const std::string& name, bool split) {
    auto fn = *ResolveAggregate(name, {DataType::Double()}, false);
    std::vector<char> a(fn->state_size()), b(fn->state_size());
    fn->Init(a.data());
    fn->Init(b.data());
    Column c(DataType::Double());
    for (double x : xs) c.AppendDouble(x);
    for (size_t i = 0; i < xs.size(); ++i) {
      fn->Accumulate(split && i % 2 ? b.data() : a.data(), &c, i);
    }
    if (split) fn->Merge(a.data(), b.data());
    return fn->Result(a.data()).d;
  };
  for (bool split : {false, true}) {
    EXPECT_NEAR(run("VAR_POP", split), ss / xs.size(), 1e-9);
    EXPECT_NEAR(run("VAR_SAMP", split), ss / (xs.size() - 1), 1e-9);
    EXPECT_NEAR(run("STDDEV_POP", split), std::sqrt(ss / xs.size()), 1e-9);
  }
}

// SUM/AVG over DOUBLE count NaN and ±Infinity apart from the finite sum, so a retraction undoes
// its accumulation exactly and the order of rows and retractions does not change the result.
TEST(Aggregate, NonFiniteDoubleSumRetractsExactly) {
  const double inf = std::numeric_limits<double>::infinity();
  auto fn = *ResolveAggregate("SUM", {DataType::Double()}, false);
  Column c(DataType::Double());
  for (double x : {inf, 2.5, -inf, std::nan(""), 1.0}) c.AppendDouble(x);
  auto fresh = [&] {
    std::vector<char> st(fn->state_size());
    fn->Init(st.data());
    return st;
  };
  // +Inf, then its retraction, then +Inf again: Infinity (plain IEEE arithmetic gives NaN).
  std::vector<char> a = fresh();
  fn->Accumulate(a.data(), &c, 0);
  fn->Retract(a.data(), &c, 0);
  fn->Accumulate(a.data(), &c, 0);
  fn->Accumulate(a.data(), &c, 1);
  EXPECT_EQ(fn->Result(a.data()).d, inf);
  // +Inf and -Inf together are NaN; retracting -Inf brings back +Inf.
  fn->Accumulate(a.data(), &c, 2);
  EXPECT_TRUE(std::isnan(fn->Result(a.data()).d));
  fn->Retract(a.data(), &c, 2);
  EXPECT_EQ(fn->Result(a.data()).d, inf);
  // Retracting every non-finite value leaves the finite sum.
  fn->Retract(a.data(), &c, 0);
  EXPECT_EQ(fn->Result(a.data()).d, 2.5);
  // NaN, then its retraction.
  fn->Accumulate(a.data(), &c, 3);
  EXPECT_TRUE(std::isnan(fn->Result(a.data()).d));
  fn->Retract(a.data(), &c, 3);
  EXPECT_EQ(fn->Result(a.data()).d, 2.5);
  // Merge adds the counts: (+Inf, 1.0) + (-Inf) is NaN.
  std::vector<char> b = fresh(), d = fresh();
  fn->Accumulate(b.data(), &c, 0);
  fn->Accumulate(b.data(), &c, 4);
  fn->Accumulate(d.data(), &c, 2);
  fn->Merge(b.data(), d.data());
  EXPECT_TRUE(std::isnan(fn->Result(b.data()).d));
  // The counts survive serialization, and the result after a retraction is still exact.
  std::string bytes;
  fn->SerializeState(b.data(), &bytes);
  std::vector<char> e = fresh();
  std::string_view in(bytes);
  ASSERT_TRUE(fn->DeserializeState(e.data(), &in).ok());
  EXPECT_TRUE(in.empty());
  fn->Retract(e.data(), &c, 2);
  EXPECT_EQ(fn->Result(e.data()).d, inf);
  fn->Retract(e.data(), &c, 0);
  EXPECT_EQ(fn->Result(e.data()).d, 1.0);
  // AVG over the same state: Infinity / n is Infinity.
  auto avg = *ResolveAggregate("AVG", {DataType::Double()}, false);
  std::vector<char> f(avg->state_size());
  avg->Init(f.data());
  avg->Accumulate(f.data(), &c, 0);
  avg->Accumulate(f.data(), &c, 1);
  EXPECT_EQ(avg->Result(f.data()).d, inf);
}

// Retracting a value next to a much larger one gives the value back (Neumaier's compensation),
// whatever the order, in one state, across Merge and across serialization.
TEST(Aggregate, DoubleSumRetractionIsExactNextToLargeValues) {
  auto fn = *ResolveAggregate("SUM", {DataType::Double()}, false);
  Column c(DataType::Double());
  for (double x : {2.5, 1e16, 1e308, 0.1, 0.2}) c.AppendDouble(x);
  std::vector<char> a(fn->state_size());
  fn->Init(a.data());
  fn->Accumulate(a.data(), &c, 0);
  fn->Accumulate(a.data(), &c, 1);
  fn->Retract(a.data(), &c, 1);
  EXPECT_EQ(fn->Result(a.data()).d, 2.5);  // plain addition gives 2 (1e16 + 2.5 rounds to even)
  // One compensation term holds one magnitude's rounding: 1e308 in between is beyond it (the
  // 2.5 rounds away), but the sum is still back to a value near it rather than 0.
  fn->Accumulate(a.data(), &c, 2);
  fn->Retract(a.data(), &c, 2);
  EXPECT_NEAR(fn->Result(a.data()).d, 2.5, 1.0);
  // 0.1 + 0.2 - 0.1 - 0.2 is 0 with compensation (5.55e-17 with plain addition).
  std::vector<char> b(fn->state_size());
  fn->Init(b.data());
  fn->Accumulate(b.data(), &c, 3);
  fn->Accumulate(b.data(), &c, 4);
  fn->Retract(b.data(), &c, 3);
  fn->Retract(b.data(), &c, 4);
  EXPECT_EQ(fn->Result(b.data()).d, 0.0);
  // Merge: (2.5 + 1e16) merged with (-1e16) is 2.5; the compensation survives serialization.
  std::vector<char> d(fn->state_size()), e(fn->state_size()), f(fn->state_size());
  fn->Init(d.data());
  fn->Init(e.data());
  fn->Init(f.data());
  fn->Accumulate(d.data(), &c, 0);
  fn->Accumulate(d.data(), &c, 1);
  std::string bytes;
  fn->SerializeState(d.data(), &bytes);
  std::string_view in(bytes);
  ASSERT_TRUE(fn->DeserializeState(f.data(), &in).ok());
  EXPECT_TRUE(in.empty());
  fn->Retract(e.data(), &c, 1);
  fn->Merge(f.data(), e.data());
  EXPECT_EQ(fn->Result(f.data()).d, 2.5);
}

// A checkpoint written before non-finite values were counted apart holds a non-finite sum with a
// row count: it is read as one such value among the rows.
TEST(Aggregate, NonFiniteDoubleSumReadsTheOlderFormat) {
  auto fn = *ResolveAggregate("SUM", {DataType::Double()}, false);
  std::string bytes;
  state::StateWriter w(&bytes);
  w.PutDouble(-std::numeric_limits<double>::infinity());
  w.PutInt64(3);
  std::vector<char> st(fn->state_size());
  fn->Init(st.data());
  std::string_view in(bytes);
  ASSERT_TRUE(fn->DeserializeState(st.data(), &in).ok());
  EXPECT_EQ(fn->Result(st.data()).d, -std::numeric_limits<double>::infinity());
  Column c(DataType::Double());
  c.AppendDouble(-std::numeric_limits<double>::infinity());
  fn->Retract(st.data(), &c, 0);
  // The finite part of an older non-finite sum was not written: what remains is 0.
  EXPECT_EQ(fn->Result(st.data()).d, 0.0);
}

TEST(Aggregate, Errors) {
  EXPECT_FALSE(ResolveAggregate("SUM", {DataType::String()}, false).ok());
  EXPECT_TRUE(absl::IsNotFound(ResolveAggregate("MEDIAN", {DataType::Int()}, false).status()));
}

}  // namespace
}  // namespace eddy
