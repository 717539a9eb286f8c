// Kafka protocol: ApiVersions v0-3.
#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// An unsupported version is answered with a v0 body carrying UNSUPPORTED_VERSION and the full
// list, so the client can retry with a version it shares; the response header is v0 whatever the
// version. The list is the table of served_apis.cc, without the group (transaction) APIs when the
// broker has no group (transaction) coordinator.
absl::StatusOr<Reply> HandleApiVersions(HandlerContext& ctx, const RequestFrame& req, bool) {
  ApiVersionsResponse resp;
  for (const auto& a : ServedApis()) {
    if (a.needs_groups && !ctx.groups) continue;
    if (a.needs_txns && !ctx.txns) continue;
    auto& k = resp.api_keys.emplace_back();
    k.api_key = a.key;
    k.min_version = a.min_version;
    k.max_version = a.max_version;
  }
  const ApiHandler* self = FindServedApi(ApiVersionsRequest::kApiKey);
  if (req.api_version < self->min_version || req.api_version > self->max_version) {
    resp.error_code = Wire(ErrorCode::kUnsupportedVersion);
    RequestFrame v0 = req;
    v0.api_version = 0;
    return ReplyWith(v0, resp);
  }
  // The request body (client software name/version) is informational; a malformed one is
  // answered with INVALID_REQUEST as Kafka does.
  ApiVersionsRequest body;
  ByteReader r(req.body);
  if (!body.Decode(r, req.api_version).ok()) resp.error_code = Wire(ErrorCode::kInvalidRequest);
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
