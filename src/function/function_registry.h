// The table of built-in scalar functions registered by family (DESIGN.md §2 "Registries, not
// lists"; DuckDB's per-family function sets): one entry per function, next to its code, in
// string_functions.cc, math_functions.cc, temporal_functions.cc and
// conditional_functions.cc. ResolveScalarFunction
// (function/expr.h) looks a name up here first; the older functions and the operators are still
// resolved by the if-chain of scalar_functions.cc, to be moved into entries family by family.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/status.h"
#include "function/expr.h"

namespace eddy {

/// Resolves one function for argument types `t` (`lits[i]`: the constant value of argument i, or
/// null). Errors as ResolveScalarFunction: InvalidArgument when the types do not fit.
using ScalarResolver = absl::StatusOr<ResolvedFunction> (*)(const std::vector<DataType>& t,
                                                            const std::vector<const Value*>& lits);

/// One built-in scalar function (Flink SQL "System (Built-in) Functions").
struct ScalarFunctionEntry {
  std::string_view name;       // upper case, as called
  std::string_view signature;  // for docs and errors: "SPLIT_INDEX(string, separator, index)"
  ScalarResolver resolve;
  /// The first argument is a time unit written as a keyword (TIMESTAMPDIFF(DAY, …)): the binder
  /// passes it as a string literal.
  bool unit_first = false;
};

/// The families. Each lists its entries in one table in its own file.
std::span<const ScalarFunctionEntry> StringFunctions();
std::span<const ScalarFunctionEntry> MathFunctions();
std::span<const ScalarFunctionEntry> TemporalFunctions();
std::span<const ScalarFunctionEntry> ConditionalFunctions();

/// The entry named `upper_name` in any family, or null.
const ScalarFunctionEntry* FindScalarFunction(std::string_view upper_name);

/// Every entry of every family.
std::vector<const ScalarFunctionEntry*> RegisteredScalarFunctions();

// Helpers shared by the family files.
namespace fn {
/// InvalidArgument "cannot apply NAME to argument types NAME(T1, T2)".
absl::Status BadArgs(std::string_view name, const std::vector<DataType>& t);
/// InvalidArgument "NAME takes LO to HI argument(s), got N" unless lo <= t.size() <= hi.
absl::Status WantArgs(std::string_view name, const std::vector<DataType>& t, size_t lo, size_t hi);
inline bool IsStr(const DataType& t) { return t.is_string() || t.id == TypeId::kNull; }
inline bool IsNum(const DataType& t) { return t.is_numeric() || t.id == TypeId::kNull; }
inline bool IsInt(const DataType& t) { return t.is_integral() || t.id == TypeId::kNull; }
inline bool IsTime(const DataType& t) {
  return t.is_timestamp() || t.id == TypeId::kDate || t.id == TypeId::kNull;
}
/// A kernel calling `f(args, row, ctx, out)` for each row whose arguments are all non-NULL and
/// appending NULL for the others. `f` appends exactly one value.
template <class F>
ScalarKernel PerRow(F f) {
  return [f](const std::vector<const Column*>& a, size_t n, EvalContext* ctx,
             Column* out) -> absl::Status {
    for (size_t i = 0; i < n; ++i) {
      bool any_null = false;
      for (const Column* c : a) any_null |= !c->valid[i];
      if (any_null) {
        out->AppendNull();
        continue;
      }
      absl::Status st = f(a, i, ctx, out);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  };
}
/// Decodes the code point at s[*i] (advancing *i); a bad byte counts as one code point.
uint32_t NextCodePoint(std::string_view s, size_t* i);
/// Appends the UTF-8 encoding of `cp` to `out`.
void AppendUtf8(uint32_t cp, std::string* out);
/// Compares row `i` of `x` with row `j` of `y` (same physical type, both non-NULL): -1, 0 or 1
/// (strings bytewise).
int CompareCells(const Column& x, size_t i, const Column& y, size_t j);
}  // namespace fn

}  // namespace eddy
