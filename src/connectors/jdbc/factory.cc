// The 'jdbc' connector's factory (Flink's JdbcDynamicTableFactory), for PostgreSQL through libpq:
// a bounded scan source (optionally partitioned), a lookup source for lookup joins, and a sink
// that appends, or upserts by the table's PRIMARY KEY. Options: connectors/jdbc/postgres.cc;
// docs/sql-reference.md "### jdbc".
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/jdbc/postgres.h"

namespace eddy::connectors {

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeJdbcSourceFactory(const ScanSpec& spec);
absl::StatusOr<LookupPlan> MakeJdbcLookup(const LookupSpec& spec);
absl::StatusOr<SinkPlan> MakeJdbcSink(std::shared_ptr<const TableDef> table, const Schema& schema);

namespace {

class JdbcFactory final : public ConnectorFactory {
 public:
  std::string identifier() const override { return "jdbc"; }
  std::string doc() const override {
    return "Reads, looks up and writes (appends or upserts) a PostgreSQL table.";
  }
  ConnectorCapabilities capabilities() const override {
    ConnectorCapabilities c;
    c.source = true;
    c.bounded = true;
    c.lookup = true;
    c.sink = true;
    c.sink_accepts_updates = true;
    return c;
  }
  bool AcceptsUpdates(const TableDef& table) const override { return !table.primary_key.empty(); }
  absl::Status Validate(const TableDef& table) const override {
    return jdbc::ParseJdbcOptions(table).status();
  }
  absl::StatusOr<std::shared_ptr<SourceFactory>> CreateSource(const ScanSpec& spec) const override {
    return MakeJdbcSourceFactory(spec);
  }
  absl::StatusOr<std::optional<LookupPlan>> CreateLookup(const LookupSpec& spec) const override {
    EDDY_ASSIGN_OR_RETURN(LookupPlan plan, MakeJdbcLookup(spec));
    return std::optional<LookupPlan>(std::move(plan));
  }
  absl::StatusOr<SinkPlan> CreateSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int, const std::string&) const override {
    return MakeJdbcSink(std::move(table), schema);
  }
};

}  // namespace

const ConnectorFactory& JdbcConnector() {
  static const JdbcFactory kFactory;
  return kFactory;
}

}  // namespace eddy::connectors
