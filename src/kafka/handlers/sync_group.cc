#include <memory>

#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: SyncGroup v0-5, answered by the GroupCoordinator once the leader sent the
// assignment (a PendingReply).
absl::StatusOr<Reply> HandleSyncGroup(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(SyncGroupRequest s, DecodeBody<SyncGroupRequest>(req));
  auto pending = std::make_shared<PendingReply>();
  RequestFrame head = req;
  head.body = {};
  ctx.groups->SyncGroup(
      s, req.api_version, log::WallClockMs(),
      [pending, head](SyncGroupResponse resp) { pending->Complete(EncodeResponse(head, resp)); });
  Reply r;
  r.pending = pending;
  return r;
}

}  // namespace eddy::kafka
