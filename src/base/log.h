// Logging: spdlog on stderr. Logs say what happened in words (DEVELOPERS.md).
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace eddy {

/// Sets the process-wide log level from a name ("debug", "info", "warn", "error", "off").
/// Thread-safe; call once at start.
void SetLogLevel(const std::string& level);

/// Decides which repeated log lines to write: at most `max_lines` lines per key per window of
/// `window_us` microseconds; the lines beyond are counted, not written, and reported later as one
/// line "suppressed K similar messages" (Collect). A key names a kind of message and its source
/// (e.g. "kafka.close/10.0.0.7"), so a flood from one client does not hide another's messages.
/// At most `max_keys` keys are tracked; beyond that, new keys share one overflow key ("(other)"),
/// so memory stays bounded whatever the traffic. Thread-safe.
class LogRateLimiter {
 public:
  LogRateLimiter(int max_lines = 10, int64_t window_us = 1'000'000, size_t max_keys = 1024);

  /// Whether a line of `key` at `now_us` (a steady clock, µs) may be written. When it may not,
  /// the line is counted for `key` and `message` kept as the example Collect() reports.
  bool Allow(std::string_view key, std::string_view message, int64_t now_us);

  /// One key's lines suppressed in windows that have ended by `now_us`.
  struct Suppressed {
    std::string key;
    int64_t count = 0;
    std::string last_message;  // the last suppressed line
  };
  /// Returns (and resets) the counts of suppressed lines of windows that ended by `now_us`, and
  /// forgets keys idle for a whole window.
  std::vector<Suppressed> Collect(int64_t now_us);

 private:
  struct Key {
    int64_t window_start_us = 0;
    int lines = 0;
    int64_t suppressed = 0;
    std::string last_message;
  };
  const int max_lines_;
  const int64_t window_us_;
  const size_t max_keys_;
  std::mutex mu_;
  std::map<std::string, Key, std::less<>> keys_;
};

/// The process-wide limiter used by LogLimited() (10 lines per key per second).
LogRateLimiter& DefaultLogRateLimiter();

/// Writes `message` at `level` unless the default limiter suppresses it for `key`; first writes
/// the "suppressed" lines of windows that have ended. Thread-safe.
void LogLimited(spdlog::level::level_enum level, std::string_view key, std::string_view message);

/// The same with another limiter (e.g. one allowing a line per key every 10 s).
void LogLimited(LogRateLimiter& limiter, spdlog::level::level_enum level, std::string_view key,
                std::string_view message);

/// Writes the "suppressed K similar messages" lines of windows that have ended (call about once a
/// second, so a flood that stopped is still reported). Thread-safe.
void FlushLimitedLogs();
/// The same for `limiter`.
void FlushLimitedLogs(LogRateLimiter& limiter);

/// The current time of the steady clock in µs (the limiter's clock).
int64_t SteadyNowUs();

}  // namespace eddy
