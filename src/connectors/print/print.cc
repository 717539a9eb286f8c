// Flink's 'print' connector: one line per row, "+I[v1, v2]" (prefixed with 'print-identifier>'
// when set), on stdout (or stderr with 'standard-error' = 'true').
#include <fmt/format.h>

#include <cstdio>
#include <mutex>

#include "base/status.h"
#include "connectors/connector.h"
#include "types/value.h"

namespace eddy::connectors {

namespace {

const auto kIdentifier = catalog::TableOption({"print"}, "print-identifier")
                             .String()
                             .Doc("Prefix every line with '<identifier>> '.");
const auto kStandardError = catalog::TableOption({"print"}, "standard-error")
                                .Bool(false)
                                .Doc("true: write to stderr instead of stdout.");
const auto kParallelism =
    catalog::TableOption({"print"}, "sink.parallelism")
        .Int(1)
        .Range(1, 1 << 20)
        .Doc("Sink subtasks (each writes whole lines; rows of different subtasks interleave).");

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

class PrintFactory final : public ConnectorFactory {
 public:
  std::string identifier() const override { return "print"; }
  std::string doc() const override { return "Writes each row as a line 'kind[v1, v2, …]'."; }
  ConnectorCapabilities capabilities() const override {
    ConnectorCapabilities c;
    c.sink = true;
    c.sink_accepts_updates = true;
    return c;
  }
  absl::StatusOr<SinkPlan> CreateSink(std::shared_ptr<const TableDef> table, const Schema&, int,
                                      const std::string&) const override {
    std::string id = table->Option(kIdentifier.key());
    EDDY_ASSIGN_OR_RETURN(bool err, kStandardError.Get(table->options));
    SinkPlan plan;
    EDDY_ASSIGN_OR_RETURN(int64_t parallelism, kParallelism.Get(table->options));
    plan.parallelism = static_cast<int>(parallelism);
    auto m = plan.metrics;
    plan.make = [id, err, m](const runtime::SubtaskInfo&)
        -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
      return std::unique_ptr<runtime::StreamOperator>(
          new PrintSink(id.empty() ? "" : id + "> ", err, m));
    };
    plan.description = "print";
    return plan;
  }
};

}  // namespace

const ConnectorFactory& PrintConnector() {
  static const PrintFactory kFactory;
  return kFactory;
}

}  // namespace eddy::connectors
