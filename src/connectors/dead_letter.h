// The dead-letter file of the bad-row policy 'error.policy' = 'dead-letter' (shared by the
// sources of every connector).
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "connectors/connector.h"
#include "connectors/dead_letter_line.h"

namespace eddy::connectors {

/// Appends bad rows to the dead-letter file as JSON Lines, one DeadLetterLine() each:
/// {"source":"<file:line or topic/partition/offset>","column":N,"reason":"…","row":"<raw text>"}
/// and "row_base64" for a record that is not valid UTF-8, "row_truncated" for a record over
/// 'source.max-record-size' (only its first bytes are kept). Every line is valid UTF-8 and valid
/// JSON whatever the input. Each line is flushed when written. Thread-safe.
class DeadLetterWriter {
 public:
  /// Opens `path` for appending. Errors: InvalidArgument naming the path and the OS error.
  static absl::StatusOr<std::shared_ptr<DeadLetterWriter>> Open(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "a");
    if (!f) {
      return absl::InvalidArgumentError(
          fmt::format("cannot open 'error.dead-letter.path' {}: {}", path, std::strerror(errno)));
    }
    auto w = std::make_shared<DeadLetterWriter>();
    w->f_ = f;
    return w;
  }
  ~DeadLetterWriter() {
    if (f_) std::fclose(f_);
  }
  /// Appends one bad row: where it was, the 1-based byte column, why, and its raw bytes (only
  /// the first ones when `truncated`).
  void Write(const std::string& where, size_t column, const std::string& reason,
             std::string_view raw, bool truncated = false) {
    const std::string line = DeadLetterLine(where, column, reason, raw, truncated);
    std::lock_guard<std::mutex> l(mu_);
    std::fwrite(line.data(), 1, line.size(), f_);
    std::fflush(f_);
  }

 private:
  std::mutex mu_;
  FILE* f_ = nullptr;
};

/// Checks the scan's 'error.policy' ('fail', 'skip' or 'dead-letter') and opens the dead-letter
/// file for 'dead-letter' (null otherwise). Errors: InvalidArgument naming the option.
inline absl::StatusOr<std::shared_ptr<DeadLetterWriter>> OpenBadRowPolicy(const ScanSpec& spec) {
  const std::string& name = spec.table->name;
  if (spec.error_policy == "dead-letter") {
    if (spec.dead_letter_path.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "table '{}': 'error.policy' = 'dead-letter' needs 'error.dead-letter.path'", name));
    }
    return DeadLetterWriter::Open(spec.dead_letter_path);
  }
  if (spec.error_policy != "fail" && spec.error_policy != "skip") {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': 'error.policy' must be 'fail', 'skip' or 'dead-letter', not '{}'",
                    name, spec.error_policy));
  }
  return std::shared_ptr<DeadLetterWriter>();
}

}  // namespace eddy::connectors
