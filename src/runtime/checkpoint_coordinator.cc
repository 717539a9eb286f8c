#include "runtime/checkpoint_coordinator.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "base/file_io.h"
#include "base/log.h"
#include "base/status.h"

namespace eddy::runtime {

int64_t CheckpointCoordinator::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CheckpointCoordinator::CheckpointCoordinator(const CheckpointConfig& config,
                                             std::vector<VertexInfo> vertices, int max_parallelism,
                                             int64_t first_id, CheckpointStats* stats)
    : config_(config),
      vertices_(std::move(vertices)),
      max_parallelism_(max_parallelism),
      stats_(stats),
      next_id_(std::max<int64_t>(1, first_id)),
      last_trigger_ms_(NowMs()) {
  if (!config_.dir.empty()) {
    storage_ = std::make_unique<state::CheckpointStorage>(config_.dir, config_.job_id,
                                                          config_.num_retained);
  }
  finished_.resize(vertices_.size());
  finals_.resize(vertices_.size());
  for (size_t v = 0; v < vertices_.size(); ++v) {
    finished_[v].assign(vertices_[v].parallelism, false);
    finals_[v].resize(vertices_[v].parallelism);
  }
  if (storage_ && config_.interval_ms > 0) io_ = std::thread([this] { IoLoop(); });
}

CheckpointCoordinator::~CheckpointCoordinator() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (io_.joinable()) io_.join();
}

absl::Status CheckpointCoordinator::error() const {
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

void CheckpointCoordinator::RecordAck(Pending& p, int vertex, int subtask,
                                      state::SubtaskSnapshot snap) {
  if (p.acked[vertex][subtask]) return;
  p.acked[vertex][subtask] = true;
  p.snaps[vertex][subtask] = std::move(snap);
  if (--p.remaining == 0) {
    to_write_.push_back(std::move(in_flight_));
    cv_.notify_all();
  }
}

int64_t CheckpointCoordinator::MaybeTrigger() {
  if (!storage_ || config_.interval_ms <= 0) return 0;
  std::lock_guard<std::mutex> l(mu_);
  int64_t now = NowMs();
  if (in_flight_ && now - in_flight_->started_ms > config_.timeout_ms) {
    int64_t id = in_flight_->id;
    in_flight_.reset();
    storage_->AbortCheckpoint(id);
    if (stats_) {
      stats_->failed++;
      stats_->last_failure =
          fmt::format("checkpoint {} timed out after {} ms", id, config_.timeout_ms);
    }
    spdlog::warn("checkpoint {} of job {} expired before completing (timeout {} ms)", id,
                 config_.job_id, config_.timeout_ms);
  }
  if (in_flight_ || io_busy_ || !to_write_.empty()) return 0;
  if (now - last_trigger_ms_ < config_.interval_ms) return 0;
  last_trigger_ms_ = now;
  return StartLocked(now, "");
}

int64_t CheckpointCoordinator::TriggerSavepoint(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  if (in_flight_ || io_busy_ || !to_write_.empty()) return 0;
  if (!io_.joinable()) io_ = std::thread([this] { IoLoop(); });
  return StartLocked(NowMs(), dir);
}

int64_t CheckpointCoordinator::StartLocked(int64_t now, std::string savepoint_dir) {
  auto p = std::make_unique<Pending>();
  p->savepoint_dir = std::move(savepoint_dir);
  p->id = next_id_++;
  p->started_ms = now;
  p->acked.resize(vertices_.size());
  p->snaps.resize(vertices_.size());
  for (size_t v = 0; v < vertices_.size(); ++v) {
    p->acked[v].assign(vertices_[v].parallelism, false);
    p->snaps[v].resize(vertices_[v].parallelism);
    p->remaining += vertices_[v].parallelism;
  }
  int64_t id = p->id;
  in_flight_ = std::move(p);
  // Subtasks that have finished take part with their final state.
  for (size_t v = 0; v < vertices_.size() && in_flight_; ++v) {
    for (int s = 0; s < vertices_[v].parallelism && in_flight_; ++s) {
      if (finished_[v][s]) RecordAck(*in_flight_, static_cast<int>(v), s, finals_[v][s]);
    }
  }
  pending_.store(id, std::memory_order_release);
  spdlog::debug("checkpoint {} of job {} triggered", id, config_.job_id);
  return id;
}

void CheckpointCoordinator::Ack(int64_t id, int vertex, int subtask, state::SubtaskSnapshot snap) {
  std::lock_guard<std::mutex> l(mu_);
  if (!in_flight_ || in_flight_->id != id) return;  // aborted (timed out) meanwhile
  RecordAck(*in_flight_, vertex, subtask, std::move(snap));
}

void CheckpointCoordinator::Finished(int vertex, int subtask, state::SubtaskSnapshot final_snap) {
  std::lock_guard<std::mutex> l(mu_);
  finished_[vertex][subtask] = true;
  finals_[vertex][subtask] = std::move(final_snap);
  if (in_flight_ && !in_flight_->acked[vertex][subtask]) {
    RecordAck(*in_flight_, vertex, subtask, finals_[vertex][subtask]);
  }
}

std::vector<int64_t> CheckpointCoordinator::TakeCompleted() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<int64_t> out;
  out.swap(completed_);
  return out;
}

void CheckpointCoordinator::IoLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return stop_ || !to_write_.empty(); });
    if (to_write_.empty()) return;  // stop_ and nothing left
    std::unique_ptr<Pending> p = std::move(to_write_.front());
    to_write_.pop_front();
    io_busy_ = true;
    l.unlock();
    absl::Status st = WriteAndComplete(*p);
    l.lock();
    io_busy_ = false;
    if (!st.ok() && error_.ok()) error_ = st;
    cv_.notify_all();
  }
}

absl::Status CheckpointCoordinator::WriteAndComplete(Pending& p) {
  auto t0 = std::chrono::steady_clock::now();
  if (!p.savepoint_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(p.savepoint_dir, ec);
    if (std::filesystem::exists(p.savepoint_dir + "/_metadata", ec)) {
      return absl::AlreadyExistsError(
          fmt::format("{} already holds a savepoint: choose a new directory", p.savepoint_dir));
    }
  }
  state::CheckpointManifest m;
  m.checkpoint_id = p.id;
  m.job_id = config_.job_id;
  m.max_parallelism = max_parallelism_;
  int64_t bytes = 0;
  absl::Status io;
  for (size_t v = 0; v < vertices_.size() && io.ok(); ++v) {
    state::CheckpointManifest::Vertex mv;
    mv.uid = vertices_[v].uid;
    mv.name = vertices_[v].name;
    mv.parallelism = vertices_[v].parallelism;
    for (int s = 0; s < mv.parallelism; ++s) {
      std::string data = p.snaps[v][s].Encode();
      absl::StatusOr<std::string> name;
      if (p.savepoint_dir.empty()) {
        name = storage_->WriteSubtaskFile(p.id, static_cast<int>(v), s, data);
      } else {
        name = fmt::format("v{}-{}.state", v, s);
        absl::Status w = WriteFileDurably(p.savepoint_dir + "/" + *name, data);
        if (!w.ok()) name = w;
      }
      if (!name.ok()) {
        io = name.status();
        break;
      }
      bytes += static_cast<int64_t>(data.size());
      mv.files.push_back(*name);
      mv.bytes.push_back(data.size());
    }
    m.vertices.push_back(std::move(mv));
  }
  if (io.ok()) {
    m.timestamp_ms = NowMs();
    if (p.savepoint_dir.empty()) {
      io = storage_->CompleteCheckpoint(m);
    } else {
      m.savepoint = true;
      io = WriteFileDurably(p.savepoint_dir + "/_metadata", m.ToJson());
    }
  }
  if (!io.ok()) {
    if (p.savepoint_dir.empty()) storage_->AbortCheckpoint(p.id);
    std::lock_guard<std::mutex> l(mu_);
    if (stats_) {
      stats_->failed++;
      stats_->last_failure = std::string(io.message());
    }
    spdlog::warn(
        "checkpoint {} of job {} failed: {}; the job goes on and the next checkpoint "
        "tries again",
        p.id, config_.job_id, std::string(io.message()));
    return absl::OkStatus();  // a failed checkpoint does not fail the job
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  double total_ms = static_cast<double>(NowMs() - p.started_ms);
  spdlog::info(
      "{} {} of job {} complete{}: {} bytes, written in {:.0f} ms ({:.0f} ms after "
      "the trigger)",
      p.savepoint_dir.empty() ? "checkpoint" : "savepoint", p.id, config_.job_id,
      p.savepoint_dir.empty() ? "" : " in " + p.savepoint_dir, bytes, ms, total_ms);
  EDDY_RETURN_IF_ERROR(CommitAll(p.snaps));
  std::lock_guard<std::mutex> l(mu_);
  if (stats_) {
    stats_->completed++;
    stats_->last_completed_id = p.id;
    stats_->last_bytes = bytes;
    stats_->last_duration_ms = total_ms;
    if (!p.savepoint_dir.empty()) stats_->savepoint_path = p.savepoint_dir;
  }
  completed_.push_back(p.id);
  return absl::OkStatus();
}

absl::Status CheckpointCoordinator::CommitAll(
    const std::vector<std::vector<state::SubtaskSnapshot>>& snaps) {
  for (size_t v = 0; v < vertices_.size() && v < snaps.size(); ++v) {
    if (!vertices_[v].committer) continue;
    std::vector<std::string> todo;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (const auto& s : snaps[v]) {
        for (const auto& c : s.committables) {
          if (!committed_.count(c)) todo.push_back(c);
        }
      }
    }
    if (todo.empty()) continue;
    absl::Status st = vertices_[v].committer->Commit(todo);
    if (!st.ok()) {
      return absl::Status(st.code(), fmt::format("committing the output of {} failed: {}",
                                                 vertices_[v].name, std::string(st.message())));
    }
    std::lock_guard<std::mutex> l(mu_);
    committed_.insert(todo.begin(), todo.end());
  }
  return absl::OkStatus();
}

absl::Status CheckpointCoordinator::FinishJob() {
  bool checkpointing = storage_ && config_.interval_ms > 0;
  {
    // Let the I/O thread finish what is queued (an in-flight checkpoint completes with the final
    // snapshots), then stop it.
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !io_.joinable() || (!io_busy_ && to_write_.empty()); });
    in_flight_.reset();
    stop_ = true;
  }
  cv_.notify_all();
  if (io_.joinable()) io_.join();
  EDDY_RETURN_IF_ERROR(error());
  if (!checkpointing) return CommitAll(finals_);
  // The final checkpoint: every subtask's state at the end of its input.
  Pending p;
  {
    std::lock_guard<std::mutex> l(mu_);
    p.id = next_id_++;
    p.started_ms = NowMs();
    p.snaps = finals_;
  }
  EDDY_RETURN_IF_ERROR(WriteAndComplete(p));
  EDDY_RETURN_IF_ERROR(error());
  // A final checkpoint that could not be written (disk full) leaves the output uncommitted:
  // the job did not end cleanly.
  if (stats_ && stats_->last_completed_id != p.id) {
    return absl::UnavailableError(fmt::format(
        "the final checkpoint of the job could not be written ({}); its last output is not "
        "committed: restore from the latest checkpoint to finish it",
        stats_->last_failure));
  }
  return absl::OkStatus();
}

void CheckpointCoordinator::AbortJob() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    to_write_.clear();
    in_flight_.reset();
  }
  cv_.notify_all();
  if (io_.joinable()) io_.join();
  if (storage_ && config_.interval_ms > 0) return;  // a restore decides
  for (size_t v = 0; v < vertices_.size(); ++v) {
    if (!vertices_[v].committer) continue;
    std::vector<std::string> drop;
    for (const auto& s : finals_[v]) {
      for (const auto& c : s.committables) {
        if (!committed_.count(c)) drop.push_back(c);
      }
    }
    vertices_[v].committer->Abort(drop);
  }
}

absl::Status CheckpointCoordinator::CleanUpAtStart() {
  for (const auto& v : vertices_) {
    if (v.committer) EDDY_RETURN_IF_ERROR(v.committer->CleanUp({}));
  }
  return absl::OkStatus();
}

absl::Status CheckpointCoordinator::RecommitRestored(const state::LoadedCheckpoint& restored) {
  for (size_t v = 0; v < vertices_.size() && v < restored.vertices.size(); ++v) {
    if (!vertices_[v].committer) continue;
    std::vector<std::string> keep;
    for (const auto& s : restored.vertices[v]) {
      keep.insert(keep.end(), s.committables.begin(), s.committables.end());
    }
    if (!keep.empty()) EDDY_RETURN_IF_ERROR(vertices_[v].committer->Commit(keep));
    EDDY_RETURN_IF_ERROR(vertices_[v].committer->CleanUp(keep));
    std::lock_guard<std::mutex> l(mu_);
    committed_.insert(keep.begin(), keep.end());
  }
  return absl::OkStatus();
}

}  // namespace eddy::runtime
