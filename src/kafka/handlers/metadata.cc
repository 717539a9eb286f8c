#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: Metadata v0-12.
absl::StatusOr<Reply> HandleMetadata(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(MetadataRequest m, DecodeBody<MetadataRequest>(req));
  MetadataResponse resp;
  auto& b = resp.brokers.emplace_back();
  b.node_id = ctx.options.node_id;
  b.host = ctx.options.advertised_host;
  b.port = ctx.options.advertised_port;
  resp.cluster_id = ctx.options.cluster_id;
  resp.controller_id = ctx.options.node_id;
  // Which topics: v0 sends an empty array for "all"; v1+ sends null for "all".
  bool all = !m.topics.has_value() || (req.api_version == 0 && m.topics->empty());
  std::vector<std::string> names;
  std::vector<std::optional<log::TopicInfo>> infos;
  std::vector<int16_t> errors;
  if (all) {
    for (auto& t : ctx.log->ListTopics()) {
      names.push_back(t.name);
      infos.push_back(std::move(t));
      errors.push_back(0);
    }
  } else {
    // Auto-creation: v4+ asks per request; older versions follow the broker setting.
    bool allow = req.api_version < 4 || m.allow_auto_topic_creation;
    std::vector<log::TopicInfo> all_topics;
    for (const auto& t : *m.topics) {
      std::string name;
      if (t.name.has_value()) {
        name = *t.name;
      } else {
        // v10+: by topic id.
        if (all_topics.empty()) all_topics = ctx.log->ListTopics();
        for (const auto& info : all_topics) {
          if (info.topic_id == t.topic_id.bytes) name = info.name;
        }
        if (name.empty()) {
          names.push_back("");
          infos.push_back(std::nullopt);
          errors.push_back(Wire(ErrorCode::kUnknownTopicId));
          continue;
        }
      }
      absl::Status valid = log::LogManager::ValidateTopicName(name);
      if (!valid.ok()) {
        names.push_back(name);
        infos.push_back(std::nullopt);
        errors.push_back(Wire(ErrorCode::kInvalidTopicException));
        continue;
      }
      auto info = ctx.TopicOrAutoCreate(name, allow);
      names.push_back(name);
      if (info.ok()) {
        infos.push_back(std::move(*info));
        errors.push_back(0);
      } else {
        infos.push_back(std::nullopt);
        errors.push_back(ErrorOf(info.status()));
      }
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto& t = resp.topics.emplace_back();
    t.error_code = errors[i];
    t.name = names[i];
    if (!infos[i]) continue;
    t.topic_id = ToUuid(infos[i]->topic_id);
    for (int32_t p = 0; p < infos[i]->partition_count; ++p) {
      auto& part = t.partitions.emplace_back();
      part.partition_index = p;
      part.leader_id = ctx.options.node_id;
      part.leader_epoch = 0;
      part.replica_nodes = {ctx.options.node_id};
      part.isr_nodes = {ctx.options.node_id};
    }
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
