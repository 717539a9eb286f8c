// The Kafka listener of `eddy server`: TCP connections on Asio with C++20 coroutines (DESIGN.md
// §3: I/O threads hand work to the rest). One I/O thread reads size-prefixed request frames and
// writes responses in request order per connection (Kafka protocol: "the server guarantees that
// on a single TCP connection, requests will be processed in the order they are sent"); request
// handling runs on a small handler pool because Produce with acks=all waits for an fsync.
//
// Memory is bounded whatever clients send: a request body is read as its bytes arrive (never
// allocated from its announced size), request bytes count against a server-wide and a
// per-connection budget (backpressure: a connection over budget is not read), connections are
// limited in number, overall and per IP, and idle ones are closed (ServerLimits).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kafka/broker.h"

namespace eddy::kafka {

/// Limits of the listener, with Kafka's broker config names. Defaults are in docs/kafka-broker.md
/// ("Limits"); none can change while the server runs.
struct ServerLimits {
  /// socket.request.max.bytes: the largest request frame (bytes); a frame announcing more closes
  /// its connection with a log line. Kafka's default 104857600 (100 MiB).
  int64_t socket_request_max_bytes = 100 << 20;
  /// queued.max.request.bytes: request bytes held at once over every connection (bytes):
  /// requests being read or handled and Produce requests with acks=all whose batches are not yet
  /// fsynced. While it is used up, connections are not read (backpressure), except the one with
  /// the largest incomplete request, so requests being read can always complete. 0 or less: no
  /// limit (Kafka's default, -1). Default 268435456 (256 MiB). Must be at least
  /// socket_request_max_bytes.
  int64_t queued_max_request_bytes = 256 << 20;
  /// The same budget per connection, counting also the answers it has not read yet (bytes): the
  /// connection's next request is read only while it holds less (no Kafka name: Kafka reads one
  /// request per connection at a time). Default 33554432 (32 MiB).
  int64_t connection_max_queued_bytes = 32 << 20;
  /// max.connections: open connections; a connection beyond is closed at once with a log line.
  /// Default 10000 (Kafka: unlimited).
  int max_connections = 10000;
  /// max.connections.per.ip: the same per client IP address; 0 = max_connections (Kafka's default
  /// is unlimited).
  int max_connections_per_ip = 0;
  /// connections.max.idle.ms: a connection with nothing read or written for this long and no
  /// request in progress is closed (ms); 0 = never. Kafka's default 600000 (10 min).
  int64_t connections_max_idle_ms = 600000;
};

/// A running Kafka listener. Thread-safe: Stop() may be called from any thread (e.g. a signal
/// watcher).
class KafkaServer {
 public:
  /// Binds `host`:`port` (port 0 picks a free port; see port()) and starts serving `broker`,
  /// which must outlive the server. `handler_threads` run the request handlers. Errors:
  /// InvalidArgument for a bad address or inconsistent limits, Unavailable when the address
  /// cannot be bound (in use).
  static absl::StatusOr<std::unique_ptr<KafkaServer>> Start(Broker* broker, const std::string& host,
                                                            int port, int handler_threads = 4,
                                                            ServerLimits limits = {});
  /// Stops (see Stop()).
  ~KafkaServer();
  KafkaServer(const KafkaServer&) = delete;
  KafkaServer& operator=(const KafkaServer&) = delete;

  /// The bound port.
  int port() const;
  /// Stops accepting, closes every connection (a long-polling fetch is dropped unanswered, as
  /// when a broker goes away), waits for running handlers and joins the threads. Idempotent.
  void Stop();

 private:
  struct State;
  explicit KafkaServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace eddy::kafka
