// The 'kafka' connector's factory (Flink's KafkaDynamicTableFactory): topics of eddy server,
// Apache Kafka or Redpanda through librdkafka, or eddy server's own log directly.
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/kafka/kafka_table.h"

namespace eddy::connectors {

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeKafkaSourceFactory(const ScanSpec& spec);
absl::StatusOr<SinkPlan> MakeKafkaSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                       int default_parallelism);

namespace {

class KafkaFactory final : public ConnectorFactory {
 public:
  std::string identifier() const override { return "kafka"; }
  std::string doc() const override {
    return "Reads and writes Kafka topics as JSON, CSV or raw records.";
  }
  bool IsBounded(const TableDef& table) const override {
    std::string mode = table.Option("scan.bounded.mode");
    return !mode.empty() && mode != "unbounded";
  }
  ConnectorCapabilities capabilities() const override {
    ConnectorCapabilities c;
    c.source = true;
    c.bounded_when = "'scan.bounded.mode'";
    c.sink = true;
    return c;
  }
  std::vector<catalog::FormatSelector> format_selectors() const override {
    return {{"format", ""}, {"value.format", "value."}, {"key.format", "key."}};
  }
  // Flink's Kafka connector, "Available Metadata"; 'headers' is a JSON object in a STRING here,
  // as eddy has no MAP type.
  std::vector<MetadataColumn> metadata_columns() const override {
    auto string = [](const DataType& t) { return t.is_string(); };
    return {
        {"topic", "STRING", string, false, "Topic of the record."},
        {"partition", "INT", [](const DataType& t) { return t.id == TypeId::kInt; }, false,
         "Partition of the record."},
        {"offset", "BIGINT", [](const DataType& t) { return t.id == TypeId::kBigint; }, false,
         "Offset of the record in its partition."},
        {"timestamp", "TIMESTAMP_LTZ(3)", [](const DataType& t) { return t.is_timestamp(); }, true,
         "Timestamp of the record; written by the sink when the column is not VIRTUAL."},
        {"timestamp-type", "STRING", string, false,
         "'CreateTime' or 'LogAppendTime' (NoTimestampType for records without one)."},
        {"headers", "STRING (a JSON object)", string, true,
         "Headers as a JSON object of strings; written by the sink when not VIRTUAL."},
        {"leader-epoch", "INT", [](const DataType& t) { return t.id == TypeId::kInt; }, false,
         "Leader epoch of the record (always NULL)."},
    };
  }
  absl::Status Validate(const TableDef& table) const override {
    return kafka::ParseKafkaOptions(table, 0).status();
  }
  absl::StatusOr<std::shared_ptr<SourceFactory>> CreateSource(const ScanSpec& spec) const override {
    return MakeKafkaSourceFactory(spec);
  }
  absl::StatusOr<SinkPlan> CreateSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism, const std::string&) const override {
    return MakeKafkaSink(std::move(table), schema, default_parallelism);
  }
};

}  // namespace

const ConnectorFactory& KafkaConnector() {
  static const KafkaFactory kFactory;
  return kFactory;
}

}  // namespace eddy::connectors
