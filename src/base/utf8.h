// Showing untrusted bytes safely: UTF-8 validation, excerpts for error messages that never put
// raw control or invalid bytes on a terminal, valid-UTF-8 copies for JSON output, and base64.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace eddy {

/// Length in bytes (1 to 4) of the well-formed UTF-8 sequence at the start of `s`, or 0 when `s`
/// is empty or does not start with one (a stray continuation byte, a truncated sequence, an
/// overlong form, a surrogate U+D800..U+DFFF or a code point above U+10FFFF). RFC 3629 §4.
size_t Utf8SequenceLength(std::string_view s);

/// True when every byte of `s` belongs to a well-formed UTF-8 sequence.
bool IsValidUtf8(std::string_view s);

/// `s` with every maximal ill-formed subsequence replaced by one U+FFFD (the replacement
/// character; Unicode §3.9 "U+FFFD Substitution of Maximal Subparts", as Python's
/// bytes.decode('utf-8', 'replace') and the WHATWG decoder do), so the result is valid UTF-8;
/// valid text is returned unchanged.
std::string ToValidUtf8(std::string_view s);

/// Length (0 to 3) of the incomplete character at the end of `s`: the first bytes of a
/// well-formed sequence that a cut (a prefix of a longer text) split, or 0.
size_t Utf8IncompleteSuffix(std::string_view s);

/// `s` made safe to print in an error message: valid printable UTF-8 is kept as is; a backslash
/// becomes `\\`; tab, newline and carriage return become `\t`, `\n`, `\r`; other ASCII control
/// bytes and invalid bytes become `\xNN` (two lowercase hex digits); the C1 controls U+0080..U+009F
/// and the characters that reorder or hide text (U+200B..U+200F, U+2028..U+202E,
/// U+2066..U+2069, U+FEFF) become `\u{XXXX}`. When `s` is longer than `max_bytes`, only its first
/// `max_bytes` bytes (cut at a character boundary) are shown, followed by `...`.
std::string EscapeForMessage(std::string_view s, size_t max_bytes = 60);

/// RFC 4648 base64 (standard alphabet, with '=' padding) of the bytes of `s`.
std::string Base64Encode(std::string_view s);

}  // namespace eddy
