// `eddy server`: the durable log behind a Kafka listener, in the foreground, and the pipelines of
// its --sql scripts (src/server), which read and write its topics through the local log.
#include "kafka/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "connectors/kafka/local_topics.h"
#include "kafka/broker.h"
#include "kafka/group_coordinator.h"
#include "kafka/txn_coordinator.h"
#include "log/log_manager.h"
#include "server/http_server.h"
#include "server/local_topics.h"
#include "server/pipelines.h"
#include "server/rest_api.h"

namespace eddy::cli {

namespace {

std::atomic<int> g_stop_signal{0};

void OnStopSignal(int sig) { g_stop_signal = sig; }

// Raises the soft limit of open files to the hard limit, so max.connections connections fit
// (each is a file descriptor), and warns when even the hard limit is too low.
void RaiseOpenFileLimit(int max_connections) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  // Segments, indexes and the process's own files need descriptors too.
  constexpr rlim_t kReserve = 256;
  if (rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < static_cast<rlim_t>(max_connections) + kReserve) {
    spdlog::warn(
        "eddy server: the open file limit ({}) is below --max-connections ({}) plus {} for "
        "the log: connections beyond it are refused by the system (raise `ulimit -n`)",
        static_cast<uint64_t>(rl.rlim_cur), max_connections, kReserve);
  }
}

}  // namespace

int RunServer(const ServerOptions& o) {
  std::string host;
  int port = 0;
  if (!server::SplitHostPort(o.kafka_listen, &host, &port)) {
    fmt::print(stderr, "eddy server: --kafka-listen '{}' is not HOST:PORT (e.g. 127.0.0.1:9092)\n",
               o.kafka_listen);
    return 1;
  }
  // Read every --sql script first: a missing file is a usage error, before anything starts.
  std::vector<std::pair<std::string, std::string>> scripts;  // name, SQL
  for (const std::string& file : o.sql_files) {
    std::ifstream in(file);
    if (!in) {
      fmt::print(stderr, "eddy server: cannot read --sql {}: {}\n", file, std::strerror(errno));
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string name = std::filesystem::path(file).filename().string();
    for (const auto& [other, sql] : scripts) {
      if (other == name) name = file;  // two scripts of the same name: use the paths
    }
    scripts.emplace_back(name, ss.str());
  }
  auto log = log::LogManager::Open(o.data_dir);
  if (!log.ok()) {
    fmt::print(stderr, "eddy server: cannot open the data directory '{}': {}\n", o.data_dir,
               log.status().ToString());
    return 1;
  }
  kafka::BrokerOptions bo;
  bo.advertised_host = o.advertised_host.empty() ? host : o.advertised_host;
  bo.auto_create_topics = o.auto_create_topics;
  bo.default_partitions = o.default_partitions;
  bo.fetch_max_bytes = o.fetch_max_bytes;
  kafka::ServerLimits limits;
  limits.socket_request_max_bytes = o.socket_request_max_bytes;
  limits.queued_max_request_bytes = o.queued_max_request_bytes;
  limits.connection_max_queued_bytes = o.connection_max_queued_bytes;
  limits.max_connections = o.max_connections;
  limits.max_connections_per_ip = o.max_connections_per_ip;
  limits.connections_max_idle_ms = o.connections_max_idle_ms;
  RaiseOpenFileLimit(limits.max_connections);
  kafka::GroupOptions go;
  go.initial_rebalance_delay_ms = o.group_initial_rebalance_delay_ms;
  auto groups = kafka::GroupCoordinator::Open(o.data_dir, go, log::WallClockMs());
  if (!groups.ok()) {
    fmt::print(stderr, "eddy server: cannot load the consumer groups: {}\n",
               groups.status().ToString());
    return 1;
  }
  kafka::TxnOptions to;
  to.max_timeout_ms = o.transaction_max_timeout_ms;
  to.id_expiration_ms = o.transactional_id_expiration_ms;
  auto txns = kafka::TransactionCoordinator::Open(o.data_dir, log->get(), groups->get(), to,
                                                  log::WallClockMs());
  if (!txns.ok()) {
    fmt::print(stderr, "eddy server: cannot load the transactions: {}\n", txns.status().ToString());
    return 1;
  }
  kafka::Broker broker(log->get(), groups->get(), bo, txns->get());
  auto server = kafka::KafkaServer::Start(&broker, host, port, 4, limits);
  if (!server.ok()) {
    fmt::print(stderr, "eddy server: {}\n", std::string(server.status().message()));
    return 1;
  }
  // Advertise the port actually bound (port 0 picks one).
  bo.advertised_port = (*server)->port();
  broker.SetAdvertisedPort(bo.advertised_port);
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  spdlog::info("eddy server: serving Kafka clients on {}:{} (data in {}; {} topics)", host,
               (*server)->port(), o.data_dir, (*log)->ListTopics().size());
  if (!o.port_file.empty()) {
    FILE* f = std::fopen(o.port_file.c_str(), "w");
    if (f) {
      std::fprintf(f, "%d\n", (*server)->port());
      std::fclose(f);
    }
  }
  // Pipelines: kafka tables naming this listener read and write the log directly.
  auto local_topics = std::make_shared<server::LogLocalTopics>(
      log->get(), groups->get(), &broker, host, (*server)->port(), txns->get());
  connectors::kafka::SetLocalTopics(local_topics);
  server::Pipelines pipelines((std::filesystem::path(o.data_dir) / "checkpoints").string(),
                              (std::filesystem::path(o.data_dir) / "pipelines").string());
  for (auto& [name, sql] : scripts) pipelines.Start(name, std::move(sql));
  int persisted = pipelines.StartPersisted();
  if (persisted > 0)
    spdlog::info("eddy server: restarted {} pipelines created through the REST API", persisted);
  // The REST API, /metrics and health.
  server::RestApi api(&pipelines, log->get(), local_topics, groups->get());
  api.SetConsumerInstanceTimeoutMs(o.consumer_instance_timeout_ms);
  api.SetServerInfo(
      {EDDY_VERSION,
       fmt::format("{}:{}", bo.advertised_host == "0.0.0.0" ? "127.0.0.1" : bo.advertised_host,
                   bo.advertised_port),
       log::WallClockMs()});
  std::unique_ptr<server::HttpServer> http;
  if (o.http_listen != "off") {
    std::string http_host;
    int http_port = 0;
    if (!server::SplitHostPort(o.http_listen, &http_host, &http_port)) {
      fmt::print(stderr, "eddy server: --http-listen '{}' is not HOST:PORT (e.g. 127.0.0.1:8080)\n",
                 o.http_listen);
      pipelines.CancelAll();
      return 1;
    }
    auto started = server::HttpServer::Start(
        http_host, http_port, [&api](const server::HttpRequest& r) { return api.Handle(r); });
    if (!started.ok() && o.http_listen_explicit) {
      fmt::print(stderr, "eddy server: {}\n", std::string(started.status().message()));
      pipelines.CancelAll();
      return 1;
    }
    if (!started.ok()) {
      spdlog::warn("eddy server: no REST API: {} (pass --http-listen HOST:PORT, port 0 for any)",
                   std::string(started.status().message()));
    } else {
      http = std::move(*started);
      spdlog::info("eddy server: REST API and /metrics on http://{}:{}", http_host, http->port());
      if (!o.http_port_file.empty()) {
        std::ofstream f(o.http_port_file + ".tmp");
        f << http->port() << "\n";
        f.close();
        std::filesystem::rename(o.http_port_file + ".tmp", o.http_port_file);
      }
    }
  }
  // Session timeouts and rebalance deadlines every 50 ms, on a thread of their own: the loop below
  // fsyncs (flush.ms) and runs retention, which must not delay a group's session expiry.
  std::atomic<bool> stop_ticker{false};
  std::thread ticker([&] {
    while (!stop_ticker.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      (*groups)->Tick(log::WallClockMs());
      (*txns)->Tick(log::WallClockMs());
    }
  });
  // Housekeeping: the flush.ms policy every second, retention every
  // log.retention.check.interval.ms (5 minutes, Kafka's default).
  auto last_retention = std::chrono::steady_clock::now();
  while (g_stop_signal == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    static auto last_flush = std::chrono::steady_clock::now();
    auto now = std::chrono::steady_clock::now();
    if (now - last_flush >= std::chrono::seconds(1)) {
      last_flush = now;
      api.SampleTopicRates(
          std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
      absl::Status st = (*log)->FlushIfDue(log::WallClockMs());
      if (!st.ok()) spdlog::error("eddy server: flush failed: {}", st.ToString());
    }
    if (now - last_retention >= std::chrono::minutes(5)) {
      last_retention = now;
      absl::Status st = (*log)->RunRetention(log::WallClockMs());
      if (!st.ok()) spdlog::error("eddy server: retention failed: {}", st.ToString());
    }
  }
  spdlog::info("eddy server: {} received, shutting down",
               g_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
  // The HTTP API first (it uses the pipelines), then the pipelines: they use the log, the
  // groups and the broker.
  if (http) http->Stop();
  pipelines.CancelAll();
  connectors::kafka::SetLocalTopics(nullptr);
  (*server)->Stop();
  stop_ticker = true;
  ticker.join();
  absl::Status st = (*log)->Close();
  if (!st.ok()) {
    spdlog::error("eddy server: closing the log failed: {}", st.ToString());
    return 1;
  }
  spdlog::info("eddy server: stopped cleanly (segments flushed and closed)");
  return 0;
}

}  // namespace eddy::cli
