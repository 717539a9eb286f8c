#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: InitProducerId v0-4 for idempotent producers (no transactions: a transactional
// id is refused). A producer that already has an id gets its epoch bumped (KIP-360). Ids start at
// the broker's start time in ms × 1000, so they do not repeat across restarts.
absl::StatusOr<Reply> HandleInitProducerId(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(InitProducerIdRequest i, DecodeBody<InitProducerIdRequest>(req));
  InitProducerIdResponse resp;
  if (i.transactional_id.has_value() && !i.transactional_id->empty()) {
    resp.error_code = Wire(ErrorCode::kTransactionalIdAuthorizationFailed);
    resp.producer_epoch = -1;
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
