#include "log/log_manager.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <system_error>

#include "base/status.h"
#include "log/log_error.h"

namespace eddy::log {
namespace {

constexpr char kTopicMagic[] = "eddy-topic";
constexpr int kTopicFormatVersion = 1;
constexpr char kTopicSuffix[] = ".topic";
constexpr char kDeletePrefix[] = ".delete-";
constexpr size_t kMaxTopicNameLength = 249;

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

absl::Status UnknownTopic(const std::string& name) {
  return LogError(absl::StatusCode::kNotFound, KafkaError::kUnknownTopicOrPartition,
                  fmt::format("unknown topic {}", name));
}

absl::Status Closed() { return absl::FailedPreconditionError("the log is closed"); }

std::array<uint8_t, 16> RandomTopicId() {
  std::random_device rd;
  std::array<uint8_t, 16> id;
  for (size_t i = 0; i < id.size(); i += 4) {
    uint32_t r = rd();
    for (size_t k = 0; k < 4; ++k) id[i + k] = static_cast<uint8_t>(r >> (8 * k));
  }
  id[6] = static_cast<uint8_t>((id[6] & 0x0F) | 0x40);  // UUID version 4
  id[8] = static_cast<uint8_t>((id[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return id;
}

bool ParseTopicId(std::string_view hex, std::array<uint8_t, 16>* id) {
  if (hex.size() != 32) return false;
  for (size_t i = 0; i < 16; ++i) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, value, 16);
    if (ec != std::errc() || ptr != hex.data() + 2 * i + 2) return false;
    (*id)[i] = static_cast<uint8_t>(value);
  }
  return true;
}

}  // namespace

std::string TopicIdToHex(const std::array<uint8_t, 16>& id) {
  std::string hex;
  for (uint8_t b : id) hex += fmt::format("{:02x}", b);
  return hex;
}

LogManager::LogManager(const std::string& data_dir, const LogManagerOptions& options)
    : data_dir_(data_dir), options_(options) {
  if (!options_.clock_ms) options_.clock_ms = WallClockMs;
}

LogManager::~LogManager() {
  absl::Status st = Close();
  if (!st.ok()) spdlog::error("log: closing {} failed: {}", data_dir_, st.ToString());
}

absl::Status LogManager::ValidateTopicName(const std::string& name) {
  auto invalid = [&](const std::string& why) {
    return LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidTopic,
                    fmt::format("invalid topic name '{}': {}", name, why));
  };
  if (name.empty()) return invalid("empty");
  if (name.size() > kMaxTopicNameLength) {
    return invalid(fmt::format("longer than {} characters", kMaxTopicNameLength));
  }
  if (name == "." || name == "..") return invalid("'.' and '..' are not allowed");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return invalid("only ASCII letters, digits, '.', '_' and '-' are allowed");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LogManager>> LogManager::Open(const std::string& data_dir,
                                                             const LogManagerOptions& options) {
  std::unique_ptr<LogManager> manager(new LogManager(data_dir, options));
  EDDY_RETURN_IF_ERROR(CreateDirectories(data_dir));
  std::string lock_path = data_dir + "/.lock";
  absl::StatusOr<FileHandle> lock = OpenFile(lock_path, O_RDWR | O_CREAT);
  if (!lock.ok()) return lock.status();
  if (::flock(lock->get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          fmt::format("log directory {} is in use by another process", data_dir));
    }
    return IoError(errno, "cannot lock", lock_path);
  }
  manager->lock_file_ = std::move(*lock);
  absl::Status st = manager->Load();
  if (!st.ok()) {
    absl::Status closed = manager->Close();
    if (!closed.ok()) spdlog::error("log: {}", closed.ToString());
    return st;
  }
  return manager;
}

std::string LogManager::DoomedDir(const TopicInfo& info, PartitionId partition) const {
  return fmt::format("{}/{}{}-{}", data_dir_, kDeletePrefix, TopicIdToHex(info.topic_id),
                     partition.value());
}

std::string LogManager::PartitionDir(const std::string& topic, int32_t partition) const {
  return fmt::format("{}/{}-{}", data_dir_, topic, partition);
}

absl::StatusOr<std::shared_ptr<Partition>> LogManager::OpenPartition(const TopicInfo& info,
                                                                     int32_t partition) const {
  PartitionOptions options;
  options.clock_ms = options_.clock_ms;
  return Partition::Open(PartitionDir(info.name, partition), info.name, PartitionId(partition),
                         info.config, options);
}

absl::Status LogManager::WriteTopicFile(const TopicInfo& info) const {
  std::string text =
      fmt::format("{} {}\nname {}\nid {}\npartitions {}\n", kTopicMagic, kTopicFormatVersion,
                  info.name, TopicIdToHex(info.topic_id), info.partition_count);
  for (const auto& [key, value] : info.overrides) {
    text += fmt::format("config {} {}\n", key, value);
  }
  return WriteFileAtomically(data_dir_ + "/" + info.name + kTopicSuffix, text);
}

absl::StatusOr<LogManager::Topic> LogManager::LoadTopic(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  auto bad = [&](const std::string& why) {
    return absl::DataLossError(fmt::format("topic metadata {}: {}", path, why));
  };
  Topic topic;
  int version = -1;
  bool have_id = false;
  size_t begin = 0;
  while (begin < text->size()) {
    size_t end = text->find('\n', begin);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    size_t space = line.find(' ');
    if (space == std::string::npos) return bad(fmt::format("bad line '{}'", line));
    std::string key = line.substr(0, space);
    std::string value = line.substr(space + 1);
    if (key == kTopicMagic) {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
      if (ec != std::errc() || ptr != value.data() + value.size()) return bad("bad version");
      if (version > kTopicFormatVersion) {
        return absl::FailedPreconditionError(fmt::format(
            "topic metadata {} has format version {}, newer than this eddy supports ({})", path,
            version, kTopicFormatVersion));
      }
    } else if (key == "name") {
      topic.info.name = value;
    } else if (key == "id") {
      if (!ParseTopicId(value, &topic.info.topic_id)) return bad("bad topic id");
      have_id = true;
    } else if (key == "partitions") {
      auto [ptr, ec] =
          std::from_chars(value.data(), value.data() + value.size(), topic.info.partition_count);
      if (ec != std::errc() || ptr != value.data() + value.size() ||
          topic.info.partition_count < 1) {
        return bad("bad partition count");
      }
    } else if (key == "config") {
      size_t sep = value.find(' ');
      if (sep == std::string::npos) return bad(fmt::format("bad config line '{}'", line));
      topic.info.overrides[value.substr(0, sep)] = value.substr(sep + 1);
    }
  }
  if (version < 0) return bad("no format header");
  if (topic.info.name.empty() || topic.info.partition_count < 1 || !have_id) {
    return bad("name, id or partitions missing");
  }
  std::vector<std::string> ignored;
  absl::StatusOr<TopicConfig> config =
      TopicConfig::WithOverrides(options_.default_config, topic.info.overrides, &ignored);
  if (!config.ok()) return bad(std::string(config.status().message()));
  for (const std::string& key : ignored) {
    spdlog::warn("log: topic {} has unknown config {}; ignoring it", topic.info.name, key);
  }
  topic.info.config = *config;
  return topic;
}

absl::Status LogManager::Load() {
  std::vector<std::string> topic_files;
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory()) {
      dirs.push_back(name);
    } else if (entry.is_regular_file() && EndsWith(name, kTopicSuffix)) {
      topic_files.push_back(name);
    } else if (entry.is_regular_file() && EndsWith(name, ".tmp")) {
      ::unlink(entry.path().c_str());  // an interrupted atomic write
    }
  }
  if (ec) return IoError(ec.value(), "cannot list", data_dir_);

  std::set<std::string> owned_dirs;
  std::unique_lock l(mu_);
  for (const std::string& file : topic_files) {
    absl::StatusOr<Topic> topic = LoadTopic(data_dir_ + "/" + file);
    if (!topic.ok()) return topic.status();
    std::string expected = file.substr(0, file.size() - std::strlen(kTopicSuffix));
    if (topic->info.name != expected) {
      return absl::DataLossError(
          fmt::format("topic metadata {}/{} names topic {}", data_dir_, file, topic->info.name));
    }
    for (int32_t p = 0; p < topic->info.partition_count; ++p) {
      absl::StatusOr<std::shared_ptr<Partition>> partition = OpenPartition(topic->info, p);
      if (!partition.ok()) return partition.status();
      topic->partitions.push_back(*partition);
      owned_dirs.insert(fmt::format("{}-{}", topic->info.name, p));
    }
    std::string name = topic->info.name;
    topics_.emplace(name, std::move(*topic));
  }
  // Leftovers: directories of a deletion in progress, and partition directories of topics whose
  // metadata is gone (a crash during CreateTopic before, or DeleteTopic after, the commit).
  for (const std::string& dir : dirs) {
    std::string path = data_dir_ + "/" + dir;
    bool deleting = owned_dirs.count(dir) == 0 && dir.rfind(kDeletePrefix, 0) == 0;
    bool orphan = !deleting && owned_dirs.count(dir) == 0 &&
                  std::filesystem::exists(path + "/partition.meta", ec);
    if (!deleting && !orphan) continue;
    spdlog::warn("log: removing {} ({})", path,
                 deleting ? "an interrupted topic deletion" : "a partition of no topic");
    EDDY_RETURN_IF_ERROR(RemoveAll(path));
  }
  spdlog::info("log: opened {} with {} topics", data_dir_, topics_.size());
  return absl::OkStatus();
}

absl::StatusOr<TopicInfo> LogManager::CreateTopic(const std::string& name, int32_t partitions,
                                                  const std::map<std::string, std::string>& configs,
                                                  std::vector<std::string>* ignored_configs) {
  EDDY_RETURN_IF_ERROR(ValidateTopicName(name));
  if (partitions < 1) {
    return LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidPartitions,
                    fmt::format("topic {}: the number of partitions must be at least 1, got {}",
                                name, partitions));
  }
  std::vector<std::string> ignored;
  absl::StatusOr<TopicConfig> config =
      TopicConfig::WithOverrides(options_.default_config, configs, &ignored);
  if (!config.ok()) return config.status();

  std::unique_lock l(mu_);
  if (closed_) return Closed();
  if (topics_.count(name) > 0) {
    return LogError(absl::StatusCode::kAlreadyExists, KafkaError::kTopicAlreadyExists,
                    fmt::format("topic {} already exists", name));
  }
  Topic topic;
  topic.info.name = name;
  topic.info.topic_id = RandomTopicId();
  topic.info.partition_count = partitions;
  topic.info.config = *config;
  for (const auto& [key, value] : configs) {
    if (std::find(ignored.begin(), ignored.end(), key) == ignored.end()) {
      topic.info.overrides[key] = value;
    }
  }
  absl::Status st;
  for (int32_t p = 0; p < partitions && st.ok(); ++p) {
    std::string dir = PartitionDir(name, p);
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) {
      spdlog::warn("log: removing stale directory {} before creating topic {}", dir, name);
      st = RemoveAll(dir);
      if (!st.ok()) break;
    }
    absl::StatusOr<std::shared_ptr<Partition>> partition = OpenPartition(topic.info, p);
    if (!partition.ok()) {
      st = partition.status();
      break;
    }
    topic.partitions.push_back(*partition);
  }
  if (st.ok()) st = SyncDirectory(data_dir_);
  if (st.ok()) st = WriteTopicFile(topic.info);  // the commit point
  if (!st.ok()) {
    for (const auto& partition : topic.partitions) {
      partition->CloseWithoutFlush();
      (void)RemoveAll(partition->dir());
    }
    return st;
  }
  for (const std::string& key : ignored) {
    spdlog::debug("log: topic {}: ignoring unknown config {}", name, key);
  }
  if (ignored_configs != nullptr) *ignored_configs = ignored;
  spdlog::debug("log: created topic {} with {} partitions", name, partitions);
  TopicInfo info = topic.info;
  topics_.emplace(name, std::move(topic));
  return info;
}

absl::Status LogManager::DeleteTopic(const std::string& name) {
  Topic topic;
  {
    std::unique_lock l(mu_);
    if (closed_) return Closed();
    auto it = topics_.find(name);
    if (it == topics_.end()) return UnknownTopic(name);
    // The commit point: without its metadata file the topic no longer exists.
    std::string path = data_dir_ + "/" + name + kTopicSuffix;
    if (::unlink(path.c_str()) != 0) return IoError(errno, "cannot delete", path);
    EDDY_RETURN_IF_ERROR(SyncDirectory(data_dir_));
    topic = std::move(it->second);
    topics_.erase(it);
    // Rename the directories while holding the lock, so a CreateTopic of the same name that
    // follows finds the names free.
    for (const auto& partition : topic.partitions) {
      partition->CloseWithoutFlush();
      std::string doomed = DoomedDir(topic.info, partition->id());
      if (::rename(partition->dir().c_str(), doomed.c_str()) != 0 && errno != ENOENT) {
        spdlog::error("log: cannot rename {}: {}", partition->dir(), std::strerror(errno));
      }
    }
  }
  absl::Status result;
  for (const auto& partition : topic.partitions) {
    result.Update(RemoveAll(DoomedDir(topic.info, partition->id())));
  }
  spdlog::debug("log: deleted topic {}", name);
  return result;
}

absl::Status LogManager::AddPartitions(const std::string& name, int32_t total) {
  std::unique_lock l(mu_);
  if (closed_) return Closed();
  auto it = topics_.find(name);
  if (it == topics_.end()) return UnknownTopic(name);
  Topic& topic = it->second;
  if (total <= topic.info.partition_count) {
    return LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidPartitions,
                    fmt::format("topic {} has {} partitions; the new count {} must be larger", name,
                                topic.info.partition_count, total));
  }
  std::vector<std::shared_ptr<Partition>> added;
  absl::Status st;
  for (int32_t p = topic.info.partition_count; p < total && st.ok(); ++p) {
    std::string dir = PartitionDir(name, p);
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) st = RemoveAll(dir);
    if (!st.ok()) break;
    absl::StatusOr<std::shared_ptr<Partition>> partition = OpenPartition(topic.info, p);
    if (!partition.ok()) {
      st = partition.status();
      break;
    }
    added.push_back(*partition);
  }
  if (st.ok()) st = SyncDirectory(data_dir_);
  TopicInfo info = topic.info;
  info.partition_count = total;
  if (st.ok()) st = WriteTopicFile(info);
  if (!st.ok()) {
    for (const auto& partition : added) {
      partition->CloseWithoutFlush();
      (void)RemoveAll(partition->dir());
    }
    return st;
  }
  topic.info = info;
  for (auto& partition : added) topic.partitions.push_back(std::move(partition));
  spdlog::info("log: topic {} now has {} partitions", name, total);
  return absl::OkStatus();
}

absl::Status LogManager::AlterTopicConfig(
    const std::string& name, const std::map<std::string, std::optional<std::string>>& changes) {
  std::unique_lock l(mu_);
  if (closed_) return Closed();
  auto it = topics_.find(name);
  if (it == topics_.end()) return UnknownTopic(name);
  Topic& topic = it->second;
  std::map<std::string, std::string> overrides = topic.info.overrides;
  const auto& known = TopicConfig::KnownKeys();
  for (const auto& [key, value] : changes) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidConfig,
                      fmt::format("unknown topic config {}", key));
    }
    if (value.has_value()) {
      overrides[key] = *value;
    } else {
      overrides.erase(key);
    }
  }
  absl::StatusOr<TopicConfig> config =
      TopicConfig::WithOverrides(options_.default_config, overrides, nullptr);
  if (!config.ok()) return config.status();
  TopicInfo info = topic.info;
  info.overrides = overrides;
  info.config = *config;
  EDDY_RETURN_IF_ERROR(WriteTopicFile(info));
  topic.info = info;
  for (const auto& partition : topic.partitions) partition->SetConfig(*config);
  return absl::OkStatus();
}

std::vector<TopicInfo> LogManager::ListTopics() const {
  std::shared_lock l(mu_);
  std::vector<TopicInfo> topics;
  for (const auto& [name, topic] : topics_) topics.push_back(topic.info);
  return topics;
}

absl::StatusOr<TopicInfo> LogManager::DescribeTopic(const std::string& name) const {
  std::shared_lock l(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return UnknownTopic(name);
  return it->second.info;
}

absl::StatusOr<std::shared_ptr<Partition>> LogManager::GetPartition(const std::string& topic,
                                                                    PartitionId partition) const {
  std::shared_lock l(mu_);
  if (closed_) return Closed();
  auto it = topics_.find(topic);
  if (it == topics_.end()) return UnknownTopic(topic);
  if (partition.value() < 0 || partition.value() >= it->second.info.partition_count) {
    return LogError(absl::StatusCode::kNotFound, KafkaError::kUnknownTopicOrPartition,
                    fmt::format("topic {} has no partition {}", topic, partition.value()));
  }
  return it->second.partitions[static_cast<size_t>(partition.value())];
}

std::vector<std::shared_ptr<Partition>> LogManager::AllPartitions() const {
  std::shared_lock l(mu_);
  std::vector<std::shared_ptr<Partition>> all;
  for (const auto& [name, topic] : topics_) {
    all.insert(all.end(), topic.partitions.begin(), topic.partitions.end());
  }
  return all;
}

absl::Status LogManager::RunRetention(int64_t now_ms) {
  absl::Status result;
  for (const auto& partition : AllPartitions()) {
    absl::StatusOr<RetentionResult> r = partition->RunRetention(now_ms);
    if (!r.ok() && !absl::IsFailedPrecondition(r.status())) result.Update(r.status());
  }
  return result;
}

absl::Status LogManager::FlushIfDue(int64_t now_ms) {
  absl::Status result;
  for (const auto& partition : AllPartitions()) {
    absl::Status st = partition->FlushIfDue(now_ms);
    if (!absl::IsFailedPrecondition(st)) result.Update(st);
  }
  return result;
}

absl::Status LogManager::SyncAll() {
  absl::Status result;
  for (const auto& partition : AllPartitions()) {
    absl::Status st = partition->Sync();
    if (!absl::IsFailedPrecondition(st)) result.Update(st);
  }
  return result;
}

absl::Status LogManager::Close() {
  std::map<std::string, Topic> topics;
  {
    std::unique_lock l(mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    topics = topics_;
  }
  absl::Status result;
  for (const auto& [name, topic] : topics) {
    for (const auto& partition : topic.partitions) result.Update(partition->Close());
  }
  return result;
}

}  // namespace eddy::log
