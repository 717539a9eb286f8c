#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: ListGroups v0-4, answered by the GroupCoordinator.
absl::StatusOr<Reply> HandleListGroups(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(ListGroupsRequest l, DecodeBody<ListGroupsRequest>(req));
  return ReplyWith(req, ctx.groups->ListGroups(l, req.api_version));
}

}  // namespace eddy::kafka
