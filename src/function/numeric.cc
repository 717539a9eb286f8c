#include "function/numeric.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "types/time_util.h"

namespace eddy {

double ToDouble(const Column& c, size_t i) {
  switch (c.type.id) {
    case TypeId::kDouble:
      return c.f64[i];
    case TypeId::kDecimal:
      return static_cast<double>(c.i64[i]) / static_cast<double>(Pow10(c.type.scale));
    default:
      return static_cast<double>(c.i64[i]);
  }
}

int64_t Rescale(int64_t v, int from, int to) {
  if (to >= from) return v * Pow10(to - from);
  int64_t p = Pow10(from - to);
  int64_t q = v / p, r = v % p;
  if (2 * std::llabs(r) >= p) q += v < 0 ? -1 : 1;
  return q;
}

bool ToDecimal(const Column& c, size_t i, int precision, int scale, int64_t* out) {
  __int128 v;
  if (c.type.id == TypeId::kDouble) {
    double d = std::round(c.f64[i] * static_cast<double>(Pow10(scale)));
    if (!(std::fabs(d) < 1e18)) return false;
    v = static_cast<__int128>(d);
  } else if (c.type.id == TypeId::kDecimal) {
    // Up-scaling can leave int64 (DECIMAL(18, 0) to DECIMAL(18, 10)): scale in 128 bits, the
    // precision check below rejects what does not fit.
    v = scale >= c.type.scale ? static_cast<__int128>(c.i64[i]) * Pow10(scale - c.type.scale)
                              : static_cast<__int128>(Rescale(c.i64[i], c.type.scale, scale));
  } else {
    v = static_cast<__int128>(c.i64[i]) * Pow10(scale);
  }
  __int128 lim = Pow10(precision);
  if (v >= lim || v <= -lim) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

int64_t TruncateMicros(int64_t micros, int precision) {
  if (precision >= 6) return micros;
  int64_t unit = Pow10(6 - precision);
  return FloorDiv(micros, unit) * unit;
}

std::string Utf8Prefix(std::string_view s, int n) {
  size_t i = 0;
  int count = 0;
  while (i < s.size() && count < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    ++count;
  }
  return std::string(s.substr(0, std::min(i, s.size())));
}

int64_t Utf8Length(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace eddy
