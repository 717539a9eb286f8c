// The checkpoint coordinator of one job run (Flink: CheckpointCoordinator; Carbone et al. 2015,
// "Lightweight Asynchronous Snapshots for Distributed Dataflows"). It triggers checkpoint n at
// the sources (they read pending()), collects each subtask's snapshot, writes the subtask files
// on its own I/O thread while the subtasks go on processing, writes the manifest last when every
// subtask has acknowledged, then commits the sinks' committables and tells the job which
// checkpoint completed. One checkpoint is in flight at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "runtime/operator.h"
#include "state/checkpoint_storage.h"

namespace eddy::runtime {

/// See the file comment. Trigger/Poll/Final* are called by the job's run loop; Ack/Finished by
/// subtasks on worker threads. Thread-safe.
class CheckpointCoordinator {
 public:
  /// What the coordinator must know of each vertex.
  struct VertexInfo {
    std::string uid;
    std::string name;
    int parallelism = 1;
    std::shared_ptr<SinkCommitter> committer;
  };

  /// `first_id`: the id of the first checkpoint (restored checkpoint's id + 1). With
  /// `config.interval_ms` == 0 nothing is triggered periodically.
  CheckpointCoordinator(const CheckpointConfig& config, std::vector<VertexInfo> vertices,
                        int max_parallelism, int64_t first_id, CheckpointStats* stats);
  ~CheckpointCoordinator();

  /// The newest triggered checkpoint id (0 before the first). Sources compare it with the last
  /// barrier they sent. Lock-free.
  int64_t pending() const { return pending_.load(std::memory_order_acquire); }

  /// Triggers a checkpoint when the interval has passed and none is in flight; aborts one that
  /// took longer than the timeout. Returns the id triggered, or 0.
  int64_t MaybeTrigger();
  /// Triggers a savepoint into `dir` as soon as no checkpoint is in flight. Returns its id, or 0
  /// when it must be asked again later.
  int64_t TriggerSavepoint(const std::string& dir);
  /// Subtask (vertex, subtask) took its snapshot of checkpoint `id`.
  void Ack(int64_t id, int vertex, int subtask, state::SubtaskSnapshot snap);
  /// Subtask (vertex, subtask) ended its input; `final_snap` is its state from now on (used for
  /// every later checkpoint; its committables are published at the next complete checkpoint,
  /// or at the end of a job without checkpoints).
  void Finished(int vertex, int subtask, state::SubtaskSnapshot final_snap);
  /// Checkpoints that completed since the last call (ascending).
  std::vector<int64_t> TakeCompleted();
  /// A fatal error of the coordinator (a commit failed), or OK.
  absl::Status error() const;

  /// End of a successful job: with checkpoints, writes a final checkpoint from every subtask's
  /// final state and commits; without, commits every committable. Blocks until done.
  absl::Status FinishJob();
  /// End of a failed or cancelled job: without checkpoints, aborts every prepared committable;
  /// with checkpoints, leaves them (a restore from the last checkpoint decides). Waits for the
  /// I/O thread to stop.
  void AbortJob();

  /// Commits the committables of a restored checkpoint again (idempotent) and asks each
  /// committer to clean up what earlier attempts left. Called before the job starts.
  absl::Status RecommitRestored(const state::LoadedCheckpoint& restored);
  /// A fresh start: asks each committer to delete what earlier runs of the job prepared.
  absl::Status CleanUpAtStart();

 private:
  struct Pending {
    int64_t id = 0;
    int64_t started_ms = 0;
    std::vector<std::vector<bool>> acked;
    std::vector<std::vector<state::SubtaskSnapshot>> snaps;
    int remaining = 0;
    std::string savepoint_dir;  // a savepoint's target, empty for a checkpoint
  };
  // Starts checkpoint or savepoint `p` (mu_ held).
  int64_t StartLocked(int64_t now, std::string savepoint_dir);
  void IoLoop();
  // Writes checkpoint p's files and manifest, then commits. Called on the I/O thread.
  absl::Status WriteAndComplete(Pending& p);
  absl::Status CommitAll(const std::vector<std::vector<state::SubtaskSnapshot>>& snaps);
  void RecordAck(Pending& p, int vertex, int subtask, state::SubtaskSnapshot snap);
  static int64_t NowMs();

  CheckpointConfig config_;
  std::vector<VertexInfo> vertices_;
  int max_parallelism_;
  CheckpointStats* stats_;
  std::unique_ptr<state::CheckpointStorage> storage_;

  std::atomic<int64_t> pending_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t next_id_;
  int64_t last_trigger_ms_;
  std::unique_ptr<Pending> in_flight_;                       // being acknowledged
  std::deque<std::unique_ptr<Pending>> to_write_;            // all acked: for the I/O thread
  std::vector<std::vector<bool>> finished_;                  // [vertex][subtask]
  std::vector<std::vector<state::SubtaskSnapshot>> finals_;  // final snapshots
  std::set<std::string> committed_;                          // committables already published
  std::vector<int64_t> completed_;
  absl::Status error_;
  bool stop_ = false;
  bool io_busy_ = false;
  std::thread io_;
};

}  // namespace eddy::runtime
