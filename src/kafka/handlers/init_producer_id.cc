#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: InitProducerId v0-4. Without a transactional id (idempotent producers): a new
// producer id, or, for a producer that names its id and epoch (KIP-360), the epoch bumped; ids
// start at the broker's start time in ms × 1000, so they do not repeat across restarts. With a
// transactional id: the transaction coordinator's producer id and a new epoch, fencing the
// previous producer of that id (KIP-98); PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH below v4
// (KIP-588).
absl::StatusOr<Reply> HandleInitProducerId(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(InitProducerIdRequest i, DecodeBody<InitProducerIdRequest>(req));
  InitProducerIdResponse resp;
  if (i.transactional_id.has_value() && !i.transactional_id->empty()) {
    if (!ctx.txns) {
      resp.error_code = Wire(ErrorCode::kTransactionalIdAuthorizationFailed);
      resp.producer_epoch = -1;
      return ReplyWith(req, resp);
    }
    TransactionCoordinator::ProducerIdAndEpoch r =
        ctx.txns->InitProducerId(*i.transactional_id, i.transaction_timeout_ms, i.producer_id,
                                 i.producer_epoch, log::WallClockMs());
    resp.error_code = FencedForVersion(r.error, req.api_version, 4);
    resp.producer_id = r.producer_id;
    resp.producer_epoch = r.producer_epoch;
    return ReplyWith(req, resp);
  }
  if (i.producer_id >= 0 && i.producer_epoch >= 0 && i.producer_epoch < INT16_MAX - 1) {
    resp.producer_id = i.producer_id;
    resp.producer_epoch = static_cast<int16_t>(i.producer_epoch + 1);
  } else {
    resp.producer_id = ctx.producers.NextProducerId();
    resp.producer_epoch = 0;
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
