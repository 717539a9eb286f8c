// SQL data types (Flink SQL names) and their physical representation in a column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eddy {

/// Logical type ids, named as in Flink SQL.
enum class TypeId : uint8_t {
  kNull,  // type of the NULL literal before coercion
  kBoolean,
  kInt,                // 32-bit signed
  kBigint,             // 64-bit signed
  kDouble,             // IEEE 754 binary64
  kDecimal,            // DECIMAL(p,s), p <= 18, stored as int64 scaled by 10^s
  kString,             // STRING / VARCHAR(n)
  kTimestamp,          // TIMESTAMP(p): µs since 1970-01-01 00:00:00, no zone
  kTimestampLtz,       // TIMESTAMP_LTZ(p): µs since the epoch (UTC), shown in the session zone
  kDate,               // days since 1970-01-01
  kIntervalDayTime,    // INTERVAL DAY TO SECOND, µs
  kIntervalYearMonth,  // INTERVAL YEAR TO MONTH, months
};

/// Which vector of a Column holds the values of a type.
enum class Physical : uint8_t { kInt64, kDouble, kString };

/// Whether a TIMESTAMP column is an event-time (rowtime) or processing-time attribute
/// (Flink SQL: "time attributes").
enum class TimeAttr : uint8_t { kNone, kRowtime, kProctime };

/// A SQL type: id plus parameters. Value type, cheap to copy.
struct DataType {
  TypeId id = TypeId::kNull;
  int precision = 0;  // DECIMAL precision, TIMESTAMP fractional digits (0..9, default 6 / 3)
  int scale = 0;      // DECIMAL scale
  int length = -1;    // VARCHAR(n) length, -1 = STRING
  bool nullable = true;
  TimeAttr time_attr = TimeAttr::kNone;

  static DataType Null() { return {TypeId::kNull}; }
  static DataType Boolean() { return {TypeId::kBoolean}; }
  static DataType Int() { return {TypeId::kInt}; }
  static DataType Bigint() { return {TypeId::kBigint}; }
  static DataType Double() { return {TypeId::kDouble}; }
  static DataType Decimal(int p, int s) { return {TypeId::kDecimal, p, s}; }
  static DataType String() { return {TypeId::kString}; }
  static DataType Timestamp(int p = 6) { return {TypeId::kTimestamp, p}; }
  static DataType TimestampLtz(int p = 6) { return {TypeId::kTimestampLtz, p}; }
  static DataType Date() { return {TypeId::kDate}; }
  static DataType IntervalDayTime() { return {TypeId::kIntervalDayTime}; }
  static DataType IntervalYearMonth() { return {TypeId::kIntervalYearMonth}; }

  Physical physical() const;
  bool is_numeric() const;
  bool is_integral() const { return id == TypeId::kInt || id == TypeId::kBigint; }
  bool is_timestamp() const { return id == TypeId::kTimestamp || id == TypeId::kTimestampLtz; }
  bool is_string() const { return id == TypeId::kString; }
  bool is_interval() const {
    return id == TypeId::kIntervalDayTime || id == TypeId::kIntervalYearMonth;
  }

  /// Flink SQL spelling: "BIGINT", "DECIMAL(10, 2)", "TIMESTAMP(3) *ROWTIME*", "VARCHAR(20)".
  /// `with_nullability` appends " NOT NULL" for non-nullable types.
  std::string ToString(bool with_nullability = false) const;

  /// Same logical type, ignoring nullability and time attribute.
  bool SameAs(const DataType& o) const {
    return id == o.id && precision == o.precision && scale == o.scale &&
           (id != TypeId::kString || length == o.length);
  }
};

/// A named, typed column of a schema.
struct Field {
  std::string name;
  DataType type;
};

/// An ordered list of fields. `rowtime_index` names the event-time attribute (-1 when none).
struct Schema {
  std::vector<Field> fields;
  int rowtime_index = -1;

  /// Index of the field named `name` (case-insensitive, as Flink resolves unquoted names), or -1.
  int IndexOf(const std::string& name) const;
  size_t size() const { return fields.size(); }
};

/// 10^n for n in [0, 18].
int64_t Pow10(int n);

}  // namespace eddy
