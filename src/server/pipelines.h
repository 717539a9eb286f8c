// The pipelines of `eddy server --sql FILE`: each SQL script runs inside the server process on
// its own thread with its own eddy::Engine (the session `eddy run` uses), so its kafka tables on
// this server read and write the local log directly (connectors/kafka/local_topics.h).
#pragma once

#include <atomic>
#include <memory>
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
class Pipelines {
 public:
  Pipelines() = default;
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
    Engine engine;
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<bool> cancelled{false};
  };
  static void Run(Pipeline* p);

  std::vector<std::unique_ptr<Pipeline>> pipelines_;
};

}  // namespace eddy::server
