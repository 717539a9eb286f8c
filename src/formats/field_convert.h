// Internal to the formats module: per-column conversion of field text into a Column, shared by
// the CSV and JSON decoders, and the wording of their error messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "formats/row_decoder.h"
#include "types/batch.h"
#include "types/data_type.h"
#include "types/text_codec.h"
#include "types/time_util.h"

namespace eddy::formats_internal {

/// How a column's values are read from text.
enum class Kind : uint8_t {
  kBool,
  kInt,
  kBigint,
  kDouble,
  kDecimal,
  kString,
  kTimestamp,  // TIMESTAMP and TIMESTAMP_LTZ
  kDate,
  kIntervalMonths,  // INTERVAL YEAR TO MONTH: months
  kIntervalMillis,  // INTERVAL DAY TO SECOND: milliseconds in the data, µs in the column
};

/// Outcome of converting one field.
enum class Convert : uint8_t { kOk, kInvalid, kOverflow };

/// One schema column as a decoder sees it. Not thread-safe (the timestamp parser caches).
struct FieldConverter {
  Kind kind = Kind::kString;
  DataType type;
  std::string name;
  text::TimestampParser timestamps;

  /// Converts `s` (already trimmed, non-empty) for a non-STRING column and appends it to `col`.
  /// Appends nothing unless it returns kOk.
  __attribute__((always_inline)) Convert AppendText(std::string_view s, Column* col) {
    switch (kind) {
      case Kind::kInt: {
        int64_t v;
        if (!text::ParseInt32(s, &v)) return Convert::kInvalid;
        col->AppendInt(v);
        return Convert::kOk;
      }
      case Kind::kBigint:
      case Kind::kIntervalMonths: {
        int64_t v;
        if (!text::ParseInt64(s, &v)) return Convert::kInvalid;
        if (kind == Kind::kIntervalMonths && (v < INT32_MIN || v > INT32_MAX)) {
          return Convert::kInvalid;
        }
        col->AppendInt(v);
        return Convert::kOk;
      }
      case Kind::kTimestamp: {
        auto v = timestamps.Parse(s);
        if (!v) return Convert::kInvalid;
        // TIMESTAMP(p) keeps p fractional digits (Flink truncates on read).
        int p = col->type.precision;
        if (p < 6) {
          int64_t unit = Pow10(6 - p);
          *v = FloorDiv(*v, unit) * unit;
        }
        col->AppendInt(*v);
        return Convert::kOk;
      }
      default:
        return AppendTextSlow(s, col);
    }
  }

  /// The less common kinds, out of line.
  Convert AppendTextSlow(std::string_view s, Column* col);
};

/// Builds the converters for `schema`; InvalidArgument naming the field for a type `format`
/// ("CSV", "JSON") cannot read.
absl::StatusOr<std::vector<FieldConverter>> MakeConverters(const Schema& schema,
                                                           const char* format);

/// The type as it appears in messages: "INT", "DECIMAL(10, 2)", "TIMESTAMP(3)" (no time
/// attribute marker, no NOT NULL).
std::string TypeName(const DataType& t);

/// "field 'delay': 'abc' is not a valid INT" or, for kOverflow, "field 'amount': '1234.5' does
/// not fit DECIMAL(4, 2)". The text is shown as Shorten() makes it.
std::string ConvertError(const FieldConverter& f, std::string_view text, Convert what);

/// `text` safe for a terminal and shortened: EscapeForMessage(text, 60) (control and invalid
/// bytes as `\xNN`, at most 60 bytes of the text, "..." appended when cut).
std::string Shorten(std::string_view text);

/// InvalidArgument for CSV options no reader/writer can honour (delimiter equal to the quote,
/// line-break delimiters, ...).
absl::Status CheckCsvOptions(const CsvOptions& o);

/// Removes the last value of `col` (undoes one Append*).
inline void PopBack(Column* col) {
  col->valid.pop_back();
  switch (col->type.physical()) {
    case Physical::kInt64:
      col->i64.pop_back();
      break;
    case Physical::kDouble:
      col->f64.pop_back();
      break;
    case Physical::kString:
      col->str.pop_back();
      break;
  }
}

}  // namespace eddy::formats_internal
