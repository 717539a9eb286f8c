// The 'mqtt' connector's factory: reads and writes the topics of an MQTT broker (Eclipse
// Mosquitto, EMQX, HiveMQ, …) through libmosquitto. Flink has no MQTT connector in its main
// distribution; the option names follow Flink's conventions (docs/sql-reference.md "### mqtt").
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/mqtt/mqtt_client.h"

namespace eddy::connectors {

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeMqttSourceFactory(const ScanSpec& spec);
absl::StatusOr<SinkPlan> MakeMqttSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism);

namespace {

class MqttFactory final : public ConnectorFactory {
 public:
  std::string identifier() const override { return "mqtt"; }
  std::string doc() const override {
    return "Subscribes to and publishes MQTT topics (JSON, CSV or raw payloads).";
  }
  bool IsBounded(const TableDef& table) const override {
    return !table.Option("scan.bounded.idle-timeout").empty();
  }
  ConnectorCapabilities capabilities() const override {
    ConnectorCapabilities c;
    c.source = true;
    c.bounded_when = "'scan.bounded.idle-timeout'";
    c.sink = true;
    return c;
  }
  std::vector<catalog::FormatSelector> format_selectors() const override {
    return {{"format", ""}};
  }
  std::vector<MetadataColumn> metadata_columns() const override {
    auto integer = [](const DataType& t) {
      return t.id == TypeId::kInt || t.id == TypeId::kBigint;
    };
    return {
        {"topic", "STRING", [](const DataType& t) { return t.is_string(); }, false,
         "The topic the message was published to."},
        {"qos", "INT", integer, false, "The QoS the message was delivered with (0, 1 or 2)."},
        {"retained", "BOOLEAN", [](const DataType& t) { return t.id == TypeId::kBoolean; }, false,
         "Whether the message is a retained message the broker kept."},
        {"message-id", "INT", integer, false,
         "The MQTT packet id of a QoS 1/2 message (0 for QoS 0); ids are reused."},
        {"timestamp", "TIMESTAMP_LTZ(3)", [](const DataType& t) { return t.is_timestamp(); }, false,
         "When the message arrived at eddy (MQTT messages carry no time of their own)."},
    };
  }
  absl::Status Validate(const TableDef& table) const override {
    EDDY_ASSIGN_OR_RETURN(mqtt::MqttOptions o, mqtt::ParseMqttOptions(table, 0));
    // Topic filters are checked as the source's; '{col}' references read as literal text here.
    return mqtt::CheckSourceTopics(table, o);
  }
  absl::StatusOr<std::shared_ptr<SourceFactory>> CreateSource(const ScanSpec& spec) const override {
    return MakeMqttSourceFactory(spec);
  }
  absl::StatusOr<SinkPlan> CreateSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism, const std::string&) const override {
    return MakeMqttSink(std::move(table), schema, default_parallelism);
  }
};

}  // namespace

const ConnectorFactory& MqttConnector() {
  static const MqttFactory kFactory;
  return kFactory;
}

}  // namespace eddy::connectors
