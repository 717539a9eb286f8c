#include "base/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace eddy {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string ClosestName(std::string_view name, const std::vector<std::string>& candidates) {
  size_t best = std::max<size_t>(2, name.size() / 3) + 1;
  std::string out;
  for (const auto& c : candidates) {
    size_t d = EditDistance(name, c);
    if (d < best) {
      best = d;
      out = c;
    }
  }
  return out;
}

std::string JsonQuote(std::string_view s) {
  std::string o = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      o += '\\';
      o += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      o += buf;
    } else {
      o += ch;
    }
  }
  return o + "\"";
}

std::string ToUpper(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

std::string ToLower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

std::string QuoteForLog(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > 64) out += "...";
  return out + "'";
}

int64_t ParseDurationMs(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  size_t d0 = i;
  int64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > (INT64_MAX - 9) / 10) return -1;
    n = n * 10 + (s[i++] - '0');
  }
  if (i == d0) return -1;
  while (i < s.size() && s[i] == ' ') ++i;
  std::string unit = ToLower(s.substr(i));
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  int64_t mult;
  if (unit.empty() || unit == "ms" || unit == "milli" || unit == "millis" ||
      unit == "millisecond" || unit == "milliseconds") {
    mult = 1;
  } else if (unit == "s" || unit == "sec" || unit == "secs" || unit == "second" ||
             unit == "seconds") {
    mult = 1000;
  } else if (unit == "min" || unit == "m" || unit == "minute" || unit == "minutes") {
    mult = 60'000;
  } else if (unit == "h" || unit == "hour" || unit == "hours") {
    mult = 3'600'000;
  } else if (unit == "d" || unit == "day" || unit == "days") {
    mult = 86'400'000;
  } else {
    return -1;
  }
  if (n > INT64_MAX / mult) return -1;
  return n * mult;
}

int64_t ParseMemoryBytes(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  size_t d0 = i;
  int64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > (INT64_MAX - 9) / 10) return -1;
    n = n * 10 + (s[i++] - '0');
  }
  if (i == d0) return -1;
  while (i < s.size() && s[i] == ' ') ++i;
  std::string unit = ToLower(s.substr(i));
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  int shift;
  if (unit.empty() || unit == "b" || unit == "bytes") {
    shift = 0;
  } else if (unit == "k" || unit == "kb" || unit == "kibibytes") {
    shift = 10;
  } else if (unit == "m" || unit == "mb" || unit == "mebibytes") {
    shift = 20;
  } else if (unit == "g" || unit == "gb" || unit == "gibibytes") {
    shift = 30;
  } else if (unit == "t" || unit == "tb" || unit == "tebibytes") {
    shift = 40;
  } else {
    return -1;
  }
  if (n > (INT64_MAX >> shift)) return -1;
  return n << shift;
}

}  // namespace eddy
