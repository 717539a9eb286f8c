// Flink's 'blackhole' connector: swallows rows (for benchmarks).
#include "connectors/connector.h"

namespace eddy::connectors {

namespace {

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

class BlackholeFactory final : public ConnectorFactory {
 public:
  std::string identifier() const override { return "blackhole"; }
  std::string doc() const override { return "Discards every row (for benchmarks)."; }
  ConnectorCapabilities capabilities() const override {
    ConnectorCapabilities c;
    c.sink = true;
    c.sink_accepts_updates = true;
    return c;
  }
  absl::StatusOr<SinkPlan> CreateSink(std::shared_ptr<const TableDef>, const Schema&, int,
                                      const std::string&) const override {
    SinkPlan plan;
    auto m = plan.metrics;
    plan.make = [m](const runtime::SubtaskInfo&)
        -> absl::StatusOr<std::unique_ptr<runtime::StreamOperator>> {
      return std::unique_ptr<runtime::StreamOperator>(new BlackholeSink(m));
    };
    plan.description = "blackhole";
    return plan;
  }
};

}  // namespace

const ConnectorFactory& BlackholeConnector() {
  static const BlackholeFactory kFactory;
  return kFactory;
}

}  // namespace eddy::connectors
