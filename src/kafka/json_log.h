// Reading the broker's JSON-lines state logs (consumer-groups.log, transactions.log): one JSON
// object per line, appended and fsynced per change, rewritten compactly from time to time.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace eddy::kafka {

/// Calls `apply` with each record of the JSON-lines log at `path`, in order (a missing file has
/// none). A last line that is not a JSON object is a record torn by a crash during its write: it
/// is skipped with a warning. Errors: DataLoss naming `path:line` and `what` ("consumer group",
/// "transaction") for an earlier line that is not a JSON object, or when `apply` throws (a field
/// missing or of the wrong type). Not thread-safe.
absl::Status ReadJsonLinesLog(const std::string& path, std::string_view what,
                              const std::function<void(const nlohmann::json&)>& apply);

}  // namespace eddy::kafka
