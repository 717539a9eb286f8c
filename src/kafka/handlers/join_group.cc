#include <memory>

#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: JoinGroup v0-7, answered by the GroupCoordinator when the join phase ends (the
// other members rejoined, or the rebalance timeout passed): a PendingReply.
absl::StatusOr<Reply> HandleJoinGroup(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(JoinGroupRequest j, DecodeBody<JoinGroupRequest>(req));
  auto pending = std::make_shared<PendingReply>();
  RequestFrame head = req;
  head.body = {};
  ctx.groups->JoinGroup(
      j, req.api_version, {req.client_id.value_or(""), req.client_host}, log::WallClockMs(),
      [pending, head](JoinGroupResponse resp) { pending->Complete(EncodeResponse(head, resp)); });
  Reply r;
  r.pending = pending;
  return r;
}

}  // namespace eddy::kafka
