// Conditional functions registered as table entries (function_registry.h), Flink SQL
// "Conditional Functions": GREATEST, LEAST, IFNULL. COALESCE, NULLIF, IF are in
// scalar_functions.cc.
#include <fmt/format.h>

#include "function/function_registry.h"

namespace eddy {

namespace {

using Args = std::vector<const Column*>;
using Lits = std::vector<const Value*>;

// The common type of every argument, or an error naming the function.
absl::StatusOr<DataType> Common(std::string_view name, const std::vector<DataType>& t) {
  DataType c = t[0];
  for (size_t i = 1; i < t.size(); ++i) {
    std::optional<DataType> n = CommonType(c, t[i]);
    if (!n) return fn::BadArgs(name, t);
    c = *n;
  }
  c.time_attr = TimeAttr::kNone;
  return c;
}

// GREATEST / LEAST(v1, v2, …): the largest / smallest argument in their common type; NULL when
// any argument is NULL (Flink).
template <bool kGreatest>
absl::StatusOr<ResolvedFunction> Extreme(const std::vector<DataType>& t, const Lits&) {
  const char* name = kGreatest ? "GREATEST" : "LEAST";
  EDDY_RETURN_IF_ERROR(fn::WantArgs(name, t, 1, 1000));
  EDDY_ASSIGN_OR_RETURN(DataType c, Common(name, t));
  if (c.id == TypeId::kNull) c = DataType::Int();
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext*, Column* out) {
                            size_t best = 0;
                            for (size_t k = 1; k < a.size(); ++k) {
                              int cmp = fn::CompareCells(*a[k], i, *a[best], i);
                              if (kGreatest ? cmp > 0 : cmp < 0) best = k;
                            }
                            out->AppendFrom(*a[best], i);
                            return absl::OkStatus();
                          }),
                          c, std::vector<DataType>(t.size(), c)};
}

// IFNULL(v, replacement): `replacement` when v is NULL, else v (their common type).
absl::StatusOr<ResolvedFunction> IfNull(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("IFNULL", t, 2, 2));
  EDDY_ASSIGN_OR_RETURN(DataType c, Common("IFNULL", t));
  if (c.id == TypeId::kNull) c = DataType::Int();
  ScalarKernel k = [](const Args& a, size_t n, EvalContext*, Column* out) -> absl::Status {
    for (size_t i = 0; i < n; ++i) out->AppendFrom(a[0]->valid[i] ? *a[0] : *a[1], i);
    return absl::OkStatus();
  };
  return ResolvedFunction{k, c, {c, c}};
}

constexpr ScalarFunctionEntry kConditionalFunctions[] = {
    {"GREATEST", "GREATEST(value, value, …)", Extreme<true>},
    {"IFNULL", "IFNULL(value, replacement)", IfNull},
    {"LEAST", "LEAST(value, value, …)", Extreme<false>},
};

}  // namespace

std::span<const ScalarFunctionEntry> ConditionalFunctions() { return kConditionalFunctions; }

}  // namespace eddy
