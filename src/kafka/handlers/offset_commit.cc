#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: OffsetCommit v0-8 (fsynced before the answer), answered by the GroupCoordinator.
absl::StatusOr<Reply> HandleOffsetCommit(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(OffsetCommitRequest c, DecodeBody<OffsetCommitRequest>(req));
  int64_t now = log::WallClockMs();
  return ReplyWith(req, ctx.groups->OffsetCommit(c, req.api_version, now));
}

}  // namespace eddy::kafka
