// What every Kafka API handler of `eddy server` shares: the broker state a handler works on
// (HandlerContext), the handler signature, the table of served APIs (one entry per API with its
// version range and handler, in served_apis.cc), and the helpers that decode a request body and
// encode a response. One file per API under src/kafka/handlers/ (Redpanda's layout:
// kafka/server/handlers/): a newcomer fixing Fetch opens fetch.cc.
//
// Adding an API: write handlers/<api>.cc with a function of the Handler signature, declare it
// below, and add one line to the table in served_apis.cc.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/status.h"
#include "kafka/broker.h"
#include "kafka/errors.h"
#include "kafka/group_coordinator.h"
#include "kafka/messages.h"
#include "kafka/producer_state.h"
#include "kafka/txn_coordinator.h"
#include "log/log_error.h"
#include "log/log_manager.h"

namespace eddy::kafka {

/// The broker state the handlers share. Owned by the Broker; the pointers outlive it. Handlers
/// run concurrently on any thread: the log, the coordinators and the producer state are
/// thread-safe; `options` is read-only while serving; `on_append` is set before serving.
struct HandlerContext {
  log::LogManager* log = nullptr;
  GroupCoordinator* groups = nullptr;      // null: the group APIs are not served
  TransactionCoordinator* txns = nullptr;  // null: the transaction APIs are not served
  BrokerOptions options;
  ProducerStateTable producers;
  std::function<void()> on_append;  // wakes long-polling fetches

  /// Calls `on_append` when set (records were appended).
  void NotifyAppended() const {
    if (on_append) on_append();
  }
  /// The topic `name`, created with `options.default_partitions` partitions when it is unknown,
  /// `allow_create` is set and auto.create.topics.enable is on. Errors: NotFound (unknown topic),
  /// InvalidArgument (bad name), the log's errors.
  absl::StatusOr<log::TopicInfo> TopicOrAutoCreate(const std::string& name, bool allow_create);
};

/// A handler answers one request whose key and version are in its table entry's range.
/// `final_attempt` (Fetch long poll): answer with whatever is there. Errors close the
/// connection (an undecodable body, Kafka's behaviour).
using Handler = absl::StatusOr<Reply> (*)(HandlerContext& ctx, const RequestFrame& request,
                                          bool final_attempt);

/// One served API: its key, the versions ApiVersions advertises, and its handler.
struct ApiHandler {
  int16_t key;
  int16_t min_version;
  int16_t max_version;
  Handler handle;
  bool needs_groups;        // a consumer group API: served only with a GroupCoordinator
  bool needs_txns = false;  // a transaction API: served only with a TransactionCoordinator
};

/// Every API this broker serves (served_apis.cc), by key. The one list: ApiVersions, the
/// version check and the dispatch all read it.
const std::vector<ApiHandler>& ServedApis();
/// The table entry for `key`, or null.
const ApiHandler* FindServedApi(int16_t key);

// The handlers, one file each (handlers/<api>.cc).
absl::StatusOr<Reply> HandleProduce(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleFetch(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleListOffsets(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleMetadata(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleOffsetCommit(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleOffsetFetch(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleFindCoordinator(HandlerContext& ctx, const RequestFrame& req,
                                            bool final);
absl::StatusOr<Reply> HandleJoinGroup(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleHeartbeat(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleLeaveGroup(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleSyncGroup(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleDescribeGroups(HandlerContext& ctx, const RequestFrame& req,
                                           bool final);
absl::StatusOr<Reply> HandleListGroups(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleApiVersions(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleCreateTopics(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleDeleteTopics(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleDeleteGroups(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleInitProducerId(HandlerContext& ctx, const RequestFrame& req,
                                           bool final);
absl::StatusOr<Reply> HandleDescribeConfigs(HandlerContext& ctx, const RequestFrame& req,
                                            bool final);
absl::StatusOr<Reply> HandleCreatePartitions(HandlerContext& ctx, const RequestFrame& req,
                                             bool final);
absl::StatusOr<Reply> HandleDescribeCluster(HandlerContext& ctx, const RequestFrame& req,
                                            bool final);
absl::StatusOr<Reply> HandleAddPartitionsToTxn(HandlerContext& ctx, const RequestFrame& req,
                                               bool final);
absl::StatusOr<Reply> HandleAddOffsetsToTxn(HandlerContext& ctx, const RequestFrame& req,
                                            bool final);
absl::StatusOr<Reply> HandleTxnOffsetCommit(HandlerContext& ctx, const RequestFrame& req,
                                            bool final);
absl::StatusOr<Reply> HandleEndTxn(HandlerContext& ctx, const RequestFrame& req, bool final);
absl::StatusOr<Reply> HandleDescribeTransactions(HandlerContext& ctx, const RequestFrame& req,
                                                 bool final);
absl::StatusOr<Reply> HandleListTransactions(HandlerContext& ctx, const RequestFrame& req,
                                             bool final);

/// KIP-588: requests older than the version that knows PRODUCER_FENCED get
/// INVALID_PRODUCER_EPOCH instead (Kafka does the same conversion).
inline int16_t FencedForVersion(ErrorCode e, int16_t version, int16_t first_fenced_version) {
  if (e == ErrorCode::kProducerFenced && version < first_fenced_version) {
    return Wire(ErrorCode::kInvalidProducerEpoch);
  }
  return Wire(e);
}

/// The Kafka error code of a log or broker status (log::KafkaErrorOf).
inline int16_t ErrorOf(const absl::Status& st) {
  return static_cast<int16_t>(log::KafkaErrorOf(st));
}

/// Encodes a response frame (header then body) answering `req`, at the request's version.
template <typename Body>
std::string EncodeResponse(const RequestFrame& req, const Body& body) {
  std::string out;
  ByteWriter w(&out);
  ResponseHeader h;
  h.correlation_id = req.correlation_id;
  h.Encode(w, ResponseHeaderVersion(req.api_key, req.api_version));
  body.Encode(w, req.api_version);
  return out;
}

/// A Reply carrying `body` encoded as the answer to `req`.
template <typename Body>
Reply ReplyWith(const RequestFrame& req, const Body& body) {
  Reply r;
  r.frame = EncodeResponse(req, body);
  return r;
}

/// Decodes the request body as `Msg` at the request's version. Errors: InvalidArgument naming
/// the API and version.
template <typename Msg>
absl::StatusOr<Msg> DecodeBody(const RequestFrame& req) {
  Msg m;
  ByteReader r(req.body);
  absl::Status st = m.Decode(r, req.api_version);
  if (!st.ok()) {
    return absl::InvalidArgumentError(fmt::format("malformed {} v{} request: {}",
                                                  ApiName(req.api_key), req.api_version,
                                                  std::string(st.message())));
  }
  return m;
}

/// A topic id of the log as a protocol Uuid.
inline Uuid ToUuid(const std::array<uint8_t, 16>& id) {
  Uuid u;
  u.bytes = id;
  return u;
}

}  // namespace eddy::kafka
