// The log of a broker: one data directory holding topics, each with N partitions
// (docs/log-format.md). Opens and recovers every partition at start, creates, alters and deletes
// topics, and hands out partitions to the Kafka handlers and to pipelines.
//
// Thread-safety: every method is thread-safe. Topic operations are serialized by one mutex;
// partitions returned by GetPartition are used without it (see partition.h).
// Durability: topic metadata changes (create, delete, add partitions, alter config) are durable
// when the call returns (write to a temporary file, fsync, rename, fsync the directory).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/ids.h"
#include "log/file_util.h"
#include "log/partition.h"
#include "log/topic_config.h"

namespace eddy::log {

/// Options of the whole log.
struct LogManagerOptions {
  /// Broker-level defaults of the topic configs (Kafka's log.retention.ms etc.); a topic's own
  /// settings override them. Default: Kafka's defaults (see TopicConfig).
  TopicConfig default_config;
  /// Clock for appends, rolls and flushes. Default: WallClockMs.
  ClockMs clock_ms;
};

/// A topic's metadata (Kafka protocol: Metadata / DescribeConfigs topic fields).
struct TopicInfo {
  std::string name;
  /// Kafka topic id (a UUID, 16 bytes), random at creation.
  std::array<uint8_t, 16> topic_id{};
  int32_t partition_count = 0;
  /// The configs set on this topic, by Kafka name; others come from the defaults.
  std::map<std::string, std::string> overrides;
  /// The effective config: defaults with the overrides applied.
  TopicConfig config;
};

/// The topics and partitions of one data directory. See the file comment.
class LogManager {
 public:
  /// Opens `data_dir` (creating it if missing), takes an exclusive lock on it (a second process
  /// gets FailedPrecondition), reads every `<topic>.topic` file and opens (recovering) each
  /// partition. Leftovers of an interrupted topic deletion are removed. Errors: I/O errors,
  /// DataLoss for unreadable metadata, FailedPrecondition for a newer format version.
  static absl::StatusOr<std::unique_ptr<LogManager>> Open(const std::string& data_dir,
                                                          const LogManagerOptions& options = {});

  /// Closes every partition (logging errors).
  ~LogManager();

  LogManager(const LogManager&) = delete;
  LogManager& operator=(const LogManager&) = delete;

  /// Kafka's topic name rule: 1-249 characters from [a-zA-Z0-9._-], not "." or "..".
  /// Errors: InvalidArgument (INVALID_TOPIC_EXCEPTION).
  static absl::Status ValidateTopicName(const std::string& name);

  /// Creates a topic with `partitions` partitions and the config overrides `configs` (Kafka
  /// names). Unknown config keys are ignored, as Kafka clients expect, and listed in
  /// `ignored_configs` when not null. Errors: AlreadyExists (TOPIC_ALREADY_EXISTS);
  /// InvalidArgument with INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS (partitions < 1) or
  /// INVALID_CONFIG; I/O errors.
  absl::StatusOr<TopicInfo> CreateTopic(const std::string& name, int32_t partitions,
                                        const std::map<std::string, std::string>& configs = {},
                                        std::vector<std::string>* ignored_configs = nullptr);

  /// Deletes a topic and all its data. Partitions still held elsewhere fail with
  /// FailedPrecondition from then on. Errors: NotFound (UNKNOWN_TOPIC_OR_PARTITION); I/O errors.
  absl::Status DeleteTopic(const std::string& name);

  /// Raises the partition count of a topic to `total` (CreatePartitions). Errors: NotFound;
  /// InvalidArgument (INVALID_PARTITIONS) when `total` is not larger than the current count.
  absl::Status AddPartitions(const std::string& name, int32_t total);

  /// IncrementalAlterConfigs: sets each key of `changes` to its value, or back to the default
  /// when the value is nullopt; applies to the partitions at once. Unknown keys: InvalidArgument
  /// (INVALID_CONFIG). Errors: NotFound for the topic.
  absl::Status AlterTopicConfig(const std::string& name,
                                const std::map<std::string, std::optional<std::string>>& changes);

  /// All topics, sorted by name.
  std::vector<TopicInfo> ListTopics() const;

  /// One topic. Errors: NotFound (UNKNOWN_TOPIC_OR_PARTITION).
  absl::StatusOr<TopicInfo> DescribeTopic(const std::string& name) const;

  /// A partition of a topic. Errors: NotFound (UNKNOWN_TOPIC_OR_PARTITION).
  absl::StatusOr<std::shared_ptr<Partition>> GetPartition(const std::string& topic,
                                                          PartitionId partition) const;

  /// Runs Partition::RunRetention(now_ms) on every partition; returns the first error after
  /// trying them all. The broker calls it periodically.
  absl::Status RunRetention(int64_t now_ms);

  /// Runs Partition::FlushIfDue(now_ms) on every partition; returns the first error.
  absl::Status FlushIfDue(int64_t now_ms);

  /// fsyncs every partition.
  absl::Status SyncAll();

  /// Closes every partition (index files written, everything fsynced). Idempotent; other calls
  /// fail with FailedPrecondition afterwards.
  absl::Status Close();

  const std::string& data_dir() const { return data_dir_; }

 private:
  struct Topic {
    TopicInfo info;
    std::vector<std::shared_ptr<Partition>> partitions;
  };

  LogManager(const std::string& data_dir, const LogManagerOptions& options);

  absl::Status Load();
  absl::StatusOr<Topic> LoadTopic(const std::string& path);
  absl::Status WriteTopicFile(const TopicInfo& info) const;
  std::string PartitionDir(const std::string& topic, int32_t partition) const;
  // Where a partition directory is renamed while its topic is deleted.
  std::string DoomedDir(const TopicInfo& info, PartitionId partition) const;
  absl::StatusOr<std::shared_ptr<Partition>> OpenPartition(const TopicInfo& info,
                                                           int32_t partition) const;
  std::vector<std::shared_ptr<Partition>> AllPartitions() const;

  const std::string data_dir_;
  LogManagerOptions options_;
  FileHandle lock_file_;

  mutable std::shared_mutex mu_;  // guards topics_ and closed_
  std::map<std::string, Topic> topics_;
  bool closed_ = false;
};

/// The topic id as 32 lowercase hex digits.
std::string TopicIdToHex(const std::array<uint8_t, 16>& id);

}  // namespace eddy::log
