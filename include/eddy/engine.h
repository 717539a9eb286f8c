// eddy's embedding API: run Flink SQL scripts and read their results. Start here.
//
//   eddy::Engine engine;
//   auto status = engine.ExecuteScript("CREATE TABLE t (...) WITH (...); SELECT ...;");
//
// An Engine holds one session: its catalog (tables, views) and its configuration (SET). It is not
// thread-safe: use it from one thread; the jobs it runs use their own threads.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eddy {

/// The rows of a SELECT, formatted as text (Flink's tableau formatting: TIMESTAMP(3) as
/// "2001-01-01 00:00:00.000", NULL as "<NULL>").
struct QueryResult {
  std::vector<std::string> column_names;
  std::vector<std::string> column_types;  // Flink SQL type names
  std::vector<bool> numeric;              // right-aligned columns
  /// "+I", "-U", "+U", "-D" per row; all "+I" when the result is insert-only.
  std::vector<std::string> kinds;
  std::vector<std::vector<std::string>> rows;
  bool updating = false;  // the result is a changelog with retractions
};

/// What a job did, for the end-of-run summary.
struct JobSummary {
  struct Source {
    std::string table;
    int64_t rows = 0, bad_skipped = 0, bad_dead_lettered = 0;
  };
  struct Sink {
    std::string table;
    int64_t rows = 0;
  };
  struct Late {
    std::string op;
    int64_t rows = 0;
  };
  std::vector<Source> sources;
  std::vector<Sink> sinks;
  std::vector<Late> late;
  double seconds = 0;
  bool ok = true;  // false when the job failed or was cancelled
  bool stopped =
      false;  // an unbounded query ended by Ctrl-C or its LIMIT, or a stop with savepoint
  std::string savepoint;  // the savepoint the job stopped with, or ""
  int64_t checkpoints_completed = 0;
  int64_t checkpoints_failed = 0;
  std::string restored_from;  // the checkpoint or savepoint the job restored, or ""
};

/// One parallel subtask of a vertex: its counters so far and live figures.
struct SubtaskProgress {
  int64_t rows_in = 0;   // rows received (0 for sources)
  int64_t rows_out = 0;  // rows emitted to its consumers
  /// The last watermark it emitted, µs since the epoch; INT64_MIN: none yet, INT64_MAX: its
  /// input ended.
  int64_t watermark = INT64_MIN;
  int64_t state_bytes = 0;  // approximate bytes of its operators' state (about 1 s old)
  int64_t state_keys = 0;   // keys in its operators' keyed state (0 when not counted)
  int64_t busy_ns = 0;      // time spent working, steady-clock ns since the job started
  /// Time spent waiting for room in a full output channel (backpressure), ns since the job
  /// started, up to `sampled_ns`.
  int64_t backpressured_ns = 0;
  int64_t sampled_ns = 0;  // steady-clock ns when these figures were read
};

/// The read position of a kafka source in one partition (what it will read next) and the
/// partition's end offset (high watermark) as last seen; lag = end_offset - position.
struct PartitionLag {
  std::string table;  // the source table
  std::string topic;
  int32_t partition = 0;
  int64_t position = 0;
  int64_t end_offset = 0;
};

/// One vertex of the running job's graph (operators chained together) and its counters so far,
/// summed over its subtasks.
struct VertexProgress {
  std::string name;  // "IntervalJoin(...) -> Calc", "Source: flights"
  int parallelism = 1;
  std::vector<int> inputs;  // the vertices feeding it (indexes into Progress::vertices)
  int64_t rows_in = 0;      // rows received (0 for sources)
  int64_t rows_out = 0;     // rows emitted to its consumers
  int64_t late_rows = 0;    // rows dropped or set aside as late by its operators
  std::vector<SubtaskProgress> subtasks;  // by subtask index
  /// Kafka sources: the lag of each partition read by this vertex's source.
  std::vector<PartitionLag> source_lag;
};

/// Progress of the running job: rows read so far, input bytes read and total (0 when unknown).
struct Progress {
  int64_t rows = 0;
  uint64_t bytes = 0, total_bytes = 0;
  double seconds = 0;
  bool streaming = false;  // the job prints result rows as they come (an unbounded SELECT)
  std::vector<VertexProgress> vertices;  // the job graph's vertices, in topological order
};

/// How ExecuteScript prints query results.
struct OutputOptions {
  enum class Format { kTable, kCsv, kJson };
  Format format = Format::kTable;
  FILE* out = stdout;
  /// Called about every 250 ms while a job runs (from another thread), when set.
  std::function<void(const Progress&)> on_progress;
  /// kJson and kCsv: every row carries its changelog kind ("op": "+I", ...), also when the
  /// result is insert-only (push queries of the REST API).
  bool always_kind = false;
  /// Called after each job with its summary, when set.
  std::function<void(const std::string& statement, const JobSummary&)> on_summary;
};

class EngineImpl;

/// A SQL session. See the file comment.
class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Runs every statement of `script` (separated by ';') in order: DDL updates the catalog,
  /// SET/RESET the configuration, SELECT prints its rows through `output`, INSERT INTO runs a job
  /// writing to its table, EXPLAIN/SHOW/DESCRIBE print. Stops at the first error, which names
  /// line:column for SQL errors and file:line for bad data.
  absl::Status ExecuteScript(std::string_view script, const OutputOptions& output = {});

  /// Checks `script` without running a job: DDL, SET and RESET take effect in this session, and
  /// each SELECT and INSERT is planned as EXPLAIN plans it (sources opened to check their options,
  /// nothing read or written); with `plans`, EXPLAIN's text of each of them is appended there.
  /// Errors: as ExecuteScript's for the first statement that fails (SQL errors name line:column).
  absl::Status Validate(std::string_view script, std::string* plans = nullptr);

  /// Runs one SELECT and returns its rows (ORDER BY applies; without it, row order follows the
  /// job and may vary with parallelism).
  absl::StatusOr<QueryResult> Query(std::string_view select);

  /// The session's value of `key` as text (its default until SET; "" for an unknown key).
  std::string Get(const std::string& key) const;
  /// Equivalent of SET 'key' = 'value'. Errors: InvalidArgument for an unknown key (with a "did
  /// you mean" hint in the message) or a value the key does not accept; nothing changes then.
  absl::Status Set(const std::string& key, const std::string& value);

  /// Summary of the last job run.
  const JobSummary& last_summary() const;

  /// Requests cancellation of the running job (thread-safe; e.g. from a signal handler thread).
  void Cancel();

  /// Makes Stop() stop jobs with a savepoint written to `dir` (Flink: `flink stop
  /// --savepointPath`); empty: Stop() cancels. Call before ExecuteScript.
  void SetSavepointOnStop(const std::string& dir);
  /// Stops the running job: with a savepoint when SetSavepointOnStop() named a directory (the
  /// job writes it, commits its sinks' output up to it and stops; the script ends there), else
  /// like Cancel(). Thread-safe and async-signal-safe (sets flags only).
  void Stop();

 private:
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace eddy
