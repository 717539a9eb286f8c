#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: DescribeTransactions v0 (KIP-664): state, producer id and epoch, timeout, start
// time and partitions of each transactional id.
absl::StatusOr<Reply> HandleDescribeTransactions(HandlerContext& ctx, const RequestFrame& req,
                                                 bool) {
  EDDY_ASSIGN_OR_RETURN(DescribeTransactionsRequest d,
                        DecodeBody<DescribeTransactionsRequest>(req));
  return ReplyWith(req, ctx.txns->Describe(d, log::WallClockMs()));
}

}  // namespace eddy::kafka
