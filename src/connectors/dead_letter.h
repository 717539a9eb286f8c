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
#include "base/strings.h"
#include "base/utf8.h"
#include "connectors/connector.h"

namespace eddy::connectors {

/// Appends bad rows to the dead-letter file as JSON Lines (docs/sql-reference.md, "Bad rows"):
/// {"source":"<file:line or topic/partition/offset>","column":N,"reason":"…","row":"<raw text>"}
/// followed, when the raw record is not valid UTF-8, by "row_base64":"<its exact bytes>" ("row"
/// then has U+FFFD for each invalid byte), and, for a record over 'source.max-record-size', by
/// "row_truncated":true ("row" and "row_base64" then hold only its first bytes). Every line is
/// valid UTF-8 and valid JSON whatever the input. Each line is flushed when written. Thread-safe.
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
    std::string line = "{\"source\":" + JsonQuote(ToValidUtf8(where)) +
                       ",\"column\":" + std::to_string(column) +
                       ",\"reason\":" + JsonQuote(ToValidUtf8(reason)) + ",\"row\":";
    if (truncated && !IsValidUtf8(raw)) {
      // The cut may have split the last character: drop its first bytes.
      for (size_t k = 1; k <= 3 && k <= raw.size(); ++k) {
        if ((static_cast<unsigned char>(raw[raw.size() - k]) & 0xC0) == 0xC0) {
          if (IsValidUtf8(raw.substr(0, raw.size() - k))) raw.remove_suffix(k);
          break;
        }
      }
    }
    if (IsValidUtf8(raw)) {
      line += JsonQuote(raw);
    } else {
      line += JsonQuote(ToValidUtf8(raw));
      line += ",\"row_base64\":\"" + Base64Encode(raw) + "\"";
    }
    if (truncated) line += ",\"row_truncated\":true";
    line += "}\n";
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
