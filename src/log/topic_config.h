// Per-topic log configuration, with Kafka's config names and defaults (Kafka: topic-level
// configs). Every key can change at run time through LogManager::AlterTopicConfig; a change
// applies to the next append, roll, flush or retention pass.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "log/record_batch.h"

namespace eddy::log {

/// The effective configuration of one topic. A plain value; copy freely.
struct TopicConfig {
  /// retention.ms: delete a closed segment once its newest record is older than this (ms);
  /// -1 keeps segments forever. Default 604800000 (7 days).
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;
  /// retention.bytes: delete the oldest closed segments while the partition is larger than this
  /// (bytes); -1 = no size limit. Default -1.
  int64_t retention_bytes = -1;
  /// segment.bytes: roll to a new segment when the active one would exceed this size (bytes).
  /// Range [14, 2^31-1]. Default 1073741824 (1 GiB).
  int64_t segment_bytes = 1LL << 30;
  /// segment.ms: roll when the active segment's first batch is older than this (ms), even when
  /// not full. Default 604800000 (7 days).
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;
  /// flush.messages: fsync after this many records since the last fsync. Default
  /// 9223372036854775807 (never: fsync only on request, Sync/SyncUpTo).
  int64_t flush_messages = std::numeric_limits<int64_t>::max();
  /// flush.ms: fsync when the last fsync is older than this (ms), checked on append and by
  /// Partition::FlushIfDue. Default 9223372036854775807 (never).
  int64_t flush_ms = std::numeric_limits<int64_t>::max();
  /// cleanup.policy: only "delete" is supported ("compact" is rejected). Default "delete".
  std::string cleanup_policy = "delete";
  /// max.message.bytes: the largest record batch accepted (bytes). Default 1048588.
  int64_t max_message_bytes = 1048588;
  /// message.timestamp.type: "CreateTime" keeps producers' timestamps; "LogAppendTime" stamps
  /// each batch with the broker's clock. Default CreateTime.
  TimestampType message_timestamp_type = TimestampType::kCreateTime;
  /// index.interval.bytes: add an offset and a time index entry every this many bytes of
  /// batches (bytes). Default 4096.
  int64_t index_interval_bytes = 4096;
  /// compression.type: only "producer" (Kafka's default): batches are stored as producers
  /// compressed them; Kafka's other values (recompressing on the broker) are refused.
  std::string compression_type = "producer";
  /// delete.retention.ms: how long tombstones of a compacted topic are kept (ms). Kept and
  /// shown, without effect: eddy has no compacted topics. Default 86400000 (1 day).
  int64_t delete_retention_ms = 86400000;

  /// The config keys this struct understands, in a stable order.
  static const std::vector<std::string>& KnownKeys();

  /// Whether `key` is one of Apache Kafka's topic configs (3.x), whether eddy supports it or not:
  /// CreateTopics refuses the unsupported ones by name and unknown names as Kafka does.
  static bool IsKafkaTopicConfig(const std::string& key);

  /// Sets `key` from its Kafka string form. Errors: InvalidArgument (INVALID_CONFIG) for a value
  /// out of range or not a number; NotFound for a key not in KnownKeys().
  absl::Status Set(const std::string& key, const std::string& value);

  /// The value of `key` in its Kafka string form ("" for an unknown key).
  std::string Get(const std::string& key) const;

  /// `base` with each entry of `overrides` applied. Unknown keys are skipped and appended to
  /// `ignored` (when not null), as Kafka clients expect of CreateTopics. Errors: InvalidArgument
  /// (INVALID_CONFIG) for a bad value of a known key.
  static absl::StatusOr<TopicConfig> WithOverrides(
      const TopicConfig& base, const std::map<std::string, std::string>& overrides,
      std::vector<std::string>* ignored);
};

}  // namespace eddy::log
