#include <vector>

#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: OffsetCommit v0-8, answered by the GroupCoordinator (fsynced before the
// answer). As in Kafka, a partition of a topic that does not exist (or beyond its partition
// count) is answered with UNKNOWN_TOPIC_OR_PARTITION and not committed; the others are committed.
absl::StatusOr<Reply> HandleOffsetCommit(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(OffsetCommitRequest c, DecodeBody<OffsetCommitRequest>(req));
  // The request with only the partitions that exist, for the coordinator.
  OffsetCommitRequest known = c;
  known.topics.clear();
  std::vector<std::vector<bool>> exists(c.topics.size());
  for (size_t t = 0; t < c.topics.size(); ++t) {
    const auto& topic = c.topics[t];
    auto info = ctx.log->DescribeTopic(topic.name);
    decltype(known.topics)::value_type* kt = nullptr;
    for (const auto& p : topic.partitions) {
      bool ok = info.ok() && p.partition_index >= 0 && p.partition_index < info->partition_count;
      exists[t].push_back(ok);
      if (!ok) continue;
      if (!kt) {
        kt = &known.topics.emplace_back();
        kt->name = topic.name;
      }
      kt->partitions.push_back(p);
    }
  }
  OffsetCommitResponse committed =
      ctx.groups->OffsetCommit(known, req.api_version, log::WallClockMs());
  // The answer in request order: the coordinator's for known partitions (it answers them in
  // the order given), UNKNOWN_TOPIC_OR_PARTITION for the others.
  OffsetCommitResponse resp;
  resp.throttle_time_ms = committed.throttle_time_ms;
  size_t next_topic = 0;
  for (size_t t = 0; t < c.topics.size(); ++t) {
    auto& rt = resp.topics.emplace_back();
    rt.name = c.topics[t].name;
    size_t next_partition = 0;
    bool any_known = false;
    for (size_t i = 0; i < c.topics[t].partitions.size(); ++i) {
      if (exists[t][i]) {
        any_known = true;
        rt.partitions.push_back(committed.topics.at(next_topic).partitions.at(next_partition++));
      } else {
        auto& rp = rt.partitions.emplace_back();
        rp.partition_index = c.topics[t].partitions[i].partition_index;
        rp.error_code = Wire(ErrorCode::kUnknownTopicOrPartition);
      }
    }
    if (any_known) ++next_topic;
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
