#include "sql/sql_error.h"

#include <fmt/format.h>

#include "base/secrets.h"

namespace eddy::sql {

absl::Status SqlError(std::string_view script, Pos pos, std::string_view message,
                      std::string_view hint) {
  size_t begin = pos.offset <= script.size() ? pos.offset : script.size();
  while (begin > 0 && script[begin - 1] != '\n') --begin;
  size_t end = script.find('\n', begin);
  if (end == std::string_view::npos) end = script.size();
  // The shown line never carries a secret option's value ('password' = '******').
  size_t caret_at = pos.col > 1 ? pos.col - 1 : 0;
  std::string line = HideSecretsInSql(script.substr(begin, end - begin), &caret_at);
  std::string caret(caret_at, ' ');
  // Keep tabs so the caret lines up under the offending text.
  for (size_t i = 0; i < caret.size() && i < line.size(); ++i) {
    if (line[i] == '\t') caret[i] = '\t';
  }
  std::string msg = fmt::format("SQL error at line {}, column {}: {}\n  {}\n  {}^", pos.line,
                                pos.col, message, line, caret);
  if (!hint.empty()) msg += fmt::format("\n{}", hint);
  return absl::InvalidArgumentError(msg);
}

bool HasSqlPosition(const absl::Status& s) {
  return !s.ok() && std::string(s.message()).find("SQL error at line ") != std::string::npos;
}

absl::Status AtSqlPosition(absl::Status s, std::string_view script, Pos pos) {
  if (s.ok() || HasSqlPosition(s)) return s;
  return SqlError(script, pos, std::string(s.message()));
}

}  // namespace eddy::sql
