// Math functions registered as table entries (function_registry.h), Flink SQL "Arithmetic
// Functions": trigonometry, logarithms to any base, SIGN, PI, E. Doubles follow Java's Math
// (NaN for arguments outside a function's domain, as Flink). ABS, ROUND, POWER, LN, … are in
// scalar_functions.cc.
#include <cmath>
#include <numbers>

#include "function/function_registry.h"
#include "function/numeric.h"

namespace eddy {

namespace {

using Args = std::vector<const Column*>;
using Lits = std::vector<const Value*>;

// A DOUBLE function of `arity` DOUBLE arguments computed by `F`.
template <double (*F)(const double*)>
absl::StatusOr<ResolvedFunction> DoubleFn(std::string_view name, const std::vector<DataType>& t,
                                          size_t lo, size_t hi) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs(name, t, lo, hi));
  for (const DataType& d : t) {
    if (!fn::IsNum(d)) return fn::BadArgs(name, t);
  }
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext*, Column* out) {
                            double x[2] = {0, 0};
                            for (size_t k = 0; k < a.size() && k < 2; ++k) x[k] = a[k]->f64[i];
                            out->AppendDouble(F(x));
                            return absl::OkStatus();
                          }),
                          DataType::Double(), std::vector<DataType>(t.size(), DataType::Double())};
}

#define EDDY_UNARY_DOUBLE(Name, SqlName, Expr)                                         \
  double Name##Of(const double* x) { return Expr; }                                    \
  absl::StatusOr<ResolvedFunction> Name(const std::vector<DataType>& t, const Lits&) { \
    return DoubleFn<Name##Of>(SqlName, t, 1, 1);                                       \
  }

EDDY_UNARY_DOUBLE(Sin, "SIN", std::sin(x[0]))
EDDY_UNARY_DOUBLE(Cos, "COS", std::cos(x[0]))
EDDY_UNARY_DOUBLE(Tan, "TAN", std::tan(x[0]))
EDDY_UNARY_DOUBLE(Cot, "COT", 1.0 / std::tan(x[0]))
EDDY_UNARY_DOUBLE(Asin, "ASIN", std::asin(x[0]))
EDDY_UNARY_DOUBLE(Acos, "ACOS", std::acos(x[0]))
EDDY_UNARY_DOUBLE(Atan, "ATAN", std::atan(x[0]))
EDDY_UNARY_DOUBLE(Sinh, "SINH", std::sinh(x[0]))
EDDY_UNARY_DOUBLE(Cosh, "COSH", std::cosh(x[0]))
EDDY_UNARY_DOUBLE(Tanh, "TANH", std::tanh(x[0]))
// Java's Math.toDegrees / toRadians.
EDDY_UNARY_DOUBLE(Degrees, "DEGREES", x[0] * (180.0 / std::numbers::pi))
EDDY_UNARY_DOUBLE(Radians, "RADIANS", x[0] / 180.0 * std::numbers::pi)
// Flink's SqlFunctionUtils.log2: Math.log(x) / Math.log(2).
EDDY_UNARY_DOUBLE(Log2, "LOG2", std::log(x[0]) / std::log(2.0))

#undef EDDY_UNARY_DOUBLE

double Atan2Of(const double* x) { return std::atan2(x[0], x[1]); }
absl::StatusOr<ResolvedFunction> Atan2(const std::vector<DataType>& t, const Lits&) {
  return DoubleFn<Atan2Of>("ATAN2", t, 2, 2);
}

// LOG(x) is LN(x); LOG(base, x) is Math.log(x) / Math.log(base) (Flink's SqlFunctionUtils.log).
double Log1Of(const double* x) { return std::log(x[0]); }
double Log2ArgOf(const double* x) { return std::log(x[1]) / std::log(x[0]); }
absl::StatusOr<ResolvedFunction> Log(const std::vector<DataType>& t, const Lits&) {
  if (t.size() == 2) return DoubleFn<Log2ArgOf>("LOG", t, 2, 2);
  return DoubleFn<Log1Of>("LOG", t, 1, 1);
}

// PI() and E(): constants.
double PiOf(const double*) { return std::numbers::pi; }
double EOf(const double*) { return std::numbers::e; }
absl::StatusOr<ResolvedFunction> Pi(const std::vector<DataType>& t, const Lits&) {
  return DoubleFn<PiOf>("PI", t, 0, 0);
}
absl::StatusOr<ResolvedFunction> E(const std::vector<DataType>& t, const Lits&) {
  return DoubleFn<EOf>("E", t, 0, 0);
}

// SIGN(x): -1, 0 or 1 of x's type (a DECIMAL(p, s) gives ±1 at scale s; a DOUBLE Math.signum,
// which keeps NaN and -0.0).
absl::StatusOr<ResolvedFunction> Sign(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("SIGN", t, 1, 1));
  if (!fn::IsNum(t[0])) return fn::BadArgs("SIGN", t);
  DataType r = t[0].id == TypeId::kNull ? DataType::Int() : t[0];
  r.time_attr = TimeAttr::kNone;
  bool dbl = r.id == TypeId::kDouble;
  int64_t one = r.id == TypeId::kDecimal ? Pow10(r.scale) : 1;
  return ResolvedFunction{
      fn::PerRow([dbl, one](const Args& a, size_t i, EvalContext*, Column* out) {
        if (dbl) {
          double x = a[0]->f64[i];
          out->AppendDouble(x > 0 ? 1.0 : x < 0 ? -1.0 : x);
        } else {
          int64_t x = a[0]->i64[i];
          out->AppendInt(x > 0 ? one : x < 0 ? -one : 0);
        }
        return absl::OkStatus();
      }),
      r,
      {r}};
}

// BIN(n): n in binary, two's complement for negative numbers (Java's Long.toBinaryString).
absl::StatusOr<ResolvedFunction> Bin(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("BIN", t, 1, 1));
  if (!fn::IsInt(t[0])) return fn::BadArgs("BIN", t);
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                            uint64_t v = static_cast<uint64_t>(a[0]->i64[i]);
                            char buf[64];
                            size_t n = 0;
                            do {
                              buf[63 - n++] = static_cast<char>('0' + (v & 1));
                              v >>= 1;
                            } while (v != 0);
                            out->AppendString(ctx->arena->Add({buf + 64 - n, n}));
                            return absl::OkStatus();
                          }),
                          DataType::String(),
                          {DataType::Bigint()}};
}

constexpr ScalarFunctionEntry kMathFunctions[] = {
    {"ACOS", "ACOS(numeric)", Acos},
    {"ASIN", "ASIN(numeric)", Asin},
    {"ATAN", "ATAN(numeric)", Atan},
    {"ATAN2", "ATAN2(numeric, numeric)", Atan2},
    {"BIN", "BIN(integer)", Bin},
    {"COS", "COS(numeric)", Cos},
    {"COSH", "COSH(numeric)", Cosh},
    {"COT", "COT(numeric)", Cot},
    {"DEGREES", "DEGREES(numeric)", Degrees},
    {"E", "E()", E},
    {"LOG", "LOG([base, ] numeric)", Log},
    {"LOG2", "LOG2(numeric)", Log2},
    {"PI", "PI()", Pi},
    {"RADIANS", "RADIANS(numeric)", Radians},
    {"SIGN", "SIGN(numeric)", Sign},
    {"SIN", "SIN(numeric)", Sin},
    {"SINH", "SINH(numeric)", Sinh},
    {"TAN", "TAN(numeric)", Tan},
    {"TANH", "TANH(numeric)", Tanh},
};

}  // namespace

std::span<const ScalarFunctionEntry> MathFunctions() { return kMathFunctions; }

}  // namespace eddy
