#include "connectors/mqtt/mqtt_client.h"

#include <fmt/format.h>
#include <mosquitto.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "base/status.h"
#include "catalog/options.h"

namespace eddy::connectors::mqtt {

namespace {

const std::vector<std::string> kMqtt = {"mqtt"};

const auto kHostname = catalog::TableOption(kMqtt, "hostname")
                           .String()
                           .Doc("The broker's host name or address (or set 'server-uri').");
const auto kPort = catalog::TableOption(kMqtt, "port")
                       .Int()
                       .Range(1, 65535)
                       .DefaultDoc("1883, 8883 with TLS")
                       .Doc("The broker's port.");
const auto kServerUri =
    catalog::TableOption(kMqtt, "server-uri")
        .String()
        .Doc(
            "The broker as 'tcp://host:port' or 'ssl://host:port' (TLS), instead of 'hostname' "
            "and 'port'.");
const auto kTopic =
    catalog::TableOption(kMqtt, "topic")
        .String()
        .Required()
        .Doc(
            "Source: the topic filters to subscribe to, comma-separated, with '+' and '#' "
            "wildcards ('sensors/+/temp,alerts/#'). Sink: the topic to publish to; '{col}' takes "
            "the row's value of column col ('alerts/{sensor}').");
const auto kQos = catalog::TableOption(kMqtt, "qos")
                      .Int(1)
                      .Range(0, 2)
                      .Doc(
                          "The quality of service of the subscriptions (source) and of the "
                          "published messages (sink): 0 at most once, 1 at least once, 2 "
                          "exactly once between client and broker.");
const auto kClientId =
    catalog::TableOption(kMqtt, "client-id")
        .String("")
        .DefaultDoc("generated, unique per subtask")
        .Doc(
            "The MQTT client id; with several subtasks, subtask i uses '<client-id>-<i>'. A "
            "persistent session ('clean-session' = 'false') needs it.");
const auto kUsername =
    catalog::TableOption(kMqtt, "username").String("").Doc("The user name to connect with.");
const auto kPassword = catalog::TableOption(kMqtt, "password")
                           .String("")
                           .Doc("The password to connect with (never logged).");
const auto kCleanSession =
    catalog::TableOption(kMqtt, "clean-session")
        .Bool(true)
        .Doc(
            "false: a persistent session (needs 'client-id'); the broker keeps the "
            "subscriptions and queues QoS 1/2 messages while the client is away, so a "
            "reconnect or a restart of the job loses none of them.");
const auto kKeepAlive = catalog::TableOption(kMqtt, "keep-alive")
                            .Duration("60 s")
                            .Range(absl::Seconds(5), absl::Seconds(65535))
                            .Doc("The MQTT keep-alive interval.");
const auto kSslCa = catalog::TableOption(kMqtt, "ssl.ca-file")
                        .String("")
                        .DefaultDoc("the system's CA certificates")
                        .Doc("A PEM file of the CA certificates that verify the broker (TLS).");
const auto kSslCert =
    catalog::TableOption(kMqtt, "ssl.cert-file")
        .String("")
        .Doc("The client certificate (PEM) for brokers that authenticate clients by TLS.");
const auto kSslKey = catalog::TableOption(kMqtt, "ssl.key-file")
                         .String("")
                         .Doc("The client certificate's private key (PEM, not encrypted).");
const auto kSslVerify =
    catalog::TableOption(kMqtt, "ssl.verify")
        .Bool(true)
        .Doc("Verify the broker's certificate and host name (false only for tests).");
const auto kConnectTimeout =
    catalog::TableOption(kMqtt, "connect-timeout")
        .Duration("10 s")
        .Min(absl::Milliseconds(1))
        .Doc(
            "How long the first connection may take (TCP, TLS and the broker's CONNACK) before "
            "the job fails.");
const auto kReconnectInitial = catalog::TableOption(kMqtt, "reconnect.initial-delay")
                                   .Duration("1 s")
                                   .Range(absl::Seconds(1), absl::Hours(1))
                                   .Doc(
                                       "The wait before the first reconnect after the connection "
                                       "is lost (whole seconds); it doubles for each failed "
                                       "attempt.");
const auto kReconnectMax = catalog::TableOption(kMqtt, "reconnect.max-delay")
                               .Duration("30 s")
                               .Range(absl::Seconds(1), absl::Hours(1))
                               .Doc("The longest wait between two reconnects (whole seconds).");
const auto kFormat =
    catalog::TableOption(kMqtt, "format")
        .Enum({"json", "csv", "raw"})
        .Required()
        .Doc(
            "The payload format: 'json', 'csv' (one row per message) or 'raw' (the payload as "
            "one STRING column).");
const auto kIdleTimeout =
    catalog::TableOption(kMqtt, "scan.watermark.idle-timeout")
        .Duration()
        .Min(absl::ZeroDuration())
        .DefaultDoc("'table.exec.source.idle-timeout'")
        .Doc("A source subtask without messages for this long stops holding back the watermark.");
const auto kBoundedIdle =
    catalog::TableOption(kMqtt, "scan.bounded.idle-timeout")
        .Duration()
        .Min(absl::Milliseconds(1))
        .Doc(
            "eddy: makes the source bounded: a subtask ends when no message arrived for this "
            "long (since the last one, or since it connected), which fires every window. "
            "Unset: the source runs until the job is cancelled.");
const auto kQueueMessages =
    catalog::TableOption(kMqtt, "scan.queue.max-messages")
        .Int(10000)
        .Range(1, 1 << 24)
        .Doc(
            "Messages received and not yet read by the job, per subtask, at most; when the "
            "queue is full the client stops reading from the broker (backpressure).");
const auto kQueueBytes = catalog::TableOption(kMqtt, "scan.queue.max-bytes")
                             .MemorySize("64 mb")
                             .Range(1024, int64_t{1} << 36)
                             .Doc("Payload bytes in that queue, per subtask, at most.");
const auto kSharedGroup =
    catalog::TableOption(kMqtt, "scan.shared-group")
        .String("")
        .DefaultDoc("the table name")
        .Doc(
            "With several source subtasks, each subscribes to '$share/<group>/<filter>' (MQTT "
            "shared subscriptions) and the broker spreads the messages over them.");
const auto kRetain = catalog::TableOption(kMqtt, "retain")
                         .Bool(false)
                         .Doc("Sink: publish retained messages (the broker keeps the last one).");
const auto kSinkParallelism = catalog::TableOption(kMqtt, "sink.parallelism")
                                  .Int()
                                  .Range(1, 1 << 20)
                                  .DefaultDoc("'parallelism.default'")
                                  .Doc("Sink subtasks (each with its own connection).");
const auto kMaxPending =
    catalog::TableOption(kMqtt, "sink.max-pending-messages")
        .Int(10000)
        .Range(1, 1 << 24)
        .Doc(
            "QoS 1/2 messages published and not yet acknowledged, per subtask, at most; the "
            "sink waits (backpressure) when there are more.");
const auto kFlushTimeout =
    catalog::TableOption(kMqtt, "sink.flush-timeout")
        .Duration("30 s")
        .Min(absl::Milliseconds(1))
        .Doc(
            "How long the sink waits for acknowledgements (at checkpoints, at the end, and when "
            "'sink.max-pending-messages' are waiting) before the job fails naming the broker.");

absl::Status Bad(const TableDef& t, const std::string& msg) {
  return absl::InvalidArgumentError(fmt::format("table '{}': {}", t.name, msg));
}

template <typename T>
absl::StatusOr<T> Value(const TableDef& t, const catalog::ConfigOption<T>& o) {
  auto v = o.Get(t.options);
  if (!v.ok()) return Bad(t, std::string(v.status().message()));
  return *std::move(v);
}

// Checks one topic filter (MQTT 3.1.1 §4.7): '#' only as the last level, '+' a whole level.
absl::Status CheckFilter(const TableDef& t, const std::string& f, bool publish) {
  if (f.empty()) return Bad(t, "'topic' has an empty topic");
  std::vector<std::string> levels = absl::StrSplit(f, '/');
  for (size_t i = 0; i < levels.size(); ++i) {
    const std::string& l = levels[i];
    bool wild = l.find_first_of("+#") != std::string::npos;
    if (!wild) continue;
    if (publish) {
      return Bad(t, fmt::format("'topic' '{}': a sink publishes to a topic, not a filter "
                                "('+' and '#' are not allowed)",
                                f));
    }
    if ((l != "+" && l != "#") || (l == "#" && i + 1 != levels.size())) {
      return Bad(t, fmt::format("'topic' '{}': '+' must be a whole level and '#' the last one", f));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<MqttOptions> ParseMqttOptions(const TableDef& t, int64_t session_idle_timeout_ms) {
  MqttOptions o;
  o.table = t.name;
  const auto& opts = t.options;
  std::string uri = t.Option(kServerUri.key());
  if (!uri.empty()) {
    if (opts.count(kHostname.key())) return Bad(t, "set 'server-uri' or 'hostname', not both");
    absl::string_view rest = uri;
    if (absl::ConsumePrefix(&rest, "ssl://") || absl::ConsumePrefix(&rest, "mqtts://")) {
      o.tls = true;
      o.port = 8883;
    } else if (!absl::ConsumePrefix(&rest, "tcp://") && !absl::ConsumePrefix(&rest, "mqtt://")) {
      return Bad(
          t, fmt::format("'server-uri' must be tcp://host:port or ssl://host:port, not '{}'", uri));
    }
    size_t colon = rest.rfind(':');
    int port = 0;
    if (colon != absl::string_view::npos && rest.find(']', colon) == absl::string_view::npos) {
      if (!absl::SimpleAtoi(rest.substr(colon + 1), &port) || port < 1 || port > 65535) {
        return Bad(t, fmt::format("'server-uri' '{}' has a bad port", uri));
      }
      o.port = port;
      rest = rest.substr(0, colon);
    }
    o.host = std::string(absl::StripPrefix(absl::StripSuffix(rest, "]"), "["));
  } else {
    o.host = t.Option(kHostname.key());
    if (o.host.empty()) {
      return Bad(t, "the mqtt connector needs 'hostname' (and 'port') or 'server-uri'");
    }
  }
  if (o.host.empty()) return Bad(t, fmt::format("'server-uri' '{}' has no host", uri));
  EDDY_ASSIGN_OR_RETURN(o.ca_file, Value(t, kSslCa));
  EDDY_ASSIGN_OR_RETURN(o.cert_file, Value(t, kSslCert));
  EDDY_ASSIGN_OR_RETURN(o.key_file, Value(t, kSslKey));
  EDDY_ASSIGN_OR_RETURN(o.tls_verify, Value(t, kSslVerify));
  if (o.cert_file.empty() != o.key_file.empty()) {
    return Bad(t, "'ssl.cert-file' and 'ssl.key-file' go together");
  }
  if (uri.empty() && (!o.ca_file.empty() || !o.cert_file.empty())) {
    o.tls = true;
    o.port = 8883;
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> port, kPort.Find(opts));
  if (port) {
    if (!uri.empty()) return Bad(t, "set the port in 'server-uri', not in 'port'");
    o.port = static_cast<int>(*port);
  }
  o.uri = fmt::format("{}://{}:{}", o.tls ? "ssl" : "tcp", o.host, o.port);
  EDDY_ASSIGN_OR_RETURN(std::string topic, Value(t, kTopic));
  for (absl::string_view part : absl::StrSplit(topic, ',')) {
    o.topics.emplace_back(absl::StripAsciiWhitespace(part));
  }
  EDDY_ASSIGN_OR_RETURN(int64_t qos, Value(t, kQos));
  o.qos = static_cast<int>(qos);
  EDDY_ASSIGN_OR_RETURN(o.client_id, Value(t, kClientId));
  EDDY_ASSIGN_OR_RETURN(o.username, Value(t, kUsername));
  EDDY_ASSIGN_OR_RETURN(o.password, Value(t, kPassword));
  if (!o.password.empty() && o.username.empty()) return Bad(t, "'password' needs 'username'");
  EDDY_ASSIGN_OR_RETURN(o.clean_session, Value(t, kCleanSession));
  if (!o.clean_session && o.client_id.empty()) {
    return Bad(t,
               "'clean-session' = 'false' needs 'client-id' (a persistent session belongs to a "
               "fixed client id)");
  }
  EDDY_ASSIGN_OR_RETURN(absl::Duration keep_alive, Value(t, kKeepAlive));
  o.keep_alive_s = static_cast<int>(absl::ToInt64Seconds(keep_alive));
  EDDY_ASSIGN_OR_RETURN(absl::Duration connect, Value(t, kConnectTimeout));
  o.connect_timeout_ms = absl::ToInt64Milliseconds(connect);
  EDDY_ASSIGN_OR_RETURN(absl::Duration r0, Value(t, kReconnectInitial));
  EDDY_ASSIGN_OR_RETURN(absl::Duration r1, Value(t, kReconnectMax));
  o.reconnect_min_s = static_cast<int>(absl::ToInt64Seconds(r0));
  o.reconnect_max_s = std::max(o.reconnect_min_s, static_cast<int>(absl::ToInt64Seconds(r1)));
  EDDY_ASSIGN_OR_RETURN(std::string format, Value(t, kFormat));
  o.format = format == "json"  ? MqttOptions::Format::kJson
             : format == "csv" ? MqttOptions::Format::kCsv
                               : MqttOptions::Format::kRaw;
  if (o.format != MqttOptions::Format::kRaw) {
    EDDY_ASSIGN_OR_RETURN(o.text, ParseTextFormatOptions(t, format, ""));
  }
  o.metadata = t.metadata;
  o.metadata.resize(t.physical.fields.size());
  for (size_t c = 0; c < t.physical.fields.size(); ++c) {
    if (o.metadata[c].empty()) o.value_columns.push_back(static_cast<int>(c));
  }
  if (o.format == MqttOptions::Format::kRaw &&
      (o.value_columns.size() != 1 || !t.physical.fields[o.value_columns[0]].type.is_string())) {
    return Bad(t, "the 'raw' format needs exactly one STRING column (besides metadata columns)");
  }
  o.idle_timeout_ms = session_idle_timeout_ms;
  EDDY_ASSIGN_OR_RETURN(std::optional<absl::Duration> idle, kIdleTimeout.Find(opts));
  if (idle) o.idle_timeout_ms = absl::ToInt64Milliseconds(*idle);
  EDDY_ASSIGN_OR_RETURN(std::optional<absl::Duration> bounded, kBoundedIdle.Find(opts));
  if (bounded) o.bounded_idle_ms = absl::ToInt64Milliseconds(*bounded);
  EDDY_ASSIGN_OR_RETURN(int64_t qm, Value(t, kQueueMessages));
  o.queue_max_messages = static_cast<size_t>(qm);
  EDDY_ASSIGN_OR_RETURN(int64_t qb, Value(t, kQueueBytes));
  o.queue_max_bytes = static_cast<size_t>(qb);
  EDDY_ASSIGN_OR_RETURN(o.max_record_bytes, ParseMaxRecordSize(t));
  EDDY_ASSIGN_OR_RETURN(o.shared_group, Value(t, kSharedGroup));
  if (o.shared_group.empty()) o.shared_group = t.name;
  if (o.shared_group.find_first_of("/+#") != std::string::npos) {
    return Bad(t, "'scan.shared-group' may not contain '/', '+' or '#'");
  }
  EDDY_ASSIGN_OR_RETURN(o.retain, Value(t, kRetain));
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> sp, kSinkParallelism.Find(opts));
  o.sink_parallelism = static_cast<int>(sp.value_or(0));
  EDDY_ASSIGN_OR_RETURN(o.max_pending, Value(t, kMaxPending));
  EDDY_ASSIGN_OR_RETURN(absl::Duration flush, Value(t, kFlushTimeout));
  o.flush_timeout_ms = absl::ToInt64Milliseconds(flush);
  return o;
}

absl::Status CheckSourceTopics(const TableDef& t, const MqttOptions& o) {
  for (const std::string& f : o.topics) EDDY_RETURN_IF_ERROR(CheckFilter(t, f, false));
  return absl::OkStatus();
}

absl::Status CheckSinkTopic(const TableDef& t, const MqttOptions& o) {
  if (o.topics.size() != 1) return Bad(t, "a sink's 'topic' names one topic (no ',')");
  // Column references are checked by the sink; the literal parts must not be filters.
  std::string literal;
  bool in_ref = false;
  for (char c : o.topics[0]) {
    if (c == '{') in_ref = true;
    if (!in_ref) literal += c;
    if (c == '}') in_ref = false;
  }
  if (literal.find_first_of("+#") != std::string::npos) {
    return CheckFilter(t, o.topics[0], true);
  }
  return absl::OkStatus();
}

std::string ClientId(const MqttOptions& o, const std::string& role, int index, int parallelism) {
  if (!o.client_id.empty()) {
    return parallelism == 1 ? o.client_id : fmt::format("{}-{}", o.client_id, index);
  }
  static const uint32_t kRandom = [] {
    std::random_device rd;
    return rd();
  }();
  return fmt::format("eddy-{}-{}-{:08x}-{}", role, o.table, kRandom, index);
}

Connection::Connection(std::shared_ptr<const MqttOptions> o, std::string client_id,
                       std::vector<std::string> subscriptions, Callbacks callbacks)
    : o_(std::move(o)),
      client_id_(std::move(client_id)),
      subscriptions_(std::move(subscriptions)),
      callbacks_(std::move(callbacks)) {}

Connection::~Connection() {
  Close();
  if (mosq_) mosquitto_destroy(mosq_);
}

void Connection::Close() {
  if (stopping_.exchange(true)) return;
  if (!mosq_) return;
  mosquitto_disconnect(mosq_);
  if (loop_started_) mosquitto_loop_stop(mosq_, /*force=*/false);
  connected_ = false;
}

std::string Connection::last_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_error_;
}

void Connection::Log(const std::string& line) {
  static LogRateLimiter limiter(1, 10'000'000);
  LogLimited(limiter, spdlog::level::warn, "mqtt/" + client_id_, line);
}

namespace {

std::string ErrorText(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

}  // namespace

void Connection::OnConnect(mosquitto* mosq, void* self_ptr, int rc, int flags) {
  auto* self = static_cast<Connection*>(self_ptr);
  const MqttOptions& o = *self->o_;
  bool first = false;
  int64_t down_ms = 0;
  {
    std::lock_guard<std::mutex> l(self->mu_);
    first = self->connack_rc_ < 0;
    if (first) self->connack_rc_ = rc;
    self->connack_refused_ = rc != 0;
    if (rc != 0) {
      // CONNACK 4 and 5 (MQTT 3.1.1 §3.2.2.3) are the broker's answers to bad credentials.
      std::string auth;
      if ((rc == 4 || rc == 5) && o.username.empty()) {
        auth = " (authentication failed: no 'username' and 'password' were given)";
      } else if (rc == 4 || rc == 5) {
        auth = fmt::format(
            " (authentication failed for user '{}': check 'username' and 'password')", o.username);
      }
      self->last_error_ = fmt::format("the broker refused the connection: {}{}",
                                      mosquitto_connack_string(rc), auth);
    } else {
      self->last_error_.clear();
      if (self->down_since_ms_ > 0) down_ms = SteadyMs() - self->down_since_ms_;
      self->down_since_ms_ = 0;
    }
  }
  self->connack_cv_.notify_all();
  if (rc != 0) {
    if (!first) {
      self->Log(fmt::format("table '{}': the MQTT broker {} refused client '{}': {}", o.table,
                            o.uri, self->client_id_, mosquitto_connack_string(rc)));
    }
    return;
  }
  bool session_present = (flags & 1) != 0;
  if (!session_present) {
    for (const std::string& s : self->subscriptions_) {
      int src = mosquitto_subscribe(mosq, nullptr, s.c_str(), o.qos);
      if (src == MOSQ_ERR_SUCCESS) {
        std::lock_guard<std::mutex> l(self->mu_);
        ++self->subscribed_;
      } else {
        self->Log(fmt::format("table '{}': cannot subscribe to '{}' at {}: {}", o.table, s, o.uri,
                              ErrorText(src)));
      }
    }
  }
  {
    std::lock_guard<std::mutex> l(self->mu_);
    self->connected_ = true;
  }
  self->connack_cv_.notify_all();
  if (!first) {
    spdlog::info("table '{}': reconnected to the MQTT broker {} as '{}' after {} ms ({})", o.table,
                 o.uri, self->client_id_, down_ms,
                 session_present ? "the broker kept the session" : "a new session");
  }
}

void Connection::OnDisconnect(mosquitto*, void* self_ptr, int rc) {
  auto* self = static_cast<Connection*>(self_ptr);
  self->connected_ = false;
  if (rc == 0 || self->stopping_) return;  // our own disconnect
  std::string why = ErrorText(rc);
  bool opening = false;
  {
    std::lock_guard<std::mutex> l(self->mu_);
    // A refused CONNACK says why better than the disconnect that follows it.
    if (self->connack_refused_) {
      why = self->last_error_;
    } else {
      self->last_error_ = why;
    }
    if (self->down_since_ms_ == 0) self->down_since_ms_ = SteadyMs();
    opening = self->connack_rc_ != 0;  // Open reports the failure of the first connection
  }
  self->connack_cv_.notify_all();
  if (opening) return;
  const MqttOptions& o = *self->o_;
  self->Log(fmt::format(
      "table '{}': lost the connection to the MQTT broker {} (client '{}'): {}; reconnecting "
      "with backoff ({} s doubling to {} s)",
      o.table, o.uri, self->client_id_, why, o.reconnect_min_s, o.reconnect_max_s));
}

void Connection::OnMessage(mosquitto*, void* self_ptr, const mosquitto_message* m) {
  auto* self = static_cast<Connection*>(self_ptr);
  if (self->callbacks_.on_message && m) self->callbacks_.on_message(*m);
}

void Connection::OnPublish(mosquitto*, void* self_ptr, int mid) {
  auto* self = static_cast<Connection*>(self_ptr);
  if (self->callbacks_.on_publish) self->callbacks_.on_publish(mid);
}

void Connection::OnSubscribe(mosquitto*, void* self_ptr, int, int count, const int* granted) {
  auto* self = static_cast<Connection*>(self_ptr);
  {
    std::lock_guard<std::mutex> l(self->mu_);
    ++self->subacks_;
    for (int i = 0; i < count; ++i) {
      if (granted[i] == 0x80) self->refused_ = "a subscription was refused by the broker (0x80)";
    }
  }
  self->connack_cv_.notify_all();
}

void Connection::OnLog(mosquitto*, void* self_ptr, int level, const char* line) {
  // libmosquitto reports why a TLS handshake failed only here ("OpenSSL Error[0]: error:…:
  // certificate verify failed"); its return code says "A TLS error occurred".
  if (level != MOSQ_LOG_ERR || line == nullptr || !absl::StartsWith(line, "OpenSSL Error")) return;
  auto* self = static_cast<Connection*>(self_ptr);
  {
    std::lock_guard<std::mutex> l(self->mu_);
    if (self->tls_error_.empty()) self->tls_error_ = line;
  }
  self->connack_cv_.notify_all();
}

int Connection::Publish(const std::string& topic, std::string_view payload, int qos, bool retain,
                        int* mid) {
  return mosquitto_publish(mosq_, mid, topic.c_str(), static_cast<int>(payload.size()),
                           payload.data(), qos, retain);
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    std::shared_ptr<const MqttOptions> opts, const std::string& client_id,
    std::vector<std::string> subscriptions, Callbacks callbacks) {
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  const MqttOptions& o = *opts;
  std::unique_ptr<Connection> c(
      new Connection(opts, client_id, std::move(subscriptions), std::move(callbacks)));
  auto fail = [&](std::string why) {
    if (c->mosq_) {
      std::lock_guard<std::mutex> l(c->mu_);
      if (!c->tls_error_.empty()) {
        why += fmt::format(" ({}; 'ssl.ca-file' is '{}')", c->tls_error_,
                           o.ca_file.empty() ? "unset: the system's CA certificates" : o.ca_file);
      }
    }
    return absl::UnavailableError(
        fmt::format("table '{}': cannot connect to the MQTT broker {} "
                    "as '{}': {}",
                    o.table, o.uri, client_id, why));
  };
  c->mosq_ = mosquitto_new(client_id.c_str(), o.clean_session, c.get());
  if (!c->mosq_) return fail(fmt::format("mosquitto_new failed: {}", std::strerror(errno)));
  mosquitto* m = c->mosq_;
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  // Up to 1000 QoS 1/2 messages in flight (libmosquitto's default is 20).
  mosquitto_max_inflight_messages_set(m, 1000);
  if (!o.username.empty()) {
    mosquitto_username_pw_set(m, o.username.c_str(),
                              o.password.empty() ? nullptr : o.password.c_str());
  }
  if (o.tls) {
    auto opt_str = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    if (o.ca_file.empty()) mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
    int rc = mosquitto_tls_set(m, opt_str(o.ca_file), nullptr, opt_str(o.cert_file),
                               opt_str(o.key_file), nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      return absl::InvalidArgumentError(
          fmt::format("table '{}': the TLS files ('ssl.ca-file', 'ssl.cert-file', "
                      "'ssl.key-file') cannot be used: {}",
                      o.table, ErrorText(rc)));
    }
    mosquitto_tls_opts_set(m, o.tls_verify ? 1 : 0, nullptr, nullptr);
    mosquitto_tls_insecure_set(m, !o.tls_verify);
  }
  mosquitto_reconnect_delay_set(m, static_cast<unsigned>(o.reconnect_min_s),
                                static_cast<unsigned>(o.reconnect_max_s), true);
  mosquitto_connect_with_flags_callback_set(m, &Connection::OnConnect);
  mosquitto_disconnect_callback_set(m, &Connection::OnDisconnect);
  mosquitto_message_callback_set(m, &Connection::OnMessage);
  mosquitto_publish_callback_set(m, &Connection::OnPublish);
  mosquitto_subscribe_callback_set(m, &Connection::OnSubscribe);
  mosquitto_log_callback_set(m, &Connection::OnLog);
  int rc = mosquitto_connect(m, o.host.c_str(), o.port, o.keep_alive_s);
  if (rc != MOSQ_ERR_SUCCESS) return fail(ErrorText(rc));
  rc = mosquitto_loop_start(m);
  if (rc != MOSQ_ERR_SUCCESS) return fail(fmt::format("loop_start: {}", ErrorText(rc)));
  c->loop_started_ = true;
  std::unique_lock<std::mutex> l(c->mu_);
  bool answered = c->connack_cv_.wait_for(l, std::chrono::milliseconds(o.connect_timeout_ms), [&] {
    return c->connack_rc_ > 0 || (c->connected_ && c->subacks_ >= c->subscribed_) ||
           (c->connack_rc_ < 0 && !c->tls_error_.empty());  // retrying will not mend TLS
  });
  if (c->connack_rc_ < 0 && !c->tls_error_.empty()) {
    l.unlock();
    return fail("the TLS handshake failed");
  }
  if (!answered) {
    std::string why = c->last_error_;
    l.unlock();
    return fail(fmt::format("no answer within 'connect-timeout' ({} ms){}", o.connect_timeout_ms,
                            why.empty() ? "" : ": " + why));
  }
  if (c->connack_rc_ != 0) {
    std::string why = c->last_error_;
    l.unlock();
    return fail(why);
  }
  if (!c->refused_.empty()) {
    std::string why = c->refused_;
    l.unlock();
    return fail(why);
  }
  l.unlock();
  spdlog::info("table '{}': connected to the MQTT broker {} as '{}'", o.table, o.uri, client_id);
  return c;
}

}  // namespace eddy::connectors::mqtt
