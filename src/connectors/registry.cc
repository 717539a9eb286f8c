// The list of connectors, and the dispatch from a table's 'connector' option to its factory.
#include <fmt/format.h>

#include "base/status.h"
#include "connectors/connector.h"

namespace eddy::connectors {

// Each connector's factory, defined in its folder.
const ConnectorFactory& FilesystemConnector();
const ConnectorFactory& KafkaConnector();
const ConnectorFactory& PrintConnector();
const ConnectorFactory& HttpConnector();
const ConnectorFactory& MqttConnector();
const ConnectorFactory& BlackholeConnector();
const ConnectorFactory& JdbcConnector();
const ConnectorFactory& DatagenConnector();

const std::vector<const ConnectorFactory*>& Connectors() {
  // One line per connector (the order of SHOW CONNECTORS).
  static const std::vector<const ConnectorFactory*> kAll = {
      &BlackholeConnector(), &DatagenConnector(), &FilesystemConnector(), &HttpConnector(),
      &JdbcConnector(),      &KafkaConnector(),   &MqttConnector(),       &PrintConnector(),
  };
  return kAll;
}

const ConnectorFactory* FindConnector(std::string_view identifier) {
  for (const ConnectorFactory* f : Connectors()) {
    if (f->identifier() == identifier) return f;
  }
  return nullptr;
}

std::vector<catalog::OptionSpecPtr> ConnectorFactory::options() const {
  return catalog::ConnectorOptions(identifier());
}

catalog::TableOptionRules OptionRules(const ConnectorFactory& factory) {
  catalog::TableOptionRules r;
  r.connector = factory.identifier();
  r.options = factory.options();
  r.format_selectors = factory.format_selectors();
  return r;
}

absl::StatusOr<std::shared_ptr<SourceFactory>> ConnectorFactory::CreateSource(
    const ScanSpec& spec) const {
  return absl::InvalidArgumentError(
      fmt::format("table '{}': connector '{}' can only be written to, not read", spec.table->name,
                  identifier()));
}

absl::StatusOr<SinkPlan> ConnectorFactory::CreateSink(std::shared_ptr<const TableDef> table,
                                                      const Schema&, int,
                                                      const std::string&) const {
  return absl::InvalidArgumentError(
      fmt::format("table '{}': connector '{}' cannot be written to", table->name, identifier()));
}

namespace {

absl::StatusOr<const ConnectorFactory*> FactoryOf(const TableDef& table) {
  std::string c = table.Option("connector");
  const ConnectorFactory* f = FindConnector(c);
  if (!f) {
    return absl::InvalidArgumentError(
        fmt::format("table '{}': unknown connector '{}'", table.name, c));
  }
  return f;
}

}  // namespace

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeSourceFactory(const ScanSpec& spec) {
  EDDY_ASSIGN_OR_RETURN(const ConnectorFactory* f, FactoryOf(*spec.table));
  if (!f->capabilities().source) return f->ConnectorFactory::CreateSource(spec);
  return f->CreateSource(spec);
}

absl::StatusOr<std::optional<LookupPlan>> MakeLookup(const LookupSpec& spec) {
  EDDY_ASSIGN_OR_RETURN(const ConnectorFactory* f, FactoryOf(*spec.table));
  if (!f->capabilities().lookup) return std::optional<LookupPlan>();
  return f->CreateLookup(spec);
}

absl::StatusOr<SinkPlan> MakeSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                  bool updating, int default_parallelism,
                                  const std::string& job_id) {
  EDDY_ASSIGN_OR_RETURN(const ConnectorFactory* f, FactoryOf(*table));
  ConnectorCapabilities caps = f->capabilities();
  if (!caps.sink) {
    return f->ConnectorFactory::CreateSink(table, schema, default_parallelism, job_id);
  }
  if (updating && caps.sink_accepts_updates && !f->AcceptsUpdates(*table)) {
    return absl::InvalidArgumentError(fmt::format(
        "Table sink '{}' doesn't support consuming update changes which are produced by an "
        "unwindowed GROUP BY or DISTINCT: declare a PRIMARY KEY (…) NOT ENFORCED on the table "
        "so that the {} connector upserts by key",
        table->name, f->identifier()));
  }
  if (updating && !caps.sink_accepts_updates) {
    std::vector<std::string> updating_sinks;
    for (const ConnectorFactory* c : Connectors()) {
      if (c->capabilities().sink_accepts_updates) updating_sinks.push_back(c->identifier());
    }
    return absl::InvalidArgumentError(fmt::format(
        "Table sink '{}' doesn't support consuming update changes which are produced by an "
        "unwindowed GROUP BY or DISTINCT (the {} connector writes inserts only: write to a "
        "connector that accepts updates ({}), or aggregate over a window TVF to get an "
        "insert-only result)",
        table->name, f->identifier(), fmt::join(updating_sinks, ", ")));
  }
  // A metadata column the sink does not write must be VIRTUAL (Flink: read-only metadata).
  const std::vector<MetadataColumn> metadata = f->metadata_columns();
  for (size_t c = 0; c < table->physical.fields.size() && c < table->metadata.size(); ++c) {
    bool virt = c < table->virtual_column.size() && table->virtual_column[c];
    if (table->metadata[c].empty() || virt) continue;
    for (const MetadataColumn& m : metadata) {
      if (m.key == table->metadata[c] && !m.writable) {
        return absl::InvalidArgumentError(fmt::format(
            "table '{}': metadata key '{}' of column '{}' is read-only; declare the column "
            "METADATA VIRTUAL to write to this table",
            table->name, m.key, table->physical.fields[c].name));
      }
    }
  }
  EDDY_ASSIGN_OR_RETURN(SinkPlan plan, f->CreateSink(table, schema, default_parallelism, job_id));
  plan.metrics->table = table->name;
  return plan;
}

}  // namespace eddy::connectors
