// The 'datagen' connector's factory (Flink's DataGenTableSourceFactory): generates rows of random
// values and sequences, to try a query without data or to benchmark one.
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/datagen/generator.h"

namespace eddy::connectors {

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeDatagenSourceFactory(const ScanSpec& spec);

namespace {

class DatagenFactory final : public ConnectorFactory {
 public:
  std::string identifier() const override { return "datagen"; }
  std::string doc() const override {
    return "Generates rows of random values and sequences at a given rate (Flink's DataGen).";
  }
  ConnectorCapabilities capabilities() const override {
    ConnectorCapabilities c;
    c.source = true;
    c.bounded_when = "'number-of-rows' or a 'sequence' column";
    return c;
  }
  bool IsBounded(const TableDef& table) const override {
    auto o = datagen::ParseDatagenOptions(table);
    return o.ok() && o->total_rows.has_value();
  }
  absl::Status Validate(const TableDef& table) const override {
    return datagen::ParseDatagenOptions(table).status();
  }
  absl::StatusOr<std::shared_ptr<SourceFactory>> CreateSource(const ScanSpec& spec) const override {
    return MakeDatagenSourceFactory(spec);
  }
};

}  // namespace

const ConnectorFactory& DatagenConnector() {
  static const DatagenFactory kFactory;
  return kFactory;
}

}  // namespace eddy::connectors
