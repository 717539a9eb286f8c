// The Kafka listener of `eddy server`: TCP connections on Asio with C++20 coroutines (DESIGN.md
// §3: I/O threads hand work to the rest). One I/O thread reads size-prefixed request frames and
// writes responses in request order per connection (Kafka protocol: "the server guarantees that
// on a single TCP connection, requests will be processed in the order they are sent"); request
// handling runs on a small handler pool because Produce with acks=all waits for an fsync.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "kafka/broker.h"

namespace eddy::kafka {

/// A running Kafka listener. Thread-safe: Stop() may be called from any thread (e.g. a signal
/// watcher).
class KafkaServer {
 public:
  /// Binds `host`:`port` (port 0 picks a free port; see port()) and starts serving `broker`,
  /// which must outlive the server. `handler_threads` run the request handlers. Errors:
  /// InvalidArgument for a bad address, Unavailable when the address cannot be bound (in use).
  static absl::StatusOr<std::unique_ptr<KafkaServer>> Start(Broker* broker, const std::string& host,
                                                            int port, int handler_threads = 4);
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
