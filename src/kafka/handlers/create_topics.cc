#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "kafka/handlers/handler.h"
#include "log/topic_config.h"

namespace eddy::kafka {

namespace {

// The topic's configs as a map, or INVALID_CONFIG naming the first config refused: a name that is
// not a Kafka topic config (Kafka's own answer), one of Kafka's that eddy does not implement (so
// nothing a client asks for is dropped in silence), a null value, or a value out of range.
absl::StatusOr<std::map<std::string, std::string>> TopicConfigs(
    const decltype(CreateTopicsRequest::topics)::value_type& t) {
  auto invalid = [](std::string message) {
    return log::LogError(absl::StatusCode::kInvalidArgument, log::KafkaError::kInvalidConfig,
                         std::move(message));
  };
  std::map<std::string, std::string> configs;
  const auto& known = log::TopicConfig::KnownKeys();
  for (const auto& kv : t.configs) {
    if (!log::TopicConfig::IsKafkaTopicConfig(kv.name)) {
      return invalid(fmt::format("Unknown topic config name: {}", kv.name));
    }
    if (std::find(known.begin(), known.end(), kv.name) == known.end()) {
      return invalid(fmt::format("topic config {} is not supported by eddy server (supported: {})",
                                 kv.name, fmt::join(known, ", ")));
    }
    if (!kv.value.has_value()) {
      return invalid(fmt::format("Null value not supported for topic config {}", kv.name));
    }
    configs[kv.name] = *kv.value;
  }
  // Values: range and form, as CreateTopic would check them (for validate_only too).
  auto checked = log::TopicConfig::WithOverrides(log::TopicConfig(), configs, nullptr);
  if (!checked.ok()) return checked.status();
  return configs;
}

}  // namespace

// Kafka protocol: CreateTopics v0-7. Configs are checked (TopicConfigs above); replication factor
// must be -1 or 1 on a single broker.
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
    auto configs = TopicConfigs(t);
    if (!configs.ok()) {
      tr.error_code = ErrorOf(configs.status());
      tr.error_message = std::string(configs.status().message());
      continue;
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
    auto info = ctx.log->CreateTopic(t.name, partitions, *configs);
    if (!info.ok()) {
      tr.error_code = ErrorOf(info.status());
      tr.error_message = std::string(info.status().message());
      continue;
    }
    spdlog::info("kafka: created topic '{}' with {} partition(s)", t.name, partitions);
    tr.topic_id = ToUuid(info->topic_id);
    tr.num_partitions = info->partition_count;
    tr.replication_factor = 1;
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
