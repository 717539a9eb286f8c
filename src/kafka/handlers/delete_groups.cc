#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: DeleteGroups v0-2 (only groups without members), answered by the
// GroupCoordinator.
absl::StatusOr<Reply> HandleDeleteGroups(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(DeleteGroupsRequest d, DecodeBody<DeleteGroupsRequest>(req));
  return ReplyWith(req, ctx.groups->DeleteGroups(d, req.api_version));
}

}  // namespace eddy::kafka
