#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: DescribeGroups v0-5, answered by the GroupCoordinator.
absl::StatusOr<Reply> HandleDescribeGroups(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(DescribeGroupsRequest d, DecodeBody<DescribeGroupsRequest>(req));
  return ReplyWith(req, ctx.groups->DescribeGroups(d, req.api_version));
}

}  // namespace eddy::kafka
