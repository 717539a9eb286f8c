// Error messages that point into SQL text: "line:col: message", the source line, and a caret.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "sql/ast.h"

namespace eddy::sql {

/// Builds an InvalidArgument status whose message is
///   "SQL error at line L, column C: <message>\n<source line>\n<spaces>^"
/// `script` is the full text the positions refer to. `hint` (e.g. "did you mean 'origin'?") is
/// appended on its own line when non-empty.
absl::Status SqlError(std::string_view script, Pos pos, std::string_view message,
                      std::string_view hint = "");

}  // namespace eddy::sql
