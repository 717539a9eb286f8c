// librdkafka's own log lines through eddy's logger. Without this, librdkafka prints them on stderr
// in its own format ("%3|1796607177.227|FAIL|rdkafka#consumer-7| [thrd:...]: ...").
#pragma once

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

namespace eddy::connectors::kafka {

/// The eddy log level of a librdkafka (syslog) level: 0-2 critical, 3 error, 4 warn, 5-6 info,
/// 7 debug.
spdlog::level::level_enum LogLevelOfClient(int syslog_level);

/// Sets `conf`'s log callback (rd_kafka_conf_set_log_cb) so the client's log lines go through
/// eddy's logger, as "kafka client <client name>: <facility>: <message>" at the mapped level,
/// rate-limited per client and facility (base/log.h). Call before rd_kafka_new(). The callback
/// runs on librdkafka's threads; eddy's logger is thread-safe.
void RouteClientLogs(rd_kafka_conf_t* conf);

}  // namespace eddy::connectors::kafka
