#include "server/pipelines.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "absl/status/status.h"
#include "base/log.h"
#include "catalog/options.h"

namespace eddy::server {

namespace {

std::string Human(double v) {
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string FirstLine(const std::string& stmt) {
  size_t b = stmt.find_first_not_of(" \t\r\n");
  std::string first = b == std::string::npos ? "" : stmt.substr(b);
  first = first.substr(0, first.find('\n'));
  if (first.size() > 70) first = first.substr(0, 67) + "...";
  return first;
}

// The end-of-job summary `eddy run` prints, as log lines.
void LogSummary(const std::string& name, const std::string& stmt, const JobSummary& s) {
  spdlog::info("pipeline '{}': job {} after {:.2f} s: {}", name, s.ok ? "finished" : "failed",
               s.seconds, FirstLine(stmt));
  for (const auto& src : s.sources) {
    std::string text =
        fmt::format("pipeline '{}':   source {}: {} rows read", name, src.table, src.rows);
    if (src.bad_skipped) text += fmt::format(", {} bad rows skipped", src.bad_skipped);
    if (src.bad_dead_lettered) {
      text += fmt::format(", {} bad rows sent to the dead-letter file", src.bad_dead_lettered);
    }
    if (s.seconds > 0) text += fmt::format(" ({} rows/s)", Human(src.rows / s.seconds));
    spdlog::info("{}", text);
  }
  for (const auto& l : s.late) {
    spdlog::info("pipeline '{}':   late rows: {} in {}", name, l.rows, l.op);
  }
  for (const auto& k : s.sinks) {
    spdlog::info("pipeline '{}':   sink {}: {} row{} written", name, k.table, k.rows,
                 k.rows == 1 ? "" : "s");
  }
}

}  // namespace

Pipelines::~Pipelines() { CancelAll(); }

void Pipelines::Start(const std::string& name, std::string sql) {
  auto p = std::make_unique<Pipeline>();
  p->name = name;
  p->sql = std::move(sql);
  if (!checkpoint_root_.empty()) {
    std::string safe;
    for (char c : name)
      safe +=
          (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
    p->checkpoint_dir = checkpoint_root_ + "/" + safe;
  }
  Pipeline* raw = p.get();
  pipelines_.push_back(std::move(p));
  spdlog::info("pipeline '{}': started", name);
  raw->thread = std::thread([raw] { Run(raw); });
}

namespace {

// Flink's restart strategies, for the pipelines of `eddy server` (SET in a pipeline's script;
// `eddy run` accepts them too, and they have no effect there).
const auto kRestartType =
    catalog::SessionOption("restart-strategy.type")
        .Enum("fixed-delay", {"fixed-delay", "exponential-delay", "none", "disable", "off"})
        .Doc(
            "How a failed server pipeline restarts from its latest "
            "checkpoint (eddy run: no effect).");
const auto kFixedAttempts = catalog::SessionOption("restart-strategy.fixed-delay.attempts")
                                .Int(2147483647)
                                .Range(0, INT64_MAX)
                                .Doc("fixed-delay: restarts before a pipeline stays failed.");
const auto kFixedDelay = catalog::SessionOption("restart-strategy.fixed-delay.delay")
                             .Duration("1 s")
                             .Min(absl::ZeroDuration())
                             .Doc("fixed-delay: the wait before each restart.");
const auto kExpInitial =
    catalog::SessionOption("restart-strategy.exponential-delay.initial-backoff")
        .Duration("1 s")
        .Min(absl::ZeroDuration())
        .Doc("exponential-delay: the wait before the first restart.");
const auto kExpMax = catalog::SessionOption("restart-strategy.exponential-delay.max-backoff")
                         .Duration("1 min")
                         .Min(absl::ZeroDuration())
                         .Doc("exponential-delay: the longest wait.");
const auto kExpMultiplier =
    catalog::SessionOption("restart-strategy.exponential-delay.backoff-multiplier")
        .String("2.0")
        .Doc("exponential-delay: each wait is the previous one times this (a number >= 1).");
const auto kExpAttempts =
    catalog::SessionOption("restart-strategy.exponential-delay.attempts-before-reset-backoff")
        .Int(2147483647)
        .Range(0, INT64_MAX)
        .Doc("exponential-delay: restarts before a pipeline stays failed.");

// How long to wait before restart `attempt` (1-based) after a failure, or -1: give up. Read
// from the failed run's session (its SETs), as text the registry has checked.
int64_t RestartDelayMs(const Engine& e, int attempt) {
  auto num = [&](const auto& opt) -> int64_t {
    try {
      return std::stoll(e.Get(opt.key()));
    } catch (...) {
      return INT64_MAX;
    }
  };
  auto ms = [&](const auto& opt) -> int64_t {
    auto d = catalog::ParseDuration(e.Get(opt.key()));
    return d.ok() ? absl::ToInt64Milliseconds(*d) : 1000;
  };
  std::string type = e.Get(kRestartType.key());
  if (type == "none" || type == "off" || type == "disable") return -1;
  if (type == "exponential-delay") {
    if (attempt > num(kExpAttempts)) return -1;
    double d = static_cast<double>(ms(kExpInitial));
    double mult = std::atof(e.Get(kExpMultiplier.key()).c_str());
    if (!(mult >= 1)) mult = 2.0;
    for (int i = 1; i < attempt && d < 1e15; ++i) d *= mult;
    return std::min<int64_t>(static_cast<int64_t>(d), ms(kExpMax));
  }
  if (attempt > num(kFixedAttempts)) return -1;
  return ms(kFixedDelay);
}

}  // namespace

void Pipelines::Run(Pipeline* p) {
  for (int attempt = 0;; ++attempt) {
    auto engine = std::make_unique<Engine>();
    if (!p->checkpoint_dir.empty()) {
      // Checkpoints by default; the pipeline continues from its latest complete checkpoint.
      for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
               {"execution.checkpointing.interval", "10 s"},
               {"execution.checkpointing.dir", p->checkpoint_dir},
               {"execution.savepoint.path", "latest"},
               {"pipeline.name", p->name}}) {
        absl::Status st = engine->Set(k, v);
        if (!st.ok()) spdlog::error("pipeline '{}': {}", p->name, std::string(st.message()));
      }
    }
    Engine* e = engine.get();
    {
      std::lock_guard<std::mutex> l(p->mu);
      p->engine = std::move(engine);
    }
    if (p->cancelled) break;
    OutputOptions out;
    out.on_summary = [p](const std::string& stmt, const JobSummary& s) {
      LogSummary(p->name, stmt, s);
    };
    absl::Status st = e->ExecuteScript(p->sql, out);
    if (st.ok()) {
      spdlog::info("pipeline '{}': ended (every statement ran)", p->name);
      break;
    }
    if (p->cancelled && absl::IsCancelled(st)) {
      spdlog::info("pipeline '{}': cancelled", p->name);
      break;
    }
    if (p->cancelled) {
      spdlog::info("pipeline '{}': cancelled ({})", p->name, std::string(st.message()));
      break;
    }
    int64_t delay = RestartDelayMs(*e, attempt + 1);
    if (delay < 0 || p->checkpoint_dir.empty()) {
      spdlog::error("pipeline '{}': failed: {}", p->name, std::string(st.message()));
      break;
    }
    spdlog::error(
        "pipeline '{}': failed: {}; restarting from its latest checkpoint in {} ms "
        "(restart {})",
        p->name, std::string(st.message()), delay, attempt + 1);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
    while (!p->cancelled && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  p->done = true;
}

void Pipelines::CancelAll() {
  auto start = std::chrono::steady_clock::now();
  auto last_note = start;
  while (true) {
    bool all_done = true;
    for (auto& p : pipelines_) {
      if (p->done) continue;
      all_done = false;
      if (!p->cancelled) spdlog::info("pipeline '{}': cancelling", p->name);
      p->cancelled = true;
      // Again on every pass: a job starting after a cancel resets the Engine's flag.
      std::lock_guard<std::mutex> l(p->mu);
      if (p->engine) p->engine->Cancel();
    }
    if (all_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto now = std::chrono::steady_clock::now();
    if (now - last_note >= std::chrono::seconds(5)) {
      last_note = now;
      for (auto& p : pipelines_) {
        if (!p->done) spdlog::warn("pipeline '{}': still stopping", p->name);
      }
    }
  }
  for (auto& p : pipelines_) {
    if (p->thread.joinable()) p->thread.join();
  }
}

int Pipelines::running() const {
  int n = 0;
  for (const auto& p : pipelines_) n += p->done ? 0 : 1;
  return n;
}

}  // namespace eddy::server
