// The 'filesystem' connector's factory (Flink's FileSystemTableFactory): CSV and JSON Lines files.
#include "base/status.h"
#include "connectors/connector.h"
#include "connectors/filesystem/options.h"

namespace eddy::connectors {

absl::StatusOr<std::shared_ptr<SourceFactory>> MakeFileSourceFactory(const ScanSpec& spec);
absl::StatusOr<SinkPlan> MakeFileSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism, const std::string& job_id);

namespace {

class FilesystemFactory final : public ConnectorFactory {
 public:
  std::string identifier() const override { return "filesystem"; }
  std::string doc() const override {
    return "Reads and writes CSV or JSON Lines files (plain or gzip), a directory or a glob.";
  }
  ConnectorCapabilities capabilities() const override {
    ConnectorCapabilities c;
    c.source = true;
    c.bounded = true;
    c.lookup = true;
    c.sink = true;
    return c;
  }
  std::vector<catalog::FormatSelector> format_selectors() const override {
    return {{"format", ""}};
  }
  absl::Status Validate(const TableDef& table) const override {
    return ParseFileFormatOptions(table).status();
  }
  absl::StatusOr<std::shared_ptr<SourceFactory>> CreateSource(const ScanSpec& spec) const override {
    return MakeFileSourceFactory(spec);
  }
  absl::StatusOr<SinkPlan> CreateSink(std::shared_ptr<const TableDef> table, const Schema& schema,
                                      int default_parallelism,
                                      const std::string& job_id) const override {
    return MakeFileSink(std::move(table), schema, default_parallelism, job_id);
  }
};

}  // namespace

const ConnectorFactory& FilesystemConnector() {
  static const FilesystemFactory kFactory;
  return kFactory;
}

}  // namespace eddy::connectors
