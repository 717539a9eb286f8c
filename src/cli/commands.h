// Subcommands implemented in their own files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eddy::cli {

/// `eddy test-sql FILE…`: runs sqllogictest-style files (format in tests/sql/README.md).
/// Returns the process exit code: 0 when every record passed.
int RunSqlTests(const std::vector<std::string>& files);

/// Options of `eddy sql` (src/cli/sql_shell.cc).
struct SqlShellOptions {
  std::string file;    // -f: run this script and exit
  std::string server;  // --server: http://HOST:PORT of `eddy server`'s REST API; empty: embedded
};
/// The interactive SQL shell (or a script runner without a terminal). Returns the exit code.
int RunSqlShell(const SqlShellOptions& options);

/// Options of `eddy server`.
struct ServerOptions {
  std::string data_dir;
  std::string kafka_listen = "127.0.0.1:9092";
  std::string advertised_host;  // empty: the listen host
  bool auto_create_topics = true;
  int default_partitions = 1;
  std::string port_file;  // when set, the bound port is written there (tests use port 0)
  /// The REST API's HOST:PORT ("off": none); explicit: given on the command line (a busy
  /// default port only skips HTTP with a warning, a busy explicit one is an error).
  std::string http_listen = "127.0.0.1:8080";
  bool http_listen_explicit = false;
  std::string http_port_file;
  /// group.initial.rebalance.delay.ms (ms; default in kafka::GroupOptions).
  int group_initial_rebalance_delay_ms = 1000;
  /// consumer.instance.timeout.ms of REST Proxy consumer instances (ms).
  int consumer_instance_timeout_ms = 300000;
  /// transaction.max.timeout.ms (ms; default in kafka::TxnOptions).
  int transaction_max_timeout_ms = 900000;
  /// transactional.id.expiration.ms (ms; default in kafka::TxnOptions; 0: never).
  int64_t transactional_id_expiration_ms = 604800000;
  /// Listener limits (kafka::ServerLimits: socket.request.max.bytes, queued.max.request.bytes,
  /// the per-connection budget, max.connections, max.connections.per.ip,
  /// connections.max.idle.ms) and the broker's fetch.max.bytes (bytes).
  int64_t socket_request_max_bytes = 100 << 20;
  int64_t queued_max_request_bytes = 256 << 20;
  int64_t connection_max_queued_bytes = 32 << 20;
  int max_connections = 10000;
  int max_connections_per_ip = 0;
  int64_t connections_max_idle_ms = 600000;
  int64_t fetch_max_bytes = 55 << 20;
  /// SQL scripts run inside the server as pipelines once it listens (--sql, repeatable).
  std::vector<std::string> sql_files;
};

/// Options of `eddy topic`, `eddy produce` and `eddy consume` (Kafka clients on librdkafka).
struct KafkaToolOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::vector<std::string> properties;  // extra librdkafka properties, key=value
  std::string topic;
  int partitions = 1;                // topic create
  std::vector<std::string> configs;  // topic create: topic configs, key=value
  int timeout_ms = 10000;
  std::string key_separator;  // produce: split each line into key and value; consume: print it
  int partition = -1;         // produce: -1 = the partitioner's choice
  std::string acks = "all";
  double rate = 0;    // produce: messages per second (0 = as fast as possible)
  std::string group;  // consume: join this consumer group (commits offsets)
  bool from_beginning = false;
  bool exit_at_end = false;
  bool print_keys = false;
  int64_t max_messages = 0;
};

/// `eddy topic create|list|describe|delete`. Returns the exit code.
int RunTopic(const std::string& action, const KafkaToolOptions& options);
/// `eddy produce TOPIC`: one message per stdin line. Returns the exit code.
int RunProduce(const KafkaToolOptions& options);
/// `eddy consume TOPIC`: one line per message on stdout. Returns the exit code.
int RunConsume(const KafkaToolOptions& options);

/// `eddy server`: serves Kafka clients from the log in `data_dir` and runs each --sql script as a
/// pipeline on its own thread until SIGINT/SIGTERM, then cancels the pipelines, stops the
/// listener and flushes and closes the log. A failing pipeline is logged and does not stop the
/// server. Returns the process exit code (1 when a script cannot be read or the log not opened).
int RunServer(const ServerOptions& options);

}  // namespace eddy::cli
