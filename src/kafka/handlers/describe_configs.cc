#include <algorithm>

#include "kafka/handlers/handler.h"

namespace eddy::kafka {

// Kafka protocol: DescribeConfigs v0-4 for topics (every config with its effective value;
// source DYNAMIC_TOPIC_CONFIG when set on the topic, DEFAULT_CONFIG otherwise) and for this
// broker (no broker configs are exposed yet: an empty list).
absl::StatusOr<Reply> HandleDescribeConfigs(HandlerContext& ctx, const RequestFrame& req, bool) {
  EDDY_ASSIGN_OR_RETURN(DescribeConfigsRequest d, DecodeBody<DescribeConfigsRequest>(req));
  constexpr int8_t kTopic = 2, kBroker = 4;
  constexpr int8_t kDynamicTopicConfig = 1, kDefaultConfig = 5;
  DescribeConfigsResponse resp;
  for (const auto& res : d.resources) {
    auto& rr = resp.results.emplace_back();
    rr.resource_type = res.resource_type;
    rr.resource_name = res.resource_name;
    rr.error_message = std::nullopt;
    if (res.resource_type == kBroker) continue;
    if (res.resource_type != kTopic) {
      rr.error_code = Wire(ErrorCode::kInvalidRequest);
      rr.error_message = fmt::format("resource type {} is not supported", res.resource_type);
      continue;
    }
    auto info = ctx.log->DescribeTopic(res.resource_name);
    if (!info.ok()) {
      rr.error_code = ErrorOf(info.status());
      rr.error_message = std::string(info.status().message());
      continue;
    }
    for (const std::string& key : log::TopicConfig::KnownKeys()) {
      if (res.configuration_keys.has_value() && !res.configuration_keys->empty() &&
          std::find(res.configuration_keys->begin(), res.configuration_keys->end(), key) ==
              res.configuration_keys->end())
        continue;
      auto& c = rr.configs.emplace_back();
      c.name = key;
      c.value = info->config.Get(key);
      bool overridden = info->overrides.count(key) > 0;
      c.is_default = !overridden;
      c.config_source = overridden ? kDynamicTopicConfig : kDefaultConfig;
      c.documentation = std::nullopt;
    }
  }
  return ReplyWith(req, resp);
}

}  // namespace eddy::kafka
