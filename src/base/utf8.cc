#include "base/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace eddy {

size_t Utf8SequenceLength(std::string_view s) {
  if (s.empty()) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong 3-byte forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong 4-byte forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 (overlong 2-byte), F5..FF
  }
  if (s.size() < len) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
  }
  return len;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII runs, 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

// Length (1 to 3) of the maximal subpart of an ill-formed sequence at the start of `s`: the
// longest prefix of a well-formed sequence, or 1 (Unicode §3.9, U+FFFD substitution).
size_t MaximalSubpart(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char b0 = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  if (s.size() < 2 || p[1] < lo || p[1] > hi) return 1;
  size_t k = 2;
  while (k < len && k < s.size() && (p[k] & 0xC0) == 0x80) ++k;
  return std::min(k, len - 1);  // called on ill-formed input, so k < len anyway
}

}  // namespace

size_t Utf8IncompleteSuffix(std::string_view s) {
  for (size_t k = 1; k <= 3 && k <= s.size(); ++k) {
    const auto b0 = static_cast<unsigned char>(s[s.size() - k]);
    if ((b0 & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    const size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
    if (b0 < 0xC2 || b0 > 0xF4 || len <= k) return 0;
    return MaximalSubpart(s.substr(s.size() - k)) == k ? k : 0;
  }
  return 0;
}

std::string ToValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i += MaximalSubpart(s.substr(i));
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

namespace {

// The code point of the well-formed sequence p[0..n).
uint32_t Decode(const unsigned char* p, size_t n) {
  switch (n) {
    case 1:
      return p[0];
    case 2:
      return (uint32_t{p[0] & 0x1Fu} << 6) | (p[1] & 0x3Fu);
    case 3:
      return (uint32_t{p[0] & 0x0Fu} << 12) | (uint32_t{p[1] & 0x3Fu} << 6) | (p[2] & 0x3Fu);
    default:
      return (uint32_t{p[0] & 0x07u} << 18) | (uint32_t{p[1] & 0x3Fu} << 12) |
             (uint32_t{p[2] & 0x3Fu} << 6) | (p[3] & 0x3Fu);
  }
}

// Characters that are valid but must not reach a terminal as they are.
bool Hidden(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

}  // namespace

std::string EscapeForMessage(std::string_view s, size_t max_bytes) {
  std::string out;
  const size_t limit = std::min(s.size(), max_bytes);
  out.reserve(limit + 8);
  size_t i = 0;
  while (i < limit) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\') out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c == '\t' || c == '\n' || c == '\r') {
      out += c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r";
      ++i;
      continue;
    }
    size_t n = c < 0x80 ? 0 : Utf8SequenceLength(s.substr(i));
    if (n == 0) {  // ASCII control, DEL, or an invalid byte
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    if (i + n > limit) break;  // do not cut a character in two
    uint32_t cp = Decode(reinterpret_cast<const unsigned char*>(s.data() + i), n);
    if (Hidden(cp)) {
      out += fmt::format("\\u{{{:04x}}}", cp);
    } else {
      out.append(s.data() + i, n);
    }
    i += n;
  }
  if (i < s.size()) out += "...";
  return out;
}

std::string Base64Encode(std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < s.size()) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < s.size()) v |= uint32_t{p[i + 1]} << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace eddy
