#include "types/value.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "types/time_util.h"

namespace eddy {

void Value::AppendTo(Column* col, Arena* arena) const {
  if (is_null) {
    col->AppendNull();
    return;
  }
  switch (col->type.physical()) {
    case Physical::kInt64:
      col->AppendInt(i);
      break;
    case Physical::kDouble:
      col->AppendDouble(d);
      break;
    case Physical::kString:
      col->AppendString(arena->Add(s));
      break;
  }
}

Value Value::FromColumn(const Column& col, size_t row) {
  Value v{col.type};
  if (col.IsNull(row)) return v;
  v.is_null = false;
  switch (col.type.physical()) {
    case Physical::kInt64:
      v.i = col.i64[row];
      break;
    case Physical::kDouble:
      v.d = col.f64[row];
      break;
    case Physical::kString:
      v.s = std::string(col.str[row]);
      break;
  }
  return v;
}

void AppendKeyBytes(const Value& v, std::string* key) {
  if (v.is_null) {
    key->push_back('N');
    return;
  }
  key->push_back('V');
  key->append(reinterpret_cast<const char*>(&v.i), sizeof(v.i));
  double d = v.d == 0 ? 0.0 : v.d;  // -0.0 and 0.0 group together
  key->append(reinterpret_cast<const char*>(&d), sizeof(d));
  uint32_t n = static_cast<uint32_t>(v.s.size());
  key->append(reinterpret_cast<const char*>(&n), sizeof(n));
  key->append(v.s);
}

bool SameValues(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_null != b[i].is_null) return false;
    if (a[i].is_null) continue;
    if (a[i].i != b[i].i || a[i].s != b[i].s) return false;
    if (!(a[i].d == b[i].d || (a[i].d != a[i].d && b[i].d != b[i].d))) return false;
  }
  return true;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip
  std::string s(buf, res.ptr);
  // Java's Double.toString: plain notation for 1e-3 <= |v| < 1e7, else d.dddE±n.
  double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e7) {
    res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
    s.assign(buf, res.ptr);
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  s.assign(buf, res.ptr);
  auto e = s.find('e');
  std::string mant = s.substr(0, e);
  int exp = std::stoi(s.substr(e + 1));
  if (mant.find('.') == std::string::npos) mant += ".0";
  return absl::StrCat(mant, "E", exp);
}

namespace {
std::string FormatDecimal(int64_t v, int scale) {
  if (scale == 0) return std::to_string(v);
  bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  uint64_t p = static_cast<uint64_t>(Pow10(scale));
  std::string frac = std::to_string(u % p);
  frac.insert(0, scale - frac.size(), '0');
  return absl::StrCat(neg ? "-" : "", u / p, ".", frac);
}

std::string FormatInterval(int64_t micros) {
  // Flink prints INTERVAL DAY TO SECOND as "+d hh:mm:ss.fff".
  bool neg = micros < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  uint64_t ms = (u / 1000) % 1000, s = u / 1000000;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%c%llu %02llu:%02llu:%02llu.%03llu", neg ? '-' : '+',
                static_cast<unsigned long long>(s / 86400),
                static_cast<unsigned long long>((s / 3600) % 24),
                static_cast<unsigned long long>((s / 60) % 60),
                static_cast<unsigned long long>(s % 60), static_cast<unsigned long long>(ms));
  return buf;
}

std::string FormatInt(const DataType& t, int64_t i, bool lower_bool) {
  switch (t.id) {
    case TypeId::kBoolean:
      return i ? (lower_bool ? "true" : "TRUE") : (lower_bool ? "false" : "FALSE");
    case TypeId::kDecimal:
      return FormatDecimal(i, t.scale);
    case TypeId::kTimestamp:
    case TypeId::kTimestampLtz:
      return FormatTimestamp(i, t.precision);
    case TypeId::kDate:
      return FormatDate(i);
    case TypeId::kIntervalDayTime:
      return FormatInterval(i);
    case TypeId::kIntervalYearMonth:
      return absl::StrCat(i < 0 ? "-" : "+", std::abs(i) / 12, "-", std::abs(i) % 12);
    default:
      return std::to_string(i);
  }
}
}  // namespace

std::string FormatCell(const Column& col, size_t row, std::string_view null_text, bool lower_bool) {
  if (col.IsNull(row)) return std::string(null_text);
  switch (col.type.physical()) {
    case Physical::kInt64:
      return FormatInt(col.type, col.i64[row], lower_bool);
    case Physical::kDouble:
      return FormatDouble(col.f64[row]);
    case Physical::kString:
      return std::string(col.str[row]);
  }
  return "";
}

std::string FormatValue(const Value& v, std::string_view null_text) {
  if (v.is_null) return std::string(null_text);
  switch (v.type.physical()) {
    case Physical::kInt64:
      return FormatInt(v.type, v.i, false);
    case Physical::kDouble:
      return FormatDouble(v.d);
    case Physical::kString:
      return v.s;
  }
  return "";
}

}  // namespace eddy
