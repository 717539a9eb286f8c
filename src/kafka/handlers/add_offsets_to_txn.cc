#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: AddOffsetsToTxn v0-3: the transaction will commit offsets of a consumer group
// (TxnOffsetCommit), applied when it commits.
absl::StatusOr<Reply> HandleAddOffsetsToTxn(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(AddOffsetsToTxnRequest a, DecodeBody<AddOffsetsToTxnRequest>(req));
  AddOffsetsToTxnResponse resp;
  if (a.group_id.empty()) {
    resp.error_code = Wire(ErrorCode::kInvalidGroupId);
    return ReplyWith(req, resp);
  }
  ErrorCode e = ctx.txns->AddOffsets(a.transactional_id, a.producer_id, a.producer_epoch,
                                     a.group_id, log::WallClockMs());
  resp.error_code = FencedForVersion(e, req.api_version, 2);
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
