// A single SQL value (literals, aggregate results, state keys) and value formatting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "types/batch.h"
#include "types/data_type.h"

namespace eddy {

/// One SQL value. `i` holds every int64-physical type (see Column), `d` DOUBLE, `s` STRING.
struct Value {
  DataType type;
  bool is_null = true;
  int64_t i = 0;
  double d = 0;
  std::string s;

  static Value Null(DataType t = DataType::Null()) { return Value{t}; }
  static Value Int64(DataType t, int64_t v) {
    Value x{t};
    x.is_null = false;
    x.i = v;
    return x;
  }
  static Value Bool(bool v) { return Int64(DataType::Boolean(), v ? 1 : 0); }
  static Value Double(double v) {
    Value x{DataType::Double()};
    x.is_null = false;
    x.d = v;
    return x;
  }
  static Value String(std::string v) {
    Value x{DataType::String()};
    x.is_null = false;
    x.s = std::move(v);
    return x;
  }

  /// Appends this value to `col` (same physical type); strings are copied into `arena`.
  void AppendTo(Column* col, Arena* arena) const;
  /// Reads row `row` of `col`.
  static Value FromColumn(const Column& col, size_t row);
};

/// Appends an encoding of `v` to `*key` such that two rows' encoded keys are equal exactly when
/// their values are equal as SQL grouping sees them (NULL equals NULL, -0.0 equals 0.0). For the
/// per-key state maps of operators. `v`'s type is not encoded: use it for one key layout.
void AppendKeyBytes(const Value& v, std::string* key);

/// Whether two rows of values are equal cell by cell (NULL equals NULL, NaN equals NaN): a
/// retraction's row matches the stored row it retracts.
bool SameValues(const std::vector<Value>& a, const std::vector<Value>& b);

/// Formats row `row` of `col` as Flink prints it: NULL as "NULL" (or `null_text`), TIMESTAMP as
/// "yyyy-MM-dd HH:mm:ss[.fff…]" with the type's precision, DECIMAL with its scale, DOUBLE in
/// shortest round-trip form, BOOLEAN as TRUE/FALSE (`lower_bool` for "true"/"false").
std::string FormatCell(const Column& col, size_t row, std::string_view null_text = "NULL",
                       bool lower_bool = false);
/// Same for a Value.
std::string FormatValue(const Value& v, std::string_view null_text = "NULL");

/// Shortest decimal text that reads back as the same double ("1.5", "0.1", "3.0E-5" as Java
/// would print Double.toString, so eddy's CSV matches Flink's).
std::string FormatDouble(double v);

}  // namespace eddy
