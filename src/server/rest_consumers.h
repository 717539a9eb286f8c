// Consumer instances of Confluent's REST Proxy v2 (as Redpanda's HTTP Proxy implements them) over
// the server's local topics: POST /consumers/{group} creates an instance, which subscribes to
// topics, fetches records (json or binary embedded format), commits offsets to the broker's
// consumer group (the same offsets Kafka clients of the group see: OffsetCommit/OffsetFetch),
// seeks, and is deleted or expires after consumer.instance.timeout.ms without a request.
//
// Assignment: the REST instances of one group share the partitions of the topics they subscribe
// to, range-assigned over the instances sorted by name (one instance takes every partition). They
// are not members of the group's Kafka membership protocol: they commit as a simple consumer does
// (generation -1), which the coordinator refuses while Kafka clients are active members of the
// group (answered 409, error_code 40903). docs/rest-api.md "Consumers".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/local_topics.h"

namespace eddy::server {

struct HttpRequest;
struct HttpResponse;

/// The consumer instances of the REST API. Thread-safe: every method may be called from any HTTP
/// thread.
class RestConsumers {
 public:
  /// `instance_timeout_ms`: consumer.instance.timeout.ms, how long an instance lives without a
  /// request (default 300000, Confluent's).
  explicit RestConsumers(std::shared_ptr<connectors::kafka::LocalTopics> topics,
                         int64_t instance_timeout_ms = 300000);
  ~RestConsumers();

  /// Answers a request whose path is /consumers/`rest` (`rest`: "{group}" or
  /// "{group}/instances/{name}[/subscription|/records|/offsets|/positions[/beginning|/end]|
  /// /assignments]"). `now_ms`: a steady clock in ms (instances idle longer than the timeout are
  /// removed first). A records fetch with nothing to read waits up to its `timeout` (at most
  /// 1000 ms) on the calling thread.
  HttpResponse Handle(const HttpRequest& req, const std::string& rest, int64_t now_ms);

  /// The number of live instances (for tests and metrics).
  size_t size();

  struct Instance;

 private:
  HttpResponse Create(const HttpRequest& req, const std::string& group, int64_t now_ms);
  HttpResponse Subscription(const HttpRequest& req, Instance* in);
  HttpResponse Records(const HttpRequest& req, const std::string& query, Instance* in,
                       std::unique_lock<std::mutex>* lock);
  HttpResponse CommitOffsets(const HttpRequest& req, Instance* in);
  HttpResponse CommittedOffsets(const HttpRequest& req, Instance* in);
  HttpResponse Seek(const HttpRequest& req, Instance* in, const std::string& where);
  HttpResponse Assignments(Instance* in);
  /// The partitions `in` owns now (range assignment over the group's subscribed instances);
  /// positions of partitions it lost are dropped (a partition that comes back starts again from
  /// the committed offset).
  std::vector<std::pair<std::string, int32_t>> Assigned(Instance* in);
  void Expire(int64_t now_ms);

  std::shared_ptr<connectors::kafka::LocalTopics> topics_;
  int64_t instance_timeout_ms_;
  std::mutex mu_;
  /// By (group, name).
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Instance>> instances_;
  uint64_t next_id_ = 0;
};

}  // namespace eddy::server
