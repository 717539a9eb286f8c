// Small string utilities shared by the SQL front end and the CLI.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eddy {

/// Levenshtein edit distance between `a` and `b`, case-insensitive. O(|a|·|b|) time.
size_t EditDistance(std::string_view a, std::string_view b);

/// The candidate closest to `name` by case-insensitive edit distance, or "" when none is within
/// max(2, |name|/3) edits. Used for "did you mean" hints on unknown tables, columns, functions.
std::string ClosestName(std::string_view name, const std::vector<std::string>& candidates);

/// `s` as a JSON string literal with quotes (RFC 8259 escaping of '"', '\\' and controls).
std::string JsonQuote(std::string_view s);

/// ASCII upper/lower case copies.
std::string ToUpper(std::string_view s);

/// `s` single-quoted for a log line: bytes outside printable ASCII (and backslashes) as \xNN, cut
/// after 64 bytes with "...". For strings that come from the network or from files.
std::string QuoteForLog(std::string_view s);
std::string ToLower(std::string_view s);
/// Decodes %XX escapes (URLs: query strings, jdbc URLs); '+' stays '+', a bad escape stays as
/// it is.
std::string PercentDecode(std::string_view s);

}  // namespace eddy
