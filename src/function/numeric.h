// Numeric and text helpers shared by the scalar functions, casts and aggregates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "types/batch.h"

namespace eddy {

/// Row `i` of a numeric column (INT, BIGINT, DECIMAL, DOUBLE, BOOLEAN) as double.
double ToDouble(const Column& c, size_t i);
/// Row `i` of a numeric column rescaled to DECIMAL(p, s), rounding half up; false on overflow.
bool ToDecimal(const Column& c, size_t i, int precision, int scale, int64_t* out);
/// Rounds a scaled int64 from scale `from` to scale `to` (half up, away from zero). Scaling up
/// (`to` > `from`) must not overflow: the caller checks the range (ToDecimal does).
int64_t Rescale(int64_t v, int from, int to);
/// Truncates µs to `precision` fractional digits (0..6).
int64_t TruncateMicros(int64_t micros, int precision);
/// The first `n` UTF-8 code points of `s`.
std::string Utf8Prefix(std::string_view s, int n);
/// Number of UTF-8 code points.
int64_t Utf8Length(std::string_view s);

}  // namespace eddy
