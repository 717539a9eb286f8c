// String functions registered as table entries (function_registry.h), Flink SQL "String
// Functions". The others (UPPER, SUBSTRING, LPAD, REGEXP_*, …) are in scalar_functions.cc.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "function/function_registry.h"

namespace eddy {

namespace {

using Args = std::vector<const Column*>;
using Lits = std::vector<const Value*>;

// Java's Character.isWhitespace for the characters that matter in ASCII.
bool IsJavaWhitespace(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u == ' ' || (u >= 0x09 && u <= 0x0D) || (u >= 0x1C && u <= 0x1F);
}

// SPLIT_INDEX(str, sep, index): Flink's SqlFunctionUtils.splitIndex, i.e. the index-th (from 0)
// token of Apache Commons' splitByWholeSeparatorPreserveAllTokens(str, sep): tokens between
// every occurrence of the whole separator, empty ones kept; an empty separator splits at each
// whitespace character; an empty string has no token. NULL when index < 0 or past the last.
absl::StatusOr<ResolvedFunction> SplitIndex(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("SPLIT_INDEX", t, 3, 3));
  if (!fn::IsStr(t[0]) || !fn::IsStr(t[1]) || !fn::IsInt(t[2])) {
    return fn::BadArgs("SPLIT_INDEX", t);
  }
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext*, Column* out) {
                            std::string_view s = a[0]->str[i], sep = a[1]->str[i];
                            int64_t index = a[2]->i64[i];
                            if (index < 0 || s.empty()) {
                              out->AppendNull();
                              return absl::OkStatus();
                            }
                            size_t begin = 0;
                            for (int64_t k = 0;; ++k) {
                              size_t end;
                              size_t next;
                              if (sep.empty()) {
                                end = begin;
                                while (end < s.size() && !IsJavaWhitespace(s[end])) ++end;
                                next = end + 1;
                              } else {
                                end = s.find(sep, begin);
                                if (end == std::string_view::npos) end = s.size();
                                next = end + sep.size();
                              }
                              if (k == index) {
                                out->AppendString(s.substr(begin, end - begin));
                                return absl::OkStatus();
                              }
                              if (end >= s.size()) break;  // that was the last token
                              begin = next;
                            }
                            out->AppendNull();
                            return absl::OkStatus();
                          }),
                          DataType::String(),
                          {DataType::String(), DataType::String(), DataType::Int()}};
}

// REVERSE(str): the code points in reverse order (invalid bytes count as one each).
absl::StatusOr<ResolvedFunction> Reverse(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("REVERSE", t, 1, 1));
  if (!fn::IsStr(t[0])) return fn::BadArgs("REVERSE", t);
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                            std::string_view s = a[0]->str[i];
                            char* p = ctx->arena->Allocate(s.size());
                            size_t pos = 0, w = s.size();
                            while (pos < s.size()) {
                              size_t start = pos;
                              fn::NextCodePoint(s, &pos);
                              w -= pos - start;
                              std::copy(s.data() + start, s.data() + pos, p + w);
                            }
                            out->AppendString({p, s.size()});
                            return absl::OkStatus();
                          }),
                          DataType::String(),
                          {DataType::String()}};
}

// INITCAP(str): Calcite's SqlFunctions.initcap, which Flink uses: a word is a run of ASCII letters
// and digits; its first letter is upper-cased and the rest lower-cased; other bytes are kept.
absl::StatusOr<ResolvedFunction> Initcap(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("INITCAP", t, 1, 1));
  if (!fn::IsStr(t[0])) return fn::BadArgs("INITCAP", t);
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                            std::string_view s = a[0]->str[i];
                            char* p = ctx->arena->Allocate(s.size());
                            bool start = true;
                            for (size_t k = 0; k < s.size(); ++k) {
                              char c = s[k];
                              bool digit = c >= '0' && c <= '9';
                              bool upper = c >= 'A' && c <= 'Z';
                              bool lower = c >= 'a' && c <= 'z';
                              if (start) {
                                if (lower) c = static_cast<char>(c - 32);
                                if (digit || upper || lower) start = false;
                              } else if (upper) {
                                c = static_cast<char>(c + 32);
                              } else if (!digit && !lower) {
                                start = true;
                              }
                              p[k] = c;
                            }
                            out->AppendString({p, s.size()});
                            return absl::OkStatus();
                          }),
                          DataType::String(),
                          {DataType::String()}};
}

// The 1-based code point position of `needle` in `s` at or after code point `from` (1-based), 0
// when absent or when `from` is outside 1 … length + 1 (Calcite's SqlFunctions.position).
int64_t Position(std::string_view needle, std::string_view s, int64_t from) {
  if (from < 1) return 0;
  size_t byte = 0;
  int64_t cp = 1;
  while (cp < from && byte < s.size()) {
    fn::NextCodePoint(s, &byte);
    ++cp;
  }
  if (cp < from) return 0;
  size_t at = s.find(needle, byte);
  if (at == std::string_view::npos) return 0;
  while (byte < at) {
    fn::NextCodePoint(s, &byte);
    ++cp;
  }
  return cp;
}

// LOCATE(needle, str[, from]) (Flink: position of string1 in string2 from integer, 0 if absent).
absl::StatusOr<ResolvedFunction> Locate(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("LOCATE", t, 2, 3));
  if (!fn::IsStr(t[0]) || !fn::IsStr(t[1]) || (t.size() == 3 && !fn::IsInt(t[2]))) {
    return fn::BadArgs("LOCATE", t);
  }
  std::vector<DataType> at = {DataType::String(), DataType::String()};
  if (t.size() == 3) at.push_back(DataType::Bigint());
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext*, Column* out) {
                            int64_t from = a.size() > 2 ? a[2]->i64[i] : 1;
                            out->AppendInt(Position(a[0]->str[i], a[1]->str[i], from));
                            return absl::OkStatus();
                          }),
                          DataType::Int(), at};
}

// INSTR(str, needle): LOCATE(needle, str).
absl::StatusOr<ResolvedFunction> Instr(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("INSTR", t, 2, 2));
  if (!fn::IsStr(t[0]) || !fn::IsStr(t[1])) return fn::BadArgs("INSTR", t);
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext*, Column* out) {
                            out->AppendInt(Position(a[1]->str[i], a[0]->str[i], 1));
                            return absl::OkStatus();
                          }),
                          DataType::Int(),
                          {DataType::String(), DataType::String()}};
}

// CHR(n): Flink's SqlFunctionUtils.chr: the character of code n & 0xFF (Latin-1), '' when n < 0.
absl::StatusOr<ResolvedFunction> Chr(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("CHR", t, 1, 1));
  if (!fn::IsInt(t[0])) return fn::BadArgs("CHR", t);
  return ResolvedFunction{fn::PerRow([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
                            int64_t v = a[0]->i64[i];
                            if (v < 0) {
                              out->AppendString({});
                              return absl::OkStatus();
                            }
                            std::string s;
                            fn::AppendUtf8(static_cast<uint32_t>(v & 0xFF), &s);
                            out->AppendString(ctx->arena->Add(s));
                            return absl::OkStatus();
                          }),
                          DataType::String(),
                          {DataType::Bigint()}};
}

// CONCAT_WS(sep, s1, s2, …): the non-NULL strings joined by sep; NULL when sep is NULL.
absl::StatusOr<ResolvedFunction> ConcatWs(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("CONCAT_WS", t, 2, 1000));
  for (const DataType& d : t) {
    if (!fn::IsStr(d)) return fn::BadArgs("CONCAT_WS", t);
  }
  ScalarKernel k = [](const Args& a, size_t n, EvalContext* ctx, Column* out) -> absl::Status {
    for (size_t i = 0; i < n; ++i) {
      if (!a[0]->valid[i]) {
        out->AppendNull();
        continue;
      }
      std::string s;
      bool first = true;
      for (size_t c = 1; c < a.size(); ++c) {
        if (!a[c]->valid[i]) continue;
        if (!first) s += a[0]->str[i];
        s += a[c]->str[i];
        first = false;
        if (s.size() > kMaxStringValueBytes) {
          return absl::InvalidArgumentError(fmt::format(
              "CONCAT_WS: the result would be longer than the limit of {} bytes (16 MiB) for a "
              "string",
              kMaxStringValueBytes));
        }
      }
      out->AppendString(ctx->arena->Add(s));
    }
    return absl::OkStatus();
  };
  return ResolvedFunction{k, DataType::String(),
                          std::vector<DataType>(t.size(), DataType::String())};
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// TO_BASE64(str): the standard base64 encoding (RFC 4648, with padding) of the string's bytes.
absl::StatusOr<ResolvedFunction> ToBase64(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("TO_BASE64", t, 1, 1));
  if (!fn::IsStr(t[0])) return fn::BadArgs("TO_BASE64", t);
  return ResolvedFunction{
      fn::PerRow([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
        std::string_view s = a[0]->str[i];
        if (s.size() / 3 * 4 > kMaxStringValueBytes) {
          return absl::InvalidArgumentError("TO_BASE64: the result would exceed 16 MiB");
        }
        std::string r;
        r.reserve((s.size() + 2) / 3 * 4);
        for (size_t k = 0; k < s.size(); k += 3) {
          uint32_t v = static_cast<unsigned char>(s[k]) << 16;
          if (k + 1 < s.size()) v |= static_cast<unsigned char>(s[k + 1]) << 8;
          if (k + 2 < s.size()) v |= static_cast<unsigned char>(s[k + 2]);
          r += kBase64[(v >> 18) & 63];
          r += kBase64[(v >> 12) & 63];
          r += k + 1 < s.size() ? kBase64[(v >> 6) & 63] : '=';
          r += k + 2 < s.size() ? kBase64[v & 63] : '=';
        }
        out->AppendString(ctx->arena->Add(r));
        return absl::OkStatus();
      }),
      DataType::String(),
      {DataType::String()}};
}

// FROM_BASE64(str): the bytes base64 `str` encodes (padding optional). Flink fails on input that
// is not base64 (Java's decoder throws); so does eddy, naming the function.
absl::StatusOr<ResolvedFunction> FromBase64(const std::vector<DataType>& t, const Lits&) {
  EDDY_RETURN_IF_ERROR(fn::WantArgs("FROM_BASE64", t, 1, 1));
  if (!fn::IsStr(t[0])) return fn::BadArgs("FROM_BASE64", t);
  return ResolvedFunction{
      fn::PerRow([](const Args& a, size_t i, EvalContext* ctx, Column* out) {
        std::string_view s = a[0]->str[i];
        while (!s.empty() && s.back() == '=' && s.size() % 4 != 1) s.remove_suffix(1);
        std::string r;
        uint32_t acc = 0;
        int bits = 0;
        for (char c : s) {
          const char* f = c == '\0' ? nullptr : std::strchr(kBase64, c);
          if (!f) {
            return absl::InvalidArgumentError(
                "FROM_BASE64: the input is not base64 (A-Z, a-z, 0-9, '+', '/', '=' padding)");
          }
          acc = (acc << 6) | static_cast<uint32_t>(f - kBase64);
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            r.push_back(static_cast<char>((acc >> bits) & 0xFF));
          }
        }
        if (s.size() % 4 == 1) {
          return absl::InvalidArgumentError("FROM_BASE64: the input is not base64 (bad length)");
        }
        out->AppendString(ctx->arena->Add(r));
        return absl::OkStatus();
      }),
      DataType::String(),
      {DataType::String()}};
}

constexpr ScalarFunctionEntry kStringFunctions[] = {
    {"CHR", "CHR(integer)", Chr},
    {"CONCAT_WS", "CONCAT_WS(separator, string, …)", ConcatWs},
    {"FROM_BASE64", "FROM_BASE64(string)", FromBase64},
    {"INITCAP", "INITCAP(string)", Initcap},
    {"INSTR", "INSTR(string, substring)", Instr},
    {"LOCATE", "LOCATE(substring, string[, from])", Locate},
    {"REVERSE", "REVERSE(string)", Reverse},
    {"SPLIT_INDEX", "SPLIT_INDEX(string, separator, index)", SplitIndex},
    {"TO_BASE64", "TO_BASE64(string)", ToBase64},
};

}  // namespace

std::span<const ScalarFunctionEntry> StringFunctions() { return kStringFunctions; }

}  // namespace eddy
