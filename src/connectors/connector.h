// Connector plugins: table sources and sinks built from a table's WITH options (Flink SQL
// connector names and options: 'filesystem', 'print', 'blackhole').
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/catalog.h"
#include "function/expr.h"
#include "runtime/operator.h"

namespace eddy::connectors {

/// Counters of one table scan, shared by its subtasks. Thread-safe.
struct SourceMetrics {
  std::string table;
  std::atomic<int64_t> rows_read{0};          // rows decoded and emitted
  std::atomic<int64_t> bad_skipped{0};        // bad rows skipped ('error.policy' = 'skip')
  std::atomic<int64_t> bad_dead_lettered{0};  // bad rows written to the dead-letter file
  std::atomic<uint64_t> bytes_read{0};        // input bytes consumed (compressed bytes for .gz)
  std::atomic<uint64_t> bytes_total{0};       // input size in bytes, 0 when unknown
};

/// What a scan must produce: every column of the table (physical then computed in declaration
/// order), plus the per-row watermark column when the table declares a WATERMARK.
struct ScanSpec {
  std::shared_ptr<const TableDef> table;
  std::vector<BoundExprPtr> computed;  // per table column; null for physical columns
  size_t batch_size = 1024;
  std::string error_policy = "fail";  // fail | skip | dead-letter
  std::string dead_letter_path;
  /// 'table.exec.source.idle-timeout' (ms, 0 = never): a source partition without records for
  /// this long stops holding back the watermark (Flink: source idleness).
  int64_t idle_timeout_ms = 0;
};

/// Evaluates the computed columns of `spec.table` over `physical` (rows of the table's physical
/// columns, RowKinds set) and returns every table column in declaration order; physical columns
/// are moved, not copied. `where` prefixes errors ("data.csv", "topic 'x' partition 0").
/// Errors: InvalidArgument naming the computed column.
absl::StatusOr<Batch> CompleteScanBatch(const ScanSpec& spec, Batch physical,
                                        const std::string& where);

/// Reads a bounded table completely on the calling thread (one subtask) and returns its rows:
/// every table column in declaration order, no hidden columns. For lookup joins, which load
/// their table when the job starts. Errors: the source's errors; FailedPrecondition when the
/// source is unbounded (it reports nothing to read before its end).
absl::StatusOr<Batch> ReadBoundedTable(const ScanSpec& spec);

/// Creates the subtasks of one table scan. Thread-safe: Create is called once per subtask
/// before the job starts.
class SourceFactory {
 public:
  virtual ~SourceFactory() = default;
  virtual absl::StatusOr<std::unique_ptr<runtime::SourceOperator>> Create(
      const runtime::SubtaskInfo& info) = 0;
  /// Whether the source emits ordered chunks (file sources): consumers must read it with an
  /// ordered edge.
  virtual bool chunked() const = 0;
  std::shared_ptr<SourceMetrics> metrics = std::make_shared<SourceMetrics>();
};

/// Builds the source of a table. Errors: InvalidArgument for missing/bad options (naming the
/// option), NotFound when a 'path' matches no file.
absl::StatusOr<std::shared_ptr<SourceFactory>> MakeSourceFactory(const ScanSpec& spec);

/// Counters of one sink. Thread-safe.
struct SinkMetrics {
  std::string table;
  std::atomic<int64_t> rows_written{0};
};

/// A sink: the operator of each sink subtask and its parallelism.
struct SinkPlan {
  int parallelism = 1;
  std::function<absl::StatusOr<std::unique_ptr<runtime::StreamOperator>>(
      const runtime::SubtaskInfo&)>
      make;
  std::shared_ptr<SinkMetrics> metrics = std::make_shared<SinkMetrics>();
  std::string description;
  /// Publishes what the sink's subtasks prepare (two-phase commit), or null.
  std::shared_ptr<runtime::SinkCommitter> committer;
};

/// Builds the sink of `table` for rows of `schema` (the table's physical columns, already cast).
/// `updating`: the input has retractions; sinks that cannot take them (filesystem) fail with the
/// Flink error text "doesn't support consuming update changes".
/// `job_id` names the job's output files where a sink needs stable names across restarts.
absl::StatusOr<SinkPlan> MakeSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                  bool updating, int default_parallelism,
                                  const std::string& job_id = "");

/// Refuses a job whose filesystem sink `sink` writes where one of its `sources` reads (the same
/// file, a file in the sink's directory, or the sink's output inside a directory or glob the
/// source reads): the job would destroy its own input. Other connectors pass. Errors:
/// InvalidArgument naming both tables and paths.
absl::Status CheckFileSinkTarget(const TableDef& sink,
                                 const std::vector<std::shared_ptr<const TableDef>>& sources);

}  // namespace eddy::connectors
