// Time conversions. Timestamps are int64 µs since 1970-01-01 00:00:00 UTC (DESIGN.md §3);
// dates are int32 days since 1970-01-01. Calendar math is proleptic Gregorian (as Java's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eddy {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;
/// Flink SQL's TIMESTAMP range, 0000-01-01 00:00:00 to 9999-12-31 23:59:59.999999, in µs since
/// the epoch. Functions that compute timestamps (TO_TIMESTAMP_LTZ, timestamp ± interval) fail
/// beyond it rather than wrap.
inline constexpr int64_t kMinTimestamp = -62'167'219'200'000'000;
inline constexpr int64_t kMaxTimestamp = 253'402'300'799'999'999;
inline bool InTimestampRange(int64_t us) { return us >= kMinTimestamp && us <= kMaxTimestamp; }
/// The maximum watermark: a finite source ends with it, firing every open window.
inline constexpr int64_t kMaxWatermark = INT64_MAX;
/// Watermark before any row has been seen.
inline constexpr int64_t kMinWatermark = INT64_MIN;

/// Days since the epoch for a civil date. Valid for years -9999..9999.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
/// Civil date of a day number.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d);

/// Parses "yyyy-MM-dd[ |T]HH:mm[:ss[.f{1,9}]]" or "yyyy-MM-dd" into µs. Returns nullopt on a
/// malformed or out-of-range value. Trailing "Z" is accepted.
std::optional<int64_t> ParseTimestamp(std::string_view s);
/// Parses "yyyy-MM-dd" into days.
std::optional<int64_t> ParseDate(std::string_view s);

/// "yyyy-MM-dd HH:mm:ss" plus, when `precision` > 0, "." and `precision` fraction digits
/// (Flink's TIMESTAMP(p) cast to string).
std::string FormatTimestamp(int64_t micros, int precision);
/// "yyyy-MM-dd".
std::string FormatDate(int64_t days);

/// Formats µs with a Java DateTimeFormatter-style pattern (yyyy, MM, dd, HH, mm, ss, SSS, and
/// quoted literals), as Flink's DATE_FORMAT.
std::string FormatTimestampPattern(int64_t micros, std::string_view pattern);
/// Parses with the same pattern language (TO_TIMESTAMP(str, fmt)); nullopt when it does not match.
std::optional<int64_t> ParseTimestampPattern(std::string_view s, std::string_view pattern);

/// Floor division for negative-safe window alignment.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

}  // namespace eddy
