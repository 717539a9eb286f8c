#include "sql/lexer.h"

#include <fmt/format.h>

#include <utility>

#include "base/strings.h"
#include "sql/sql_error.h"

namespace eddy::sql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsIdentStart(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || u >= 0x80;
}

bool IsIdentPart(char c) { return IsIdentStart(c) || IsDigit(c) || c == '$'; }

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// A printable rendering of one (possibly non-ASCII or control) character for messages.
std::string Printable(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return std::string(1, c);
  return fmt::format("\\x{:02X}", u);
}

}  // namespace

void Lexer::Bump() {
  if (AtEnd()) return;
  char c = src_[i_++];
  if (c == '\n') {
    ++line_;
    col_ = 1;
  } else if (AtEnd() || !IsContinuationByte(src_[i_])) {
    ++col_;
  }
}

void Lexer::ResetTo(Pos pos) {
  i_ = pos.offset <= src_.size() ? pos.offset : src_.size();
  line_ = pos.line;
  col_ = pos.col;
  last_end_ = pos;
  failed_ = false;
}

Token Lexer::Finish(TokenKind kind, Pos start, std::string text) {
  Token t;
  t.kind = kind;
  t.text = std::move(text);
  if (kind == TokenKind::kIdent) t.upper = ToUpper(t.text);
  t.pos = start;
  t.end = i_;
  last_end_ = Here();
  return t;
}

Token Lexer::Fail(Pos at, std::string message, std::string hint) {
  error_ = Token();
  error_.kind = TokenKind::kError;
  error_.text = std::move(message);
  error_.hint = std::move(hint);
  error_.pos = at;
  error_.end = at.offset;
  failed_ = true;
  return error_;
}

Token Lexer::Next() {
  if (failed_) return error_;
  // White space and comments.
  while (!AtEnd()) {
    char c = src_[i_];
    if (IsSpace(c)) {
      Bump();
    } else if (c == '-' && At(i_ + 1) == '-') {
      while (!AtEnd() && src_[i_] != '\n') Bump();
    } else if (c == '/' && At(i_ + 1) == '*') {
      Pos start = Here();
      Bump();
      Bump();
      bool closed = false;
      while (!AtEnd()) {
        if (src_[i_] == '*' && At(i_ + 1) == '/') {
          Bump();
          Bump();
          closed = true;
          break;
        }
        Bump();
      }
      if (!closed) return Fail(start, "unterminated comment: '/*' without a closing '*/'");
    } else {
      break;
    }
  }
  if (AtEnd()) {
    Token t;
    t.kind = TokenKind::kEnd;
    t.pos = last_end_;
    t.end = last_end_.offset;
    return t;
  }
  Pos start = Here();
  char c = src_[i_];
  if (IsIdentStart(c)) {
    while (!AtEnd() && IsIdentPart(src_[i_])) Bump();
    return Finish(TokenKind::kIdent, start,
                  std::string(src_.substr(start.offset, i_ - start.offset)));
  }
  if (IsDigit(c) || (c == '.' && IsDigit(At(i_ + 1)))) return LexNumber(start);
  if (c == '\'' || c == '`') return LexQuoted(start, c);
  if (c == '"') {
    return Fail(start, "double-quoted strings are not supported",
                "use 'single quotes' for strings and `back-quotes` for identifiers");
  }
  // Operators: two-character ones first.
  static constexpr std::string_view kTwo[] = {"<>", "<=", ">=", "!=", "||", "=>"};
  for (std::string_view op : kTwo) {
    if (c == op[0] && At(i_ + 1) == op[1]) {
      Bump();
      Bump();
      return Finish(TokenKind::kOp, start, std::string(op));
    }
  }
  static constexpr std::string_view kOne = "=<>+-*/%(),.;";
  if (kOne.find(c) != std::string_view::npos) {
    Bump();
    return Finish(TokenKind::kOp, start, std::string(1, c));
  }
  if (c == '|') return Fail(start, "unexpected character '|'", "use || to concatenate strings");
  return Fail(start, fmt::format("unexpected character '{}'", Printable(c)));
}

Token Lexer::LexNumber(Pos start) {
  TokenKind kind = TokenKind::kInteger;
  while (IsDigit(At(i_))) Bump();
  if (At(i_) == '.') {
    kind = TokenKind::kDecimal;
    Bump();
    while (IsDigit(At(i_))) Bump();
  }
  if (At(i_) == 'e' || At(i_) == 'E') {
    size_t j = i_ + 1;
    if (At(j) == '+' || At(j) == '-') ++j;
    if (IsDigit(At(j))) {
      kind = TokenKind::kDouble;
      while (i_ < j) Bump();
      while (IsDigit(At(i_))) Bump();
    }
  }
  if (IsIdentPart(At(i_))) {
    size_t j = i_;
    while (j < src_.size() && IsIdentPart(src_[j])) ++j;
    std::string text(src_.substr(start.offset, j - start.offset));
    return Fail(start, fmt::format("invalid number '{}'", text),
                "an identifier cannot start with a digit; quote it with back-quotes");
  }
  return Finish(kind, start, std::string(src_.substr(start.offset, i_ - start.offset)));
}

Token Lexer::LexQuoted(Pos start, char quote) {
  Bump();  // opening quote
  std::string text;
  while (true) {
    if (AtEnd()) {
      if (quote == '\'') {
        return Fail(start, "unterminated string literal: missing closing quote (')");
      }
      return Fail(start, "unterminated back-quoted identifier: missing closing back-quote (`)");
    }
    char c = src_[i_];
    if (c == quote) {
      if (At(i_ + 1) == quote) {  // doubled quote escapes itself
        text += quote;
        Bump();
        Bump();
        continue;
      }
      Bump();
      break;
    }
    text += c;
    Bump();
  }
  if (quote == '`') {
    if (text.empty()) return Fail(start, "empty back-quoted identifier");
    return Finish(TokenKind::kQuotedIdent, start, std::move(text));
  }
  return Finish(TokenKind::kString, start, std::move(text));
}

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view script) {
  Lexer lexer(script);
  std::vector<Token> out;
  while (true) {
    Token t = lexer.Next();
    if (t.kind == TokenKind::kError) return SqlError(script, t.pos, t.text, t.hint);
    bool end = t.kind == TokenKind::kEnd;
    out.push_back(std::move(t));
    if (end) return out;
  }
}

}  // namespace eddy::sql
