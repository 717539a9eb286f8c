// Operators and the job graph they run in. A job is a DAG of vertices; each vertex runs as
// `parallelism` subtasks, and each subtask runs a chain of operators (source or input gate first).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/stream.h"
#include "state/checkpoint_storage.h"
#include "state/key_group_range.h"
#include "state/snapshot.h"
#include "types/batch.h"

namespace eddy::runtime {

/// Where an operator sends what it produces. Not thread-safe: one per subtask.
class Output {
 public:
  virtual ~Output() = default;
  /// Hands a batch downstream (never blocks: the subtask checks for backpressure between units
  /// of work). Empty batches are allowed and dropped.
  virtual absl::Status Emit(Batch batch) = 0;
  /// Forwards a watermark (µs).
  virtual absl::Status EmitWatermark(int64_t watermark) = 0;
  /// Tells consumers that this producer is idle (no input for 'table.exec.source.idle-timeout'):
  /// they compute their watermark without it until it emits a batch or a watermark again.
  virtual absl::Status EmitIdle() { return absl::OkStatus(); }
};

/// Per-row watermarks of a batch as seen by the receiving operator: row i's watermark is
/// max(base, local[i]) when `local` is set, else `base` (the operator's current watermark).
/// Rows of a file source carry the prefix watermark of the rows before them, which makes
/// lateness independent of batch size and parallelism.
struct RowWatermarks {
  int64_t base = INT64_MIN;
  const int64_t* local = nullptr;
  int64_t At(size_t i) const { return local && local[i] > base ? local[i] : base; }
};

/// Live figures of one subtask, written by the executor from the subtask's thread (relaxed
/// atomics, updated per batch or per slice, never per row) and read by any thread (metrics,
/// REST API). Times are steady-clock nanoseconds.
struct SubtaskMetrics {
  std::atomic<int64_t> rows_in{0};   // rows received from input channels
  std::atomic<int64_t> rows_out{0};  // rows emitted to consumers
  /// The last watermark the subtask emitted (µs since the epoch; INT64_MIN: none yet).
  std::atomic<int64_t> watermark{INT64_MIN};
  /// State held by the subtask's operators (StateBytes/StateKeys), refreshed about once a second.
  std::atomic<int64_t> state_bytes{0};
  std::atomic<int64_t> state_keys{0};
  /// Total time the subtask waited for room in a full output channel (backpressure), ns, and
  /// when the current wait began (0: not waiting now).
  std::atomic<int64_t> backpressured_ns{0};
  std::atomic<int64_t> backpressured_since_ns{0};
  /// Total time spent running slices, ns.
  std::atomic<int64_t> busy_ns{0};

  /// Backpressured time up to `now_ns` (steady clock), the current wait included.
  int64_t BackpressuredUntil(int64_t now_ns) const {
    int64_t since = backpressured_since_ns.load(std::memory_order_relaxed);
    int64_t total = backpressured_ns.load(std::memory_order_relaxed);
    return since > 0 && now_ns > since ? total + (now_ns - since) : total;
  }
};

/// Counters a job exposes in its end-of-run summary, and its vertices' per-subtask figures.
/// Thread-safe (atomics; the subtask list under a mutex).
struct OperatorMetrics {
  std::string name;
  std::atomic<int64_t> rows_in{0};
  std::atomic<int64_t> rows_out{0};
  std::atomic<int64_t> late_rows{0};
  std::atomic<int64_t> expired_keys{0};  // keys dropped by 'table.exec.state.ttl'

  /// The figures of subtask `index` of the vertex (created on first use; the pointer stays valid
  /// as long as this object). Called by the executor when it builds a job.
  SubtaskMetrics* Subtask(int index) {
    std::lock_guard<std::mutex> l(subtasks_mu_);
    if (static_cast<size_t>(index) >= subtasks_.size()) subtasks_.resize(index + 1);
    if (!subtasks_[index]) subtasks_[index] = std::make_unique<SubtaskMetrics>();
    return subtasks_[index].get();
  }
  /// Calls `fn(index, metrics)` for every subtask created so far, in index order.
  template <class Fn>
  void ForEachSubtask(Fn&& fn) const {
    std::lock_guard<std::mutex> l(subtasks_mu_);
    for (size_t i = 0; i < subtasks_.size(); ++i) {
      if (subtasks_[i]) fn(static_cast<int>(i), *subtasks_[i]);
    }
  }

 private:
  mutable std::mutex subtasks_mu_;
  std::vector<std::unique_ptr<SubtaskMetrics>> subtasks_;
};

/// 'table.exec.state.ttl' of an operator with unbounded state (GROUP BY, Top-N, regular joins):
/// the processing-time clock in ms (wall clock, so stored times survive a restore, or `clock_ms`
/// when a test sets one) and the
/// sweep cadence: SweepDue(now) is true at most once per min(TTL, 1 s). A TTL of 0 disables it.
/// Not thread-safe: one per operator instance.
class StateTtl {
 public:
  StateTtl(int64_t ttl_ms, std::function<int64_t()> clock_ms)
      : ttl_ms_(ttl_ms), clock_ms_(std::move(clock_ms)) {}
  bool enabled() const { return ttl_ms_ > 0; }
  int64_t ttl_ms() const { return ttl_ms_; }
  /// Whether state last touched (or stored) at `since_ms` has expired at `now_ms`.
  bool Expired(int64_t since_ms, int64_t now_ms) const { return now_ms - since_ms >= ttl_ms_; }
  /// Now, in ms.
  int64_t Now() const {
    if (clock_ms_) return clock_ms_();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  /// Whether a sweep of all state is due at `now_ms` (then the next is due a cadence later).
  bool SweepDue(int64_t now_ms) {
    if (!enabled() || now_ms - last_sweep_ms_ < std::min<int64_t>(ttl_ms_, 1000)) return false;
    last_sweep_ms_ = now_ms;
    return true;
  }

 private:
  int64_t ttl_ms_;
  std::function<int64_t()> clock_ms_;
  int64_t last_sweep_ms_ = INT64_MIN / 2;
};

/// Context given to operator factories.
struct SubtaskInfo {
  int index = 0;
  int parallelism = 1;
  int max_parallelism = 128;
};

class TimerService;

/// What the runtime hands an operator when it opens (Flink: StreamingRuntimeContext plus the
/// operator's keyed state backend and InternalTimerService). Owned by the subtask; valid from
/// Open() to Close(). Not thread-safe: used from the subtask's thread only.
struct OperatorContext {
  SubtaskInfo subtask;
  /// The key groups this subtask owns: its keyed state and timers hold exactly these.
  state::KeyGroupRange key_groups;
  /// This operator's event-time and processing-time timers (timers are state: the runtime
  /// snapshots and restores them with the operator). Never null.
  TimerService* timers = nullptr;
  /// The late-row side output, when the job has one (else null).
  Output* late = nullptr;
  /// The operator's counters (never null).
  OperatorMetrics* metrics = nullptr;
  /// Processing time in ms since the epoch (wall clock; tests inject one).
  std::function<int64_t()> clock_ms;
  /// Set when the job is cancelled (Ctrl-C, another subtask failed): an operator doing a long
  /// computation without emitting (matching a huge pattern, releasing many buffered rows)
  /// checks it every few thousand steps and returns CancelledError. May be null in tests.
  const std::atomic<bool>* cancelled = nullptr;
};

/// The lifecycle and state hooks every operator has, sources included (Flink:
/// StreamOperator/CheckpointedFunction). The runtime calls, from the subtask's thread:
///   Open(ctx) → [InitializeState(restore) when the job restores] → work… →
///   [SnapshotState(n) at each checkpoint barrier, NotifyCheckpointComplete(n) when n is
///   complete] → Close() (always, also after a failure or a cancel).
/// Stateless operators keep the defaults.
class OperatorBase {
 public:
  virtual ~OperatorBase() = default;
  /// Called once before any input. The default keeps `ctx` in context().
  virtual absl::Status Open(OperatorContext& ctx) {
    ctx_ = &ctx;
    return absl::OkStatus();
  }
  /// Called once at the end, whatever happened; releases resources. Must not emit.
  virtual absl::Status Close() { return absl::OkStatus(); }
  /// What the operator is, to match its state on restore ("WindowAggregate(...)"). Stateful
  /// operators must return a non-empty uid; a restored job fails with a clear error when the
  /// operator in this place of the job has another uid.
  virtual std::string uid() const { return std::string(); }
  /// Writes the operator's state into `out` (operator state and per-key-group sections) at the
  /// checkpoint barrier `checkpoint_id`. Timers are written by the runtime (not here).
  /// Synchronous: the runtime writes the bytes to disk afterwards, while processing goes on.
  virtual absl::Status SnapshotState(int64_t checkpoint_id, state::OperatorSnapshot* out) {
    return absl::OkStatus();
  }
  /// Restores what SnapshotState wrote, possibly by several subtasks of another parallelism:
  /// `in` holds the key groups this subtask owns and every old subtask's operator state.
  /// Called after Open() (timers are already restored). Errors: DataLoss on corrupt state.
  virtual absl::Status InitializeState(const state::OperatorRestore& in) {
    return absl::OkStatus();
  }
  /// Checkpoint `checkpoint_id` is complete (every subtask has written it and its manifest is
  /// durable): e.g. commit Kafka offsets. Called from the subtask's thread.
  virtual absl::Status NotifyCheckpointComplete(int64_t checkpoint_id) { return absl::OkStatus(); }
  /// Sinks with two-phase commit: what to publish once the checkpoint being taken (or, at the
  /// end of input, the job) completes; appended to `out`. Called right before SnapshotState and
  /// after Finish. The job's SinkCommitter commits them.
  virtual absl::Status PrepareCommit(std::vector<std::string>* out) { return absl::OkStatus(); }
  /// The part of a checkpoint's PrepareCommit that may finish after the barrier has gone on
  /// (Flink: a snapshot's asynchronous part): called on the task thread right after
  /// PrepareCommit for a checkpoint (not at the end of the input). The returned function (null:
  /// none) runs on another thread while the subtask goes on processing, and the subtask
  /// acknowledges the checkpoint once it returned OK (an error fails the job). It must not touch
  /// the operator's own state: it gets what it needs by value (e.g. which files to fsync).
  virtual std::function<absl::Status()> TakeAsyncPreCommit() { return nullptr; }
  /// Bytes of state held (approximate), for 'table.exec.state.max-bytes' and metrics.
  virtual size_t StateBytes() const { return 0; }
  /// Keys held in keyed state (group keys, join keys), for metrics; 0 when not counted. Must be
  /// cheap (O(1)): called about once a second from the subtask's thread.
  virtual size_t StateKeys() const { return 0; }

  /// Whether the job was cancelled (see OperatorContext::cancelled). Cheap: one relaxed load.
  bool cancelled() const {
    return ctx_ && ctx_->cancelled && ctx_->cancelled->load(std::memory_order_relaxed);
  }

 protected:
  OperatorContext* context() const { return ctx_; }

 private:
  OperatorContext* ctx_ = nullptr;
};

/// A streaming operator of a chain (Flink: StreamOperator). Called from one thread (its subtask);
/// never concurrently.
class StreamOperator : public OperatorBase {
 public:
  /// The number of inputs: 1 (OneInputOperator) or 2 (TwoInputOperator).
  virtual int num_inputs() const = 0;
  /// The operator's input watermark advanced to `watermark`; fire timers/windows up to it, then
  /// forward a watermark (usually the same) through `out`.
  virtual absl::Status ProcessWatermark(int64_t watermark, Output* out) {
    return out->EmitWatermark(watermark);
  }
  /// A processing-time timer of this operator's TimerService is due (`now_ms` ≥ its time): fire
  /// the due timers (TimerService::PopProcessingTimer).
  virtual absl::Status OnProcessingTime(int64_t now_ms, Output* out) { return absl::OkStatus(); }
  /// End of input (after the maximum watermark was processed). Flush buffered output.
  virtual absl::Status Finish(Output* out) { return absl::OkStatus(); }
};

/// An operator with one input (Flink: OneInputStreamOperator).
class OneInputOperator : public StreamOperator {
 public:
  int num_inputs() const final { return 1; }
  /// Processes a batch. `wm` gives each row's watermark (for lateness).
  virtual absl::Status ProcessBatch(Batch& batch, const RowWatermarks& wm, Output* out) = 0;
};

/// An operator with two inputs (Flink: TwoInputStreamOperator), e.g. a join: input 1 is the
/// vertex's first EdgeSpec (the left side), input 2 its second.
class TwoInputOperator : public StreamOperator {
 public:
  int num_inputs() const final { return 2; }
  virtual absl::Status ProcessBatch1(Batch& batch, const RowWatermarks& wm, Output* out) = 0;
  virtual absl::Status ProcessBatch2(Batch& batch, const RowWatermarks& wm, Output* out) = 0;
};

/// A source subtask: produces elements step by step on the worker pool.
class SourceOperator : public OperatorBase {
 public:
  /// What a step ended with.
  enum class Step {
    kMore,  // call Step() again
    kEnd,   // input exhausted: the subtask closes its outputs
    kHalt,  // stopped without closing its outputs: another subtask is about to fail the job
    kIdle,  // nothing to read right now (an unbounded source): call again after a short pause
  };
  /// Emits one bounded unit of work (a chunk of a file, a batch of records) through `out`:
  /// batches and ChunkEnd/watermark/idle elements. Must neither block nor wait for other subtasks
  /// (they may share its thread): with nothing ready it returns kIdle and is called again about
  /// 1 ms later. Returns an error to fail the job.
  virtual absl::StatusOr<Step> NextStep(class SourceOutput* out) = 0;
  /// Checkpoint `checkpoint_id` was triggered: whether the source is where its barrier goes (the
  /// runtime then snapshots the subtask and sends the barrier before the next step). A source
  /// whose subtasks must agree on a position (file chunks read back in file order) returns false
  /// until it reaches it; NextStep must then not pass that position. Default: at once.
  virtual bool BarrierReady(int64_t checkpoint_id) { return true; }
};

/// Publishes what sinks prepared (PrepareCommit) once it is final (Flink: Sink V2 Committer):
/// after the checkpoint holding it completed, at the end of a job without checkpoints, and
/// again for the restored checkpoint when a job restores. Thread-safe (called by the job's
/// checkpoint coordinator, or its run loop, never by subtasks).
class SinkCommitter {
 public:
  virtual ~SinkCommitter() = default;
  /// Publishes `committables`. Must be idempotent (a committable may be committed twice after
  /// a crash). Errors fail the job.
  virtual absl::Status Commit(const std::vector<std::string>& committables) = 0;
  /// The job failed or was cancelled without checkpoints: discard `committables`.
  virtual void Abort(const std::vector<std::string>& committables) {}
  /// The job restores a checkpoint whose committables are `keep` (already committed again):
  /// delete what earlier attempts prepared and did not publish.
  virtual absl::Status CleanUp(const std::vector<std::string>& keep) { return absl::OkStatus(); }
};

/// Output of a source subtask: batches plus chunk boundaries for ordered consumers.
class SourceOutput : public Output {
 public:
  /// Marks the end of chunk `chunk`; `chunk_watermark` is the watermark after all its rows.
  virtual absl::Status EmitChunkEnd(int64_t chunk, int64_t chunk_watermark) = 0;
  virtual bool cancelled() const = 0;
};

/// How records travel from a producer vertex to a consumer vertex.
enum class Partitioning {
  kForward,  // subtask i → subtask i (same parallelism)
  kHash,     // by key group of `key_columns` (Flink: keyBy)
  kGlobal,   // everything to subtask 0
};

/// An edge into a vertex.
struct EdgeSpec {
  int from = -1;       // producer vertex id
  int output_tag = 0;  // 0 = main output, 1 = late-row side output
  Partitioning partitioning = Partitioning::kForward;
  std::vector<int> key_columns;  // for kHash
  /// Consume the producer's chunks in order (chunk k from producer subtask k mod P). Requires a
  /// chunked source producer; gives deterministic, file-order semantics at any parallelism.
  bool ordered = false;
  /// Index of the per-row local watermark column in arriving batches (ordered edges), or -1.
  int row_watermark_column = -1;
};

/// One vertex of the job graph.
struct VertexSpec {
  std::string name;
  int parallelism = 1;
  /// For source vertices: creates the source of subtask i.
  std::function<absl::StatusOr<std::unique_ptr<SourceOperator>>(const SubtaskInfo&)> make_source;
  /// The operator chain of subtask i (applied in order after the source or input gate). Only
  /// the first operator of a vertex with two input edges may be a TwoInputOperator.
  std::function<absl::StatusOr<std::vector<std::unique_ptr<StreamOperator>>>(const SubtaskInfo&)>
      make_chain;
  /// Publishes what the vertex's sink operators prepare (two-phase commit sinks), or null.
  std::shared_ptr<SinkCommitter> committer;
  std::vector<EdgeSpec> inputs;  // empty for sources
  bool has_late_output = false;
  std::shared_ptr<OperatorMetrics> metrics = std::make_shared<OperatorMetrics>();
};

struct JobGraph {
  std::vector<VertexSpec> vertices;  // topologically ordered: inputs come before consumers
  int max_parallelism = 128;
  size_t channel_capacity = 64;  // elements per channel before backpressure
  /// 'table.exec.state.max-bytes': a subtask whose operators hold more state than this fails
  /// the job with a clear error (checked about once a second); 0 = no limit.
  int64_t max_state_bytes = 0;
  /// 'execution.buffer-timeout' (Flink's name), µs: a source's batches smaller than
  /// `batch_rows` are gathered until they reach it or their first row has waited this long;
  /// 0 = every batch goes downstream as the source emits it.
  int64_t buffer_timeout_us = 0;
  size_t batch_rows = 1024;
};

/// Checkpointing of one job run (DESIGN.md §3 "Checkpoints"; Flink's execution.checkpointing.*).
struct CheckpointConfig {
  /// 'execution.checkpointing.interval' in ms; 0 = no periodic checkpoints (sinks then commit
  /// at the end of the job).
  int64_t interval_ms = 0;
  /// 'execution.checkpointing.dir' and the job's directory name under it.
  std::string dir;
  std::string job_id;
  /// 'execution.checkpointing.num-retained'.
  int num_retained = 1;
  /// 'execution.checkpointing.timeout' in ms: a checkpoint not complete by then is aborted.
  int64_t timeout_ms = 10 * 60 * 1000;
  /// The checkpoint or savepoint to restore (null: a fresh start).
  const state::LoadedCheckpoint* restore = nullptr;
  /// 'execution.savepoint.ignore-unclaimed-state': restored state that no operator of the job
  /// takes is dropped instead of failing the restore.
  bool ignore_unclaimed_state = false;
  /// Stop with a savepoint (Flink: `flink stop --savepointPath`): when `*stop_requested` becomes
  /// true the job writes a savepoint to `savepoint_dir`, commits the sinks' output up to it and
  /// stops (ExecuteJob returns CancelledError; CheckpointStats::savepoint_path says where).
  const std::atomic<bool>* stop_requested = nullptr;
  std::string savepoint_dir;
};

/// What a job run did about checkpoints (for summaries and tests).
struct CheckpointStats {
  int64_t completed = 0;
  int64_t failed = 0;
  int64_t last_completed_id = 0;
  int64_t last_bytes = 0;
  double last_duration_ms = 0;
  std::string last_failure;
  std::string savepoint_path;  // the savepoint written by a stop with savepoint, if any
};

class WorkerPool;

/// Runs a job to completion: every subtask is a task on `pool` (a pool of
/// hardware_concurrency() threads made for this job when null). Blocks the calling thread until
/// the job ends. Returns the first error of any subtask (the others are cancelled). `cancel` may
/// be set from another thread (Ctrl-C) to stop the job; it is noticed within 50 ms.
/// `checkpoints` (optional) turns on checkpoints and/or restores; `stats` (optional) receives
/// what happened to checkpoints.
absl::Status ExecuteJob(JobGraph& graph, CancelFlag* cancel, WorkerPool* pool = nullptr,
                        const CheckpointConfig* checkpoints = nullptr,
                        CheckpointStats* stats = nullptr);

/// Key group of a 64-bit key hash (Flink: KeyGroupRangeAssignment), and its owning subtask.
inline int KeyGroupOf(uint64_t hash, int max_parallelism) {
  return static_cast<int>(hash % static_cast<uint64_t>(max_parallelism));
}
inline int SubtaskOfKeyGroup(int key_group, int parallelism, int max_parallelism) {
  return key_group * parallelism / max_parallelism;
}

/// Hashes of every row of `batch` over `columns` into `out` (num_rows() entries). Stable across
/// runs and machines; NULL and -0.0/0.0 hash alike as SQL grouping requires.
void HashRows(const Batch& batch, const std::vector<int>& columns, uint64_t* out);
/// The same hashes over whole columns of `num_rows` rows each (e.g. evaluated join keys): equal
/// to HashRows of a batch holding these columns.
void HashColumns(const std::vector<Column>& columns, size_t num_rows, uint64_t* out);

}  // namespace eddy::runtime
