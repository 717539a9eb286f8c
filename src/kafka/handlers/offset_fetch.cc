#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: OffsetFetch v1-8 (v8+ asks for several groups), answered by the GroupCoordinator.
// With require_stable (v7+, KIP-447) a partition whose offset an open transaction is committing
// gets UNSTABLE_OFFSET_COMMIT, and the consumer asks again.
absl::StatusOr<Reply> HandleOffsetFetch(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(OffsetFetchRequest f, DecodeBody<OffsetFetchRequest>(req));
  OffsetFetchResponse resp = ctx.groups->OffsetFetch(f, req.api_version);
  if (f.require_stable && ctx.txns) {
    auto mark = [&](const std::string& group, auto& topics) {
      for (auto& t : topics) {
        for (auto& p : t.partitions) {
          if (p.error_code == 0 &&
              ctx.txns->HasPendingOffsets(group, {t.name, p.partition_index})) {
            p.error_code = Wire(ErrorCode::kUnstableOffsetCommit);
          }
        }
      }
    };
    if (req.api_version < 8) {
      mark(f.group_id, resp.topics);
    } else {
      for (auto& g : resp.groups) mark(g.group_id, g.topics);
    }
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
