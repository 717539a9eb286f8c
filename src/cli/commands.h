// Subcommands implemented in their own files.
#pragma once

#include <string>
#include <vector>

namespace eddy::cli {

/// `eddy test-sql FILE…`: runs sqllogictest-style files (format in tests/sql/README.md).
/// Returns the process exit code: 0 when every record passed.
int RunSqlTests(const std::vector<std::string>& files);

/// Options of `eddy server`.
struct ServerOptions {
  std::string data_dir;
  std::string kafka_listen = "127.0.0.1:9092";
  std::string advertised_host;  // empty: the listen host
  bool auto_create_topics = true;
  int default_partitions = 1;
  std::string port_file;  // when set, the bound port is written there (tests use port 0)
};

/// `eddy server`: serves Kafka clients from the log in `data_dir` until SIGINT/SIGTERM, then
/// flushes and closes the log. Returns the process exit code.
int RunServer(const ServerOptions& options);

}  // namespace eddy::cli
