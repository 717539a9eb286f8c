#include "log/topic_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "log/log_error.h"

namespace eddy::log {
namespace {

absl::Status BadConfig(const std::string& key, const std::string& value, const std::string& why) {
  return LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidConfig,
                  fmt::format("invalid value '{}' for topic config {}: {}", value, key, why));
}

absl::StatusOr<int64_t> ParseLong(const std::string& key, const std::string& value, int64_t min,
                                  int64_t max) {
  int64_t v = 0;
  const char* begin = value.data();
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || value.empty()) {
    return BadConfig(key, value, "not an integer");
  }
  if (v < min || v > max) {
    return BadConfig(key, value, fmt::format("must be in [{}, {}]", min, max));
  }
  return v;
}

constexpr int64_t kMaxLong = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

}  // namespace

const std::vector<std::string>& TopicConfig::KnownKeys() {
  static const std::vector<std::string> keys = {
      "cleanup.policy",  "compression.type",     "delete.retention.ms", "flush.messages",
      "flush.ms",        "index.interval.bytes", "max.message.bytes",   "message.timestamp.type",
      "retention.bytes", "retention.ms",         "segment.bytes",       "segment.ms"};
  return keys;
}

bool TopicConfig::IsKafkaTopicConfig(const std::string& key) {
  // Apache Kafka's topic-level configs (TopicConfig, Kafka 3.x).
  static const std::vector<std::string> kafka = {"cleanup.policy",
                                                 "compression.type",
                                                 "compression.gzip.level",
                                                 "compression.lz4.level",
                                                 "compression.zstd.level",
                                                 "delete.retention.ms",
                                                 "file.delete.delay.ms",
                                                 "flush.messages",
                                                 "flush.ms",
                                                 "follower.replication.throttled.replicas",
                                                 "index.interval.bytes",
                                                 "leader.replication.throttled.replicas",
                                                 "local.retention.bytes",
                                                 "local.retention.ms",
                                                 "max.compaction.lag.ms",
                                                 "max.message.bytes",
                                                 "message.downconversion.enable",
                                                 "message.format.version",
                                                 "message.timestamp.after.max.ms",
                                                 "message.timestamp.before.max.ms",
                                                 "message.timestamp.difference.max.ms",
                                                 "message.timestamp.type",
                                                 "min.cleanable.dirty.ratio",
                                                 "min.compaction.lag.ms",
                                                 "min.insync.replicas",
                                                 "preallocate",
                                                 "remote.storage.enable",
                                                 "retention.bytes",
                                                 "retention.ms",
                                                 "segment.bytes",
                                                 "segment.index.bytes",
                                                 "segment.jitter.ms",
                                                 "segment.ms",
                                                 "unclean.leader.election.enable"};
  return std::find(kafka.begin(), kafka.end(), key) != kafka.end();
}

absl::Status TopicConfig::Set(const std::string& key, const std::string& value) {
  auto set_long = [&](int64_t* field, int64_t min, int64_t max) -> absl::Status {
    absl::StatusOr<int64_t> v = ParseLong(key, value, min, max);
    if (!v.ok()) return v.status();
    *field = *v;
    return absl::OkStatus();
  };
  if (key == "retention.ms") return set_long(&retention_ms, -1, kMaxLong);
  if (key == "retention.bytes") return set_long(&retention_bytes, -1, kMaxLong);
  if (key == "segment.bytes") return set_long(&segment_bytes, 14, kMaxInt);
  if (key == "segment.ms") return set_long(&segment_ms, 1, kMaxLong);
  if (key == "flush.messages") return set_long(&flush_messages, 1, kMaxLong);
  if (key == "flush.ms") return set_long(&flush_ms, 0, kMaxLong);
  if (key == "max.message.bytes") return set_long(&max_message_bytes, 0, kMaxInt);
  if (key == "index.interval.bytes") return set_long(&index_interval_bytes, 0, kMaxInt);
  if (key == "delete.retention.ms") return set_long(&delete_retention_ms, 0, kMaxLong);
  if (key == "compression.type") {
    if (value != "producer") {
      return BadConfig(key, value,
                       "eddy stores record batches as producers compressed them; only "
                       "compression.type=producer is supported");
    }
    compression_type = value;
    return absl::OkStatus();
  }
  if (key == "cleanup.policy") {
    if (value != "delete") {
      return BadConfig(key, value, "only cleanup.policy=delete is supported");
    }
    cleanup_policy = value;
    return absl::OkStatus();
  }
  if (key == "message.timestamp.type") {
    if (value == "CreateTime") {
      message_timestamp_type = TimestampType::kCreateTime;
    } else if (value == "LogAppendTime") {
      message_timestamp_type = TimestampType::kLogAppendTime;
    } else {
      return BadConfig(key, value, "must be CreateTime or LogAppendTime");
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(fmt::format("unknown topic config {}", key));
}

std::string TopicConfig::Get(const std::string& key) const {
  if (key == "retention.ms") return std::to_string(retention_ms);
  if (key == "retention.bytes") return std::to_string(retention_bytes);
  if (key == "segment.bytes") return std::to_string(segment_bytes);
  if (key == "segment.ms") return std::to_string(segment_ms);
  if (key == "flush.messages") return std::to_string(flush_messages);
  if (key == "flush.ms") return std::to_string(flush_ms);
  if (key == "max.message.bytes") return std::to_string(max_message_bytes);
  if (key == "index.interval.bytes") return std::to_string(index_interval_bytes);
  if (key == "delete.retention.ms") return std::to_string(delete_retention_ms);
  if (key == "compression.type") return compression_type;
  if (key == "cleanup.policy") return cleanup_policy;
  if (key == "message.timestamp.type") {
    return message_timestamp_type == TimestampType::kLogAppendTime ? "LogAppendTime" : "CreateTime";
  }
  return "";
}

absl::StatusOr<TopicConfig> TopicConfig::WithOverrides(
    const TopicConfig& base, const std::map<std::string, std::string>& overrides,
    std::vector<std::string>* ignored) {
  TopicConfig config = base;
  for (const auto& [key, value] : overrides) {
    absl::Status st = config.Set(key, value);
    if (absl::IsNotFound(st)) {
      if (ignored != nullptr) ignored->push_back(key);
      continue;
    }
    if (!st.ok()) return st;
  }
  return config;
}

}  // namespace eddy::log
