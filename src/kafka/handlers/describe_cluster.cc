#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: DescribeCluster v0-1: this one broker.
absl::StatusOr<Reply> HandleDescribeCluster(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(DescribeClusterRequest d, DecodeBody<DescribeClusterRequest>(req));
  DescribeClusterResponse resp;
  resp.endpoint_type = d.endpoint_type;
  resp.cluster_id = ctx.options.cluster_id;
  resp.controller_id = ctx.options.node_id;
  auto& b = resp.brokers.emplace_back();
  b.broker_id = ctx.options.node_id;
  b.host = ctx.options.advertised_host;
  b.port = ctx.options.advertised_port;
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
