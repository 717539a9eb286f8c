// Connector dispatch by the 'connector' option, and the 'print' and 'blackhole' sinks.
#include <fmt/format.h>

#include <cstdio>
#include <mutex>

#include "base/status.h"
#include "connectors/connector.h"
#include "types/value.h"

namespace eddy::connectors {

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeFileSourceFactory(const ScanSpec& spec);
absl::StatusOr<SinkPlan> MakeFileSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism, const std::string& job_id);

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeKafkaSourceFactory(const ScanSpec& spec);
absl::StatusOr<SinkPlan> MakeKafkaSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                       int default_parallelism);

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeSourceFactory(const ScanSpec& spec) {
  std::string c = spec.table->Option("connector");
  if (c == "filesystem") return MakeFileSourceFactory(spec);
  if (c == "kafka") return MakeKafkaSourceFactory(spec);
  return absl::InvalidArgumentError(fmt::format(
      "table '{}': connector '{}' can only be written to, not read", spec.table->name, c));
}

namespace {

// Flink's 'print' connector: one line per row, "+I[v1, v2]" (prefixed with 'print-identifier>'
// when set), on stdout (or stderr with 'standard-error' = 'true').
class PrintSink final : public runtime::OneInputOperator {
 public:
  PrintSink(std::string prefix, bool to_stderr, std::shared_ptr<SinkMetrics> m)
      : prefix_(std::move(prefix)), out_(to_stderr ? stderr : stdout), metrics_(std::move(m)) {}
  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    std::string text;
    for (size_t r = 0; r < b.num_rows(); ++r) {
      text += prefix_;
      text += RowKindName(b.kinds[r]);
      text += '[';
      for (size_t c = 0; c < b.columns.size(); ++c) {
        if (c) text += ", ";
        text += FormatCell(b.columns[c], r, "<NULL>", true);
      }
      text += "]\n";
    }
    static std::mutex mu;
    std::lock_guard<std::mutex> l(mu);
    std::fwrite(text.data(), 1, text.size(), out_);
    metrics_->rows_written += static_cast<int64_t>(b.num_rows());
    return absl::OkStatus();
  }
  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }
  absl::Status Finish(runtime::Output*) override {
    std::fflush(out_);
    return absl::OkStatus();
  }

 private:
  std::string prefix_;
  FILE* out_;
  std::shared_ptr<SinkMetrics> metrics_;
};

// Flink's 'blackhole' connector: swallows rows (for benchmarks).
class BlackholeSink final : public runtime::OneInputOperator {
 public:
  explicit BlackholeSink(std::shared_ptr<SinkMetrics> m) : metrics_(std::move(m)) {}
  absl::Status ProcessBatch(Batch& b, const runtime::RowWatermarks&, runtime::Output*) override {
    metrics_->rows_written += static_cast<int64_t>(b.num_rows());
    return absl::OkStatus();
  }
  absl::Status ProcessWatermark(int64_t, runtime::Output*) override { return absl::OkStatus(); }

 private:
  std::shared_ptr<SinkMetrics> metrics_;
};

}  // namespace

absl::StatusOr<SinkPlan> MakeSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                  bool updating, int default_parallelism,
                                  const std::string& job_id) {
  std::string c = table->Option("connector");
  SinkPlan plan;
  if (c == "filesystem") {
    if (updating) {
      return absl::InvalidArgumentError(fmt::format(
          "Table sink '{}' doesn't support consuming update changes which are produced by an "
          "unwindowed GROUP BY or DISTINCT (write it to a 'print' table, or aggregate over a "
          "window TVF to get an insert-only result)",
          table->name));
    }
    EDDY_ASSIGN_OR_RETURN(plan, MakeFileSink(table, schema, default_parallelism, job_id));
  } else if (c == "kafka") {
    if (updating) {
      return absl::InvalidArgumentError(fmt::format(
          "Table sink '{}' doesn't support consuming update changes which are produced by an "
          "unwindowed GROUP BY or DISTINCT (the kafka connector writes inserts only; aggregate "
          "over a window TVF to get an insert-only result)",
          table->name));
    }
    EDDY_ASSIGN_OR_RETURN(plan, MakeKafkaSink(table, schema, default_parallelism));
  } else if (c == "print") {
    std::string id = table->Option("print-identifier");
    bool err = table->Option("standard-error") == "true";
    auto m = plan.metrics;
    plan.make = [id, err, m](const runtime::SubtaskInfo&)
        -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
      return std::unique_ptr<runtime::StreamOperator>(
          new PrintSink(id.empty() ? "" : id + "> ", err, m));
    };
    plan.description = "print";
  } else if (c == "blackhole") {
    auto m = plan.metrics;
    plan.make = [m](const runtime::SubtaskInfo&)
        -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
      return std::unique_ptr<runtime::StreamOperator>(new BlackholeSink(m));
    };
    plan.description = "blackhole";
  } else {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': connector '{}' cannot be written to", table->name, c));
  }
  plan.metrics->table = table->name;
  return plan;
}

}  // namespace eddy::connectors
