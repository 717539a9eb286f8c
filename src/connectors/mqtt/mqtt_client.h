// The 'mqtt' connector's options and its connection to a broker (libmosquitto, MQTT 3.1.1),
// shared by the source (mqtt_source.cc) and the sink (mqtt_sink.cc). Internal to
// src/connectors/. docs/sql-reference.md "### mqtt" documents the options and the delivery rules.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/table.h"
#include "connectors/filesystem/options.h"
#include "formats/row_decoder.h"

struct mosquitto;
struct mosquitto_message;

namespace eddy::connectors::mqtt {

/// The parsed WITH options of an mqtt table. Durations in ms.
struct MqttOptions {
  std::string table;
  std::string host;  // 'hostname' or the host of 'server-uri'
  int port = 1883;   // 'port' or the port of 'server-uri' (default 1883, 8883 for ssl://)
  bool tls = false;  // 'server-uri' = 'ssl://…' (or any 'ssl.*-file' set)
  std::string uri;   // "tcp://host:port" or "ssl://host:port", for messages
  /// 'topic': the source's topic filters (comma-separated, '+'/'#' wildcards); the sink's topic,
  /// which may hold '{col}' column references (then it has exactly one entry).
  std::vector<std::string> topics;
  int qos = 1;
  std::string client_id;  // '' = generated per subtask
  std::string username;
  std::string password;  // never logged
  bool clean_session = true;
  int keep_alive_s = 60;
  std::string ca_file, cert_file, key_file;
  bool tls_verify = true;
  int64_t connect_timeout_ms = 10'000;
  int reconnect_min_s = 1;
  int reconnect_max_s = 30;
  // Source.
  enum class Format { kJson, kCsv, kRaw };
  Format format = Format::kJson;
  FileFormatOptions text;             // json.* / csv.* options
  std::vector<std::string> metadata;  // per physical column: metadata key or ""
  std::vector<int> value_columns;     // physical columns decoded from the payload
  int64_t idle_timeout_ms = 0;        // 'scan.watermark.idle-timeout', else the session's
  int64_t bounded_idle_ms = 0;        // 'scan.bounded.idle-timeout' (0: unbounded)
  size_t queue_max_messages = 10'000;
  size_t queue_max_bytes = 64 << 20;
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  std::string shared_group;  // '' = the table name (parallelism > 1: '$share/<group>/<topic>')
  // Sink.
  bool retain = false;
  int sink_parallelism = 0;  // 0 = 'parallelism.default'
  int64_t max_pending = 10'000;
  int64_t flush_timeout_ms = 30'000;
};

/// Reads the WITH options of mqtt table `t` (`session_idle_timeout_ms`:
/// 'table.exec.source.idle-timeout'). Errors: InvalidArgument naming the table and the option.
absl::StatusOr<MqttOptions> ParseMqttOptions(const TableDef& t, int64_t session_idle_timeout_ms);

/// Checks the source's topic filters (MQTT 3.1.1 §4.7: '+' a whole level, '#' the last one).
/// Errors: InvalidArgument naming the table and the filter.
absl::Status CheckSourceTopics(const TableDef& t, const MqttOptions& o);
/// Checks the sink's topic: one topic, no wildcards outside '{col}' references. Errors as above.
absl::Status CheckSinkTopic(const TableDef& t, const MqttOptions& o);

/// The client id of subtask `index` of `parallelism`: 'client-id' as it is with one subtask,
/// '<client-id>-<index>' with several; generated ('eddy-<role>-<table>-<random>-<index>') when
/// 'client-id' is not set.
std::string ClientId(const MqttOptions& o, const std::string& role, int index, int parallelism);

/// One client connection to the broker of `o`, with libmosquitto's network thread
/// (mosquitto_loop_start) reading and writing the socket and reconnecting with exponential
/// backoff ('reconnect.initial-delay' to 'reconnect.max-delay') when the connection is lost; a
/// lost connection and the reconnect are logged (at most one line per 10 s per client). The
/// subscriptions are made after every connect whose session the broker did not keep (clean
/// sessions, or a persistent session the broker lost), so a reconnect with a kept session
/// misses nothing (the broker queued QoS 1/2 messages for it) and receives no retained message
/// twice. Callbacks run on the network thread. Thread-safe.
class Connection {
 public:
  struct Callbacks {
    /// A message arrived (network thread). May wait (backpressure); must return once
    /// `stopping()` is true.
    std::function<void(const mosquitto_message&)> on_message;
    /// A QoS 1/2 publish with this message id was acknowledged (QoS 0: sent).
    std::function<void(int mid)> on_publish;
  };

  /// Connects as `client_id` and waits up to 'connect-timeout' for the broker's CONNACK and
  /// the acknowledgements of the subscriptions (so a message published after Open returns is
  /// received).
  /// Errors: Unavailable naming the broker and the reason (refused, unreachable, TLS, not
  /// authorised, timeout); InvalidArgument for bad TLS files.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(std::shared_ptr<const MqttOptions> o,
                                                          const std::string& client_id,
                                                          std::vector<std::string> subscriptions,
                                                          Callbacks callbacks);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Disconnects and stops the network thread (idempotent).
  void Close();
  /// Publishes one message; `*mid` receives its message id. Returns libmosquitto's code:
  /// MOSQ_ERR_NO_CONN while the connection is down (the caller waits for the reconnect). QoS 1/2
  /// messages sent and not yet acknowledged when the connection drops are sent again by
  /// libmosquitto after the reconnect.
  int Publish(const std::string& topic, std::string_view payload, int qos, bool retain, int* mid);

  bool connected() const { return connected_.load(); }
  bool stopping() const { return stopping_.load(); }
  /// Why the connection is down ("connection refused", …), "" when up.
  std::string last_error() const;
  const std::string& client_id() const { return client_id_; }

 private:
  Connection(std::shared_ptr<const MqttOptions> o, std::string client_id,
             std::vector<std::string> subscriptions, Callbacks callbacks);
  static void OnConnect(mosquitto*, void* self, int rc, int flags);
  static void OnDisconnect(mosquitto*, void* self, int rc);
  static void OnMessage(mosquitto*, void* self, const mosquitto_message* m);
  static void OnPublish(mosquitto*, void* self, int mid);
  static void OnSubscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void OnLog(mosquitto*, void* self, int level, const char* line);
  void Log(const std::string& line);

  const std::shared_ptr<const MqttOptions> o_;
  const std::string client_id_;
  const std::vector<std::string> subscriptions_;
  Callbacks callbacks_;
  mosquitto* mosq_ = nullptr;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  bool loop_started_ = false;
  mutable std::mutex mu_;
  std::condition_variable connack_cv_;
  std::string last_error_;        // guarded by mu_
  int connack_rc_ = -1;           // the first CONNACK's code, -1 before it; guarded by mu_
  size_t subacks_ = 0;            // SUBACKs received; guarded by mu_
  size_t subscribed_ = 0;         // SUBSCRIBEs sent; guarded by mu_
  std::string refused_;           // a filter the broker refused, ""; guarded by mu_
  bool connack_refused_ = false;  // the last CONNACK refused the connection; guarded by mu_
  std::string tls_error_;         // libmosquitto's last OpenSSL error line; guarded by mu_
  int64_t down_since_ms_ = 0;     // steady ms when the connection was lost; guarded by mu_
};

/// Milliseconds of a steady clock.
int64_t SteadyMs();

}  // namespace eddy::connectors::mqtt
