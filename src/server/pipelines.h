// The pipelines of `eddy server --sql FILE`: each SQL script runs inside the server process on
// its own thread with its own eddy::Engine (the session `eddy run` uses), so its kafka tables on
// this server read and write the local log directly (connectors/kafka/local_topics.h).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
class Pipelines {
 public:
  /// `checkpoint_root`: where the pipelines' checkpoints go (empty: no default checkpoints).
  explicit Pipelines(std::string checkpoint_root = "")
      : checkpoint_root_(std::move(checkpoint_root)) {}
  /// Cancels and joins whatever still runs (CancelAll).
  ~Pipelines();
  Pipelines(const Pipelines&) = delete;
  Pipelines& operator=(const Pipelines&) = delete;

  /// Starts running `sql` (a script: statements separated by ';') as pipeline `name`.
  void Start(const std::string& name, std::string sql);

  /// Cancels every running pipeline (the Engine's cancel path, as Ctrl-C in `eddy run`: the
  /// running job stops at its next scheduling point, within ~50 ms, and the script ends) and
  /// waits until every pipeline thread has ended. Idempotent.
  void CancelAll();

  /// Pipelines whose script has not ended yet.
  int running() const;

 private:
  struct Pipeline {
    std::string name;
    std::string sql;
    std::string checkpoint_dir;
    std::mutex mu;  // guards `engine` (replaced on each restart) against CancelAll
    std::unique_ptr<Engine> engine;
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<bool> cancelled{false};
  };
  static void Run(Pipeline* p);

  std::string checkpoint_root_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
};

}  // namespace eddy::server
