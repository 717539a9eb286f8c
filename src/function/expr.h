// Bound, typed scalar expressions evaluated a column at a time over a Batch (DESIGN.md §3
// "Columnar batches, vectorized operators"). Built by the binder from the SQL AST.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "types/batch.h"
#include "types/value.h"

namespace eddy {

/// Per-evaluation context handed to every expression. Not shared between threads.
struct EvalContext {
  /// Current watermark of the evaluating operator in µs (kMinWatermark before the first one).
  int64_t current_watermark = INT64_MIN;
  /// Processing time of this evaluation in µs since the epoch (PROCTIME(), CURRENT_TIMESTAMP).
  int64_t now_micros = 0;
  /// Arena for strings produced by expressions; owned by the output batch.
  Arena* arena = nullptr;
  /// Per-row watermarks of the batch being evaluated (the file source's `$wm` column), or null;
  /// row i's watermark is max(current_watermark, row_watermarks[i]).
  const int64_t* row_watermarks = nullptr;
};

class BoundExpr;
using BoundExprPtr = std::shared_ptr<const BoundExpr>;

/// A typed expression. Eval appends exactly `in.num_rows()` values to `out` (whose type equals
/// type()). Errors (a failed CAST, integer division by zero) are statuses naming the function.
/// Thread-safety: Eval is const and may run concurrently on different batches.
class BoundExpr {
 public:
  explicit BoundExpr(DataType type) : type_(type) {}
  virtual ~BoundExpr() = default;
  const DataType& type() const { return type_; }
  virtual absl::Status Eval(const Batch& in, EvalContext* ctx, Column* out) const = 0;
  /// SQL-like text for EXPLAIN: "+(delay, 1)", "$3", "'abc'".
  virtual std::string ToString() const = 0;
  /// Column index when this is a plain input column reference, else -1.
  virtual int column_index() const { return -1; }
  /// The literal when this is a constant, else nullptr.
  virtual const Value* literal() const { return nullptr; }
  /// The operands of this expression in order (none for columns and literals). With
  /// WithChildren, what plan rewrites (optimizer rules) walk and rebuild expressions by.
  virtual std::vector<BoundExprPtr> children() const { return {}; }
  /// This expression with `children` (as many as children(), of the same types) in place of its
  /// operands; a column reference or literal (no operands) returns a copy of itself.
  virtual BoundExprPtr WithChildren(std::vector<BoundExprPtr> children) const = 0;
  /// The function's upper-case name for a call ("=", "+", "UPPER", "AND", "CAST"), else empty.
  virtual std::string_view function_name() const { return {}; }

 protected:
  DataType type_;
};

/// Reference to input column `index`.
BoundExprPtr MakeColumnRef(int index, DataType type, std::string name);
/// A constant (including typed NULL).
BoundExprPtr MakeLiteral(Value v);
/// CAST(e AS t). `try_cast`: a value that does not convert becomes NULL instead of an error.
/// Flink SQL: CAST / TRY_CAST conversion rules.
BoundExprPtr MakeCast(BoundExprPtr e, DataType t, bool try_cast);
/// Whether CAST from `from` to `to` is allowed (checked at bind time).
bool CanCast(const DataType& from, const DataType& to);
/// Whether `from` converts to `to` implicitly (numeric widening, NULL to anything, INT→DECIMAL…).
bool CanImplicitlyCast(const DataType& from, const DataType& to);
/// The common type two operands are coerced to for comparison/CASE/COALESCE, or nullopt.
std::optional<DataType> CommonType(const DataType& a, const DataType& b);

/// Longest string a built-in function may build, in bytes: 16 MiB. REPEAT, LPAD, RPAD,
/// CONCAT / ||, REPLACE and REGEXP_REPLACE check it before (or while) building their result; a row
/// whose result would be longer fails with InvalidArgument naming the function and the limit.
inline constexpr size_t kMaxStringValueBytes = size_t{16} << 20;

/// Kernel of a resolved scalar function: reads `args` (all of length n) and appends n values to
/// `out`. `arena` receives produced string bytes.
using ScalarKernel = std::function<absl::Status(const std::vector<const Column*>& args, size_t n,
                                                EvalContext* ctx, Column* out)>;

/// Call of a resolved function (built-ins and operators).
BoundExprPtr MakeCall(std::string name, ScalarKernel kernel, DataType result,
                      std::vector<BoundExprPtr> args);

/// Three-valued AND / OR over BOOLEAN operands (SQL semantics: FALSE AND NULL = FALSE).
BoundExprPtr MakeAnd(std::vector<BoundExprPtr> args);
BoundExprPtr MakeOr(std::vector<BoundExprPtr> args);
/// CASE WHEN c1 THEN v1 … ELSE e END (conditions BOOLEAN, values of type `t`, else may be null).
BoundExprPtr MakeCase(std::vector<BoundExprPtr> conds, std::vector<BoundExprPtr> values,
                      BoundExprPtr else_value, DataType t);

/// Result of resolving a function name against argument types.
struct ResolvedFunction {
  ScalarKernel kernel;
  DataType result;
  std::vector<DataType> arg_types;  // types the arguments must be cast to first
};

/// Resolves a built-in scalar function or operator by upper-case name ("+", "=", "UPPER", …).
/// Returns InvalidArgument with a message (no position; the binder adds it) when the name is
/// known but the argument types do not fit, NotFound when the name is unknown.
/// `literal_args[i]` is the constant value of argument i or nullptr (for REGEXP patterns, units).
absl::StatusOr<ResolvedFunction> ResolveScalarFunction(
    const std::string& name, const std::vector<DataType>& arg_types,
    const std::vector<const Value*>& literal_args);

/// Names of all built-in scalar functions (for SHOW FUNCTIONS and "did you mean" hints).
std::vector<std::string> ScalarFunctionNames();

/// Evaluates a constant expression (no column references) to a Value.
absl::StatusOr<Value> EvalConstant(const BoundExpr& e);

}  // namespace eddy
