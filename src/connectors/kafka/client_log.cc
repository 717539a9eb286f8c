#include "connectors/kafka/client_log.h"

#include <fmt/format.h>

#include <string>

#include "base/log.h"

namespace eddy::connectors::kafka {

namespace {

void OnClientLog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  spdlog::level::level_enum l = LogLevelOfClient(level);
  if (!spdlog::should_log(l)) return;
  const char* name = rk ? rd_kafka_name(rk) : "?";
  LogLimited(l, fmt::format("kafka-client/{}/{}", name, facility),
             fmt::format("kafka client {}: {}: {}", name, facility, message));
}

}  // namespace

spdlog::level::level_enum LogLevelOfClient(int syslog_level) {
  if (syslog_level <= 2) return spdlog::level::critical;
  if (syslog_level == 3) return spdlog::level::err;
  if (syslog_level == 4) return spdlog::level::warn;
  if (syslog_level <= 6) return spdlog::level::info;
  return spdlog::level::debug;
}

void RouteClientLogs(rd_kafka_conf_t* conf) { rd_kafka_conf_set_log_cb(conf, &OnClientLog); }

}  // namespace eddy::connectors::kafka
