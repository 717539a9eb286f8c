#include <spdlog/spdlog.h>

#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: CreatePartitions v0-3 (raise a topic's partition count; replica assignments are
// ignored on a single broker).
absl::StatusOr<Reply> HandleCreatePartitions(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(CreatePartitionsRequest c, DecodeBody<CreatePartitionsRequest>(req));
  CreatePartitionsResponse resp;
  for (const auto& t : c.topics) {
    auto& tr = resp.results.emplace_back();
    tr.name = t.name;
    absl::Status st;
    if (c.validate_only) {
      auto info = ctx.log->DescribeTopic(t.name);
      st = info.status();
      if (st.ok() && t.count <= info->partition_count) {
        st = absl::InvalidArgumentError(
            fmt::format("topic '{}' has {} partitions; the new count must be larger", t.name,
                        info->partition_count));
      }
      if (!st.ok())
        st = log::LogError(st.code(), log::KafkaError::kInvalidPartitions,
                           std::string(st.message()));
    } else {
      st = ctx.log->AddPartitions(t.name, t.count);
      if (st.ok()) spdlog::info("kafka: topic '{}' now has {} partitions", t.name, t.count);
    }
    if (!st.ok()) {
      tr.error_code = ErrorOf(st);
      tr.error_message = std::string(st.message());
    }
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
