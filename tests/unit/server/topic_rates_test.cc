// Records/s per topic (src/server/topic_rates.h) over a real log: the rate is the records
// appended between the oldest sample in the window and the newest, per second; unknown before
// two samples; summed over partitions; a deleted topic is forgotten. The REST API reports it in
// GET /v1/topics.
#include "server/topic_rates.h"

#include <nlohmann/json.hpp>

#include "../log/log_test_util.h"
#include "gtest/gtest.h"
#include "log/partition.h"
#include "server/rest_api.h"

namespace eddy::server {
namespace {

class TopicRatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = log::LogManager::Open(dir_.path());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    ASSERT_TRUE(log_->CreateTopic("events", 2).ok());
  }
  void Append(int partition, int records) {
    auto p = log_->GetPartition("events", PartitionId(partition));
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->Append(log::testing::MakeBatch(records)).ok());
  }
  log::testing::ScratchDir dir_;
  std::unique_ptr<log::LogManager> log_;
};

TEST_F(TopicRatesTest, RecordsPerSecondOverTheWindow) {
  TopicRates rates(10000);
  EXPECT_FALSE(rates.RecordsPerSecond("events").has_value());
  rates.Sample(*log_, 1000);
  EXPECT_FALSE(rates.RecordsPerSecond("events").has_value()) << "one sample is no rate";
  Append(0, 30);
  Append(1, 10);
  rates.Sample(*log_, 3000);
  ASSERT_TRUE(rates.RecordsPerSecond("events").has_value());
  EXPECT_DOUBLE_EQ(*rates.RecordsPerSecond("events"), 20.0);  // 40 records in 2 s
  // Twelve quiet seconds later the window holds no append: 0 records/s.
  for (int64_t t = 4000; t <= 15000; t += 1000) rates.Sample(*log_, t);
  EXPECT_DOUBLE_EQ(*rates.RecordsPerSecond("events"), 0.0);
  Append(1, 50);
  rates.Sample(*log_, 16000);
  EXPECT_DOUBLE_EQ(*rates.RecordsPerSecond("events"), 5.0);  // 50 records over 10 s
}

TEST_F(TopicRatesTest, DeletedTopicsAreForgotten) {
  TopicRates rates;
  rates.Sample(*log_, 0);
  rates.Sample(*log_, 1000);
  EXPECT_TRUE(rates.RecordsPerSecond("events").has_value());
  ASSERT_TRUE(log_->DeleteTopic("events").ok());
  rates.Sample(*log_, 2000);
  EXPECT_FALSE(rates.RecordsPerSecond("events").has_value());
}

TEST_F(TopicRatesTest, RestApiReportsTheRate) {
  Pipelines pipelines;
  RestApi api(&pipelines, log_.get());
  HttpRequest get{"GET", "/v1/topics", "", "", "", ""};
  auto topics = nlohmann::json::parse(api.Handle(get).body);
  EXPECT_TRUE(topics["topics"][0]["records_per_second"].is_null()) << "no samples yet";
  api.SampleTopicRates(0);
  Append(0, 8);
  api.SampleTopicRates(2000);
  topics = nlohmann::json::parse(api.Handle(get).body);
  EXPECT_DOUBLE_EQ(topics["topics"][0]["records_per_second"].get<double>(), 4.0);
  get.target = "/v1/topics/events";
  auto one = nlohmann::json::parse(api.Handle(get).body);
  EXPECT_DOUBLE_EQ(one["records_per_second"].get<double>(), 4.0);
}

}  // namespace
}  // namespace eddy::server
