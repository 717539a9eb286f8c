#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: TxnOffsetCommit v0-3: consumer offsets written by a transaction, pending until
// it ends (the committed offsets of the group change only if it commits). A partition of a topic
// that does not exist gets UNKNOWN_TOPIC_OR_PARTITION; the group membership fields of v3
// (KIP-447) are not checked.
absl::StatusOr<Reply> HandleTxnOffsetCommit(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(TxnOffsetCommitRequest c, DecodeBody<TxnOffsetCommitRequest>(req));
  std::vector<GroupCoordinator::TxnOffset> offsets;
  std::set<TopicPartition> unknown;
  for (const auto& t : c.topics) {
    auto info = ctx.log->DescribeTopic(t.name);
    for (const auto& p : t.partitions) {
      if (!info.ok() || p.partition_index < 0 || p.partition_index >= info->partition_count) {
        unknown.emplace(t.name, p.partition_index);
        continue;
      }
      GroupCoordinator::TxnOffset o;
      o.topic = t.name;
      o.partition = p.partition_index;
      o.offset = p.committed_offset;
      o.metadata = p.committed_metadata.value_or("");
      o.leader_epoch = p.committed_leader_epoch;
      offsets.push_back(std::move(o));
    }
  }
  int16_t error = Wire(ErrorCode::kInvalidGroupId);
  if (!c.group_id.empty()) {
    error = FencedForVersion(ctx.txns->TxnOffsetCommit(c.transactional_id, c.producer_id,
                                                       c.producer_epoch, c.group_id, offsets),
                             req.api_version, 3);
  }
  TxnOffsetCommitResponse resp;
  for (const auto& t : c.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = unknown.count({t.name, p.partition_index})
                          ? Wire(ErrorCode::kUnknownTopicOrPartition)
                          : error;
    }
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
