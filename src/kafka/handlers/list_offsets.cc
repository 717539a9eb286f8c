#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: ListOffsets v1-6. -1 = latest (log end), -2 = earliest (log start), otherwise
// the first offset whose record timestamp is >= the target; offset -1 when there is none. With
// isolation level read_committed (v2+) "latest" is the last stable offset.
absl::StatusOr<Reply> HandleListOffsets(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(ListOffsetsRequest l, DecodeBody<ListOffsetsRequest>(req));
  ListOffsetsResponse resp;
  for (const auto& lt : l.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = lt.name;
    for (const auto& lp : lt.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = lp.partition_index;
      pr.timestamp = -1;
      pr.offset = -1;
      auto part = ctx.log->GetPartition(lt.name, PartitionId(lp.partition_index));
      if (!part.ok()) {
        pr.error_code = ErrorOf(part.status());
        continue;
      }
      if (lp.timestamp < 0 && lp.timestamp != log::kLatestTimestamp &&
          lp.timestamp != log::kEarliestTimestamp) {
        // -3 (max timestamp, KIP-734) and others arrive only from versions not advertised.
        pr.error_code = Wire(ErrorCode::kUnsupportedVersion);
        continue;
      }
      auto res = (*part)->OffsetForTimestamp(lp.timestamp);
      if (!res.ok()) {
        pr.error_code = ErrorOf(res.status());
        continue;
      }
      if (l.isolation_level == 1) {
        // read_committed (KIP-98): the latest offset is the last stable offset, and an offset
        // at or past it is not answered.
        Offset lso = (*part)->LastStableOffset();
        if (lp.timestamp == log::kLatestTimestamp) {
          (*res)->offset = lso;
        } else if (res->has_value() && (*res)->offset >= lso) {
          *res = std::nullopt;
        }
      }
      if (res->has_value()) {
        pr.offset = (*res)->offset.value();
        pr.timestamp = (*res)->timestamp_ms;
      }
      pr.leader_epoch = 0;
    }
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
