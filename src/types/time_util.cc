#include "types/time_util.h"

#include <cstdio>

#include "absl/strings/str_format.h"

namespace eddy {

// Howard Hinnant's civil-from-days algorithms (public domain description, proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

}  // namespace

std::optional<int64_t> ParseDate(std::string_view s) {
  int64_t y, m, d;
  if (s.size() != 10 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &m) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, static_cast<unsigned>(m))) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
  if (s.size() < 10) return std::nullopt;
  auto days = ParseDate(s.substr(0, 10));
  if (!days) return std::nullopt;
  int64_t micros = *days * kMicrosPerDay;
  if (s.size() == 10) return micros;
  if (s[10] != ' ' && s[10] != 'T') return std::nullopt;
  int64_t hh, mi, ss = 0;
  if (!Digits(s, 11, 2, &hh) || s.size() < 16 || s[13] != ':' || !Digits(s, 14, 2, &mi)) {
    return std::nullopt;
  }
  size_t pos = 16;
  if (pos < s.size()) {
    if (s[pos] != ':' || !Digits(s, pos + 1, 2, &ss)) return std::nullopt;
    pos += 3;
  }
  if (hh > 23 || mi > 59 || ss > 59) return std::nullopt;
  int64_t frac = 0;
  if (pos < s.size()) {
    if (s[pos] != '.') return std::nullopt;
    ++pos;
    size_t n = 0;
    while (pos < s.size() && n < 9) {
      char c = s[pos];
      if (c < '0' || c > '9') return std::nullopt;
      if (n < 6) frac = frac * 10 + (c - '0');
      ++n;
      ++pos;
    }
    if (n == 0 || pos != s.size()) return std::nullopt;
    for (size_t k = n; k < 6; ++k) frac *= 10;
  }
  return micros + hh * kMicrosPerHour + mi * kMicrosPerMinute + ss * kMicrosPerSecond + frac;
}

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return absl::StrFormat("%04d-%02d-%02d", y, m, d);
}

std::string FormatTimestamp(int64_t micros, int precision) {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rem = micros - days * kMicrosPerDay;
  int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  std::string out = absl::StrFormat("%s %02d:%02d:%02d", FormatDate(days), secs / 3600,
                                    (secs / 60) % 60, secs % 60);
  if (precision == 0) return out;
  std::string f = absl::StrFormat("%06d", frac);
  if (precision <= 6) return out + "." + f.substr(0, precision);
  return out + "." + f + std::string(precision - 6, '0');
}

std::string FormatTimestampPattern(int64_t micros, std::string_view p) {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rem = micros - days * kMicrosPerDay;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  int64_t secs = rem / kMicrosPerSecond, frac = rem % kMicrosPerSecond;
  std::string out;
  for (size_t i = 0; i < p.size();) {
    char c = p[i];
    size_t n = 1;
    while (i + n < p.size() && p[i + n] == c) ++n;
    if (c == '\'') {
      size_t end = p.find('\'', i + 1);
      if (end == std::string_view::npos) end = p.size();
      out.append(p.substr(i + 1, end - i - 1));
      i = end + 1;
      continue;
    }
    switch (c) {
      case 'y':
        out += n == 2 ? absl::StrFormat("%02d", y % 100) : absl::StrFormat("%04d", y);
        break;
      case 'M':
        out += absl::StrFormat("%0*d", static_cast<int>(n), mo);
        break;
      case 'd':
        out += absl::StrFormat("%0*d", static_cast<int>(n), d);
        break;
      case 'H':
        out += absl::StrFormat("%0*d", static_cast<int>(n), secs / 3600);
        break;
      case 'm':
        out += absl::StrFormat("%0*d", static_cast<int>(n), (secs / 60) % 60);
        break;
      case 's':
        out += absl::StrFormat("%0*d", static_cast<int>(n), secs % 60);
        break;
      case 'S': {
        std::string f = absl::StrFormat("%06d", frac);
        if (n <= 6)
          out += f.substr(0, n);
        else
          out += f + std::string(n - 6, '0');
        break;
      }
      default:
        out.append(n, c);
    }
    i += n;
  }
  return out;
}

std::optional<int64_t> ParseTimestampPattern(std::string_view s, std::string_view p) {
  int64_t y = 1970, mo = 1, d = 1, h = 0, mi = 0, se = 0, frac = 0;
  size_t pos = 0;
  for (size_t i = 0; i < p.size();) {
    char c = p[i];
    size_t n = 1;
    while (i + n < p.size() && p[i + n] == c) ++n;
    if (c == '\'') {
      size_t end = p.find('\'', i + 1);
      if (end == std::string_view::npos) end = p.size();
      auto lit = p.substr(i + 1, end - i - 1);
      if (s.substr(pos, lit.size()) != lit) return std::nullopt;
      pos += lit.size();
      i = end + 1;
      continue;
    }
    int64_t* target = nullptr;
    switch (c) {
      case 'y':
        target = &y;
        break;
      case 'M':
        target = &mo;
        break;
      case 'd':
        target = &d;
        break;
      case 'H':
        target = &h;
        break;
      case 'm':
        target = &mi;
        break;
      case 's':
        target = &se;
        break;
      case 'S':
        target = &frac;
        break;
      default:
        for (size_t k = 0; k < n; ++k) {
          if (pos >= s.size() || s[pos] != c) return std::nullopt;
          ++pos;
        }
        i += n;
        continue;
    }
    if (!Digits(s, pos, n, target)) return std::nullopt;
    if (c == 'S') {
      for (size_t k = n; k < 6; ++k) frac *= 10;
      for (size_t k = 6; k < n; ++k) frac /= 10;
    }
    pos += n;
    i += n;
  }
  if (pos != s.size() || mo < 1 || mo > 12 || d < 1 ||
      d > DaysInMonth(y, static_cast<unsigned>(mo)) || h > 23 || mi > 59 || se > 59) {
    return std::nullopt;
  }
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kMicrosPerDay +
         h * kMicrosPerHour + mi * kMicrosPerMinute + se * kMicrosPerSecond + frac;
}

}  // namespace eddy
