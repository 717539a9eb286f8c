#include "server/pipelines.h"

#include <fmt/format.h>

#include <chrono>

#include "absl/status/status.h"
#include "base/log.h"

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
  Pipeline* raw = p.get();
  pipelines_.push_back(std::move(p));
  spdlog::info("pipeline '{}': started", name);
  raw->thread = std::thread([raw] { Run(raw); });
}

void Pipelines::Run(Pipeline* p) {
  OutputOptions out;
  out.on_summary = [p](const std::string& stmt, const JobSummary& s) {
    LogSummary(p->name, stmt, s);
  };
  absl::Status st = p->engine.ExecuteScript(p->sql, out);
  if (st.ok()) {
    spdlog::info("pipeline '{}': ended (every statement ran)", p->name);
  } else if (p->cancelled && absl::IsCancelled(st)) {
    spdlog::info("pipeline '{}': cancelled", p->name);
  } else if (p->cancelled) {
    spdlog::info("pipeline '{}': cancelled ({})", p->name, std::string(st.message()));
  } else {
    spdlog::error("pipeline '{}': failed: {}", p->name, std::string(st.message()));
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
      p->engine.Cancel();
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
