#include "server/pipelines.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/status/status.h"
#include "base/log.h"
#include "base/status.h"
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

const char* PipelineStateName(PipelineState s) {
  switch (s) {
    case PipelineState::kCreated:
      return "CREATED";
    case PipelineState::kRunning:
      return "RUNNING";
    case PipelineState::kRestarting:
      return "RESTARTING";
    case PipelineState::kFailed:
      return "FAILED";
    case PipelineState::kFinished:
      return "FINISHED";
    case PipelineState::kCanceled:
      return "CANCELED";
  }
  return "UNKNOWN";
}

namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A pipeline name as a file name: letters, digits, '-', '_', '.' kept, the rest '_'.
std::string SafeName(const std::string& name) {
  std::string safe;
  for (char c : name) {
    safe += (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  }
  return safe;
}

}  // namespace

void Pipelines::Start(const std::string& name, std::string sql) {
  std::lock_guard<std::mutex> l(mu_);
  StartLocked(name, std::move(sql), {}, false);
}

Pipelines::Pipeline* Pipelines::StartLocked(const std::string& name, std::string sql,
                                            std::map<std::string, std::string> properties,
                                            bool persisted) {
  auto p = std::make_shared<Pipeline>();
  p->name = name;
  p->sql = std::move(sql);
  p->properties = std::move(properties);
  p->persisted = persisted;
  if (persisted) p->persist_path = PersistPath(name);
  p->start_ms = WallMs();
  if (!checkpoint_root_.empty()) p->checkpoint_dir = checkpoint_root_ + "/" + SafeName(name);
  Pipeline* raw = p.get();
  pipelines_.push_back(std::move(p));
  spdlog::info("pipeline '{}': started", name);
  raw->thread = std::thread([raw] { Run(raw); });
  return raw;
}

std::string Pipelines::PersistPath(const std::string& name) const {
  return persist_dir_ + "/" + SafeName(name) + ".json";
}

absl::Status Pipelines::Persist(const std::string& name, const std::string& sql,
                                const std::map<std::string, std::string>& properties) const {
  std::error_code ec;
  std::filesystem::create_directories(persist_dir_, ec);
  nlohmann::json j = {{"name", name}, {"sql", sql}, {"properties", properties}};
  std::string path = PersistPath(name);
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    f.flush();
    if (!f) return absl::InternalError(fmt::format("cannot write {}", tmp));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(fmt::format("cannot write {}: {}", path, ec.message()));
  return absl::OkStatus();
}

absl::Status Pipelines::Create(const std::string& name, const std::string& sql,
                               const std::map<std::string, std::string>& properties, bool persist) {
  // Names are file names (definition, checkpoints): no '.' or '..', nothing but these characters.
  if (name.empty() || name.size() > 128 || !isalnum(static_cast<unsigned char>(name[0])) ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
          std::string::npos) {
    return absl::InvalidArgumentError(fmt::format(
        "pipeline name '{}' is not 1 to 128 letters, digits, '-', '_' or '.' starting with a "
        "letter or digit",
        name));
  }
  auto in_use = [&](const Pipeline& p) -> absl::Status {
    if (p.deleting) {
      return absl::AlreadyExistsError(fmt::format("pipeline '{}' is being deleted", name));
    }
    return absl::AlreadyExistsError(fmt::format("pipeline '{}' exists and is {}: DELETE it first",
                                                name, PipelineStateName(InfoOf(p).state)));
  };
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& p : pipelines_) {
      if (p->name == name && (!p->done || p->deleting)) return in_use(*p);
    }
  }
  // Checked before anything is kept or started: the properties, then the script (planned only).
  EDDY_RETURN_IF_ERROR(Explain(sql, properties).status());
  std::shared_ptr<Pipeline> ended;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = pipelines_.begin(); it != pipelines_.end(); ++it) {
      if ((*it)->name != name) continue;
      if (!(*it)->done || (*it)->deleting) return in_use(**it);
      ended = std::move(*it);  // an ended pipeline of that name is replaced
      pipelines_.erase(it);
      break;
    }
    // The replaced pipeline's checkpoints belong to another script: the new one starts afresh.
    if (ended && !ended->checkpoint_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(ended->checkpoint_dir, ec);
    }
    if (persist && !persist_dir_.empty()) EDDY_RETURN_IF_ERROR(Persist(name, sql, properties));
    StartLocked(name, sql, properties, persist && !persist_dir_.empty());
  }
  if (ended && ended->thread.joinable()) ended->thread.join();  // it has ended: at once
  return absl::OkStatus();
}

int Pipelines::StartPersisted() {
  if (persist_dir_.empty() || !std::filesystem::is_directory(persist_dir_)) return 0;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(persist_dir_)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  int n = 0;
  for (const auto& f : files) {
    try {
      std::ifstream in(f);
      nlohmann::json j = nlohmann::json::parse(in);
      std::string name = j.at("name").get<std::string>();
      std::string sql = j.at("sql").get<std::string>();
      auto props = j.value("properties", std::map<std::string, std::string>{});
      std::lock_guard<std::mutex> l(mu_);
      StartLocked(name, std::move(sql), std::move(props), true);
      ++n;
    } catch (const std::exception& ex) {
      spdlog::error("pipelines: skipping {}: it does not load: {}", f.string(), ex.what());
    }
  }
  return n;
}

absl::Status Pipelines::Cancel(const std::string& name) {
  std::shared_ptr<Pipeline> p;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& q : pipelines_) {
      if (q->name == name) p = q;
    }
    if (!p) return absl::NotFoundError(fmt::format("no pipeline '{}'", name));
    if (p->deleting) {
      return absl::AlreadyExistsError(fmt::format("pipeline '{}' is being deleted", name));
    }
    p->deleting = true;  // Create refuses the name until its files are gone
  }
  if (!p->done) spdlog::info("pipeline '{}': cancelling (DELETE)", name);
  p->cancelled = true;
  while (!p->done) {
    {
      std::lock_guard<std::mutex> l(p->mu);
      if (p->engine) p->engine->Cancel();  // again: a job starting after a cancel resets it
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::error_code ec;
  if (!p->persist_path.empty()) std::filesystem::remove(p->persist_path, ec);
  if (!p->checkpoint_dir.empty()) std::filesystem::remove_all(p->checkpoint_dir, ec);
  std::lock_guard<std::mutex> l(mu_);
  p->deleting = false;
  return absl::OkStatus();
}

PipelineInfo Pipelines::InfoOf(const Pipeline& p) {
  std::lock_guard<std::mutex> l(p.mu);
  PipelineInfo i;
  i.name = p.name;
  i.sql = p.sql;
  i.properties = p.properties;
  i.state = p.state;
  i.start_ms = p.start_ms;
  i.end_ms = p.end_ms;
  i.error = p.error;
  i.restarts = p.restarts;
  i.persisted = p.persisted;
  i.progress = p.progress;
  i.jobs_finished = p.jobs_finished;
  i.last_summary = p.last_summary;
  i.vertex_rows_per_second.assign(i.progress.vertices.size(), 0.0);
  i.subtask_rows_per_second.resize(i.progress.vertices.size());
  i.subtask_backpressure.resize(i.progress.vertices.size());
  if (p.samples.size() >= 2 && SteadyMs() - p.samples.back().ms < 1000) {
    const Pipeline::Sample& a = p.samples.front();
    const Pipeline::Sample& b = p.samples.back();
    int64_t t0 = a.ms, t1 = b.ms;
    for (size_t v = 0; v < i.progress.vertices.size() && v < a.outs.size() && t1 > t0; ++v) {
      i.vertex_rows_per_second[v] =
          static_cast<double>(b.outs[v] - a.outs[v]) * 1000.0 / static_cast<double>(t1 - t0);
      if (v >= a.subtasks.size() || v >= b.subtasks.size()) continue;
      size_t n = std::min(a.subtasks[v].size(), b.subtasks[v].size());
      for (size_t s = 0; s < n; ++s) {
        const auto& x = a.subtasks[v][s];
        const auto& y = b.subtasks[v][s];
        i.subtask_rows_per_second[v].push_back(
            static_cast<double>(std::max<int64_t>(0, y[0] - x[0])) * 1000.0 /
            static_cast<double>(t1 - t0));
        double span = static_cast<double>(y[2] - x[2]);
        double ratio = span > 0 ? static_cast<double>(y[1] - x[1]) / span : 0.0;
        i.subtask_backpressure[v].push_back(std::clamp(ratio, 0.0, 1.0));
      }
    }
  }
  return i;
}

std::vector<PipelineInfo> Pipelines::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<PipelineInfo> out;
  for (const auto& p : pipelines_) out.push_back(InfoOf(*p));
  return out;
}

absl::StatusOr<PipelineInfo> Pipelines::Get(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& p : pipelines_) {
    if (p->name == name) return InfoOf(*p);
  }
  return absl::NotFoundError(fmt::format("no pipeline '{}'", name));
}

absl::StatusOr<std::string> Pipelines::Explain(
    const std::string& sql, const std::map<std::string, std::string>& properties) {
  Engine e;
  for (const auto& [k, v] : properties) {
    absl::Status st = e.Set(k, v);
    if (!st.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("property '{}': {}", k, std::string(st.message())));
    }
  }
  std::string plans;
  absl::Status st = e.Validate(sql, &plans);
  if (!st.ok()) return absl::InvalidArgumentError(std::string(st.message()));
  return plans;
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
  PipelineState final_state = PipelineState::kCanceled;
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
    for (const auto& [k, v] : p->properties) {
      absl::Status st = engine->Set(k, v);
      if (!st.ok()) spdlog::error("pipeline '{}': {}", p->name, std::string(st.message()));
    }
    Engine* e = engine.get();
    {
      std::lock_guard<std::mutex> l(p->mu);
      p->engine = std::move(engine);
      p->state = PipelineState::kRunning;
    }
    if (p->cancelled) {
      final_state = PipelineState::kCanceled;
      break;
    }
    OutputOptions out;
    out.on_summary = [p](const std::string& stmt, const JobSummary& s) {
      LogSummary(p->name, stmt, s);
      std::lock_guard<std::mutex> l(p->mu);
      p->jobs_finished++;
      p->last_summary = s;
    };
    out.on_progress = [p](const Progress& pr) {
      int64_t now = SteadyMs();
      Pipeline::Sample sample;
      sample.ms = now;
      for (const auto& v : pr.vertices) {
        sample.outs.push_back(v.rows_out);
        auto& subs = sample.subtasks.emplace_back();
        for (const auto& s : v.subtasks)
          subs.push_back({s.rows_out, s.backpressured_ns, s.sampled_ns});
      }
      std::lock_guard<std::mutex> l(p->mu);
      if (!p->samples.empty() && p->samples.back().outs.size() != sample.outs.size()) {
        p->samples.clear();  // another job of the script
      }
      p->samples.push_back(std::move(sample));
      while (p->samples.size() > 1 && p->samples.front().ms < now - 10'000) {
        p->samples.pop_front();
      }
      p->progress = pr;
    };
    absl::Status st = e->ExecuteScript(p->sql, out);
    if (st.ok()) {
      spdlog::info("pipeline '{}': ended (every statement ran)", p->name);
      final_state = PipelineState::kFinished;
      break;
    }
    if (p->cancelled && absl::IsCancelled(st)) {
      spdlog::info("pipeline '{}': cancelled", p->name);
      final_state = PipelineState::kCanceled;
      break;
    }
    if (p->cancelled) {
      spdlog::info("pipeline '{}': cancelled ({})", p->name, std::string(st.message()));
      final_state = PipelineState::kCanceled;
      break;
    }
    {
      std::lock_guard<std::mutex> l(p->mu);
      p->error = std::string(st.message());
    }
    int64_t delay = RestartDelayMs(*e, attempt + 1);
    if (delay < 0 || p->checkpoint_dir.empty()) {
      spdlog::error("pipeline '{}': failed: {}", p->name, std::string(st.message()));
      final_state = PipelineState::kFailed;
      break;
    }
    spdlog::error(
        "pipeline '{}': failed: {}; restarting from its latest checkpoint in {} ms "
        "(restart {})",
        p->name, std::string(st.message()), delay, attempt + 1);
    {
      std::lock_guard<std::mutex> l(p->mu);
      p->state = PipelineState::kRestarting;
      p->restarts = attempt + 1;
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
    while (!p->cancelled && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  {
    std::lock_guard<std::mutex> l(p->mu);
    p->state = final_state;
    p->end_ms = WallMs();
  }
  // A finished pipeline (every statement ran: its sources were bounded) is not run again when
  // the server restarts; failed and cancelled ones keep their definition (DELETE removes it).
  if (final_state == PipelineState::kFinished && !p->persist_path.empty()) {
    std::error_code ec;
    std::filesystem::remove(p->persist_path, ec);
  }
  p->done = true;
}

void Pipelines::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
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
  std::lock_guard<std::mutex> l(mu_);
  int n = 0;
  for (const auto& p : pipelines_) n += p->done ? 0 : 1;
  return n;
}

}  // namespace eddy::server
