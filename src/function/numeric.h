// Numeric and text helpers shared by the scalar functions, casts and aggregates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "types/batch.h"

namespace eddy {

/// Parses an optionally signed decimal integer; false on junk or overflow.
bool ParseInt64(std::string_view s, int64_t* out);
/// Parses a floating-point number ("1.5", "-2e3", "NaN", "Infinity"); false on junk.
bool ParseDouble(std::string_view s, double* out);
/// Parses "123.45" into an int64 scaled by 10^scale, rounding half up beyond the scale; false
/// when the integer digits exceed precision - scale.
bool ParseDecimal(std::string_view s, int precision, int scale, int64_t* out);
/// Row `i` of a numeric column (INT, BIGINT, DECIMAL, DOUBLE, BOOLEAN) as double.
double ToDouble(const Column& c, size_t i);
/// Row `i` of a numeric column rescaled to DECIMAL(p, s), rounding half up; false on overflow.
bool ToDecimal(const Column& c, size_t i, int precision, int scale, int64_t* out);
/// Rounds a scaled int64 from scale `from` to scale `to` (half up, away from zero).
int64_t Rescale(int64_t v, int from, int to);
/// Truncates µs to `precision` fractional digits (0..6).
int64_t TruncateMicros(int64_t micros, int precision);
/// Leading/trailing ASCII whitespace removed.
std::string_view TrimAscii(std::string_view s);
/// The first `n` UTF-8 code points of `s`.
std::string Utf8Prefix(std::string_view s, int n);
/// Number of UTF-8 code points.
int64_t Utf8Length(std::string_view s);

}  // namespace eddy
