// The pipelines of `eddy server` (--sql FILE, or created through the REST API): each SQL script
// runs inside the server process on its own thread with its own eddy::Engine (the session `eddy
// run` uses), so its kafka tables on this server read and write the local log directly
// (connectors/kafka/local_topics.h).
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "eddy/engine.h"

namespace eddy::server {

/// The registry of running pipelines. Log lines (spdlog, "pipeline 'NAME': …") say when each
/// starts, when each job of its script ends with its summary (rows read per source and rows/s,
/// rows written per sink, late rows), and when the script ends, fails or is cancelled. A failing
/// pipeline only ends itself. SELECT results print to standard output. Thread-safety: Start and
/// CancelAll are called from one thread (the server's main thread).
///
/// Fault tolerance (Flink's defaults for jobs on a cluster): each pipeline takes checkpoints
/// every 10 s ('execution.checkpointing.interval', a SET in the script overrides it) into
/// `<checkpoint_root>/<pipeline name>`, starts from its latest complete checkpoint (after a server
/// restart or a crash), and when it fails is restarted from its latest checkpoint by the
/// 'restart-strategy.type' of its script: 'fixed-delay' (the default: 'restart-strategy.fixed-
/// delay.attempts', default unlimited, 'restart-strategy.fixed-delay.delay', default 1 s),
/// 'exponential-delay' ('restart-strategy.exponential-delay.initial-backoff' 1 s,
/// '.max-backoff' 1 min, '.backoff-multiplier' 2, '.attempts-before-reset-backoff' unlimited)
/// or 'none'.
/// A pipeline's lifecycle (Flink's job states, as the REST API reports them).
enum class PipelineState { kCreated, kRunning, kRestarting, kFailed, kFinished, kCanceled };
/// "CREATED", "RUNNING", "RESTARTING", "FAILED", "FINISHED", "CANCELED".
const char* PipelineStateName(PipelineState s);

/// What the REST API shows of one pipeline (a copy, taken under the registry's lock).
struct PipelineInfo {
  std::string name;
  std::string sql;
  std::map<std::string, std::string> properties;  // SET before the script runs
  PipelineState state = PipelineState::kCreated;
  int64_t start_ms = 0;    // wall clock, ms since the epoch, when it was started
  int64_t end_ms = 0;      // when its script ended (0: still running)
  std::string error;       // the last failure, "" when none
  int restarts = 0;        // restarts after failures
  bool persisted = false;  // created through the API: restarted with the server
  /// The running job's progress as the Engine last reported it (rows read, input bytes,
  /// seconds, its vertices with their counters).
  Progress progress;
  int64_t jobs_finished = 0;  // jobs of its script that ended
  JobSummary last_summary;    // of the last job that ended
  /// Per vertex of `progress`: rows/s out over the last 10 s (0 when the job has not reported
  /// for a second: it ended).
  std::vector<double> vertex_rows_per_second;
  /// Per vertex and subtask of `progress` (same shape as VertexProgress::subtasks): rows/s out
  /// over the last 10 s, and the share of that time the subtask waited on a full output channel
  /// (backpressure, 0 to 1). Empty rows when the job has not reported for a second.
  std::vector<std::vector<double>> subtask_rows_per_second;
  std::vector<std::vector<double>> subtask_backpressure;
};

class Pipelines {
 public:
  /// `checkpoint_root`: where the pipelines' checkpoints go (empty: no default checkpoints).
  /// `persist_dir`: where pipelines created with `persist` are kept (one JSON file each) so that
  /// the next server start runs them again (empty: nothing is kept).
  explicit Pipelines(std::string checkpoint_root = "", std::string persist_dir = "")
      : checkpoint_root_(std::move(checkpoint_root)), persist_dir_(std::move(persist_dir)) {}
  /// Cancels and joins whatever still runs (CancelAll).
  ~Pipelines();
  Pipelines(const Pipelines&) = delete;
  Pipelines& operator=(const Pipelines&) = delete;

  /// Starts running `sql` (a script: statements separated by ';') as pipeline `name`, unchecked
  /// (the scripts of --sql, which fail in their own log lines).
  void Start(const std::string& name, std::string sql);

  /// Creates and starts pipeline `name` (the REST API): checks the properties (SET keys) and the
  /// script first (Engine::Validate: planned, nothing runs); with `persist`, writes it to the
  /// persist dir so that the server runs it again after a restart. Errors: AlreadyExists when a
  /// pipeline of that name is not ended (an ended one is replaced), InvalidArgument for a bad
  /// name, property or SQL (with line:column), Internal when it cannot be persisted. Thread-safe.
  absl::Status Create(const std::string& name, const std::string& sql,
                      const std::map<std::string, std::string>& properties, bool persist);

  /// Starts every pipeline kept in the persist dir (at server start). Returns how many; a file
  /// that does not load is logged and skipped.
  int StartPersisted();

  /// Cancels pipeline `name` (its job stops within ~50 ms), waits for it to end, forgets its
  /// persisted definition and deletes its checkpoints: a later pipeline of the same name starts
  /// afresh. Errors: NotFound. Thread-safe.
  absl::Status Cancel(const std::string& name);

  /// Every pipeline (ended ones included), in creation order. Thread-safe.
  std::vector<PipelineInfo> List() const;
  /// One pipeline, or NotFound. Thread-safe.
  absl::StatusOr<PipelineInfo> Get(const std::string& name) const;

  /// Checks `sql` (Engine::Validate) with `properties`, and returns EXPLAIN's text for each of
  /// its queries and INSERTs. Errors: InvalidArgument with line:column. Thread-safe.
  static absl::StatusOr<std::string> Explain(const std::string& sql,
                                             const std::map<std::string, std::string>& properties);

  /// Cancels every running pipeline (the Engine's cancel path, as Ctrl-C in `eddy run`: the
  /// running job stops at its next scheduling point, within ~50 ms, and the script ends) and
  /// waits until every pipeline thread has ended. Idempotent. Persisted definitions stay.
  void CancelAll();

  /// Pipelines whose script has not ended yet.
  int running() const;

 private:
  struct Pipeline {
    std::string name;
    std::string sql;
    std::map<std::string, std::string> properties;
    std::string checkpoint_dir;
    bool persisted = false;
    std::string persist_path;  // its definition's file when persisted
    mutable std::mutex mu;     // guards `engine` (replaced on each restart) and the fields below
    std::unique_ptr<Engine> engine;
    PipelineState state = PipelineState::kCreated;
    int64_t start_ms = 0, end_ms = 0;
    std::string error;
    int restarts = 0;
    Progress progress;
    // Samples of the vertices' rows out (steady ms, counts) and of each subtask's rows out and
    // backpressured ns, the last 10 s, for rows/s and backpressure ratios.
    struct Sample {
      int64_t ms = 0;
      std::vector<int64_t> outs;                                  // per vertex
      std::vector<std::vector<std::array<int64_t, 3>>> subtasks;  // rows out, bp ns, sampled ns
    };
    std::deque<Sample> samples;
    int64_t jobs_finished = 0;
    JobSummary last_summary;
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<bool> cancelled{false};
    bool deleting = false;  // a DELETE is removing it (guarded by Pipelines::mu_)
  };
  // Writes the definition file of a pipeline created through the API (temp file + rename).
  absl::Status Persist(const std::string& name, const std::string& sql,
                       const std::map<std::string, std::string>& properties) const;
  static void Run(Pipeline* p);
  Pipeline* StartLocked(const std::string& name, std::string sql,
                        std::map<std::string, std::string> properties, bool persisted);
  static PipelineInfo InfoOf(const Pipeline& p);
  std::string PersistPath(const std::string& name) const;

  std::string checkpoint_root_;
  std::string persist_dir_;
  mutable std::mutex mu_;  // guards pipelines_
  // shared: Cancel keeps its pipeline alive while Create may replace entries.
  std::vector<std::shared_ptr<Pipeline>> pipelines_;
};

}  // namespace eddy::server
