// Error messages that point into SQL text: "line:col: message", the source line, and a caret.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "sql/ast.h"

namespace eddy::sql {

/// Builds an InvalidArgument status whose message is (secret option values in the line hidden,
/// base/secrets.h)
///   "SQL error at line L, column C: <message>\n<source line>\n<spaces>^"
/// `script` is the full text the positions refer to. `hint` (e.g. "did you mean 'origin'?") is
/// appended on its own line when non-empty.
absl::Status SqlError(std::string_view script, Pos pos, std::string_view message,
                      std::string_view hint = "");

/// Whether `s` is an error that already names a position in SQL text (a SqlError, possibly
/// nested, e.g. "in view 'v': SQL error at line …").
bool HasSqlPosition(const absl::Status& s);

/// `s` when it is OK or already has a position, else an InvalidArgument SqlError at `pos` of
/// `script` with `s`'s message: how planning errors that come from below the binder (connectors,
/// the job builder) get the line:column of the construct they are about.
absl::Status AtSqlPosition(absl::Status s, std::string_view script, Pos pos);

}  // namespace eddy::sql
