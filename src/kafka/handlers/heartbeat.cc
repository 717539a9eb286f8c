#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: Heartbeat v0-4, answered by the GroupCoordinator.
absl::StatusOr<Reply> HandleHeartbeat(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(HeartbeatRequest h, DecodeBody<HeartbeatRequest>(req));
  int64_t now = log::WallClockMs();
  return ReplyWith(req, ctx.groups->Heartbeat(h, req.api_version, now));
}

}  // namespace eddy::kafka
