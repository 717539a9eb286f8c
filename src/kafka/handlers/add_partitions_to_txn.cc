#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: AddPartitionsToTxn v0-3 (from producers; v4+ is KIP-890's broker-to-broker
// form). A partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and the others
// OPERATION_NOT_ATTEMPTED, as in Kafka; otherwise every partition gets the coordinator's answer.
absl::StatusOr<Reply> HandleAddPartitionsToTxn(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(AddPartitionsToTxnRequest a, DecodeBody<AddPartitionsToTxnRequest>(req));
  std::vector<TopicPartition> partitions;
  std::set<TopicPartition> unknown;
  for (const auto& t : a.v3_and_below_topics) {
    auto info = ctx.log->DescribeTopic(t.name);
    for (int32_t p : t.partitions) {
      partitions.emplace_back(t.name, p);
      if (!info.ok() || p < 0 || p >= info->partition_count) unknown.emplace(t.name, p);
    }
  }
  int16_t error = 0;
  if (unknown.empty()) {
    ErrorCode e =
        ctx.txns->AddPartitions(a.v3_and_below_transactional_id, a.v3_and_below_producer_id,
                                a.v3_and_below_producer_epoch, partitions, log::WallClockMs());
    error = FencedForVersion(e, req.api_version, 2);
  }
  AddPartitionsToTxnResponse resp;
  for (const auto& t : a.v3_and_below_topics) {
    auto& rt = resp.results_by_topic_v3_and_below.emplace_back();
    rt.name = t.name;
    for (int32_t p : t.partitions) {
      auto& rp = rt.results_by_partition.emplace_back();
      rp.partition_index = p;
      if (unknown.empty()) {
        rp.partition_error_code = error;
      } else {
        rp.partition_error_code =
            Wire(unknown.count({t.name, p}) ? ErrorCode::kUnknownTopicOrPartition
                                            : ErrorCode::kOperationNotAttempted);
      }
    }
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
