// Operators and the job graph they run in. A job is a DAG of vertices; each vertex runs as
// `parallelism` subtasks, and each subtask runs a chain of operators (source or input gate first).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/stream.h"
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

/// Counters a job exposes in its end-of-run summary. Thread-safe (atomics).
struct OperatorMetrics {
  std::string name;
  std::atomic<int64_t> rows_in{0};
  std::atomic<int64_t> rows_out{0};
  std::atomic<int64_t> late_rows{0};
  std::atomic<int64_t> expired_keys{0};  // keys dropped by 'table.exec.state.ttl'
};

/// 'table.exec.state.ttl' of an operator with unbounded state (GROUP BY, Top-N, regular joins):
/// the processing-time clock in ms (steady clock, or `clock_ms` when a test sets one) and the
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
               std::chrono::steady_clock::now().time_since_epoch())
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

/// A streaming operator. Called from one thread (its subtask); never concurrently.
class Operator {
 public:
  virtual ~Operator() = default;
  /// Processes a batch. `wm` gives each row's watermark (for lateness).
  virtual absl::Status ProcessBatch(Batch& batch, const RowWatermarks& wm, Output* out) = 0;
  /// Processes a batch of input `input` (0 = first EdgeSpec of the vertex, 1 = second) for
  /// operators with two inputs (joins). The default ignores `input`.
  virtual absl::Status ProcessBatchFrom(int input, Batch& batch, const RowWatermarks& wm,
                                        Output* out) {
    return ProcessBatch(batch, wm, out);
  }
  /// The operator's input watermark advanced to `watermark`; fire timers/windows up to it, then
  /// forward a watermark (usually the same) through `out`.
  virtual absl::Status ProcessWatermark(int64_t watermark, Output* out) {
    return out->EmitWatermark(watermark);
  }
  /// End of input (after the maximum watermark was processed). Flush buffered output.
  virtual absl::Status Finish(Output* out) { return absl::OkStatus(); }
};

/// A source subtask: produces elements step by step on the worker pool.
class SourceOperator {
 public:
  /// What a step ended with.
  enum class Step {
    kMore,  // call Step() again
    kEnd,   // input exhausted: the subtask closes its outputs
    kHalt,  // stopped without closing its outputs: another subtask is about to fail the job
    kIdle,  // nothing to read right now (an unbounded source): call again after a short pause
  };
  virtual ~SourceOperator() = default;
  /// Emits one bounded unit of work (a chunk of a file, a batch of records) through `out`:
  /// batches and ChunkEnd/watermark/idle elements. Must neither block nor wait for other subtasks
  /// (they may share its thread): with nothing ready it returns kIdle and is called again about
  /// 1 ms later. Returns an error to fail the job.
  virtual absl::StatusOr<Step> NextStep(class SourceOutput* out) = 0;
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

/// Context given to operator factories.
struct SubtaskInfo {
  int index = 0;
  int parallelism = 1;
  int max_parallelism = 128;
};

/// Outputs an operator may write besides its main output (late rows).
struct SideOutputs {
  Output* late = nullptr;
};

/// One vertex of the job graph.
struct VertexSpec {
  std::string name;
  int parallelism = 1;
  /// For source vertices: creates the source of subtask i.
  std::function<absl::StatusOr<std::unique_ptr<SourceOperator>>(const SubtaskInfo&)> make_source;
  /// The operator chain of subtask i (applied in order after the source or input gate).
  std::function<absl::StatusOr<std::vector<std::unique_ptr<Operator>>>(const SubtaskInfo&,
                                                                       const SideOutputs&)>
      make_chain;
  std::vector<EdgeSpec> inputs;  // empty for sources
  bool has_late_output = false;
  std::shared_ptr<OperatorMetrics> metrics = std::make_shared<OperatorMetrics>();
};

struct JobGraph {
  std::vector<VertexSpec> vertices;  // topologically ordered: inputs come before consumers
  int max_parallelism = 128;
  size_t channel_capacity = 64;  // elements per channel before backpressure
};

class WorkerPool;

/// Runs a job to completion: every subtask is a task on `pool` (a pool of
/// hardware_concurrency() threads made for this job when null). Blocks the calling thread until
/// the job ends. Returns the first error of any subtask (the others are cancelled). `cancel` may
/// be set from another thread (Ctrl-C) to stop the job; it is noticed within 50 ms.
absl::Status ExecuteJob(JobGraph& graph, CancelFlag* cancel, WorkerPool* pool = nullptr);

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
