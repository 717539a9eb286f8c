// Field-level text conversions shared by the CSV and JSON formats: parsing field text into column
// values (decode) and writing values as Flink's Jackson-based writers do (encode).
// All functions are pure and thread-safe unless noted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::text {

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Removes leading and trailing bytes <= ' ' (Java's String.trim(), which Flink's CSV and JSON
/// converters apply before parsing numbers).
std::string_view Trim(std::string_view s);

/// "true" or "false" in any ASCII case. Anything else (including surrounding spaces) is false.
bool ParseBool(std::string_view s, bool* out);

/// [+|-]digits, at least one digit, no other characters. False on overflow of int64.
inline bool ParseInt64(std::string_view s, int64_t* out) {
  const char* p = s.data();
  const char* const e = p + s.size();
  if (p == e) return false;
  bool neg = false;
  if (*p == '-' || *p == '+') {
    neg = *p == '-';
    if (++p == e) return false;
  }
  uint64_t v = 0;
  if (e - p <= 18) {  // 18 digits cannot overflow
    for (; p < e; ++p) {
      unsigned d = static_cast<unsigned char>(*p) - '0';
      if (d > 9) return false;
      v = v * 10 + d;
    }
  } else {
    for (; p < e; ++p) {
      unsigned d = static_cast<unsigned char>(*p) - '0';
      if (d > 9) return false;
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    if (v > (neg ? (uint64_t{1} << 63) : static_cast<uint64_t>(INT64_MAX))) return false;
  }
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

/// As ParseInt64, range-checked to int32 (Java Integer.parseInt).
inline bool ParseInt32(std::string_view s, int64_t* out) {
  int64_t v;
  if (!ParseInt64(s, &v) || v < INT32_MIN || v > INT32_MAX) return false;
  *out = v;
  return true;
}

/// Java Double.parseDouble syntax: [+|-] then digits with optional '.', exponent and one
/// trailing d/D/f/F, or "NaN" / "Infinity". Out-of-range values become ±Infinity or ±0.
bool ParseDouble(std::string_view s, double* out);

enum class DecimalParse { kOk, kInvalid, kOverflow };
/// Parses BigDecimal syntax ("-12.345", ".5", "1.5E3") into DECIMAL(precision, scale) stored as
/// the value × 10^scale, rounded HALF_UP to `scale` fraction digits (Flink DecimalData /
/// BigDecimal.setScale(scale, HALF_UP)). kOverflow when the result needs more than `precision`
/// digits. `precision` outside 1..18 is treated as 18.
DecimalParse ParseDecimal(std::string_view s, int precision, int scale, int64_t* out);

/// Timestamp parser with a one-entry cache of the last date seen: consecutive values of the same
/// day (the common case in event streams) skip calendar math. Accepts exactly what
/// eddy::ParseTimestamp accepts. Not thread-safe (one per column per decoder).
class TimestampParser {
 public:
  std::optional<int64_t> Parse(std::string_view s);

 private:
  char date_[10] = {};
  int64_t days_ = 0;
  bool has_date_ = false;
};

// ---------------------------------------------------------------------------------------------
// Writing (appending to `out`)
// ---------------------------------------------------------------------------------------------

/// Decimal digits of `v`.
void AppendInt(int64_t v, std::string* out);

/// Java's ISO_LOCAL_DATE: "yyyy-MM-dd"; years above 9999 get a '+', negative years a '-'.
void AppendDate(int64_t days, std::string* out);

/// Flink's TimeFormats.SQL_TIMESTAMP_FORMAT: "yyyy-MM-dd HH:mm:ss" plus the fraction of the second
/// with trailing zeros removed, nothing when it is zero (Java appendFraction(NANO, 0, 9, true)):
/// 12:00:00.5 → "12:00:00.5", 12:00:00.120 → "12:00:00.12". `separator` is ' ' (SQL) or 'T'
/// (ISO-8601); `zulu` appends 'Z' (TIMESTAMP_LTZ, shown in UTC).
void AppendTimestamp(int64_t micros, char separator, bool zulu, std::string* out);

/// DECIMAL value `unscaled` × 10^-scale as Jackson writes a BigDecimal node: trailing zeros are
/// stripped first (JsonNodeFactory normalizes), then Java's BigDecimal.toString (scientific
/// notation when the exponent is positive or the value is below 1E-6: 100 → "1E+2",
/// 0.000000027 → "2.7E-8", 1.50 → "1.5", 0 → "0") or, with `plain`, toPlainString ("100").
void AppendJavaDecimal(int64_t unscaled, int scale, bool plain, std::string* out);

/// `s` as a JSON string literal with quotes, escaped as Jackson does: \" \\ \b \t \n \f \r, other
/// control characters as \u00XX (upper-case hex); '/' and non-ASCII bytes are copied.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace eddy::text
