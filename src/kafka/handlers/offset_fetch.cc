#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: OffsetFetch v1-8 (v8+ asks for several groups), answered by the GroupCoordinator.
absl::StatusOr<Reply> HandleOffsetFetch(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(OffsetFetchRequest f, DecodeBody<OffsetFetchRequest>(req));
  return ReplyWith(req, ctx.groups->OffsetFetch(f, req.api_version));
}

}  // namespace eddy::kafka
