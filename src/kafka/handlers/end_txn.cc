#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: EndTxn v0-3: commits or aborts the producer's open transaction; answered once
// the markers are written and fsynced on every partition of the transaction.
absl::StatusOr<Reply> HandleEndTxn(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(EndTxnRequest e, DecodeBody<EndTxnRequest>(req));
  EndTxnResponse resp;
  ErrorCode err = ctx.txns->EndTxn(e.transactional_id, e.producer_id, e.producer_epoch, e.committed,
                                   log::WallClockMs());
  resp.error_code = FencedForVersion(err, req.api_version, 2);
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
