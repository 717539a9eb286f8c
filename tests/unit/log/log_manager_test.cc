#include "log/log_manager.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "log/log_error.h"
#include "log_test_util.h"

namespace eddy::log {
namespace {

using testing::MakeBatch;
using testing::ScratchDir;

class LogManagerTest : public ::testing::Test {
 protected:
  std::unique_ptr<LogManager> Open() {
    absl::StatusOr<std::unique_ptr<LogManager>> log = LogManager::Open(dir_.path());
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }
  ScratchDir dir_;
};

TEST_F(LogManagerTest, CreateListAndReopen) {
  std::array<uint8_t, 16> id{};
  {
    auto log = Open();
    std::vector<std::string> ignored;
    absl::StatusOr<TopicInfo> info = log->CreateTopic(
        "orders", 3, {{"retention.ms", "60000"}, {"segment.bytes", "4096"}, {"foo.bar", "x"}},
        &ignored);
    ASSERT_TRUE(info.ok()) << info.status();
    id = info->topic_id;
    EXPECT_EQ(ignored, std::vector<std::string>{"foo.bar"});
    EXPECT_EQ(info->config.retention_ms, 60000);
    EXPECT_EQ(info->config.segment_bytes, 4096);
    EXPECT_EQ(info->config.retention_bytes, -1);  // default
    ASSERT_TRUE(log->CreateTopic("clicks", 1).ok());
    EXPECT_TRUE(std::filesystem::exists(dir_.Sub("orders.topic")));
    for (int p = 0; p < 3; ++p) {
      EXPECT_TRUE(std::filesystem::is_directory(dir_.Sub(fmt::format("orders-{}", p))));
    }
    auto partition = log->GetPartition("orders", PartitionId(2));
    ASSERT_TRUE(partition.ok());
    ASSERT_TRUE((*partition)->Append(MakeBatch(4)).ok());
  }
  auto log = Open();
  std::vector<TopicInfo> topics = log->ListTopics();
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[0].name, "clicks");
  EXPECT_EQ(topics[1].name, "orders");
  EXPECT_EQ(topics[1].partition_count, 3);
  EXPECT_EQ(topics[1].topic_id, id);
  EXPECT_EQ(topics[1].config.retention_ms, 60000);
  EXPECT_EQ(topics[1].overrides.size(), 2u);
  EXPECT_EQ(topics[1].overrides.count("foo.bar"), 0u);
  auto partition = log->GetPartition("orders", PartitionId(2));
  ASSERT_TRUE(partition.ok());
  EXPECT_EQ((*partition)->HighWatermark(), Offset(4));
  EXPECT_EQ((*partition)->config().segment_bytes, 4096);
}

TEST_F(LogManagerTest, Errors) {
  auto log = Open();
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  absl::Status st = log->CreateTopic("t", 1).status();
  EXPECT_TRUE(absl::IsAlreadyExists(st));
  EXPECT_EQ(KafkaErrorOf(st), KafkaError::kTopicAlreadyExists);
  for (const std::string& name : {std::string(""), std::string("."), std::string(".."),
                                  std::string("a b"), std::string("a/b"), std::string(250, 'x')}) {
    st = log->CreateTopic(name, 1).status();
    EXPECT_EQ(KafkaErrorOf(st), KafkaError::kInvalidTopic) << "'" << name << "'";
  }
  EXPECT_TRUE(log->CreateTopic(std::string(249, 'x'), 1).ok());
  EXPECT_EQ(KafkaErrorOf(log->CreateTopic("u", 0).status()), KafkaError::kInvalidPartitions);
  EXPECT_EQ(KafkaErrorOf(log->CreateTopic("u", 1, {{"retention.ms", "soon"}}).status()),
            KafkaError::kInvalidConfig);
  EXPECT_EQ(KafkaErrorOf(log->CreateTopic("u", 1, {{"cleanup.policy", "compact"}}).status()),
            KafkaError::kInvalidConfig);
  EXPECT_EQ(KafkaErrorOf(log->CreateTopic("u", 1, {{"segment.bytes", "1"}}).status()),
            KafkaError::kInvalidConfig);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("u-0")));
  st = log->GetPartition("t", PartitionId(1)).status();
  EXPECT_TRUE(absl::IsNotFound(st));
  EXPECT_EQ(KafkaErrorOf(st), KafkaError::kUnknownTopicOrPartition);
  EXPECT_EQ(KafkaErrorOf(log->GetPartition("nope", PartitionId(0)).status()),
            KafkaError::kUnknownTopicOrPartition);
  EXPECT_EQ(KafkaErrorOf(log->DeleteTopic("nope")), KafkaError::kUnknownTopicOrPartition);
  EXPECT_EQ(KafkaErrorOf(log->AddPartitions("t", 1)), KafkaError::kInvalidPartitions);
  // A second process (here: a second open) cannot use the same directory.
  absl::StatusOr<std::unique_ptr<LogManager>> second = LogManager::Open(dir_.path());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
}

TEST_F(LogManagerTest, DeleteTopic) {
  {
    auto log = Open();
    ASSERT_TRUE(log->CreateTopic("gone", 2).ok());
    ASSERT_TRUE(log->CreateTopic("kept", 1).ok());
    auto held = log->GetPartition("gone", PartitionId(0));
    ASSERT_TRUE(held.ok());
    ASSERT_TRUE((*held)->Append(MakeBatch(3)).ok());
    ASSERT_TRUE(log->DeleteTopic("gone").ok());
    EXPECT_TRUE(absl::IsFailedPrecondition((*held)->Append(MakeBatch(1)).status()));
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub("gone.topic")));
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub("gone-0")));
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub("gone-1")));
    EXPECT_EQ(log->ListTopics().size(), 1u);
    // The name is free again, with empty partitions.
    ASSERT_TRUE(log->CreateTopic("gone", 1).ok());
    auto fresh = log->GetPartition("gone", PartitionId(0));
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ((*fresh)->HighWatermark(), Offset(0));
    ASSERT_TRUE(log->DeleteTopic("gone").ok());
  }
  auto log = Open();
  ASSERT_EQ(log->ListTopics().size(), 1u);
  EXPECT_EQ(log->ListTopics()[0].name, "kept");
}

TEST_F(LogManagerTest, LeftoversOfInterruptedOperationsAreRemoved) {
  {
    auto log = Open();
    ASSERT_TRUE(log->CreateTopic("ghost", 1).ok());
    ASSERT_TRUE(log->CreateTopic("real", 1).ok());
  }
  // A crash after the metadata of "ghost" went but before its directory did, and one in the
  // middle of removing renamed directories.
  std::filesystem::remove(dir_.Sub("ghost.topic"));
  std::filesystem::create_directories(dir_.Sub(".delete-0123-0"));
  std::filesystem::create_directories(dir_.Sub("not-ours"));
  auto log = Open();
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("ghost-0")));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub(".delete-0123-0")));
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("not-ours")));
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("real-0")));
  EXPECT_EQ(log->ListTopics().size(), 1u);
}

TEST_F(LogManagerTest, AddPartitionsPersists) {
  {
    auto log = Open();
    ASSERT_TRUE(log->CreateTopic("t", 1).ok());
    ASSERT_TRUE((*log->GetPartition("t", PartitionId(0)))->Append(MakeBatch(2)).ok());
    ASSERT_TRUE(log->AddPartitions("t", 4).ok());
    EXPECT_EQ(log->DescribeTopic("t")->partition_count, 4);
    auto p3 = log->GetPartition("t", PartitionId(3));
    ASSERT_TRUE(p3.ok());
    ASSERT_TRUE((*p3)->Append(MakeBatch(1)).ok());
  }
  auto log = Open();
  EXPECT_EQ(log->DescribeTopic("t")->partition_count, 4);
  EXPECT_EQ((*log->GetPartition("t", PartitionId(0)))->HighWatermark(), Offset(2));
  EXPECT_EQ((*log->GetPartition("t", PartitionId(3)))->HighWatermark(), Offset(1));
}

TEST_F(LogManagerTest, AlterTopicConfigAppliesAndPersists) {
  {
    auto log = Open();
    ASSERT_TRUE(log->CreateTopic("t", 2, {{"retention.ms", "1000"}}).ok());
    ASSERT_TRUE(log->AlterTopicConfig("t", {{"retention.bytes", "12345"},
                                            {"retention.ms", std::nullopt},
                                            {"message.timestamp.type", "LogAppendTime"}})
                    .ok());
    auto p = log->GetPartition("t", PartitionId(1));
    EXPECT_EQ((*p)->config().retention_bytes, 12345);
    EXPECT_EQ((*p)->config().retention_ms, TopicConfig{}.retention_ms);
    EXPECT_EQ(KafkaErrorOf(log->AlterTopicConfig("t", {{"no.such", "1"}})),
              KafkaError::kInvalidConfig);
    EXPECT_EQ(KafkaErrorOf(log->AlterTopicConfig("t", {{"flush.ms", "-5"}})),
              KafkaError::kInvalidConfig);
  }
  auto log = Open();
  absl::StatusOr<TopicInfo> info = log->DescribeTopic("t");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->config.retention_bytes, 12345);
  EXPECT_EQ(info->config.message_timestamp_type, TimestampType::kLogAppendTime);
  EXPECT_EQ(info->overrides.count("retention.ms"), 0u);
  EXPECT_EQ(info->config.Get("message.timestamp.type"), "LogAppendTime");
}

TEST_F(LogManagerTest, RetentionOverAllPartitions) {
  auto log = Open();
  ASSERT_TRUE(log->CreateTopic("t", 2, {{"segment.bytes", "500"}, {"retention.bytes", "0"}}).ok());
  for (int p = 0; p < 2; ++p) {
    auto partition = *log->GetPartition("t", PartitionId(p));
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(partition->Append(MakeBatch(1, 1000, 100)).ok());
    EXPECT_GT(partition->SegmentCount(), 1u);
  }
  ASSERT_TRUE(log->RunRetention(2000).ok());
  ASSERT_TRUE(log->FlushIfDue(2000).ok());
  ASSERT_TRUE(log->SyncAll().ok());
  for (int p = 0; p < 2; ++p) {
    auto partition = *log->GetPartition("t", PartitionId(p));
    EXPECT_EQ(partition->SegmentCount(), 1u);
    EXPECT_GT(partition->LogStartOffset(), Offset(0));
    EXPECT_EQ(partition->HighWatermark(), Offset(20));
  }
}

TEST(TopicConfigTest, KafkaNamesRoundTrip) {
  TopicConfig config;
  for (const std::string& key : TopicConfig::KnownKeys()) {
    TopicConfig copy;
    ASSERT_TRUE(copy.Set(key, config.Get(key)).ok()) << key;
  }
  EXPECT_EQ(config.Get("segment.bytes"), "1073741824");
  EXPECT_EQ(config.Get("retention.ms"), "604800000");
  EXPECT_EQ(config.Get("cleanup.policy"), "delete");
  EXPECT_EQ(config.Get("message.timestamp.type"), "CreateTime");
  EXPECT_TRUE(absl::IsNotFound(config.Set("unknown", "1")));
  EXPECT_TRUE(absl::IsInvalidArgument(config.Set("retention.ms", "-2")));
  EXPECT_TRUE(absl::IsInvalidArgument(config.Set("retention.ms", "12x")));
  EXPECT_TRUE(config.Set("retention.ms", "-1").ok());
  EXPECT_EQ(config.retention_ms, -1);
}

}  // namespace
}  // namespace eddy::log
