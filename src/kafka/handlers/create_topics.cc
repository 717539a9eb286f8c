#include <spdlog/spdlog.h>

#include <map>

#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: CreateTopics v0-7. Unknown configs are ignored (clients send broker-specific
// ones); replication factor must be -1 or 1 on a single broker.
absl::StatusOr<Reply> HandleCreateTopics(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(CreateTopicsRequest c, DecodeBody<CreateTopicsRequest>(req));
  CreateTopicsResponse resp;
  std::map<std::string, int> seen;
  for (const auto& t : c.topics) seen[t.name]++;
  for (const auto& t : c.topics) {
    auto& tr = resp.topics.emplace_back();
    tr.name = t.name;
    auto fail = [&](ErrorCode code, std::string message) {
      tr.error_code = Wire(code);
      tr.error_message = std::move(message);
    };
    if (seen[t.name] > 1) {
      fail(ErrorCode::kInvalidRequest, "the topic is listed more than once in the request");
      continue;
    }
    if (t.replication_factor != -1 && t.replication_factor != 1) {
      fail(ErrorCode::kInvalidReplicationFactor,
           fmt::format("replication factor {} is larger than the 1 available broker",
                       t.replication_factor));
      continue;
    }
    int32_t partitions = t.num_partitions;
    if (!t.assignments.empty()) partitions = static_cast<int32_t>(t.assignments.size());
    if (partitions == -1) partitions = ctx.options.default_partitions;
    std::map<std::string, std::string> configs;
    for (const auto& kv : t.configs) {
      if (kv.value.has_value()) configs[kv.name] = *kv.value;
    }
    if (c.validate_only) {
      absl::Status st = log::LogManager::ValidateTopicName(t.name);
      if (st.ok() && ctx.log->DescribeTopic(t.name).ok())
        st = absl::AlreadyExistsError(fmt::format("topic '{}' already exists", t.name));
      if (st.ok() && partitions < 1)
        st = absl::InvalidArgumentError("the number of partitions must be at least 1");
      if (!st.ok()) {
        tr.error_code = ErrorOf(st);
        tr.error_message = std::string(st.message());
      }
      tr.num_partitions = partitions;
      tr.replication_factor = 1;
      continue;
    }
    std::vector<std::string> ignored;
    auto info = ctx.log->CreateTopic(t.name, partitions, configs, &ignored);
    if (!info.ok()) {
      tr.error_code = ErrorOf(info.status());
      tr.error_message = std::string(info.status().message());
      continue;
    }
    spdlog::info("kafka: created topic '{}' with {} partition(s){}", t.name, partitions,
                 ignored.empty()
                     ? ""
                     : fmt::format(" (ignored unknown configs: {})", fmt::join(ignored, ", ")));
    tr.topic_id = ToUuid(info->topic_id);
    tr.num_partitions = info->partition_count;
    tr.replication_factor = 1;
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
