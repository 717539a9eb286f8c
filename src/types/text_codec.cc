#include "types/text_codec.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "types/data_type.h"
#include "types/time_util.h"

namespace eddy::text {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && static_cast<unsigned char>(s[b]) <= ' ') ++b;
  while (e > b && static_cast<unsigned char>(s[e - 1]) <= ' ') --e;
  return s.substr(b, e - b);
}

namespace {

bool EqualsIgnoreCase(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool ParseBool(std::string_view s, bool* out) {
  if (EqualsIgnoreCase(s, "true")) {
    *out = true;
    return true;
  }
  if (EqualsIgnoreCase(s, "false")) {
    *out = false;
    return true;
  }
  return false;
}

bool ParseDouble(std::string_view s, double* out) {
  const char* p = s.data();
  const char* e = p + s.size();
  if (p == e) return false;
  bool neg = false;
  if (*p == '+' || *p == '-') {
    neg = *p == '-';
    ++p;
  }
  std::string_view rest(p, static_cast<size_t>(e - p));
  if (rest == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (rest == "Infinity") {
    *out = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (p == e || !(IsDigit(*p) || *p == '.')) return false;
  // Java allows one type suffix.
  char last = e[-1];
  if (last == 'd' || last == 'D' || last == 'f' || last == 'F') --e;
  if (p == e) return false;
  double v = 0;
  auto res = std::from_chars(p, e, v, std::chars_format::general);
  if (res.ptr != e) return false;  // trailing garbage
  if (res.ec == std::errc::result_out_of_range) {
    std::string copy(p, static_cast<size_t>(e - p));
    v = std::strtod(copy.c_str(), nullptr);
  } else if (res.ec != std::errc()) {
    return false;
  }
  *out = neg ? -v : v;
  return true;
}

DecimalParse ParseDecimal(std::string_view s, int precision, int scale, int64_t* out) {
  if (precision <= 0 || precision > 18) precision = 18;
  if (scale < 0) scale = 0;
  const char* p = s.data();
  const char* const e = p + s.size();
  bool neg = false;
  if (p < e && (*p == '+' || *p == '-')) {
    neg = *p == '-';
    ++p;
  }
  const char* int_begin = p;
  while (p < e && IsDigit(*p)) ++p;
  const char* int_end = p;
  const char* frac_begin = p;
  const char* frac_end = p;
  if (p < e && *p == '.') {
    frac_begin = ++p;
    while (p < e && IsDigit(*p)) ++p;
    frac_end = p;
  }
  if (int_begin == int_end && frac_begin == frac_end) return DecimalParse::kInvalid;
  int64_t exp10 = 0;
  if (p < e && (*p == 'e' || *p == 'E')) {
    ++p;
    bool eneg = false;
    if (p < e && (*p == '+' || *p == '-')) {
      eneg = *p == '-';
      ++p;
    }
    if (p == e) return DecimalParse::kInvalid;
    for (; p < e && IsDigit(*p); ++p) {
      if (exp10 < 1'000'000) exp10 = exp10 * 10 + (*p - '0');
    }
    if (eneg) exp10 = -exp10;
  }
  if (p != e) return DecimalParse::kInvalid;

  // The digit string D = int digits + fraction digits, with the decimal point after `point`
  // digits of D.
  const int64_t n_int = int_end - int_begin;
  const int64_t n_frac = frac_end - frac_begin;
  const int64_t n = n_int + n_frac;
  auto digit = [&](int64_t i) -> int {
    return i < n_int ? int_begin[i] - '0' : frac_begin[i - n_int] - '0';
  };
  int64_t first = 0;  // skip leading zeros
  while (first < n && digit(first) == 0) ++first;
  if (first == n) {
    *out = 0;
    return DecimalParse::kOk;
  }
  // Number of digits of the scaled integer value, counted from the first non-zero digit.
  const int64_t point = n_int + exp10 - first;
  const int64_t k = point + scale;
  if (k > precision) return DecimalParse::kOverflow;
  const int64_t sig = n - first;
  uint64_t v = 0;
  int round_digit = 0;
  if (k >= 0) {
    const int64_t take = k < sig ? k : sig;
    for (int64_t i = 0; i < take; ++i) v = v * 10 + static_cast<uint64_t>(digit(first + i));
    for (int64_t i = take; i < k; ++i) v *= 10;
    if (k < sig) round_digit = digit(first + k);
  }
  if (round_digit >= 5) ++v;
  if (v >= static_cast<uint64_t>(Pow10(precision))) return DecimalParse::kOverflow;
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return DecimalParse::kOk;
}

std::optional<int64_t> TimestampParser::Parse(std::string_view s) {
  // Fast path for the fixed layout "yyyy-MM-ddTHH:mm:ss" / "yyyy-MM-dd HH:mm:ss".
  if (s.size() == 19 && (s[10] == 'T' || s[10] == ' ') && s[13] == ':' && s[16] == ':') {
    int64_t days;
    if (has_date_ && std::memcmp(s.data(), date_, 10) == 0) {
      days = days_;
    } else {
      auto d = ParseDate(s.substr(0, 10));
      if (!d) return std::nullopt;
      std::memcpy(date_, s.data(), 10);
      days_ = days = *d;
      has_date_ = true;
    }
    const char* t = s.data() + 11;
    auto two = [](const char* q, int* v) {
      unsigned a = static_cast<unsigned char>(q[0]) - '0';
      unsigned b = static_cast<unsigned char>(q[1]) - '0';
      if (a > 9 || b > 9) return false;
      *v = static_cast<int>(a * 10 + b);
      return true;
    };
    int hh, mi, ss;
    if (!two(t, &hh) || !two(t + 3, &mi) || !two(t + 6, &ss) || hh > 23 || mi > 59 || ss > 59) {
      return std::nullopt;
    }
    return days * kMicrosPerDay + hh * kMicrosPerHour + mi * kMicrosPerMinute +
           ss * kMicrosPerSecond;
  }
  return ParseTimestamp(s);
}

// ---------------------------------------------------------------------------------------------

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

namespace {

void Append2(unsigned v, std::string* out) {
  char b[2] = {static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
  out->append(b, 2);
}

}  // namespace

void AppendDate(int64_t days, std::string* out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y > 9999) {
    out->push_back('+');
    AppendInt(y, out);
  } else {
    if (y < 0) {
      out->push_back('-');
      y = -y;
    }
    if (y > 9999) {
      AppendInt(y, out);
    } else {
      char b[4] = {static_cast<char>('0' + y / 1000), static_cast<char>('0' + (y / 100) % 10),
                   static_cast<char>('0' + (y / 10) % 10), static_cast<char>('0' + y % 10)};
      out->append(b, 4);
    }
  }
  out->push_back('-');
  Append2(m, out);
  out->push_back('-');
  Append2(d, out);
}

void AppendTimestamp(int64_t micros, char separator, bool zulu, std::string* out) {
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  const int64_t rem = micros - days * kMicrosPerDay;
  const int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  AppendDate(days, out);
  out->push_back(separator);
  Append2(static_cast<unsigned>(secs / 3600), out);
  out->push_back(':');
  Append2(static_cast<unsigned>((secs / 60) % 60), out);
  out->push_back(':');
  Append2(static_cast<unsigned>(secs % 60), out);
  if (frac != 0) {
    char b[7];
    b[0] = '.';
    for (int i = 6; i >= 1; --i) {
      b[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    size_t len = 7;
    while (b[len - 1] == '0') --len;
    out->append(b, len);
  }
  if (zulu) out->push_back('Z');
}

void AppendJavaDecimal(int64_t unscaled, int scale, bool plain, std::string* out) {
  if (unscaled == 0) {
    out->push_back('0');
    return;
  }
  const bool neg = unscaled < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(unscaled) : static_cast<uint64_t>(unscaled);
  int64_t sc = scale;
  while (u % 10 == 0) {  // BigDecimal.stripTrailingZeros
    u /= 10;
    --sc;
  }
  char digits[24];
  auto res = std::to_chars(digits, digits + sizeof(digits), u);
  const int64_t n = res.ptr - digits;
  if (neg) out->push_back('-');
  const int64_t adjusted = -sc + (n - 1);
  if (plain || (sc >= 0 && adjusted >= -6)) {
    if (sc <= 0) {
      out->append(digits, static_cast<size_t>(n));
      out->append(static_cast<size_t>(-sc), '0');
    } else if (n > sc) {
      out->append(digits, static_cast<size_t>(n - sc));
      out->push_back('.');
      out->append(digits + (n - sc), static_cast<size_t>(sc));
    } else {
      out->append("0.");
      out->append(static_cast<size_t>(sc - n), '0');
      out->append(digits, static_cast<size_t>(n));
    }
    return;
  }
  out->push_back(digits[0]);
  if (n > 1) {
    out->push_back('.');
    out->append(digits + 1, static_cast<size_t>(n - 1));
  }
  out->push_back('E');
  if (adjusted >= 0) out->push_back('+');
  AppendInt(adjusted, out);
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\r':
        out->append("\\r");
        break;
      default: {
        char b[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(b, 6);
      }
    }
  }
  out->append(s.data() + start, s.size() - start);
  out->push_back('"');
}

}  // namespace eddy::text
