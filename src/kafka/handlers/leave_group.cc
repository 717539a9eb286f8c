#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: LeaveGroup v0-5 (v3+ removes a batch of members, by member id or
// group.instance.id), answered by the GroupCoordinator.
absl::StatusOr<Reply> HandleLeaveGroup(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(LeaveGroupRequest l, DecodeBody<LeaveGroupRequest>(req));
  int64_t now = log::WallClockMs();
  return ReplyWith(req, ctx.groups->LeaveGroup(l, req.api_version, now));
}

}  // namespace eddy::kafka
