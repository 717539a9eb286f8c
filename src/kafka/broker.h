// The Kafka request handlers of `eddy server`, independent of the network: a request frame in, a
// response frame out, over the local log (src/log). Kafka protocol: the APIs listed in
// docs/kafka-broker.md, at the versions of the table in kafka/handlers/served_apis.cc (one handler
// file per API in kafka/handlers/). Single broker: this node leads every partition, replicas =
// ISR = {this node}, the high watermark is the log end offset.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kafka/group_coordinator.h"
#include "log/log_manager.h"

namespace eddy::kafka {

/// Broker settings (Kafka names in comments).
struct BrokerOptions {
  int32_t node_id = 0;                        // node.id
  std::string advertised_host = "127.0.0.1";  // advertised.listeners host
  int32_t advertised_port = 9092;             // advertised.listeners port
  std::string cluster_id = "eddy-cluster";
  bool auto_create_topics = true;  // auto.create.topics.enable
  int32_t default_partitions = 1;  // num.partitions
  /// fetch.max.bytes: the most record bytes one Fetch response carries, whatever the request asks
  /// (its first batch may exceed it, KIP-74). Kafka's default 57671680 (55 MiB).
  int64_t fetch_max_bytes = 55 << 20;
};

/// A parsed request header plus the body bytes that follow it.
struct RequestFrame {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  std::string_view body;    // the request body (after the header), into the frame
  std::string client_host;  // the peer's address (set by the network layer)
};

/// A response that is completed later, from another request's thread (JoinGroup waits for the
/// other members, SyncGroup for the leader). Thread-safe.
class PendingReply {
 public:
  /// Sets the response frame and calls the waiter, if one is set. Called once.
  void Complete(std::string frame);
  /// Calls `waiter` once the frame is there (at once if it already is). Called once.
  void OnComplete(std::function<void()> waiter);
  /// The frame (after completion).
  std::string TakeFrame();
  bool done();

 private:
  std::mutex mu_;
  bool done_ = false;
  std::string frame_;
  std::function<void()> waiter_;
};

/// Splits a request frame (the bytes after the 4-byte size) into header and body. Errors:
/// InvalidArgument for a truncated or malformed header. The result points into `frame`, which
/// must outlive it.
absl::StatusOr<RequestFrame> ParseRequestFrame(std::string_view frame);
/// A temporary string would leave the parsed frame dangling (found by ASan in two tests).
absl::StatusOr<RequestFrame> ParseRequestFrame(std::string&& frame) = delete;

/// What answering one request needs from the network layer.
struct Reply {
  /// The response frame without its 4-byte size prefix (header + body); empty when no response
  /// is sent (Produce with acks=0).
  std::string frame;
  bool respond = true;
  /// Fetch only (KIP-74 long poll): fewer than MinBytes were available, so the client allows the
  /// broker to wait up to `max_wait_ms` (ms, from the request's arrival) for new appends. The
  /// caller retries Handle() when data arrives and answers with `frame` (what there is) at the
  /// deadline.
  bool wants_more_data = false;
  int32_t max_wait_ms = 0;
  /// Set when the answer comes later: `frame` is empty and the caller waits for `pending`.
  std::shared_ptr<PendingReply> pending;
  /// Produce with acks=all: the records are appended; each of `sync_steps` makes one
  /// partition's records durable (fsync, shared with concurrent producers: group commit) and
  /// blocks while it does. The steps are independent and may run concurrently on any threads,
  /// off the network thread; once all of them have returned, `finish` (which does not block)
  /// returns the response frame. The caller may handle the connection's next request meanwhile
  /// (answers still go out in request order). Both empty otherwise.
  std::vector<std::function<void()>> sync_steps;
  std::function<std::string()> finish;
};

struct HandlerContext;
class TransactionCoordinator;

/// Handles requests. Thread-safe: any number of connections may call Handle() concurrently
/// (the log is thread-safe; Handle() does not wait for fsync: a Produce with acks=all returns
/// the blocking part as Reply::sync_steps).
class Broker {
 public:
  /// `groups` may be null (no consumer group APIs then), `txns` too (no transaction APIs then;
  /// a transactional InitProducerId is refused). Sets `txns`'s append listener and producer id
  /// source.
  Broker(log::LogManager* log, GroupCoordinator* groups, BrokerOptions options,
         TransactionCoordinator* txns = nullptr);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  /// Answers one request through its API's handler (kafka/handlers/). `final_attempt` (Fetch
  /// long-poll): answer with whatever is there even below MinBytes. Errors (the connection must be
  /// closed, as Kafka does): an unknown API key, an unsupported version of an API other than
  /// ApiVersions, an undecodable body.
  absl::StatusOr<Reply> Handle(const RequestFrame& request, bool final_attempt = false);

  /// Called after every successful append (wakes long-polling fetches). Set once before serving.
  void SetAppendListener(std::function<void()> listener);

  /// Tells the listener that records were appended to the log other than through Produce (by
  /// pipelines writing to the local log), so long-polling fetches see them at once. Thread-safe
  /// while the listener is not being replaced (pipelines stop before the server does).
  void NotifyAppended();

  const BrokerOptions& options() const;
  /// The port Metadata advertises (set once the listener is bound, before serving).
  void SetAdvertisedPort(int32_t port);

 private:
  std::unique_ptr<HandlerContext> ctx_;
};

}  // namespace eddy::kafka
