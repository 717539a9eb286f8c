#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: FindCoordinator v0-4. This node coordinates every group (and would every
// transaction).
absl::StatusOr<Reply> HandleFindCoordinator(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(FindCoordinatorRequest f, DecodeBody<FindCoordinatorRequest>(req));
  FindCoordinatorResponse resp;
  if (req.api_version < 4) {
    resp.node_id = ctx.options.node_id;
    resp.host = ctx.options.advertised_host;
    resp.port = ctx.options.advertised_port;
    resp.error_message = std::nullopt;
  } else {
    for (const auto& key : f.coordinator_keys) {
      auto& c = resp.coordinators.emplace_back();
      c.key = key;
      c.node_id = ctx.options.node_id;
      c.host = ctx.options.advertised_host;
      c.port = ctx.options.advertised_port;
      c.error_message = std::nullopt;
    }
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
