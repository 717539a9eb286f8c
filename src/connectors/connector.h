// Connector plugins: table sources and sinks built from a table's WITH options (Flink SQL
// connector names and options: 'filesystem', 'kafka', 'print', 'blackhole'). Each connector is a
// ConnectorFactory (Flink's DynamicTableFactory) that declares what it is and which options it
// takes; the binder asks the factory and knows no connector by name.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/options.h"
#include "catalog/table.h"
#include "function/expr.h"
#include "runtime/lookup_join.h"
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

  /// Kafka sources: a partition's read position (the next offset) and end offset (high
  /// watermark), set by the subtask reading it about once a second.
  struct PartitionLag {
    std::string topic;
    int32_t partition = 0;
    int64_t position = 0;
    int64_t end_offset = 0;
  };
  void SetPartitionLag(const std::string& topic, int32_t partition, int64_t position,
                       int64_t end_offset) {
    std::lock_guard<std::mutex> l(lag_mu);
    auto& x = lag[{topic, partition}];
    x = {topic, partition, position, end_offset};
  }
  std::vector<PartitionLag> PartitionLags() const {
    std::lock_guard<std::mutex> l(lag_mu);
    std::vector<PartitionLag> out;
    for (const auto& [k, v] : lag) out.push_back(v);
    return out;
  }
  mutable std::mutex lag_mu;
  std::map<std::pair<std::string, int32_t>, PartitionLag> lag;  // guarded by lag_mu
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
  /// The job takes checkpoints ('execution.checkpointing.interval' > 0): sources that commit
  /// their position elsewhere (kafka consumer groups) do so only when a checkpoint completes.
  bool checkpointing = false;
};

/// Evaluates the computed columns of `spec.table` over `physical` (rows of the table's physical
/// columns, RowKinds set) and returns every table column in declaration order; physical columns
/// are moved, not copied. `where` prefixes errors ("data.csv", "topic 'x' partition 0").
/// Errors: InvalidArgument naming the computed column.
absl::StatusOr<Batch> CompleteScanBatch(const ScanSpec& spec, Batch physical,
                                        const std::string& where);

/// For sources that emit their own watermarks (kafka, mqtt): drops the rows of `*b` whose
/// event-time column `rowtime` is NULL, each first handed to `bad(r)` (which applies the error
/// policy: an error fails the batch), hands every kept row's time to `seen(r, ts)`, and appends
/// the per-row watermark column (`$wm`) holding `watermark` (the last one the source emitted).
absl::Status KeepTimedRows(Batch* b, int rowtime, int64_t watermark,
                           const std::function<absl::Status(size_t row)>& bad,
                           const std::function<void(size_t row, int64_t ts)>& seen);

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

/// The SourceFactory of an unbounded source whose subtasks connect when they are created (kafka,
/// mqtt): `Subtask(shared, info)`, then `Subtask::Connect()` (errors: the connection's). `Shared`
/// (the scan's settings, shared by the subtasks) has a `metrics` member.
template <class Subtask, class Shared>
class ConnectingSourceFactory final : public SourceFactory {
 public:
  explicit ConnectingSourceFactory(std::shared_ptr<Shared> sh) : sh_(std::move(sh)) {
    metrics = sh_->metrics;
  }
  absl::StatusOr<std::unique_ptr<runtime::SourceOperator>> Create(
      const runtime::SubtaskInfo& info) override {
    auto s = std::make_unique<Subtask>(sh_, info);
    if (absl::Status st = s->Connect(); !st.ok()) return st;
    return std::unique_ptr<runtime::SourceOperator>(std::move(s));
  }
  bool chunked() const override { return false; }

 private:
  std::shared_ptr<Shared> sh_;
};

/// Builds the source of a table through its connector's factory. Errors: InvalidArgument for
/// missing/bad options (naming the option) or a connector that cannot be read, NotFound when a
/// 'path' matches no file.
absl::StatusOr<std::shared_ptr<SourceFactory>> MakeSourceFactory(const ScanSpec& spec);

/// A lookup join's table, read by key (Flink: LookupTableSource): `key_columns` are the physical
/// columns of `table` the join's ON equalities compare, in the order of the join's keys (-1 where
/// a key is an expression, not a column).
struct LookupSpec {
  std::shared_ptr<const TableDef> table;
  std::vector<int> key_columns;
};

/// How a lookup join reads its table by key: a LookupFunction per subtask, and the cache the join
/// keeps of its answers (Flink: LookupFunctionProvider with a partial cache).
struct LookupPlan {
  std::function<absl::StatusOr<std::unique_ptr<runtime::LookupFunction>>(
      const runtime::SubtaskInfo&)>
      make;
  runtime::LookupCacheConfig cache;
  std::string description;  // for EXPLAIN and job summaries
};

/// The lookup source of a lookup join's table through its connector's factory, or nullopt when
/// the connector serves lookups by reading the whole table when the job starts (ReadBoundedTable).
/// Errors: the connector's (bad options, unreachable server, keys that are not columns).
absl::StatusOr<std::optional<LookupPlan>> MakeLookup(const LookupSpec& spec);

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
  /// The sink works only with checkpoints ('sink.delivery-guarantee' = 'exactly-once' of the
  /// kafka sink): a job without 'execution.checkpointing.interval' fails before it starts.
  bool requires_checkpoints = false;
};

/// Builds the sink of `table` for rows of `schema` (the table's physical columns, already cast)
/// through its connector's factory. `updating`: the input has retractions; a sink that accepts
/// inserts only fails with Flink's error text "doesn't support consuming update changes".
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

/// A metadata column a connector reads (Flink SQL: `col TYPE METADATA [FROM 'key'] [VIRTUAL]`,
/// the connector's "Available Metadata").
struct MetadataColumn {
  std::string key;        // 'timestamp'
  std::string type_name;  // the type it reads as, for messages and docs: "TIMESTAMP_LTZ(3)"
  bool (*accepts)(const DataType&);  // whether a column of this type may read it
  bool writable = false;             // a sink writes it (else INSERT INTO needs the column VIRTUAL)
  std::string doc;
};

/// What a connector can do (Flink: DynamicTableSource/Sink abilities and ChangelogMode).
struct ConnectorCapabilities {
  bool source = false;   // can be read (FROM)
  bool bounded = false;  // a source that ends (else it runs until cancelled)
  /// How a source becomes bounded when it is not by default ("'scan.bounded.mode'"), for docs.
  std::string bounded_when;
  /// Can be the table of a lookup join: read whole when the job starts, or by key through
  /// ConnectorFactory::CreateLookup.
  bool lookup = false;
  bool sink = false;  // can be written (INSERT INTO)
  /// The changes the sink accepts: inserts only (+I), or every kind (+I, -U, +U, -D).
  bool sink_accepts_updates = false;
};

/// One connector (Flink's DynamicTableSourceFactory + DynamicTableSinkFactory): its identifier
/// (the 'connector' option), its options, metadata columns and capabilities, and the code that
/// builds its sources and sinks. Stateless and thread-safe. Registered in one list,
/// connectors/registry.cc (a static library would drop self-registering objects nobody refers
/// to).
class ConnectorFactory {
 public:
  virtual ~ConnectorFactory() = default;
  /// The value of 'connector'.
  virtual std::string identifier() const = 0;
  /// One line for SHOW CONNECTORS and the docs.
  virtual std::string doc() const = 0;
  virtual ConnectorCapabilities capabilities() const = 0;
  /// Whether a scan of `table` ends by itself (its options may bound an unbounded source, as
  /// kafka's 'scan.bounded.mode'). An unbounded SELECT prints rows as they come. Default:
  /// capabilities().bounded.
  virtual bool IsBounded(const TableDef& table) const { return capabilities().bounded; }
  /// Whether the sink of `table` accepts updates (-U, +U, -D): jdbc does when the table has a
  /// PRIMARY KEY. Default: capabilities().sink_accepts_updates.
  virtual bool AcceptsUpdates(const TableDef& table) const {
    return capabilities().sink_accepts_updates;
  }
  /// Its WITH options (besides 'connector'): by default every option registered for
  /// identifier() (catalog::TableOption). Required ones are marked.
  virtual std::vector<catalog::OptionSpecPtr> options() const;
  /// Options that choose a format, and the prefix of that format's options.
  virtual std::vector<catalog::FormatSelector> format_selectors() const { return {}; }
  virtual std::vector<MetadataColumn> metadata_columns() const { return {}; }
  /// Checks what the options' types cannot: options that depend on one another or on the
  /// columns. Called by CREATE TABLE after each option was checked. Errors: InvalidArgument
  /// naming the table and the option.
  virtual absl::Status Validate(const TableDef& table) const { return absl::OkStatus(); }
  /// The source of a scan (capabilities().source). Errors as MakeSourceFactory.
  virtual absl::StatusOr<std::shared_ptr<SourceFactory>> CreateSource(const ScanSpec& spec) const;
  /// The lookup source of a lookup join (capabilities().lookup), or nullopt (the default): the
  /// join reads the whole table with CreateSource when the job starts.
  virtual absl::StatusOr<std::optional<LookupPlan>> CreateLookup(const LookupSpec& spec) const {
    return std::optional<LookupPlan>();
  }
  /// The sink of `table` (capabilities().sink); MakeSink has checked the changelog. `job_id`
  /// names the job's output where a sink needs stable names across restarts. Errors: bad
  /// options, unreachable targets.
  virtual absl::StatusOr<SinkPlan> CreateSink(std::shared_ptr<const TableDef> table,
                                              const Schema& schema, int default_parallelism,
                                              const std::string& job_id) const;
};

/// Every connector, in the order SHOW CONNECTORS lists them.
const std::vector<const ConnectorFactory*>& Connectors();
/// The connector named `identifier`, or null.
const ConnectorFactory* FindConnector(std::string_view identifier);
/// The WITH rules of `factory` for catalog::ValidateTableOptions.
catalog::TableOptionRules OptionRules(const ConnectorFactory& factory);

}  // namespace eddy::connectors
