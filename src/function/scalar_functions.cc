// Built-in scalar functions and operators (Flink SQL "System (Built-in) Functions").
#include <fmt/format.h>
#include <locale.h>
#include <re2/re2.h>
#include <wctype.h>

#include <algorithm>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cwctype>
#include <map>

#include "base/status.h"
#include "base/strings.h"
#include "base/utf8.h"
#include "function/expr.h"
#include "function/function_registry.h"
#include "function/numeric.h"
#include "types/time_util.h"

namespace eddy {

namespace {

using Args = std::vector<const Column*>;

// Null-propagating kernel over int64 lanes: out = f(a, b). `f` returns false to signal an error
// (e.g. division by zero) with `err`.
template <class F>
ScalarKernel IntBinary(F f, const char* err = "") {
  return [f, err](const Args& a, size_t n, EvalContext*, Column* out) -> absl::Status {
    const Column& x = *a[0];
    const Column& y = *a[1];
    for (size_t i = 0; i < n; ++i) {
      if (x.valid[i] && y.valid[i]) {
        int64_t r;
        if (!f(x.i64[i], y.i64[i], &r)) return absl::InvalidArgumentError(err);
        out->AppendInt(r);
      } else {
        out->AppendNull();
      }
    }
    return absl::OkStatus();
  };
}

template <class F>
ScalarKernel DoubleBinary(F f) {
  return [f](const Args& a, size_t n, EvalContext*, Column* out) -> absl::Status {
    const Column& x = *a[0];
    const Column& y = *a[1];
    for (size_t i = 0; i < n; ++i) {
      if (x.valid[i] && y.valid[i])
        out->AppendDouble(f(x.f64[i], y.f64[i]));
      else
        out->AppendNull();
    }
    return absl::OkStatus();
  };
}

// Generic per-row kernel: f(args, i, ctx, out) appends one value; called only when all args are
// non-NULL unless `null_aware`.
template <class F>
ScalarKernel RowKernel(F f, bool null_aware = false) {
  return [f, null_aware](const Args& a, size_t n, EvalContext* ctx, Column* out) -> absl::Status {
    for (size_t i = 0; i < n; ++i) {
      if (!null_aware) {
        bool any_null = false;
        for (const Column* c : a) any_null |= !c->valid[i];
        if (any_null) {
          out->AppendNull();
          continue;
        }
      }
      EDDY_RETURN_IF_ERROR(f(a, i, ctx, out));
    }
    return absl::OkStatus();
  };
}

template <class Pred>
ScalarKernel CompareKernel(Physical p, Pred pred) {
  return [p, pred](const Args& a, size_t n, EvalContext*, Column* out) -> absl::Status {
    const Column& x = *a[0];
    const Column& y = *a[1];
    out->valid.reserve(out->valid.size() + n);
    if (p == Physical::kInt64) {
      for (size_t i = 0; i < n; ++i) {
        out->valid.push_back(x.valid[i] & y.valid[i]);
        out->i64.push_back(pred(x.i64[i] < y.i64[i] ? -1 : x.i64[i] > y.i64[i]));
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (x.valid[i] && y.valid[i])
          out->AppendInt(pred(fn::CompareCells(x, i, y, i)));
        else
          out->AppendNull();
      }
    }
    return absl::OkStatus();
  };
}

absl::Status Err(std::string msg) { return absl::InvalidArgumentError(std::move(msg)); }

// The error of a function whose result would exceed kMaxStringValueBytes.
absl::Status TooLong(std::string_view function, uint64_t bytes) {
  return Err(fmt::format(
      "{}: the result would be {} bytes, longer than the limit of {} bytes (16 MiB) for a string",
      function, bytes, kMaxStringValueBytes));
}
absl::Status TooLong(std::string_view function) {
  return Err(
      fmt::format("{}: the result would be longer than the limit of {} bytes (16 MiB) for a "
                  "string",
                  function, kMaxStringValueBytes));
}

// Bytes of the first `n` code points of `s` (all of `s` when it has fewer).
size_t Utf8PrefixBytes(std::string_view s, uint64_t n) {
  size_t i = 0;
  for (uint64_t k = 0; k < n && i < s.size(); ++k) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

// LPAD / RPAD (Flink's SqlFunctionUtils.lpad/rpad, counting code points): `s` padded with `pad`
// repeated to `len` characters, or cut to `len` characters; NULL (false) for a negative `len` or
// an empty `pad`.
absl::Status Pad(std::string_view fn, bool left, std::string_view s, int64_t len,
                 std::string_view pad, Arena* arena, Column* out) {
  if (len < 0 || pad.empty()) {
    out->AppendNull();
    return absl::OkStatus();
  }
  const uint64_t want = static_cast<uint64_t>(len);
  const uint64_t have = static_cast<uint64_t>(Utf8Length(s));
  const size_t base = Utf8PrefixBytes(s, want);
  const uint64_t fill = want > have ? want - have : 0;  // characters of padding
  // At least 1: a pad of stray continuation bytes counts as one character.
  const uint64_t pad_chars = std::max<uint64_t>(static_cast<uint64_t>(Utf8Length(pad)), 1);
  const uint64_t full = fill / pad_chars;
  const size_t rest = Utf8PrefixBytes(pad, fill % pad_chars);
  const unsigned __int128 size =
      static_cast<unsigned __int128>(full) * pad.size() + base + rest;  // no overflow
  if (size > kMaxStringValueBytes) {
    return size > UINT64_MAX ? TooLong(fn) : TooLong(fn, static_cast<uint64_t>(size));
  }
  const uint64_t total = static_cast<uint64_t>(size);
  char* p = arena->Allocate(total);
  char* w = p;
  auto put_padding = [&] {
    for (uint64_t k = 0; k < full; ++k, w += pad.size()) std::memcpy(w, pad.data(), pad.size());
    std::memcpy(w, pad.data(), rest);
    w += rest;
  };
  if (left) put_padding();
  std::memcpy(w, s.data(), base);
  w += base;
  if (!left) put_padding();
  out->AppendString({p, static_cast<size_t>(total)});
  return absl::OkStatus();
}

// REGEXP_REPLACE: every non-overlapping match of `re` in `in` replaced by `rewrite` (\0..\9 insert
// groups), as RE2::GlobalReplace does (an empty match right after a match is not replaced; the
// next character is copied instead), but failing as soon as the result passes the string limit.
absl::Status RegexpReplace(const RE2& re, std::string_view in, std::string_view rewrite,
                           std::string* out) {
  const re2::StringPiece rw(rewrite.data(), rewrite.size());
  const int nvec = 1 + RE2::MaxSubmatch(rw);
  if (nvec > 1 + re.NumberOfCapturingGroups()) {  // \N without group N: unchanged, as RE2
    out->assign(in);
    return absl::OkStatus();
  }
  std::vector<re2::StringPiece> vec(static_cast<size_t>(nvec));
  const re2::StringPiece text(in.data(), in.size());
  size_t p = 0;
  size_t last_end = std::string_view::npos;
  while (p <= in.size()) {
    if (!re.Match(text, p, in.size(), RE2::UNANCHORED, vec.data(), nvec)) break;
    const size_t start = static_cast<size_t>(vec[0].data() - in.data());
    out->append(in.data() + p, start - p);
    if (vec[0].empty() && start == last_end) {
      if (p >= in.size()) break;
      // One character, as RE2 reads UTF-8 (Plan 9 chartorune: a surrogate is a character too).
      size_t n = Utf8SequenceLength(in.substr(p));
      if (n == 0 && p + 3 <= in.size() && static_cast<unsigned char>(in[p]) == 0xED &&
          (static_cast<unsigned char>(in[p + 1]) & 0xC0) == 0x80 &&
          (static_cast<unsigned char>(in[p + 2]) & 0xC0) == 0x80) {
        n = 3;
      }
      if (n == 0) n = 1;
      out->append(in.data() + p, n);
      p += n;
    } else {
      if (!re.Rewrite(out, rw, vec.data(), nvec)) return Err("REGEXP_REPLACE: invalid rewrite");
      p = start + vec[0].size();
      last_end = p;
    }
    if (out->size() > kMaxStringValueBytes) return TooLong("REGEXP_REPLACE");
  }
  if (p < in.size()) out->append(in.data() + p, in.size() - p);
  if (out->size() > kMaxStringValueBytes) return TooLong("REGEXP_REPLACE", out->size());
  return absl::OkStatus();
}

// UPPER/LOWER beyond ASCII: simple Unicode case mapping of each code point (glibc's C.UTF-8
// tables). One code point maps to one (Java's special cases such as 'ß' → "SS" are not applied).
std::string Utf8CaseMap(std::string_view s, bool up) {
  static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c >= 0x80 && c < 0xC0) len = 1;  // stray continuation byte: copy as is
    if (i + len > s.size()) len = static_cast<int>(s.size() - i);
    uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    uint32_t m = cp;
    if (loc && (len > 1 || c < 0x80)) {
      m = static_cast<uint32_t>(up ? towupper_l(static_cast<wint_t>(cp), loc)
                                   : towlower_l(static_cast<wint_t>(cp), loc));
    }
    if (m < 0x80) {
      out += static_cast<char>(m);
    } else if (m < 0x800) {
      out += static_cast<char>(0xC0 | (m >> 6));
      out += static_cast<char>(0x80 | (m & 0x3F));
    } else if (m < 0x10000) {
      out += static_cast<char>(0xE0 | (m >> 12));
      out += static_cast<char>(0x80 | ((m >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (m & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (m >> 18));
      out += static_cast<char>(0x80 | ((m >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((m >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (m & 0x3F));
    }
    i += len;
  }
  return out;
}

// Java's integer overflow: INT wraps at 32 bits, BIGINT at 64.
int64_t Wrap(int64_t v, bool is_int) {
  return is_int ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v))) : v;
}

int64_t NegateWrap(int64_t v, bool is_int) {
  return Wrap(static_cast<int64_t>(0 - static_cast<uint64_t>(v)), is_int);
}

// Flink's SQL ROUND on DOUBLE: BigDecimal.valueOf(x) (the shortest decimal text of x) rounded
// HALF_UP to `digits` places.
double RoundDoubleHalfUp(double x, int digits) {
  if (!std::isfinite(x)) return x;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // d.ddddde±x, shortest round trip
  size_t e = sci.find('e');
  int exp = std::stoi(sci.substr(e + 1));
  bool neg = sci[0] == '-';
  std::string mant = sci.substr(neg ? 1 : 0, e - (neg ? 1 : 0));
  std::string digits_str;
  for (char c : mant) {
    if (c != '.') digits_str += c;
  }
  // value = 0.digits_str * 10^(exp + 1); keep (exp + 1 + digits) leading digits.
  int keep = exp + 1 + digits;
  if (keep < 0) return neg ? -0.0 : 0.0;
  if (keep >= static_cast<int>(digits_str.size())) return x;
  bool up = digits_str[keep] >= '5';
  std::string kept = digits_str.substr(0, keep);
  // Integer of `kept` plus carry, scaled by 10^(exp + 1 - keep).
  long double v = 0;
  for (char c : kept) v = v * 10 + (c - '0');
  if (up) v += 1;
  std::string text =
      fmt::format("{}{}e{}", neg ? "-" : "", static_cast<long long>(v), exp + 1 - keep);
  return std::strtod(text.c_str(), nullptr);
}

std::string Sig(const std::string& name, const std::vector<DataType>& t) {
  std::string s = name + "(";
  for (size_t i = 0; i < t.size(); ++i) s += (i ? ", " : "") + t[i].ToString();
  return s + ")";
}

// Arithmetic result type of a numeric binary operator.
std::optional<DataType> ArithType(const std::string& op, const DataType& a, const DataType& b) {
  if (!a.is_numeric() && a.id != TypeId::kNull) return std::nullopt;
  if (!b.is_numeric() && b.id != TypeId::kNull) return std::nullopt;
  auto c = CommonType(a, b);
  if (!c) return std::nullopt;
  if (c->id == TypeId::kNull) return DataType::Int();
  if (c->id == TypeId::kDecimal && (op == "*" || op == "/")) {
    // DECIMAL * and / : computed in the common scale, result scale max(6, s) for '/', s1+s2 for '*'
    // capped at 18 digits (eddy keeps DECIMAL in 64 bits).
    return c;
  }
  if (c->id == TypeId::kInt && (a.id == TypeId::kBigint || b.id == TypeId::kBigint)) {
    return DataType::Bigint();
  }
  DataType r = *c;
  r.nullable = true;
  return r;
}

bool MulOverflow(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }

ScalarKernel ArithKernel(const std::string& op, const DataType& t) {
  if (t.id == TypeId::kDouble) {
    if (op == "+") return DoubleBinary([](double x, double y) { return x + y; });
    if (op == "-") return DoubleBinary([](double x, double y) { return x - y; });
    if (op == "*") return DoubleBinary([](double x, double y) { return x * y; });
    if (op == "/") return DoubleBinary([](double x, double y) { return x / y; });
    return DoubleBinary([](double x, double y) { return std::fmod(x, y); });
  }
  bool is_int = t.id == TypeId::kInt;
  auto wrap = [is_int](int64_t v) {
    return is_int ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v))) : v;
  };
  if (t.id == TypeId::kDecimal) {
    int s = t.scale;
    if (op == "*") {
      return IntBinary(
          [s](int64_t x, int64_t y, int64_t* r) {
            __int128 p = static_cast<__int128>(x) * y;
            __int128 d = Pow10(s);
            __int128 q = p / d, rem = p % d;
            if (2 * (rem < 0 ? -rem : rem) >= d) q += p < 0 ? -1 : 1;
            *r = static_cast<int64_t>(q);
            return q < static_cast<__int128>(INT64_MAX) && q > static_cast<__int128>(INT64_MIN);
          },
          "DECIMAL multiplication overflowed 18 digits");
    }
    if (op == "/") {
      return IntBinary(
          [s](int64_t x, int64_t y, int64_t* r) {
            if (y == 0) return false;
            __int128 p = static_cast<__int128>(x) * Pow10(s);
            __int128 q = p / y, rem = p % y;
            if (2 * (rem < 0 ? -rem : rem) >= (y < 0 ? -static_cast<__int128>(y) : y)) {
              q += (p < 0) != (y < 0) ? -1 : 1;
            }
            *r = static_cast<int64_t>(q);
            return true;
          },
          "division by zero");
    }
  }
  if (op == "+") {
    return IntBinary([wrap](int64_t x, int64_t y, int64_t* r) {
      *r = wrap(static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y)));
      return true;
    });
  }
  if (op == "-") {
    return IntBinary([wrap](int64_t x, int64_t y, int64_t* r) {
      *r = wrap(static_cast<int64_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(y)));
      return true;
    });
  }
  if (op == "*") {
    return IntBinary([wrap](int64_t x, int64_t y, int64_t* r) {
      int64_t v;
      MulOverflow(x, y, &v);
      *r = wrap(v);
      return true;
    });
  }
  if (op == "/") {
    return IntBinary(
        [wrap](int64_t x, int64_t y, int64_t* r) {
          if (y == 0) return false;
          *r = (x == INT64_MIN && y == -1) ? x : wrap(x / y);
          return true;
        },
        "division by zero");
  }
  return IntBinary(
      [](int64_t x, int64_t y, int64_t* r) {
        if (y == 0) return false;
        *r = y == -1 ? 0 : x % y;
        return true;
      },
      "division by zero in MOD");
}

// Time units in µs for FLOOR/CEIL TO and EXTRACT; months handled separately.
int64_t UnitMicros(const std::string& u) {
  if (u == "MILLISECOND") return 1000;
  if (u == "SECOND") return kMicrosPerSecond;
  if (u == "MINUTE") return kMicrosPerMinute;
  if (u == "HOUR") return kMicrosPerHour;
  if (u == "DAY") return kMicrosPerDay;
  if (u == "WEEK") return 7 * kMicrosPerDay;
  return 0;
}

int64_t FloorToUnit(int64_t ts, const std::string& unit) {
  int64_t um = UnitMicros(unit);
  if (unit == "WEEK") {
    // Weeks start on Monday (ISO); 1970-01-01 was a Thursday, so shift by 3 days.
    int64_t shift = 3 * kMicrosPerDay;
    return FloorDiv(ts + shift, um) * um - shift;
  }
  if (um) return FloorDiv(ts, um) * um;
  int64_t days = FloorDiv(ts, kMicrosPerDay);
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (unit == "MONTH") return DaysFromCivil(y, m, 1) * kMicrosPerDay;
  if (unit == "QUARTER") return DaysFromCivil(y, (m - 1) / 3 * 3 + 1, 1) * kMicrosPerDay;
  return DaysFromCivil(y, 1, 1) * kMicrosPerDay;  // YEAR
}

int64_t CeilToUnit(int64_t ts, const std::string& unit) {
  int64_t f = FloorToUnit(ts, unit);
  if (f == ts) return ts;
  int64_t um = UnitMicros(unit);
  if (um) return f + um;
  int64_t y;
  unsigned m, d;
  CivilFromDays(FloorDiv(f, kMicrosPerDay), &y, &m, &d);
  unsigned add = unit == "MONTH" ? 1 : unit == "QUARTER" ? 3 : 12;
  m += add;
  while (m > 12) {
    m -= 12;
    ++y;
  }
  return DaysFromCivil(y, m, 1) * kMicrosPerDay;
}

std::optional<int64_t> Extract(const std::string& unit, int64_t v, TypeId from) {
  int64_t ts = from == TypeId::kDate ? v * kMicrosPerDay : v;
  int64_t days = FloorDiv(ts, kMicrosPerDay);
  int64_t rem = ts - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (unit == "YEAR") return y;
  if (unit == "QUARTER") return (m - 1) / 3 + 1;
  if (unit == "MONTH") return m;
  if (unit == "DAY") return d;
  if (unit == "HOUR") return rem / kMicrosPerHour;
  if (unit == "MINUTE") return rem / kMicrosPerMinute % 60;
  if (unit == "SECOND") return rem / kMicrosPerSecond % 60;
  if (unit == "MILLISECOND") return rem / 1000 % 60000;
  if (unit == "MICROSECOND") return rem % 60000000;
  if (unit == "DOW") return FloorMod(days + 4, 7) + 1;  // Sunday = 1 (Flink/Calcite)
  if (unit == "DOY") return days - DaysFromCivil(y, 1, 1) + 1;
  if (unit == "WEEK") {
    // ISO week number.
    int64_t wd = FloorMod(days + 3, 7);  // Monday = 0
    int64_t thursday = days - wd + 3;
    int64_t ty;
    unsigned tm, td;
    CivilFromDays(thursday, &ty, &tm, &td);
    return (thursday - DaysFromCivil(ty, 1, 1)) / 7 + 1;
  }
  if (unit == "EPOCH") return FloorDiv(ts, kMicrosPerSecond);
  return std::nullopt;
}

bool LikeMatch(std::string_view s, std::string_view p, char esc) {
  // Iterative wildcard match with backtracking on the last '%'.
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (esc && c == esc && pi + 1 < p.size()) {
        if (s[si] == p[pi + 1]) {
          si++;
          pi += 2;
          continue;
        }
      } else if (c == '%') {
        star_p = pi++;
        star_s = si;
        continue;
      } else if (c == '_') {
        // One character, not one byte.
        unsigned char b = static_cast<unsigned char>(s[si]);
        si += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        if (si > s.size()) si = s.size();
        pi++;
        continue;
      } else if (c == s[si]) {
        si++;
        pi++;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

std::string UnitOf(const std::vector<const Value*>& lits, size_t i) {
  return lits.size() > i && lits[i] && !lits[i]->is_null ? ToUpper(lits[i]->s) : "";
}

const std::vector<std::string>& Names() {
  static const std::vector<std::string> kNames = {"ABS",
                                                  "CEIL",
                                                  "CEILING",
                                                  "CHAR_LENGTH",
                                                  "CHARACTER_LENGTH",
                                                  "COALESCE",
                                                  "CONCAT",
                                                  "CURRENT_TIMESTAMP",
                                                  "CURRENT_WATERMARK",
                                                  "DATE_FORMAT",
                                                  "DAYOFMONTH",
                                                  "DAYOFWEEK",
                                                  "DAYOFYEAR",
                                                  "EXP",
                                                  "EXTRACT",
                                                  "FLOOR",
                                                  "HOUR",
                                                  "IF",
                                                  "LN",
                                                  "LOCALTIMESTAMP",
                                                  "LOG10",
                                                  "LOWER",
                                                  "LPAD",
                                                  "LTRIM",
                                                  "MINUTE",
                                                  "MOD",
                                                  "MONTH",
                                                  "NOW",
                                                  "NULLIF",
                                                  "POSITION",
                                                  "POWER",
                                                  "PROCTIME",
                                                  "QUARTER",
                                                  "REGEXP_EXTRACT",
                                                  "REGEXP_REPLACE",
                                                  "REPEAT",
                                                  "REPLACE",
                                                  "ROUND",
                                                  "RPAD",
                                                  "RTRIM",
                                                  "SECOND",
                                                  "SQRT",
                                                  "SUBSTR",
                                                  "SUBSTRING",
                                                  "TO_TIMESTAMP",
                                                  "TO_TIMESTAMP_LTZ",
                                                  "TRIM",
                                                  "UPPER",
                                                  "WEEK",
                                                  "YEAR"};
  return kNames;
}

}  // namespace

std::vector<std::string> ScalarFunctionNames() {
  std::vector<std::string> names = Names();
  for (const ScalarFunctionEntry* e : RegisteredScalarFunctions()) names.emplace_back(e->name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<ResolvedFunction> ResolveScalarFunction(const std::string& name,
                                                       const std::vector<DataType>& t,
                                                       const std::vector<const Value*>& lits) {
  // Functions registered as table entries by family (function_registry.h).
  if (const ScalarFunctionEntry* e = FindScalarFunction(name)) return e->resolve(t, lits);
  const size_t n = t.size();
  auto bad = [&]() {
    return Err(fmt::format("cannot apply {} to argument types {}", name, Sig(name, t)));
  };
  auto want = [&](size_t lo, size_t hi) -> absl::Status {
    if (n < lo || n > hi) {
      return Err(fmt::format("{} takes {} argument(s), got {}", name,
                             lo == hi ? std::to_string(lo) : fmt::format("{} to {}", lo, hi), n));
    }
    return absl::OkStatus();
  };
  auto is_str = [&](size_t i) { return t[i].is_string() || t[i].id == TypeId::kNull; };
  auto is_num = [&](size_t i) { return t[i].is_numeric() || t[i].id == TypeId::kNull; };
  auto is_ts = [&](size_t i) { return t[i].is_timestamp() || t[i].id == TypeId::kNull; };

  // ---- arithmetic ----
  if (name == "+" || name == "-" || name == "*" || name == "/" || name == "%" || name == "MOD") {
    EDDY_RETURN_IF_ERROR(want(2, 2));
    std::string op = name == "MOD" ? "%" : name;
    // Timestamp/date +- interval, timestamp - timestamp is not Flink SQL (use TIMESTAMPDIFF).
    if ((op == "+" || op == "-") && (is_ts(0) || t[0].id == TypeId::kDate) &&
        t[1].id == TypeId::kIntervalDayTime) {
      DataType r = t[0].id == TypeId::kDate ? DataType::Timestamp(0) : t[0];
      r.time_attr = TimeAttr::kNone;
      int sign = op == "+" ? 1 : -1;
      bool date = t[0].id == TypeId::kDate;
      return ResolvedFunction{IntBinary(
                                  [sign, date](int64_t x, int64_t y, int64_t* o) {
                                    int64_t ts;
                                    if (__builtin_mul_overflow(x, date ? kMicrosPerDay : 1, &ts))
                                      return false;
                                    bool over = sign > 0 ? __builtin_add_overflow(ts, y, o)
                                                         : __builtin_sub_overflow(ts, y, o);
                                    return !over && InTimestampRange(*o);
                                  },
                                  "timestamp arithmetic left the TIMESTAMP range (years "
                                  "0000-9999)"),
                              r,
                              {t[0], t[1]}};
    }
    if ((op == "+" || op == "-") && (is_ts(0) || t[0].id == TypeId::kDate) &&
        t[1].id == TypeId::kIntervalYearMonth) {
      // Calendar months: the day of month is clamped to the target month's length.
      DataType r = t[0];
      r.time_attr = TimeAttr::kNone;
      int sign = op == "+" ? 1 : -1;
      bool date = t[0].id == TypeId::kDate;
      return ResolvedFunction{
          IntBinary(
              [sign, date](int64_t x, int64_t months, int64_t* o) {
                int64_t ts = date ? x * kMicrosPerDay : x;
                // Inputs are in the TIMESTAMP range and |months| < 12e9
                // (the binder's YEAR(9) bound): no overflow below.
                if (!InTimestampRange(ts)) return false;
                int64_t days = FloorDiv(ts, kMicrosPerDay);
                int64_t rem = ts - days * kMicrosPerDay;
                int64_t y;
                unsigned m, d;
                CivilFromDays(days, &y, &m, &d);
                int64_t total = y * 12 + (m - 1) + sign * months;
                int64_t ny = FloorDiv(total, 12);
                unsigned nm = static_cast<unsigned>(FloorMod(total, 12)) + 1;
                static const unsigned kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
                unsigned len = kLen[nm - 1];
                if (nm == 2 && ((ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0)) {
                  len = 29;
                }
                if (ny < 0 || ny > 9999) return false;
                int64_t nd = DaysFromCivil(ny, nm, std::min(d, len));
                *o = date ? nd : nd * kMicrosPerDay + rem;
                return true;
              },
              "timestamp arithmetic left the TIMESTAMP range (years "
              "0000-9999)"),
          r,
          {t[0], t[1]}};
    }
    if (op == "+" && t[0].id == TypeId::kIntervalDayTime && is_ts(1)) {
      DataType r = t[1];
      r.time_attr = TimeAttr::kNone;
      return ResolvedFunction{IntBinary(
                                  [](int64_t x, int64_t y, int64_t* o) {
                                    return !__builtin_add_overflow(x, y, o) && InTimestampRange(*o);
                                  },
                                  "timestamp arithmetic left the TIMESTAMP range (years "
                                  "0000-9999)"),
                              r,
                              {t[0], t[1]}};
    }
    if ((op == "+" || op == "-") && t[0].is_interval() && t[0].id == t[1].id) {
      return ResolvedFunction{ArithKernel(op, DataType::Bigint()), t[0], {t[0], t[1]}};
    }
    if ((op == "*") && t[0].id == TypeId::kIntervalDayTime && t[1].is_integral()) {
      return ResolvedFunction{
          ArithKernel(op, DataType::Bigint()), t[0], {t[0], DataType::Bigint()}};
    }
    auto r = ArithType(op, t[0], t[1]);
    if (!r) return bad();
    DataType operand = *r;
    if (r->id == TypeId::kDecimal && op == "*") {
      // Flink: DECIMAL(p1, s1) * DECIMAL(p2, s2) is DECIMAL(p1 + p2, s1 + s2) (eddy caps p at 18).
      auto as_dec = [](const DataType& d) {
        if (d.id == TypeId::kDecimal) return d;
        return DataType::Decimal(d.id == TypeId::kBigint ? 18 : 10, 0);
      };
      DataType a0 = as_dec(t[0]), a1 = as_dec(t[1]);
      int scale = a0.scale + a1.scale;
      if (scale > 18) return Err("DECIMAL multiplication result scale exceeds 18 digits");
      DataType res =
          DataType::Decimal(std::min(18, std::max(scale, a0.precision + a1.precision)), scale);
      return ResolvedFunction{IntBinary(
                                  [](int64_t x, int64_t y, int64_t* o) {
                                    __int128 p = static_cast<__int128>(x) * y;
                                    *o = static_cast<int64_t>(p);
                                    return p < static_cast<__int128>(1000000000000000000LL) &&
                                           p > -static_cast<__int128>(1000000000000000000LL);
                                  },
                                  "DECIMAL multiplication overflowed 18 digits"),
                              res,
                              {a0, a1}};
    }
    if (r->id == TypeId::kDecimal && op == "/") {
      DataType res = DataType::Decimal(18, std::max(6, r->scale));
      DataType arg = DataType::Decimal(18, r->scale);
      // x/y with both at scale s: (x * 10^S) / y has scale S when y is also at scale s ... keep it
      // simple and exact: compute in the result scale with the divisor at scale 0 of its own.
      ScalarKernel k = [res](const Args& a, size_t m, EvalContext*, Column* out) -> absl::Status {
        for (size_t i = 0; i < m; ++i) {
          if (!a[0]->valid[i] || !a[1]->valid[i]) {
            out->AppendNull();
            continue;
          }
          int64_t y = a[1]->i64[i];
          if (y == 0) return Err("division by zero");
          // x and y share scale s: quotient = x / y exactly, then scaled to res.scale.
          __int128 p = static_cast<__int128>(a[0]->i64[i]) * Pow10(res.scale);
          __int128 q = p / y, rem = p % y;
          __int128 ay = y < 0 ? -static_cast<__int128>(y) : y;
          if (2 * (rem < 0 ? -rem : rem) >= ay) q += (p < 0) != (y < 0) ? -1 : 1;
          out->AppendInt(static_cast<int64_t>(q));
        }
        return absl::OkStatus();
      };
      return ResolvedFunction{k, res, {arg, arg}};
    }
    return ResolvedFunction{ArithKernel(op, *r), *r, {operand, operand}};
  }
  if (name == "NEGATE") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    if (!is_num(0) && !t[0].is_interval()) return bad();
    DataType r = t[0].id == TypeId::kNull ? DataType::Int() : t[0];
    bool dbl = r.id == TypeId::kDouble, is_int = r.id == TypeId::kInt;
    return ResolvedFunction{
        RowKernel([dbl, is_int](const Args& a, size_t i, EvalContext*, Column* out) {
          if (dbl)
            out->AppendDouble(-a[0]->f64[i]);
          else
            out->AppendInt(NegateWrap(a[0]->i64[i], is_int));
          return absl::OkStatus();
        }),
        r,
        {r}};
  }

  // ---- comparison ----
  if (name == "=" || name == "<>" || name == "<" || name == "<=" || name == ">" || name == ">=") {
    EDDY_RETURN_IF_ERROR(want(2, 2));
    auto c = CommonType(t[0], t[1]);
    if (!c || c->is_interval() != t[0].is_interval()) return bad();
    DataType ct = c->id == TypeId::kNull ? DataType::Int() : *c;
    Physical p = ct.physical();
    ScalarKernel k;
    if (name == "=")
      k = CompareKernel(p, [](int x) { return x == 0; });
    else if (name == "<>")
      k = CompareKernel(p, [](int x) { return x != 0; });
    else if (name == "<")
      k = CompareKernel(p, [](int x) { return x < 0; });
    else if (name == "<=")
      k = CompareKernel(p, [](int x) { return x <= 0; });
    else if (name == ">")
      k = CompareKernel(p, [](int x) { return x > 0; });
    else
      k = CompareKernel(p, [](int x) { return x >= 0; });
    return ResolvedFunction{k, DataType::Boolean(), {ct, ct}};
  }
  if (name == "NOT") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    if (t[0].id != TypeId::kBoolean && t[0].id != TypeId::kNull) return bad();
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext*, Column* out) {
                              out->AppendInt(!a[0]->i64[i]);
                              return absl::OkStatus();
                            }),
                            DataType::Boolean(),
                            {DataType::Boolean()}};
  }
  if (name == "IS NULL" || name == "IS NOT NULL") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    bool neg = name == "IS NOT NULL";
    return ResolvedFunction{RowKernel(
                                [neg](const Args& a, size_t i, EvalContext*, Column* out) {
                                  out->AppendInt(a[0]->valid[i] ? neg : !neg);
                                  return absl::OkStatus();
                                },
                                true),
                            DataType{TypeId::kBoolean, 0, 0, -1, false},
                            {t[0]}};
  }
  if (name == "IS TRUE" || name == "IS FALSE" || name == "IS NOT TRUE" || name == "IS NOT FALSE") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    if (t[0].id != TypeId::kBoolean && t[0].id != TypeId::kNull) return bad();
    bool want_true = name.find("TRUE") != std::string::npos;
    bool neg = name.find("NOT") != std::string::npos;
    return ResolvedFunction{
        RowKernel(
            [want_true, neg](const Args& a, size_t i, EvalContext*, Column* out) {
              bool r = a[0]->valid[i] && (a[0]->i64[i] != 0) == want_true;
              out->AppendInt(r != neg);
              return absl::OkStatus();
            },
            true),
        DataType{TypeId::kBoolean, 0, 0, -1, false},
        {DataType::Boolean()}};
  }
  if (name == "LIKE" || name == "NOT LIKE") {
    EDDY_RETURN_IF_ERROR(want(2, 3));
    for (size_t i = 0; i < n; ++i) {
      if (!is_str(i)) return bad();
    }
    bool neg = name == "NOT LIKE";
    char esc = 0;
    if (n == 3) {
      if (!lits[2] || lits[2]->is_null || lits[2]->s.size() != 1) {
        return Err("LIKE ... ESCAPE takes a constant single character");
      }
      esc = lits[2]->s[0];
    }
    std::vector<DataType> at(n, DataType::String());
    return ResolvedFunction{
        RowKernel([neg, esc](const Args& a, size_t i, EvalContext*, Column* out) {
          out->AppendInt(LikeMatch(a[0]->str[i], a[1]->str[i], esc) != neg);
          return absl::OkStatus();
        }),
        DataType::Boolean(), at};
  }
  if (name == "||" || name == "CONCAT") {
    if (n < 1) return want(1, 1000);
    for (size_t i = 0; i < n; ++i) {
      if (!is_str(i)) return bad();
    }
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                              size_t len = 0;
                              for (const Column* c : a) len += c->str[i].size();
                              if (len > kMaxStringValueBytes) return TooLong("CONCAT", len);
                              char* p = ctx->arena->Allocate(len);
                              size_t off = 0;
                              for (const Column* c : a) {
                                // An empty string may have no data pointer (memcpy from null
                                // is undefined even for 0 bytes).
                                if (c->str[i].empty()) continue;
                                std::memcpy(p + off, c->str[i].data(), c->str[i].size());
                                off += c->str[i].size();
                              }
                              out->AppendString({p, len});
                              return absl::OkStatus();
                            }),
                            DataType::String(), std::vector<DataType>(n, DataType::String())};
  }

  // ---- conditional ----
  if (name == "COALESCE") {
    if (n < 1) return want(1, 1000);
    DataType c = t[0];
    for (size_t i = 1; i < n; ++i) {
      auto ct = CommonType(c, t[i]);
      if (!ct) return bad();
      c = *ct;
    }
    c.time_attr = TimeAttr::kNone;
    return ResolvedFunction{RowKernel(
                                [](const Args& a, size_t i, EvalContext*, Column* out) {
                                  for (const Column* col : a) {
                                    if (col->valid[i]) {
                                      out->AppendFrom(*col, i);
                                      return absl::OkStatus();
                                    }
                                  }
                                  out->AppendNull();
                                  return absl::OkStatus();
                                },
                                true),
                            c, std::vector<DataType>(n, c)};
  }
  if (name == "NULLIF") {
    EDDY_RETURN_IF_ERROR(want(2, 2));
    auto c = CommonType(t[0], t[1]);
    if (!c) return bad();
    DataType ct = *c;
    ct.time_attr = TimeAttr::kNone;
    return ResolvedFunction{
        RowKernel(
            [](const Args& a, size_t i, EvalContext*, Column* out) {
              if (!a[0]->valid[i] ||
                  (a[1]->valid[i] && fn::CompareCells(*a[0], i, *a[1], i) == 0)) {
                out->AppendNull();
              } else {
                out->AppendFrom(*a[0], i);
              }
              return absl::OkStatus();
            },
            true),
        ct,
        {ct, ct}};
  }
  if (name == "IF") {
    EDDY_RETURN_IF_ERROR(want(3, 3));
    auto c = CommonType(t[1], t[2]);
    if (!c || (t[0].id != TypeId::kBoolean && t[0].id != TypeId::kNull)) return bad();
    return ResolvedFunction{RowKernel(
                                [](const Args& a, size_t i, EvalContext*, Column* out) {
                                  bool cond = a[0]->valid[i] && a[0]->i64[i];
                                  out->AppendFrom(cond ? *a[1] : *a[2], i);
                                  return absl::OkStatus();
                                },
                                true),
                            *c,
                            {DataType::Boolean(), *c, *c}};
  }

  // ---- strings ----
  if (name == "UPPER" || name == "LOWER") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    if (!is_str(0)) return bad();
    bool up = name == "UPPER";
    return ResolvedFunction{RowKernel([up](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                              std::string_view s = a[0]->str[i];
                              bool ascii = true;
                              for (char c : s) ascii &= static_cast<unsigned char>(c) < 0x80;
                              if (ascii) {
                                char* p = ctx->arena->Allocate(s.size());
                                for (size_t k = 0; k < s.size(); ++k) {
                                  unsigned char c = static_cast<unsigned char>(s[k]);
                                  p[k] = static_cast<char>(up ? std::toupper(c) : std::tolower(c));
                                }
                                out->AppendString({p, s.size()});
                              } else {
                                out->AppendString(ctx->arena->Add(Utf8CaseMap(s, up)));
                              }
                              return absl::OkStatus();
                            }),
                            DataType::String(),
                            {DataType::String()}};
  }
  if (name == "TRIM" || name == "LTRIM" || name == "RTRIM") {
    EDDY_RETURN_IF_ERROR(want(1, 2));
    for (size_t i = 0; i < n; ++i) {
      if (!is_str(i)) return bad();
    }
    // Mode comes as the literal 3rd "unit" from the binder: BOTH/LEADING/TRAILING.
    bool lead = name != "RTRIM", trail = name != "LTRIM";
    return ResolvedFunction{
        RowKernel([lead, trail](const Args& a, size_t i, EvalContext*, Column* out) {
          std::string_view s = a[0]->str[i];
          std::string_view chars = a.size() > 1 ? a[1]->str[i] : std::string_view(" ");
          while (lead && !s.empty() && chars.find(s.front()) != std::string_view::npos) {
            s.remove_prefix(1);
          }
          while (trail && !s.empty() && chars.find(s.back()) != std::string_view::npos) {
            s.remove_suffix(1);
          }
          out->AppendString(s);
          return absl::OkStatus();
        }),
        DataType::String(), std::vector<DataType>(n, DataType::String())};
  }
  if (name == "SUBSTRING" || name == "SUBSTR") {
    EDDY_RETURN_IF_ERROR(want(2, 3));
    if (!is_str(0) || !is_num(1) || (n == 3 && !is_num(2))) return bad();
    std::vector<DataType> at = {DataType::String(), DataType::Bigint()};
    if (n == 3) at.push_back(DataType::Bigint());
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext*, Column* out) {
                              std::string_view s = a[0]->str[i];
                              // Flink's substringSQL: 1-based code points; start 0 acts as 1,
                              // a negative start counts from the end; a negative length is NULL.
                              int64_t pos = a[1]->i64[i];
                              int64_t len = a.size() > 2 ? a[2]->i64[i] : INT64_MAX;
                              if (len < 0) {
                                out->AppendNull();
                                return absl::OkStatus();
                              }
                              int64_t total = Utf8Length(s);
                              int64_t start0 = pos > 0 ? pos - 1 : (pos < 0 ? total + pos : 0);
                              int64_t end0 = len == INT64_MAX ? total : start0 + len;
                              start0 = std::max<int64_t>(start0, 0);
                              end0 = std::min(end0, total);
                              if (start0 >= end0) {
                                out->AppendString({});
                                return absl::OkStatus();
                              }
                              int64_t from = start0 + 1, to = end0 + 1;
                              size_t b = Utf8Prefix(s, static_cast<int>(from - 1)).size();
                              size_t e = Utf8Prefix(s, static_cast<int>(to - 1)).size();
                              out->AppendString(s.substr(b, e - b));
                              return absl::OkStatus();
                            }),
                            DataType::String(), at};
  }
  if (name == "CHAR_LENGTH" || name == "CHARACTER_LENGTH") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    if (!is_str(0)) return bad();
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext*, Column* out) {
                              out->AppendInt(Utf8Length(a[0]->str[i]));
                              return absl::OkStatus();
                            }),
                            DataType::Int(),
                            {DataType::String()}};
  }
  if (name == "POSITION") {
    EDDY_RETURN_IF_ERROR(want(2, 2));
    if (!is_str(0) || !is_str(1)) return bad();
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext*, Column* out) {
                              size_t p = a[1]->str[i].find(a[0]->str[i]);
                              out->AppendInt(p == std::string_view::npos
                                                 ? 0
                                                 : Utf8Length(a[1]->str[i].substr(0, p)) + 1);
                              return absl::OkStatus();
                            }),
                            DataType::Int(),
                            {DataType::String(), DataType::String()}};
  }
  if (name == "REPEAT") {
    EDDY_RETURN_IF_ERROR(want(2, 2));
    if (!is_str(0) || (!t[1].is_integral() && t[1].id != TypeId::kNull)) return bad();
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                              // Flink: n <= 0 gives the empty string.
                              std::string_view s = a[0]->str[i];
                              const int64_t n = a[1]->i64[i];
                              if (n <= 0 || s.empty()) {
                                out->AppendString({});
                                return absl::OkStatus();
                              }
                              if (static_cast<uint64_t>(n) > kMaxStringValueBytes / s.size()) {
                                if (static_cast<uint64_t>(n) > UINT64_MAX / s.size()) {
                                  return TooLong("REPEAT");
                                }
                                return TooLong("REPEAT", static_cast<uint64_t>(n) * s.size());
                              }
                              const size_t total = static_cast<size_t>(n) * s.size();
                              char* p = ctx->arena->Allocate(total);
                              for (size_t off = 0; off < total; off += s.size()) {
                                std::memcpy(p + off, s.data(), s.size());
                              }
                              out->AppendString({p, total});
                              return absl::OkStatus();
                            }),
                            DataType::String(),
                            {DataType::String(), DataType::Bigint()}};
  }
  if (name == "LPAD" || name == "RPAD") {
    EDDY_RETURN_IF_ERROR(want(3, 3));
    if (!is_str(0) || (!t[1].is_integral() && t[1].id != TypeId::kNull) || !is_str(2)) return bad();
    const bool left = name == "LPAD";
    return ResolvedFunction{
        RowKernel([left](const Args& a, size_t i, EvalContext* ctx, Column* out) {
          return Pad(left ? "LPAD" : "RPAD", left, a[0]->str[i], a[1]->i64[i], a[2]->str[i],
                     ctx->arena, out);
        }),
        DataType::String(),
        {DataType::String(), DataType::Bigint(), DataType::String()}};
  }
  if (name == "REPLACE") {
    EDDY_RETURN_IF_ERROR(want(3, 3));
    for (size_t i = 0; i < 3; ++i) {
      if (!is_str(i)) return bad();
    }
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                              std::string s(a[0]->str[i]);
                              std::string_view from = a[1]->str[i], to = a[2]->str[i];
                              if (!from.empty()) {
                                std::string r;
                                size_t pos = 0, hit;
                                while ((hit = s.find(from, pos)) != std::string::npos) {
                                  r.append(s, pos, hit - pos);
                                  r.append(to);
                                  pos = hit + from.size();
                                  if (r.size() > kMaxStringValueBytes) return TooLong("REPLACE");
                                }
                                r.append(s, pos, std::string::npos);
                                if (r.size() > kMaxStringValueBytes) {
                                  return TooLong("REPLACE", r.size());
                                }
                                s = std::move(r);
                              }
                              out->AppendString(ctx->arena->Add(s));
                              return absl::OkStatus();
                            }),
                            DataType::String(), std::vector<DataType>(3, DataType::String())};
  }
  if (name == "REGEXP_EXTRACT" || name == "REGEXP_REPLACE") {
    bool extract = name == "REGEXP_EXTRACT";
    EDDY_RETURN_IF_ERROR(extract ? want(2, 3) : want(3, 3));
    if (!is_str(0) || !is_str(1) || (n == 3 && (extract ? !is_num(2) : !is_str(2)))) return bad();
    if (!lits[1] || lits[1]->is_null) {
      return Err(fmt::format("{} takes a constant regular expression", name));
    }
    auto re = std::make_shared<RE2>(lits[1]->s, RE2::Quiet);
    if (!re->ok()) {
      return Err(fmt::format("invalid regular expression '{}': {}", lits[1]->s, re->error()));
    }
    std::vector<DataType> at = {DataType::String(), DataType::String()};
    if (n == 3) at.push_back(extract ? DataType::Int() : DataType::String());
    if (extract) {
      return ResolvedFunction{
          RowKernel([re](const Args& a, size_t i, EvalContext* ctx, Column* out) {
            int group = a.size() > 2 ? static_cast<int>(a[2]->i64[i]) : 0;
            if (group < 0 || group > re->NumberOfCapturingGroups()) {
              out->AppendNull();
              return absl::OkStatus();
            }
            std::vector<re2::StringPiece> m(group + 1);
            re2::StringPiece in(a[0]->str[i].data(), a[0]->str[i].size());
            if (!re->Match(in, 0, in.size(), RE2::UNANCHORED, m.data(), group + 1) ||
                m[group].data() == nullptr) {
              out->AppendNull();
            } else {
              out->AppendString(std::string_view(m[group].data(), m[group].size()));
            }
            return absl::OkStatus();
          }),
          DataType::String(), at};
    }
    return ResolvedFunction{
        RowKernel([re](const Args& a, size_t i, EvalContext* ctx, Column* out) {
          std::string s;
          EDDY_RETURN_IF_ERROR(RegexpReplace(*re, a[0]->str[i], a[2]->str[i], &s));
          out->AppendString(ctx->arena->Add(s));
          return absl::OkStatus();
        }),
        DataType::String(), at};
  }

  // ---- math ----
  if (name == "ABS") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    if (!is_num(0)) return bad();
    DataType r = t[0].id == TypeId::kNull ? DataType::Int() : t[0];
    bool dbl = r.id == TypeId::kDouble, is_int = r.id == TypeId::kInt;
    return ResolvedFunction{
        RowKernel([dbl, is_int](const Args& a, size_t i, EvalContext*, Column* out) {
          int64_t v = dbl ? 0 : a[0]->i64[i];
          if (dbl)
            out->AppendDouble(std::fabs(a[0]->f64[i]));
          else
            out->AppendInt(v < 0 ? NegateWrap(v, is_int) : v);
          return absl::OkStatus();
        }),
        r,
        {r}};
  }
  if (name == "ROUND") {
    EDDY_RETURN_IF_ERROR(want(1, 2));
    if (!is_num(0) || (n == 2 && !t[1].is_integral())) return bad();
    int digits = 0;
    if (n == 2) {
      if (!lits[1] || lits[1]->is_null) return Err("ROUND takes a constant number of digits");
      digits = static_cast<int>(lits[1]->i);
    }
    DataType r = t[0].id == TypeId::kNull ? DataType::Int() : t[0];
    std::vector<DataType> at = {r};
    if (n == 2) at.push_back(DataType::Int());
    if (r.id == TypeId::kDouble) {
      return ResolvedFunction{
          RowKernel([digits](const Args& a, size_t i, EvalContext*, Column* out) {
            // Half up, away from zero, on the decimal value (Java BigDecimal).
            double v = a[0]->f64[i];
            double s = RoundDoubleHalfUp(v, digits);
            out->AppendDouble(std::isfinite(s) ? s : v);
            return absl::OkStatus();
          }),
          r, at};
    }
    if (r.id == TypeId::kDecimal) {
      int scale = r.scale;
      int keep = std::max(0, std::min(digits, scale));
      DataType res = DataType::Decimal(r.precision, keep);
      // Negative digits round to tens, hundreds, …: ROUND(1234.56, -2) = 1200.
      int64_t unit = digits < 0 ? Pow10(-digits) : 1;
      return ResolvedFunction{
          RowKernel([scale, keep, unit](const Args& a, size_t i, EvalContext*, Column* out) {
            int64_t v = Rescale(a[0]->i64[i], scale, keep);
            if (unit > 1) {
              int64_t q = v / unit;
              if (2 * std::llabs(v % unit) >= unit) q += v < 0 ? -1 : 1;
              v = q * unit;
            }
            out->AppendInt(v);
            return absl::OkStatus();
          }),
          res, at};
    }
    int64_t unit = digits < 0 ? Pow10(-digits) : 1;
    bool is_int = r.id == TypeId::kInt;
    return ResolvedFunction{
        RowKernel([unit, is_int](const Args& a, size_t i, EvalContext*, Column* out) {
          int64_t v = a[0]->i64[i];
          if (unit > 1) {
            int64_t q = v / unit;
            if (2 * std::llabs(v % unit) >= unit) q += v < 0 ? -1 : 1;
            // Rounding up can leave the type (ROUND(9223372036854775807, -1)): it wraps, as
            // Flink's BigDecimal.longValue() / intValue() does.
            v = Wrap(static_cast<int64_t>(static_cast<uint64_t>(q) * static_cast<uint64_t>(unit)),
                     is_int);
          }
          out->AppendInt(v);
          return absl::OkStatus();
        }),
        r, at};
  }
  if (name == "FLOOR" || name == "CEIL" || name == "CEILING") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    if (!is_num(0)) return bad();
    bool fl = name == "FLOOR";
    DataType r = t[0].id == TypeId::kNull ? DataType::Int() : t[0];
    if (r.id == TypeId::kDouble) {
      return ResolvedFunction{
          RowKernel([fl](const Args& a, size_t i, EvalContext*, Column* out) {
            out->AppendDouble(fl ? std::floor(a[0]->f64[i]) : std::ceil(a[0]->f64[i]));
            return absl::OkStatus();
          }),
          r,
          {r}};
    }
    if (r.id == TypeId::kDecimal) {
      int64_t u = Pow10(r.scale);
      DataType res = DataType::Decimal(r.precision, 0);
      return ResolvedFunction{
          RowKernel([fl, u](const Args& a, size_t i, EvalContext*, Column* out) {
            int64_t q = FloorDiv(a[0]->i64[i], u);
            if (!fl && q * u != a[0]->i64[i]) ++q;
            out->AppendInt(q);
            return absl::OkStatus();
          }),
          res,
          {r}};
    }
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext*, Column* out) {
                              out->AppendInt(a[0]->i64[i]);
                              return absl::OkStatus();
                            }),
                            r,
                            {r}};
  }
  if (name == "POWER" || name == "SQRT" || name == "LN" || name == "EXP" || name == "LOG10") {
    size_t want_n = name == "POWER" ? 2 : 1;
    EDDY_RETURN_IF_ERROR(want(want_n, want_n));
    for (size_t i = 0; i < n; ++i) {
      if (!is_num(i)) return bad();
    }
    int which = name == "POWER" ? 0 : name == "SQRT" ? 1 : name == "LN" ? 2 : name == "EXP" ? 3 : 4;
    return ResolvedFunction{RowKernel([which](const Args& a, size_t i, EvalContext*, Column* out) {
                              double x = a[0]->f64[i];
                              double r = which == 0   ? std::pow(x, a[1]->f64[i])
                                         : which == 1 ? std::sqrt(x)
                                         : which == 2 ? std::log(x)
                                         : which == 3 ? std::exp(x)
                                                      : std::log10(x);
                              out->AppendDouble(r);
                              return absl::OkStatus();
                            }),
                            DataType::Double(), std::vector<DataType>(n, DataType::Double())};
  }

  // ---- time ----
  if (name == "EXTRACT" || name == "YEAR" || name == "MONTH" || name == "DAYOFMONTH" ||
      name == "HOUR" || name == "MINUTE" || name == "SECOND" || name == "QUARTER" ||
      name == "WEEK" || name == "DAYOFWEEK" || name == "DAYOFYEAR") {
    // EXTRACT is bound as EXTRACT('UNIT', x).
    std::string unit = name == "EXTRACT"      ? UnitOf(lits, 0)
                       : name == "DAYOFMONTH" ? "DAY"
                       : name == "DAYOFWEEK"  ? "DOW"
                       : name == "DAYOFYEAR"  ? "DOY"
                                              : name;
    size_t xi = name == "EXTRACT" ? 1 : 0;
    EDDY_RETURN_IF_ERROR(want(xi + 1, xi + 1));
    if (!is_ts(xi) && t[xi].id != TypeId::kDate) return bad();
    if (!Extract(unit, 0, TypeId::kTimestamp))
      return Err(fmt::format("unknown time unit {}", unit));
    TypeId from = t[xi].id;
    std::vector<DataType> at = t;
    return ResolvedFunction{
        RowKernel(
            [unit, xi, from](const Args& a, size_t i, EvalContext*, Column* out) {
              if (!a[xi]->valid[i])
                out->AppendNull();
              else
                out->AppendInt(*Extract(unit, a[xi]->i64[i], from));
              return absl::OkStatus();
            },
            true),
        DataType::Bigint(), at};
  }
  if (name == "FLOOR_TO" || name == "CEIL_TO") {
    // Bound as FLOOR_TO('UNIT', ts).
    EDDY_RETURN_IF_ERROR(want(2, 2));
    std::string unit = UnitOf(lits, 0);
    if (!is_ts(1) && t[1].id != TypeId::kDate) return bad();
    if (unit != "YEAR" && unit != "QUARTER" && unit != "MONTH" && !UnitMicros(unit)) {
      return Err(fmt::format("unknown time unit {}", unit));
    }
    bool fl = name == "FLOOR_TO";
    bool date = t[1].id == TypeId::kDate;
    DataType r = t[1];
    r.time_attr = TimeAttr::kNone;
    return ResolvedFunction{
        RowKernel(
            [unit, fl, date](const Args& a, size_t i, EvalContext*, Column* out) {
              if (!a[1]->valid[i]) {
                out->AppendNull();
                return absl::OkStatus();
              }
              int64_t ts = date ? a[1]->i64[i] * kMicrosPerDay : a[1]->i64[i];
              int64_t v = fl ? FloorToUnit(ts, unit) : CeilToUnit(ts, unit);
              out->AppendInt(date ? FloorDiv(v, kMicrosPerDay) : v);
              return absl::OkStatus();
            },
            true),
        r, t};
  }
  if (name == "DATE_FORMAT") {
    EDDY_RETURN_IF_ERROR(want(2, 2));
    if ((!is_ts(0) && !is_str(0)) || !is_str(1)) return bad();
    DataType a0 = t[0].is_string() ? DataType::Timestamp(6) : t[0];
    a0.time_attr = TimeAttr::kNone;
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                              std::string s =
                                  FormatTimestampPattern(a[0]->i64[i], std::string(a[1]->str[i]));
                              out->AppendString(ctx->arena->Add(s));
                              return absl::OkStatus();
                            }),
                            DataType::String(),
                            {a0, DataType::String()}};
  }
  if (name == "TO_TIMESTAMP") {
    EDDY_RETURN_IF_ERROR(want(1, 2));
    for (size_t i = 0; i < n; ++i) {
      if (!is_str(i)) return bad();
    }
    return ResolvedFunction{RowKernel([](const Args& a, size_t i, EvalContext*, Column* out) {
                              std::optional<int64_t> v =
                                  a.size() > 1 ? ParseTimestampPattern(a[0]->str[i], a[1]->str[i])
                                               : ParseTimestamp(a[0]->str[i]);
                              // Flink returns NULL when the string does not parse.
                              if (v)
                                out->AppendInt(*v);
                              else
                                out->AppendNull();
                              return absl::OkStatus();
                            }),
                            DataType::Timestamp(3), std::vector<DataType>(n, DataType::String())};
  }
  if (name == "TO_TIMESTAMP_LTZ") {
    EDDY_RETURN_IF_ERROR(want(2, 2));
    if (!is_num(0) || !t[1].is_integral()) return bad();
    if (!lits[1] || lits[1]->is_null || (lits[1]->i != 0 && lits[1]->i != 3)) {
      return Err("TO_TIMESTAMP_LTZ precision must be the constant 0 (seconds) or 3 (milliseconds)");
    }
    int64_t unit = lits[1]->i == 0 ? kMicrosPerSecond : 1000;
    bool dbl = t[0].id == TypeId::kDouble;
    DataType a0 = dbl ? DataType::Double() : DataType::Bigint();
    if (t[0].id == TypeId::kDecimal) a0 = DataType::Double(), dbl = true;
    return ResolvedFunction{
        RowKernel([unit, dbl](const Args& a, size_t i, EvalContext*, Column* out) {
          int64_t us = 0;
          bool ok;
          if (dbl) {
            double d = a[0]->f64[i] * static_cast<double>(unit);
            ok = d >= static_cast<double>(kMinTimestamp) && d <= static_cast<double>(kMaxTimestamp);
            if (ok) us = static_cast<int64_t>(d);
          } else {
            ok = !__builtin_mul_overflow(a[0]->i64[i], unit, &us) && InTimestampRange(us);
          }
          if (!ok) {
            return absl::InvalidArgumentError(fmt::format(
                "TO_TIMESTAMP_LTZ({}, {}) is outside the TIMESTAMP range (years 0000-9999)",
                FormatCell(*a[0], i), unit == 1000 ? 3 : 0));
          }
          out->AppendInt(us);
          return absl::OkStatus();
        }),
        DataType::TimestampLtz(3),
        {a0, DataType::Int()}};
  }
  if (name == "CURRENT_WATERMARK") {
    EDDY_RETURN_IF_ERROR(want(1, 1));
    if (t[0].time_attr != TimeAttr::kRowtime) {
      return Err(
          "CURRENT_WATERMARK takes the table's event-time attribute (the column of its "
          "WATERMARK clause)");
    }
    DataType r = t[0];
    r.time_attr = TimeAttr::kNone;
    r.nullable = true;
    return ResolvedFunction{RowKernel(
                                [](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                                  int64_t w = ctx->current_watermark;
                                  if (ctx->row_watermarks && ctx->row_watermarks[i] > w) {
                                    w = ctx->row_watermarks[i];
                                  }
                                  if (w == INT64_MIN) {
                                    out->AppendNull();
                                  } else {
                                    out->AppendInt(w);
                                  }
                                  return absl::OkStatus();
                                },
                                true),
                            r,
                            {t[0]}};
  }
  if (name == "CURRENT_TIMESTAMP" || name == "NOW" || name == "LOCALTIMESTAMP" ||
      name == "PROCTIME") {
    EDDY_RETURN_IF_ERROR(want(0, 0));
    DataType r = name == "LOCALTIMESTAMP" ? DataType::Timestamp(3) : DataType::TimestampLtz(3);
    if (name == "PROCTIME") r.time_attr = TimeAttr::kProctime;
    return ResolvedFunction{[](const Args&, size_t m, EvalContext* ctx, Column* out) {
                              for (size_t i = 0; i < m; ++i) {
                                out->AppendInt(TruncateMicros(ctx->now_micros, 3));
                              }
                              return absl::OkStatus();
                            },
                            r,
                            {}};
  }
  return absl::NotFoundError(fmt::format("no function named {}", name));
}

namespace fn {

int CompareCells(const Column& x, size_t i, const Column& y, size_t j) {
  switch (x.type.physical()) {
    case Physical::kInt64:
      return x.i64[i] < y.i64[j] ? -1 : x.i64[i] > y.i64[j];
    case Physical::kDouble:
      return x.f64[i] < y.f64[j] ? -1 : x.f64[i] > y.f64[j];
    case Physical::kString: {
      int c = x.str[i].compare(y.str[j]);
      return c < 0 ? -1 : c > 0;
    }
  }
  return 0;
}

}  // namespace fn

}  // namespace eddy
