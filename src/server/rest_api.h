// The REST API of `eddy server` (docs/rest-api.md): pipelines (create, list, inspect, cancel),
// EXPLAIN, the topics of the log and the consumer groups with their lag, health, Prometheus
// metrics, and records produced over HTTP as Confluent's REST Proxy v2 takes them. Transport-free:
// the HTTP server (http_server.h) turns requests into HttpRequest and writes HttpResponse back, so
// the routes are tested without sockets.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/local_topics.h"
#include "kafka/group_coordinator.h"
#include "log/log_manager.h"
#include "server/pipelines.h"
#include "server/rest_consumers.h"
#include "server/topic_rates.h"

namespace eddy::server {

/// One HTTP request as the API sees it. `target` is the path with its query string.
struct HttpRequest {
  std::string method;  // "GET", "POST", "DELETE", ...
  std::string target;  // "/v1/pipelines/orders?x=1"
  std::string content_type;
  std::string accept;         // the Accept header ("text/event-stream" asks for Server-Sent Events)
  std::string if_none_match;  // the If-None-Match header (ETags of a cached copy), "" when none
  std::string host;           // the Host header ("127.0.0.1:8080"), "" when none
  std::string body;
};

/// A response body produced over time (a push query): the HTTP server sends each chunk as it
/// comes (chunked transfer encoding) until Next returns false, and calls Cancel when the client
/// goes away or the server stops. Next and Cancel are called from different threads.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  /// Blocks until the next chunk (true, `*chunk` set) or the end of the body (false). Returns
  /// false soon after Cancel.
  virtual bool Next(std::string* chunk) = 0;
  /// The client is gone: stop producing (idempotent, thread-safe).
  virtual void Cancel() = 0;
  /// Blocks until the producer has stopped (after Cancel: its job ended and released what it
  /// held). The server calls it when it stops.
  virtual void WaitEnded() {}
};

/// The answer: status, content type and body, or a `stream` whose chunks follow the headers.
/// Errors are JSON {"error_code": status, "message": "..."} (as Confluent's REST Proxy and
/// Redpanda's HTTP Proxy answer).
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::shared_ptr<ResponseStream> stream;                    // when set, `body` is ignored
  std::vector<std::pair<std::string, std::string>> headers;  // more headers: ETag, Cache-Control
};

/// What GET /v1/health tells of the server beside its health (the dashboard's overview).
struct ServerInfo {
  std::string version;          // "0.1.0"
  std::string kafka_bootstrap;  // the Kafka listener as clients and kafka tables name it
  int64_t start_ms = 0;         // wall clock, ms since the epoch, when the server started
};

/// Push queries running now (POST /v1/query whose client has not gone away). Thread-safe.
int RunningPushQueries();

/// Routes requests to the pipelines and the log. Thread-safe (Pipelines and LogManager are).
class RestApi {
 public:
  /// `log`, `topics` and `groups` may be null (no topics routes, no produce, no groups then).
  RestApi(Pipelines* pipelines, log::LogManager* log,
          std::shared_ptr<connectors::kafka::LocalTopics> topics = nullptr,
          kafka::GroupCoordinator* groups = nullptr)
      : pipelines_(pipelines), log_(log), topics_(std::move(topics)), groups_(groups) {
    if (topics_) consumers_ = std::make_shared<RestConsumers>(topics_);
  }

  /// Sets consumer.instance.timeout.ms of the REST Proxy's consumer instances (default 300000).
  /// Call before serving (not thread-safe); drops existing instances.
  void SetConsumerInstanceTimeoutMs(int64_t ms) {
    if (topics_) consumers_ = std::make_shared<RestConsumers>(topics_, ms);
  }

  /// Answers one request: 200/201 with JSON (or text/plain for /metrics), 400 bad JSON or SQL
  /// (the message names line:column), 404 unknown path or name, 405 wrong method, 409 name in
  /// use, 415 a body that is not application/json.
  HttpResponse Handle(const HttpRequest& req) const;

  /// Sets what GET /v1/health reports of the server. Call before serving (not thread-safe).
  void SetServerInfo(ServerInfo info) { info_ = std::move(info); }

  /// Samples the topics' end offsets for their records/s in (`now_ms`: a steady clock in ms).
  /// `eddy server` calls it once a second; without it the rates are null. Thread-safe.
  void SampleTopicRates(int64_t now_ms) {
    if (log_) topic_rates_.Sample(*log_, now_ms);
  }

 private:
  HttpResponse HandlePipelines(const HttpRequest& req, const std::string& name) const;
  HttpResponse HandleTopics(const HttpRequest& req, const std::string& name) const;
  HttpResponse HandleExplain(const HttpRequest& req) const;
  HttpResponse HandleMetrics() const;
  HttpResponse HandleGroups(const HttpRequest& req, const std::string& name) const;
  /// POST /v1/query: a push query (push_query.cc).
  HttpResponse HandleQuery(const HttpRequest& req) const;
  // GET /v1/watch?path=...&interval_ms=...: the JSON of GET routes as Server-Sent Events
  // (watch.cc).
  HttpResponse HandleWatch(const HttpRequest& req) const;
  /// Confluent REST Proxy v2: POST /topics/{topic} (rest_proxy.cc).
  HttpResponse HandleProduce(const HttpRequest& req, const std::string& topic) const;

  Pipelines* pipelines_;
  log::LogManager* log_;
  std::shared_ptr<connectors::kafka::LocalTopics> topics_;
  kafka::GroupCoordinator* groups_;
  std::shared_ptr<RestConsumers> consumers_;  // REST Proxy consumer instances (with topics_)
  ServerInfo info_;
  TopicRates topic_rates_;
};

/// The JSON error body {"error_code": status, "message": message} with that status.
HttpResponse ErrorResponse(int status, const std::string& message);

}  // namespace eddy::server
