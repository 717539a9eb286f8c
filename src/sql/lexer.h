// Tokenizer for eddy's SQL (Flink SQL lexical structure). Used by sql/parser.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/ast.h"

namespace eddy::sql {

enum class TokenKind {
  kEnd,          // end of input; pos is just after the last token
  kError,        // lexical error: text is the message, hint an optional hint
  kIdent,        // unquoted identifier or keyword: text as written, upper upper-cased
  kQuotedIdent,  // `back-quoted` identifier: text unescaped (`` → `); never a keyword
  kString,       // 'string' literal: text unescaped ('' → ')
  kInteger,      // 123
  kDecimal,      // 1.5, .5, 1.
  kDouble,       // 1e3, 1.5E-2
  kOp,           // = <> != < <= > >= + - * / % || ( ) , . ; =>
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  std::string upper;  // kIdent only
  std::string hint;   // kError only
  Pos pos;            // first character
  size_t end = 0;     // byte offset just past the last character
};

/// On-demand tokenizer over `src` (which must outlive it). Skips white space, `-- …` line
/// comments and `/* … */` block comments (so `/*+ hints */` are ignored). Lines and columns are
/// 1-based; a column counts UTF-8 code points. Flink SQL: Calcite's lexer with back-quoted
/// identifiers and case-insensitive keywords.
class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  /// The next token. After a kEnd or kError token every call returns that same token again.
  Token Next();

  /// Continues lexing at `pos` (which must lie in src), clearing a previous error. Used by the
  /// parser for statements that take raw text (SET key = value).
  void ResetTo(Pos pos);

 private:
  bool AtEnd() const { return i_ >= src_.size(); }
  char At(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }
  void Bump();
  Pos Here() const { return Pos{line_, col_, i_}; }
  Token Finish(TokenKind kind, Pos start, std::string text);
  Token Fail(Pos at, std::string message, std::string hint = "");
  Token LexNumber(Pos start);
  Token LexQuoted(Pos start, char quote);

  std::string_view src_;
  size_t i_ = 0;
  int line_ = 1;
  int col_ = 1;
  Pos last_end_;  // just past the previous token: where kEnd points
  bool failed_ = false;
  Token error_;
};

/// Tokenizes all of `script`; the result ends with a kEnd token. Errors: InvalidArgument
/// SqlError at the first lexical error (unterminated string, comment or back-quoted identifier,
/// bad number, unexpected character).
absl::StatusOr<std::vector<Token>> Tokenize(std::string_view script);

}  // namespace eddy::sql
