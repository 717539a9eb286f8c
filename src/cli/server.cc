// `eddy server`: the durable log behind a Kafka listener, in the foreground.
#include "kafka/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "cli/commands.h"
#include "kafka/broker.h"
#include "kafka/group_coordinator.h"
#include "log/log_manager.h"

namespace eddy::cli {

namespace {

std::atomic<int> g_stop_signal{0};

void OnStopSignal(int sig) { g_stop_signal = sig; }

// Splits "host:port".
bool SplitHostPort(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = s.substr(0, colon);
  try {
    size_t used;
    *port = std::stoi(s.substr(colon + 1), &used);
    return used == s.size() - colon - 1 && *port >= 0 && *port <= 65535;
  } catch (...) {
    return false;
  }
}

}  // namespace

int RunServer(const ServerOptions& o) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(o.kafka_listen, &host, &port)) {
    fmt::print(stderr, "eddy server: --kafka-listen '{}' is not HOST:PORT (e.g. 127.0.0.1:9092)\n",
               o.kafka_listen);
    return 1;
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
  auto groups =
      kafka::GroupCoordinator::Open(o.data_dir, kafka::GroupOptions(), log::WallClockMs());
  if (!groups.ok()) {
    fmt::print(stderr, "eddy server: cannot load the consumer groups: {}\n",
               groups.status().ToString());
    return 1;
  }
  kafka::Broker broker(log->get(), groups->get(), bo);
  auto server = kafka::KafkaServer::Start(&broker, host, port);
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
  // Housekeeping: the flush.ms policy every second, retention every
  // log.retention.check.interval.ms (5 minutes, Kafka's default).
  auto last_retention = std::chrono::steady_clock::now();
  while (g_stop_signal == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (*groups)->Tick(log::WallClockMs());  // session timeouts and rebalance deadlines
    static auto last_flush = std::chrono::steady_clock::now();
    auto now = std::chrono::steady_clock::now();
    if (now - last_flush >= std::chrono::seconds(1)) {
      last_flush = now;
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
  (*server)->Stop();
  absl::Status st = (*log)->Close();
  if (!st.ok()) {
    spdlog::error("eddy server: closing the log failed: {}", st.ToString());
    return 1;
  }
  spdlog::info("eddy server: stopped cleanly (segments flushed and closed)");
  return 0;
}

}  // namespace eddy::cli
