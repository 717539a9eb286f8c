#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: ListTransactions v0-1 (KIP-664; v1's duration filter is KIP-994).
absl::StatusOr<Reply> HandleListTransactions(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(ListTransactionsRequest l, DecodeBody<ListTransactionsRequest>(req));
  return ReplyWith(req, ctx.txns->List(l, log::WallClockMs()));
}

}  // namespace eddy::kafka
