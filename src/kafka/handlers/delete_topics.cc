#include <spdlog/spdlog.h>

#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: DeleteTopics v0-6 (v6 names topics by name or id).
absl::StatusOr<Reply> HandleDeleteTopics(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(DeleteTopicsRequest d, DecodeBody<DeleteTopicsRequest>(req));
  DeleteTopicsResponse resp;
  struct Target {
    std::optional<std::string> name;
    Uuid id;
  };
  std::vector<Target> targets;
  for (const auto& n : d.topic_names) targets.push_back({n, Uuid()});
  for (const auto& t : d.topics) targets.push_back({t.name, t.topic_id});
  for (auto& t : targets) {
    auto& tr = resp.responses.emplace_back();
    std::string name;
    if (t.name.has_value()) {
      name = *t.name;
    } else {
      for (const auto& info : ctx.log->ListTopics()) {
        if (info.topic_id == t.id.bytes) name = info.name;
      }
      tr.topic_id = t.id;
      if (name.empty()) {
        tr.name = std::nullopt;
        tr.error_code = Wire(ErrorCode::kUnknownTopicId);
        continue;
      }
    }
    tr.name = name;
    auto info = ctx.log->DescribeTopic(name);
    if (info.ok()) tr.topic_id = ToUuid(info->topic_id);
    absl::Status st = ctx.log->DeleteTopic(name);
    if (!st.ok()) {
      tr.error_code = ErrorOf(st);
      tr.error_message = std::string(st.message());
      continue;
    }
    spdlog::info("kafka: deleted topic '{}'", name);
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
