#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <chrono>

namespace eddy {

void SetLogLevel(const std::string& level) {
  static auto logger = [] {
    auto l = spdlog::stderr_color_mt("eddy");
    l->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    spdlog::set_default_logger(l);
    return l;
  }();
  logger->set_level(spdlog::level::from_str(level));
}

LogRateLimiter::LogRateLimiter(int max_lines, int64_t window_us, size_t max_keys)
    : max_lines_(max_lines), window_us_(window_us), max_keys_(max_keys) {}

bool LogRateLimiter::Allow(std::string_view key, std::string_view message, int64_t now_us) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    std::string name(keys_.size() >= max_keys_ ? std::string_view("(other)") : key);
    auto [inserted, is_new] = keys_.try_emplace(std::move(name));
    it = inserted;
    if (is_new) it->second.window_start_us = now_us;
  }
  Key& k = it->second;
  if (now_us - k.window_start_us >= window_us_) {
    // A new window. Lines suppressed in the old one stay counted until Collect() reports them.
    k.window_start_us = now_us;
    k.lines = 0;
  }
  if (k.lines < max_lines_) {
    ++k.lines;
    return true;
  }
  ++k.suppressed;
  k.last_message.assign(message);
  return false;
}

std::vector<LogRateLimiter::Suppressed> LogRateLimiter::Collect(int64_t now_us) {
  std::vector<Suppressed> out;
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = keys_.begin(); it != keys_.end();) {
    Key& k = it->second;
    bool ended = now_us - k.window_start_us >= window_us_;
    if (ended && k.suppressed > 0) {
      out.push_back({it->first, k.suppressed, std::move(k.last_message)});
      k.suppressed = 0;
      k.last_message.clear();
    }
    if (ended && k.suppressed == 0 && now_us - k.window_start_us >= 2 * window_us_) {
      it = keys_.erase(it);  // idle for a whole window after its last one
    } else {
      ++it;
    }
  }
  return out;
}

LogRateLimiter& DefaultLogRateLimiter() {
  static LogRateLimiter* limiter = new LogRateLimiter();
  return *limiter;
}

int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

void WriteSuppressed(const std::vector<LogRateLimiter::Suppressed>& all) {
  for (const auto& s : all) {
    spdlog::warn("suppressed {} similar messages ({}); the last one: {}", s.count, s.key,
                 s.last_message);
  }
}

}  // namespace

void LogLimited(LogRateLimiter& limiter, spdlog::level::level_enum level, std::string_view key,
                std::string_view message) {
  if (!spdlog::should_log(level)) return;
  int64_t now = SteadyNowUs();
  if (limiter.Allow(key, message, now)) spdlog::log(level, "{}", message);
}

void LogLimited(spdlog::level::level_enum level, std::string_view key, std::string_view message) {
  if (!spdlog::should_log(level)) return;
  // Report ended windows at most every 100 ms (Collect walks every key), so "suppressed" lines
  // come out even where nobody calls FlushLimitedLogs().
  static std::atomic<int64_t> next_collect_us{0};
  int64_t now = SteadyNowUs();
  int64_t due = next_collect_us.load(std::memory_order_relaxed);
  if (now >= due && next_collect_us.compare_exchange_strong(due, now + 100'000)) {
    FlushLimitedLogs();
  }
  LogLimited(DefaultLogRateLimiter(), level, key, message);
}

void FlushLimitedLogs(LogRateLimiter& limiter) { WriteSuppressed(limiter.Collect(SteadyNowUs())); }

void FlushLimitedLogs() { FlushLimitedLogs(DefaultLogRateLimiter()); }

}  // namespace eddy
