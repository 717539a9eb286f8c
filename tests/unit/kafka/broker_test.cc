// The broker's request handlers and the group coordinator, driven directly (no network): requests
// are encoded with the generated codecs, answers decoded with them. Record batches come from the
// log tests' independent encoder.
#include "kafka/broker.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "../log/log_test_util.h"
#include "kafka/errors.h"
#include "kafka/group_coordinator.h"
#include "kafka/messages.h"
#include "kafka_test_util.h"
#include "log/log_manager.h"

namespace eddy::kafka {
namespace {

using log::testing::ScratchDir;
using log::testing::TestBatch;
using log::testing::TestRecord;

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = log::LogManager::Open(dir_.Sub("data"));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    BrokerOptions o;
    o.default_partitions = 2;
    broker_ = std::make_unique<Broker>(log_.get(), nullptr, o);
  }

  absl::StatusOr<Reply> Send(const std::string& frame) {
    auto req = ParseRequestFrame(frame);
    if (!req.ok()) return req.status();
    auto reply = broker_->Handle(*req, /*final_attempt=*/true);
    // acks=all: the answer comes once the data is durable.
    if (reply.ok() && reply->finish) {
      for (auto& step : reply->sync_steps) step();
      reply->frame = reply->finish();
    }
    return reply;
  }

  // Produce v7 of one batch to partition 0 of `topic`; returns the partition's answer.
  ProduceResponse::PartitionProduceResponse Produce(const std::string& topic,
                                                    const std::string& batch) {
    ProduceRequest p;
    p.acks = -1;
    p.timeout_ms = 1000;
    auto& t = p.topic_data.emplace_back();
    t.name = topic;
    auto& pd = t.partition_data.emplace_back();
    pd.index = 0;
    pd.records = batch;
    auto r = Send(Frame(p, 7));
    EXPECT_TRUE(r.ok()) << r.status();
    auto resp = Decode<ProduceResponse>(r->frame, ProduceRequest::kApiKey, 7);
    return resp.responses.at(0).partition_responses.at(0);
  }

  ScratchDir dir_;
  std::unique_ptr<log::LogManager> log_;
  std::unique_ptr<Broker> broker_;
};

std::string IdempotentBatch(int64_t pid, int16_t epoch, int32_t seq, int count) {
  TestBatch b;
  b.producer_id = pid;
  b.producer_epoch = epoch;
  b.base_sequence = seq;
  for (int i = 0; i < count; ++i) {
    TestRecord r;
    r.value = "v" + std::to_string(seq + i);
    r.timestamp_delta = i;
    b.records.push_back(r);
  }
  return log::testing::EncodeBatch(b);
}

TEST_F(BrokerTest, ApiVersionsAdvertisesRangesAndAnswersAnUnknownVersionWithV0) {
  ApiVersionsRequest req;
  req.client_software_name = "test";
  req.client_software_version = "1";
  auto r = Send(Frame(req, 3));
  ASSERT_TRUE(r.ok());
  auto resp = Decode<ApiVersionsResponse>(r->frame, ApiVersionsRequest::kApiKey, 3);
  EXPECT_EQ(resp.error_code, 0);
  bool produce = false, fetch = false;
  for (const auto& k : resp.api_keys) {
    // From v0: librdkafka compresses with gzip/snappy/lz4 only when Produce v0 is listed.
    if (k.api_key == ProduceRequest::kApiKey) produce = k.min_version == 0 && k.max_version >= 7;
    if (k.api_key == FetchRequest::kApiKey) fetch = k.min_version <= 4 && k.max_version >= 11;
  }
  EXPECT_TRUE(produce) << "librdkafka needs Produce v0 listed to compress; zstd needs >= 7";
  EXPECT_TRUE(fetch) << "librdkafka fetches with v4-v11";
  // A version from the future: v0 body with UNSUPPORTED_VERSION and the list.
  r = Send(Frame(ApiVersionsRequest(), 3).replace(2, 2, std::string("\x00\x63", 2)));
  ASSERT_TRUE(r.ok());
  ByteReader rd(r->frame);
  ResponseHeader h;
  ASSERT_TRUE(h.Decode(rd, 0).ok());
  ApiVersionsResponse v0;
  ASSERT_TRUE(v0.Decode(rd, 0).ok());
  EXPECT_EQ(v0.error_code, Wire(ErrorCode::kUnsupportedVersion));
  EXPECT_FALSE(v0.api_keys.empty());
}

TEST_F(BrokerTest, ProduceV0To2IsAnsweredWithUnsupportedForMessageFormat) {
  ProduceRequest p;
  p.acks = 1;
  auto& t = p.topic_data.emplace_back();
  t.name = "old";
  auto& pd = t.partition_data.emplace_back();
  pd.index = 0;
  pd.records = std::string("a message set v1");
  for (int16_t v : {0, 1, 2}) {
    auto r = Send(Frame(p, v));
    ASSERT_TRUE(r.ok()) << r.status();
    auto resp = Decode<ProduceResponse>(r->frame, ProduceRequest::kApiKey, v);
    EXPECT_EQ(resp.responses.at(0).partition_responses.at(0).error_code,
              Wire(ErrorCode::kUnsupportedForMessageFormat))
        << "Produce v" << v << " carries message sets v0/v1";
  }
  EXPECT_FALSE(log_->DescribeTopic("old").ok()) << "nothing is created or stored";
}

TEST_F(BrokerTest, UnsupportedApiOrVersionIsAnErrorThatClosesTheConnection) {
  FetchRequest f;
  EXPECT_FALSE(Send(Frame(f, 13)).ok());
  EXPECT_FALSE(Send(std::string("\x00\x03\x00", 3)).ok()) << "a truncated header";
}

TEST_F(BrokerTest, ProduceThenFetchReturnsTheBatchWithOffsets) {
  auto pr = Produce("events", log::testing::MakeBatch(3));
  EXPECT_EQ(pr.error_code, 0);
  EXPECT_EQ(pr.base_offset, 0);
  pr = Produce("events", log::testing::MakeBatch(2));
  EXPECT_EQ(pr.base_offset, 3);
  FetchRequest f;
  f.max_wait_ms = 0;
  f.min_bytes = 1;
  auto& t = f.topics.emplace_back();
  t.topic = "events";
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.fetch_offset = 3;
  p.partition_max_bytes = 1 << 20;
  auto r = Send(Frame(f, 11));
  ASSERT_TRUE(r.ok());
  auto resp = Decode<FetchResponse>(r->frame, FetchRequest::kApiKey, 11);
  const auto& part = resp.responses.at(0).partitions.at(0);
  EXPECT_EQ(part.error_code, 0);
  EXPECT_EQ(part.high_watermark, 5);
  ASSERT_TRUE(part.records.has_value());
  auto h = log::DecodeBatchHeader(*part.records);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->base_offset, 3);
  EXPECT_EQ(h->records_count, 2);
  // Auto-created with the broker's default partition count.
  auto info = log_->DescribeTopic("events");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->partition_count, 2);
  // Fetching past the end: OFFSET_OUT_OF_RANGE.
  p.fetch_offset = 99;
  r = Send(Frame(f, 11));
  resp = Decode<FetchResponse>(r->frame, FetchRequest::kApiKey, 11);
  EXPECT_EQ(resp.responses.at(0).partitions.at(0).error_code, Wire(ErrorCode::kOffsetOutOfRange));
}

TEST_F(BrokerTest, IdempotentProducerRetriesAreWrittenOnce) {
  InitProducerIdRequest init;
  init.transactional_id = std::nullopt;  // idempotent, not transactional
  init.transaction_timeout_ms = 60000;
  auto r = Send(Frame(init, 1));
  ASSERT_TRUE(r.ok());
  auto id = Decode<InitProducerIdResponse>(r->frame, InitProducerIdRequest::kApiKey, 1);
  ASSERT_EQ(id.error_code, 0);
  ASSERT_GE(id.producer_id, 0);
  EXPECT_EQ(id.producer_epoch, 0);
  int64_t pid = id.producer_id;

  auto first = Produce("idem", IdempotentBatch(pid, 0, 0, 5));
  ASSERT_EQ(first.error_code, 0);
  auto retry = Produce("idem", IdempotentBatch(pid, 0, 0, 5));
  EXPECT_EQ(retry.error_code, 0);
  EXPECT_EQ(retry.base_offset, first.base_offset) << "a retry gets the first answer";
  auto part = log_->GetPartition("idem", PartitionId(0));
  ASSERT_TRUE(part.ok());
  EXPECT_EQ((*part)->HighWatermark().value(), 5) << "the retry was not written";

  auto gap = Produce("idem", IdempotentBatch(pid, 0, 10, 1));
  EXPECT_EQ(gap.error_code, Wire(ErrorCode::kOutOfOrderSequenceNumber));
  auto next = Produce("idem", IdempotentBatch(pid, 0, 5, 2));
  EXPECT_EQ(next.error_code, 0);
  EXPECT_EQ(next.base_offset, 5);
  // KIP-360: the producer bumps its epoch and starts over at sequence 0; the old epoch is fenced.
  init.producer_id = pid;
  init.producer_epoch = 0;
  r = Send(Frame(init, 3));
  auto bumped = Decode<InitProducerIdResponse>(r->frame, InitProducerIdRequest::kApiKey, 3);
  EXPECT_EQ(bumped.producer_id, pid);
  EXPECT_EQ(bumped.producer_epoch, 1);
  EXPECT_EQ(Produce("idem", IdempotentBatch(pid, 1, 0, 1)).error_code, 0);
  EXPECT_EQ(Produce("idem", IdempotentBatch(pid, 0, 7, 1)).error_code,
            Wire(ErrorCode::kInvalidProducerEpoch));
  EXPECT_EQ((*part)->HighWatermark().value(), 8);
}

TEST_F(BrokerTest, IdempotentStateIsRebuiltFromTheLogAfterARestart) {
  const int64_t pid = 4242;
  ASSERT_EQ(Produce("idem2", log::testing::MakeBatch(3)).error_code, 0);  // another producer
  auto first = Produce("idem2", IdempotentBatch(pid, 2, 0, 4));
  ASSERT_EQ(first.error_code, 0);
  ASSERT_EQ(Produce("idem2", IdempotentBatch(pid, 2, 4, 2)).error_code, 0);
  // A new broker over the same log: the in-memory producer state is gone.
  broker_ = std::make_unique<Broker>(log_.get(), nullptr, BrokerOptions());
  auto retry = Produce("idem2", IdempotentBatch(pid, 2, 4, 2));
  EXPECT_EQ(retry.error_code, 0);
  EXPECT_EQ(retry.base_offset, 7) << "the retry is answered with the first write's offset";
  auto part = log_->GetPartition("idem2", PartitionId(0));
  EXPECT_EQ((*part)->HighWatermark().value(), 9) << "and not written again";
  EXPECT_EQ(Produce("idem2", IdempotentBatch(pid, 2, 9, 1)).error_code,
            Wire(ErrorCode::kOutOfOrderSequenceNumber));
  EXPECT_EQ(Produce("idem2", IdempotentBatch(pid, 2, 6, 1)).base_offset, 9);
}

TEST_F(BrokerTest, MetadataListsTopicsAndCreatesUnknownOnesWhenAllowed) {
  CreateTopicsRequest c;
  auto& ct = c.topics.emplace_back();
  ct.name = "six";
  ct.num_partitions = 6;
  ct.replication_factor = -1;
  auto& cfg = ct.configs.emplace_back();
  cfg.name = "retention.ms";
  cfg.value = "3600000";
  auto r = Send(Frame(c, 5));
  auto cr = Decode<CreateTopicsResponse>(r->frame, CreateTopicsRequest::kApiKey, 5);
  EXPECT_EQ(cr.topics.at(0).error_code, 0);
  EXPECT_EQ(cr.topics.at(0).num_partitions, 6);
  r = Send(Frame(c, 5));
  cr = Decode<CreateTopicsResponse>(r->frame, CreateTopicsRequest::kApiKey, 5);
  EXPECT_EQ(cr.topics.at(0).error_code, Wire(ErrorCode::kTopicAlreadyExists));

  MetadataRequest m;
  m.topics.emplace();
  m.topics->emplace_back().name = "six";
  m.topics->emplace_back().name = "auto";
  m.allow_auto_topic_creation = false;
  r = Send(Frame(m, 9));
  auto mr = Decode<MetadataResponse>(r->frame, MetadataRequest::kApiKey, 9);
  ASSERT_EQ(mr.topics.size(), 2u);
  EXPECT_EQ(mr.topics[0].partitions.size(), 6u);
  EXPECT_EQ(mr.topics[1].error_code, Wire(ErrorCode::kUnknownTopicOrPartition));
  m.allow_auto_topic_creation = true;
  r = Send(Frame(m, 9));
  mr = Decode<MetadataResponse>(r->frame, MetadataRequest::kApiKey, 9);
  EXPECT_EQ(mr.topics[1].error_code, 0);
  EXPECT_EQ(mr.topics[1].partitions.size(), 2u);
  // v0: an empty list means every topic.
  MetadataRequest all;
  r = Send(Frame(all, 0));
  mr = Decode<MetadataResponse>(r->frame, MetadataRequest::kApiKey, 0);
  EXPECT_EQ(mr.topics.size(), 2u);
  EXPECT_EQ(mr.brokers.at(0).host, "127.0.0.1");
}

TEST_F(BrokerTest, CreateTopicsRefusesUnknownAndUnsupportedConfigsByName) {
  // Kafka answers INVALID_CONFIG for a name that is no topic config; eddy refuses, by name,
  // Kafka's configs it does not implement instead of dropping them, and takes the ones it has.
  struct Case {
    std::string name, value;
    int16_t error;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {"dummy.doesntexist", "1", Wire(ErrorCode::kInvalidConfig), "dummy.doesntexist"},
      {"min.compaction.lag.ms", "10", Wire(ErrorCode::kInvalidConfig), "min.compaction.lag.ms"},
      {"compression.type", "zstd", Wire(ErrorCode::kInvalidConfig), "compression.type"},
      {"delete.retention.ms", "-5", Wire(ErrorCode::kInvalidConfig), "delete.retention.ms"},
      {"compression.type", "producer", 0, ""},
      {"delete.retention.ms", "1000", 0, ""},
  };
  int n = 0;
  for (const Case& k : cases) {
    for (bool validate_only : {true, false}) {
      std::string topic = fmt::format("cfg-{}", n++);
      CreateTopicsRequest c;
      c.validate_only = validate_only;
      auto& ct = c.topics.emplace_back();
      ct.name = topic;
      ct.num_partitions = 1;
      ct.replication_factor = 1;
      auto& cfg = ct.configs.emplace_back();
      cfg.name = k.name;
      cfg.value = k.value;
      auto r = Send(Frame(c, 5));
      ASSERT_TRUE(r.ok()) << r.status();
      auto cr = Decode<CreateTopicsResponse>(r->frame, CreateTopicsRequest::kApiKey, 5);
      const auto& tr = cr.topics.at(0);
      EXPECT_EQ(tr.error_code, k.error) << k.name << "=" << k.value;
      if (k.error != 0) {
        ASSERT_TRUE(tr.error_message.has_value());
        EXPECT_NE(tr.error_message->find(k.in_message), std::string::npos) << *tr.error_message;
      }
      bool created = log_->DescribeTopic(topic).ok();
      EXPECT_EQ(created, k.error == 0 && !validate_only) << k.name << "=" << k.value;
      if (created) {
        EXPECT_EQ(log_->DescribeTopic(topic)->config.Get(k.name), k.value);
      }
    }
  }
}

// Fetch request for partitions `parts` of `topic` (offset 0 unless given), at most `max_bytes`.
FetchRequest FetchOf(const std::string& topic,
                     const std::vector<std::pair<int32_t, int64_t>>& parts, int32_t max_bytes,
                     int32_t partition_max_bytes) {
  FetchRequest f;
  f.max_wait_ms = 0;
  f.min_bytes = 1;
  f.max_bytes = max_bytes;
  auto& t = f.topics.emplace_back();
  t.topic = topic;
  for (const auto& [index, offset] : parts) {
    auto& p = t.partitions.emplace_back();
    p.partition = index;
    p.fetch_offset = offset;
    p.partition_max_bytes = partition_max_bytes;
  }
  return f;
}

TEST_F(BrokerTest, FetchStaysWithinMaxBytesExceptForTheFirstBatch) {
  // KIP-74: only the first batch of the first partition with records may exceed the limits.
  ASSERT_TRUE(log_->CreateTopic("wide", 3).ok());
  TestBatch b;
  TestRecord rec;
  rec.value = std::string(600, 'x');
  b.records.push_back(rec);
  const std::string batch = log::testing::EncodeBatch(b);
  ASSERT_GT(batch.size(), 600u);
  ASSERT_LT(batch.size(), 700u);
  for (int32_t p = 0; p < 3; ++p) {
    auto part = log_->GetPartition("wide", PartitionId(p));
    ASSERT_TRUE(part.ok());
    for (int i = 0; i < 2; ++i) ASSERT_TRUE((*part)->Append(batch, log::AppendOptions()).ok());
  }
  auto fetch = [&](const FetchRequest& f) {
    auto r = Send(Frame(f, 11));
    EXPECT_TRUE(r.ok()) << r.status();
    auto resp = Decode<FetchResponse>(r->frame, FetchRequest::kApiKey, 11);
    std::vector<size_t> sizes;
    for (const auto& p : resp.responses.at(0).partitions) {
      EXPECT_EQ(p.error_code, 0);
      EXPECT_EQ(p.high_watermark, 2);
      sizes.push_back(p.records.has_value() ? p.records->size() : 0);
    }
    return sizes;
  };
  const size_t one = batch.size();
  // A 1000-byte response: the first batch of partition 0 fits, its second and every other
  // partition's would not (they report offsets only).
  EXPECT_EQ(fetch(FetchOf("wide", {{0, 0}, {1, 0}, {2, 0}}, 1000, 1 << 20)),
            (std::vector<size_t>{one, 0, 0}));
  // Room for three batches: two of partition 0, one of partition 1.
  EXPECT_EQ(
      fetch(FetchOf("wide", {{0, 0}, {1, 0}, {2, 0}}, static_cast<int32_t>(3 * one + 10), 1 << 20)),
      (std::vector<size_t>{2 * one, one, 0}));
  // A 100-byte limit smaller than any batch: the first batch still comes, nothing else.
  EXPECT_EQ(fetch(FetchOf("wide", {{0, 0}, {1, 0}, {2, 0}}, 100, 1 << 20)),
            (std::vector<size_t>{one, 0, 0}));
  // Partition limits likewise: the first partition's first batch beyond its limit, no more.
  EXPECT_EQ(fetch(FetchOf("wide", {{0, 0}, {1, 0}, {2, 0}}, 1 << 20, 100)),
            (std::vector<size_t>{one, 0, 0}));
  // The first partition with records is the one that may exceed: partition 0 is at its end.
  EXPECT_EQ(fetch(FetchOf("wide", {{0, 2}, {1, 0}, {2, 0}}, 1000, 1 << 20)),
            (std::vector<size_t>{0, one, 0}));
}

TEST_F(BrokerTest, FetchIsCappedByTheBrokersFetchMaxBytes) {
  BrokerOptions o;
  o.fetch_max_bytes = 1000;
  broker_ = std::make_unique<Broker>(log_.get(), nullptr, o);
  ASSERT_TRUE(log_->CreateTopic("capped", 1).ok());
  TestBatch b;
  TestRecord rec;
  rec.value = std::string(400, 'y');
  b.records.push_back(rec);
  const std::string batch = log::testing::EncodeBatch(b);
  auto part = log_->GetPartition("capped", PartitionId(0));
  ASSERT_TRUE(part.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*part)->Append(batch, log::AppendOptions()).ok());
  auto r = Send(Frame(FetchOf("capped", {{0, 0}}, 50 << 20, 50 << 20), 11));
  ASSERT_TRUE(r.ok());
  auto resp = Decode<FetchResponse>(r->frame, FetchRequest::kApiKey, 11);
  const auto& p = resp.responses.at(0).partitions.at(0);
  ASSERT_TRUE(p.records.has_value());
  EXPECT_EQ(p.records->size(), 2 * batch.size()) << "two ~470-byte batches fit in 1000 bytes";
}

TEST(BrokerGroups, OffsetCommitOfUnknownTopicsAndPartitionsIsRefusedPerPartition) {
  ScratchDir dir;
  auto log = log::LogManager::Open(dir.Sub("data"));
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("known", 2).ok());
  auto gc = GroupCoordinator::Open(dir.path(), GroupOptions(), 1000);
  ASSERT_TRUE(gc.ok());
  Broker broker(log->get(), gc->get(), BrokerOptions());
  // A simple consumer's commit (what AlterConsumerGroupOffsets sends): generation -1, no member.
  OffsetCommitRequest c;
  c.group_id = "admin-group";
  c.generation_id_or_member_epoch = -1;
  auto add = [&](const std::string& topic, std::vector<int32_t> parts) {
    auto& t = c.topics.emplace_back();
    t.name = topic;
    for (int32_t p : parts) {
      auto& op = t.partitions.emplace_back();
      op.partition_index = p;
      op.committed_offset = 10 + p;
    }
  };
  add("missing", {0});
  add("known", {1, 5, 0});  // partition 5 does not exist
  add("also-missing", {3});
  std::string bytes = Frame(c, 8);  // the parsed frame points into it
  auto req = ParseRequestFrame(bytes);
  ASSERT_TRUE(req.ok());
  auto r = broker.Handle(*req, true);
  ASSERT_TRUE(r.ok()) << r.status();
  auto resp = Decode<OffsetCommitResponse>(r->frame, OffsetCommitRequest::kApiKey, 8);
  ASSERT_EQ(resp.topics.size(), 3u);
  const int16_t unknown = Wire(ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(resp.topics[0].name, "missing");
  ASSERT_EQ(resp.topics[0].partitions.size(), 1u);
  EXPECT_EQ(resp.topics[0].partitions[0].error_code, unknown);
  EXPECT_EQ(resp.topics[1].name, "known");
  ASSERT_EQ(resp.topics[1].partitions.size(), 3u);
  EXPECT_EQ(resp.topics[1].partitions[0].partition_index, 1);
  EXPECT_EQ(resp.topics[1].partitions[0].error_code, 0);
  EXPECT_EQ(resp.topics[1].partitions[1].partition_index, 5);
  EXPECT_EQ(resp.topics[1].partitions[1].error_code, unknown);
  EXPECT_EQ(resp.topics[1].partitions[2].partition_index, 0);
  EXPECT_EQ(resp.topics[1].partitions[2].error_code, 0);
  EXPECT_EQ(resp.topics[2].partitions.at(0).error_code, unknown);
  // Only the existing partitions were committed.
  OffsetFetchRequest of;
  of.group_id = "admin-group";
  of.topics = std::nullopt;  // every committed offset
  auto fr = (*gc)->OffsetFetch(of, 5);
  std::set<std::pair<std::string, int32_t>> committed;
  for (const auto& t : fr.topics) {
    for (const auto& p : t.partitions) committed.insert({t.name, p.partition_index});
  }
  EXPECT_EQ(committed, (std::set<std::pair<std::string, int32_t>>{{"known", 0}, {"known", 1}}));
}

TEST_F(BrokerTest, DescribeClusterAndConfigs) {
  auto r = Send(Frame(DescribeClusterRequest(), 0));
  ASSERT_TRUE(r.ok());
  auto dc = Decode<DescribeClusterResponse>(r->frame, DescribeClusterRequest::kApiKey, 0);
  ASSERT_EQ(dc.brokers.size(), 1u);
  EXPECT_EQ(dc.controller_id, 0);
  EXPECT_EQ(dc.cluster_id, "eddy-cluster");

  ASSERT_TRUE(log_->CreateTopic("cfg", 1, {{"retention.ms", "1000"}}).ok());
  DescribeConfigsRequest d;
  auto& res = d.resources.emplace_back();
  res.resource_type = 2;
  res.resource_name = "cfg";
  res.configuration_keys = std::vector<std::string>{"retention.ms", "segment.bytes"};
  r = Send(Frame(d, 1));
  auto cr = Decode<DescribeConfigsResponse>(r->frame, DescribeConfigsRequest::kApiKey, 1);
  ASSERT_EQ(cr.results.size(), 1u);
  ASSERT_EQ(cr.results[0].configs.size(), 2u) << "only the keys asked for";
  for (const auto& c : cr.results[0].configs) {
    if (c.name == "retention.ms") {
      EXPECT_EQ(c.value, "1000");
      EXPECT_EQ(c.config_source, 1) << "DYNAMIC_TOPIC_CONFIG";
    } else {
      EXPECT_EQ(c.value, "1073741824");
      EXPECT_EQ(c.config_source, 5) << "DEFAULT_CONFIG";
    }
  }
  res.resource_name = "missing";
  r = Send(Frame(d, 1));
  cr = Decode<DescribeConfigsResponse>(r->frame, DescribeConfigsRequest::kApiKey, 1);
  EXPECT_EQ(cr.results[0].error_code, Wire(ErrorCode::kUnknownTopicOrPartition));
}

// --- group coordinator ------------------------------------------------------------------------

JoinGroupRequest Join(const std::string& member, const std::string& protocol_meta) {
  JoinGroupRequest j;
  j.group_id = "g";
  j.session_timeout_ms = 10000;
  j.rebalance_timeout_ms = 5000;
  j.member_id = member;
  j.protocol_type = "consumer";
  auto& p = j.protocols.emplace_back();
  p.name = "range";
  p.metadata = protocol_meta;
  return j;
}

// Without group.initial.rebalance.delay.ms, so a lone member's join completes at once.
GroupOptions NoInitialDelay() {
  GroupOptions o;
  o.initial_rebalance_delay_ms = 0;
  return o;
}

TEST(GroupCoordinator, RebalanceSyncCommitAndRestart) {
  ScratchDir dir;
  std::string data = dir.Sub("data");
  std::filesystem::create_directories(data);
  int64_t now = 1'000'000;
  auto gc = GroupCoordinator::Open(data, NoInitialDelay(), now);
  ASSERT_TRUE(gc.ok()) << gc.status();
  std::vector<JoinGroupResponse> joins;
  auto on_join = [&](JoinGroupResponse r) { joins.push_back(r); };

  // v4+: an unknown member first gets its id (KIP-394).
  (*gc)->JoinGroup(Join("", "a"), 5, {"a", "h"}, now, on_join);
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].error_code, Wire(ErrorCode::kMemberIdRequired));
  std::string a = joins[0].member_id;
  joins.clear();
  (*gc)->JoinGroup(Join(a, "a"), 5, {"a", "h"}, now, on_join);
  ASSERT_EQ(joins.size(), 1u) << "a lone member completes the rebalance at once";
  EXPECT_EQ(joins[0].generation_id, 1);
  EXPECT_EQ(joins[0].leader, a);
  ASSERT_EQ(joins[0].members.size(), 1u);

  std::vector<SyncGroupResponse> syncs;
  SyncGroupRequest s;
  s.group_id = "g";
  s.generation_id = 1;
  s.member_id = a;
  s.assignments.push_back({a, "all"});
  (*gc)->SyncGroup(s, 3, now, [&](SyncGroupResponse r) { syncs.push_back(r); });
  ASSERT_EQ(syncs.size(), 1u);
  EXPECT_EQ(syncs[0].assignment, "all");

  // B joins (v3: no member id round trip): A learns through its heartbeat and rejoins.
  joins.clear();
  (*gc)->JoinGroup(Join("", "b"), 3, {"b", "h"}, now, on_join);
  EXPECT_TRUE(joins.empty()) << "B waits for A to rejoin";
  HeartbeatRequest hb;
  hb.group_id = "g";
  hb.generation_id = 1;
  hb.member_id = a;
  EXPECT_EQ((*gc)->Heartbeat(hb, 3, now).error_code, Wire(ErrorCode::kRebalanceInProgress));
  // A commits what it processed before rejoining (allowed while preparing the rebalance).
  OffsetCommitRequest oc;
  oc.group_id = "g";
  oc.generation_id_or_member_epoch = 1;
  oc.member_id = a;
  auto& ot = oc.topics.emplace_back();
  ot.name = "orders";
  auto& op = ot.partitions.emplace_back();
  op.partition_index = 3;
  op.committed_offset = 42;
  op.committed_metadata = "m";
  EXPECT_EQ((*gc)->OffsetCommit(oc, 2, now).topics.at(0).partitions.at(0).error_code, 0);
  (*gc)->JoinGroup(Join(a, "a"), 3, {"a", "h"}, now, on_join);
  ASSERT_EQ(joins.size(), 2u);
  std::string b;
  for (const auto& j : joins) {
    EXPECT_EQ(j.generation_id, 2);
    EXPECT_EQ(j.leader, a);
    if (j.member_id == a) {
      EXPECT_EQ(j.members.size(), 2u) << "the leader sees every member";
    } else {
      b = j.member_id;
      EXPECT_TRUE(j.members.empty());
    }
  }
  ASSERT_FALSE(b.empty());
  // A stale generation is refused.
  EXPECT_EQ((*gc)->OffsetCommit(oc, 2, now).topics.at(0).partitions.at(0).error_code,
            Wire(ErrorCode::kIllegalGeneration));

  // B syncs first and waits; the leader's assignment answers both.
  syncs.clear();
  SyncGroupRequest sb;
  sb.group_id = "g";
  sb.generation_id = 2;
  sb.member_id = b;
  (*gc)->SyncGroup(sb, 3, now, [&](SyncGroupResponse r) { syncs.push_back(r); });
  EXPECT_TRUE(syncs.empty());
  s.generation_id = 2;
  s.assignments = {{a, "p0-2"}, {b, "p3-5"}};
  (*gc)->SyncGroup(s, 3, now, [&](SyncGroupResponse r) { syncs.push_back(r); });
  ASSERT_EQ(syncs.size(), 2u);
  std::set<std::string> got = {syncs[0].assignment, syncs[1].assignment};
  EXPECT_EQ(got, (std::set<std::string>{"p0-2", "p3-5"}));

  // Restart: offsets and the stable group come back.
  gc->reset();
  auto again = GroupCoordinator::Open(data, NoInitialDelay(), now + 1000);
  ASSERT_TRUE(again.ok()) << again.status();
  OffsetFetchRequest of;
  of.group_id = "g";
  of.topics.emplace();
  auto& ft = of.topics->emplace_back();
  ft.name = "orders";
  ft.partition_indexes = {3, 4};
  auto fr = (*again)->OffsetFetch(of, 5);
  ASSERT_EQ(fr.topics.size(), 1u);
  ASSERT_EQ(fr.topics[0].partitions.size(), 2u);
  EXPECT_EQ(fr.topics[0].partitions[0].committed_offset, 42);
  EXPECT_EQ(fr.topics[0].partitions[0].metadata, "m");
  EXPECT_EQ(fr.topics[0].partitions[1].committed_offset, -1) << "never committed";
  hb.generation_id = 2;
  EXPECT_EQ((*again)->Heartbeat(hb, 3, now + 1000).error_code, 0)
      << "the restored group keeps its generation";
  syncs.clear();
  sb.generation_id = 2;
  (*again)->SyncGroup(sb, 3, now + 1000, [&](SyncGroupResponse r) { syncs.push_back(r); });
  ASSERT_EQ(syncs.size(), 1u);
  EXPECT_EQ(syncs[0].assignment, "p3-5");

  // B goes silent: after its session timeout it is removed and A must rejoin.
  hb.generation_id = 2;
  EXPECT_EQ((*again)->Heartbeat(hb, 3, now + 9000).error_code, 0);
  (*again)->Tick(now + 12000);
  EXPECT_EQ((*again)->Heartbeat(hb, 3, now + 12000).error_code,
            Wire(ErrorCode::kRebalanceInProgress));
  joins.clear();
  (*again)->JoinGroup(Join(a, "a"), 3, {"a", "h"}, now + 12000, on_join);
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].generation_id, 3);
  EXPECT_EQ(joins[0].members.size(), 1u);
}

// A group "g" of two static members, "leader-1" and "follower-1", stable with assignments "L"
// and "F" (KIP-345).
struct StaticGroup {
  ScratchDir dir;
  int64_t now = 5'000'000;
  std::unique_ptr<GroupCoordinator> gc;
  std::vector<JoinGroupResponse> joins;
  std::string leader, follower;
  int32_t gen = 0;

  void JoinStatic(const std::string& member, const std::string& instance) {
    JoinGroupRequest j = Join(member, instance);
    j.group_instance_id = instance;
    gc->JoinGroup(j, 5, {instance, "h"}, now, [this](JoinGroupResponse r) { joins.push_back(r); });
  }
  SyncGroupResponse Sync(const std::string& member, const std::string& instance,
                         std::vector<std::pair<std::string, std::string>> assignments = {}) {
    SyncGroupRequest s;
    s.group_id = "g";
    s.generation_id = gen;
    s.member_id = member;
    s.group_instance_id = instance;
    for (auto& [m, a] : assignments) s.assignments.push_back({m, a});
    auto out = std::make_shared<SyncGroupResponse>();
    out->error_code = -2;  // not answered (yet)
    gc->SyncGroup(s, 3, now, [out](SyncGroupResponse r) { *out = r; });
    return *out;
  }
  int16_t Heartbeat(const std::string& member, const std::string& instance) {
    HeartbeatRequest hb;
    hb.group_id = "g";
    hb.generation_id = gen;
    hb.member_id = member;
    hb.group_instance_id = instance;
    return gc->Heartbeat(hb, 3, now).error_code;
  }

  void SetUp() {
    auto opened = GroupCoordinator::Open(dir.path(), NoInitialDelay(), now);
    ASSERT_TRUE(opened.ok());
    gc = std::move(*opened);
    JoinStatic("", "leader-1");
    ASSERT_EQ(joins.size(), 1u) << "static members need no member id round trip";
    leader = joins[0].member_id;
    JoinStatic("", "follower-1");
    EXPECT_EQ(joins.size(), 1u);
    JoinStatic(leader, "leader-1");
    ASSERT_EQ(joins.size(), 3u);
    for (size_t i = 1; i < 3; ++i) {
      if (joins[i].member_id != leader) follower = joins[i].member_id;
    }
    gen = joins[1].generation_id;
    SyncGroupResponse f = Sync(follower, "follower-1");
    EXPECT_EQ(f.error_code, -2) << "the follower waits for the leader";
    ASSERT_EQ(Sync(leader, "leader-1", {{leader, "L"}, {follower, "F"}}).assignment, "L");
    joins.clear();
  }
};

TEST(GroupCoordinator, StaticMemberComesBackWithoutRebalance) {
  StaticGroup g;
  ASSERT_NO_FATAL_FAILURE(g.SetUp());
  // The follower's process restarts: it joins with no member id but the same instance id. It
  // gets a new member id and the current generation, no rebalance; syncing gives its assignment.
  g.JoinStatic("", "follower-1");
  ASSERT_EQ(g.joins.size(), 1u);
  std::string follower2 = g.joins[0].member_id;
  EXPECT_NE(follower2, g.follower) << "a new member id (Kafka)";
  EXPECT_EQ(g.joins[0].generation_id, g.gen) << "no rebalance";
  EXPECT_EQ(g.joins[0].leader, g.leader);
  EXPECT_EQ(g.Sync(follower2, "follower-1").assignment, "F");
  EXPECT_EQ(g.Heartbeat(g.leader, "leader-1"), 0) << "the leader is not disturbed";
  // The old process, if still around, is fenced.
  EXPECT_EQ(g.Heartbeat(g.follower, "follower-1"), Wire(ErrorCode::kFencedInstanceId));

  DescribeGroupsRequest d;
  d.groups = {"g", "nope"};
  auto dr = g.gc->DescribeGroups(d, 4);
  ASSERT_EQ(dr.groups.size(), 2u);
  EXPECT_EQ(dr.groups[0].group_state, "Stable");
  EXPECT_EQ(dr.groups[0].members.size(), 2u);
  EXPECT_EQ(dr.groups[1].group_state, "Dead");
  auto lg = g.gc->ListGroups(ListGroupsRequest(), 4);
  ASSERT_EQ(lg.groups.size(), 1u);
  EXPECT_EQ(lg.groups[0].group_id, "g");
  DeleteGroupsRequest del;
  del.groups_names = {"g"};
  EXPECT_EQ(g.gc->DeleteGroups(del, 2).results.at(0).error_code, Wire(ErrorCode::kNonEmptyGroup));
}

TEST(GroupCoordinator, AStaticLeaderComesBackAsAFollowerOfItsOldIdWithoutRebalance) {
  StaticGroup g;
  ASSERT_NO_FATAL_FAILURE(g.SetUp());
  g.JoinStatic("", "leader-1");
  ASSERT_EQ(g.joins.size(), 1u);
  std::string leader2 = g.joins[0].member_id;
  EXPECT_EQ(g.joins[0].generation_id, g.gen) << "no rebalance";
  // Kafka answers the leader id from before the replacement, so the restarted leader does not
  // compute an assignment that a stable group would not send out; it syncs as a follower.
  EXPECT_EQ(g.joins[0].leader, g.leader);
  EXPECT_NE(leader2, g.leader);
  EXPECT_TRUE(g.joins[0].members.empty());
  EXPECT_EQ(g.Sync(leader2, "leader-1").assignment, "L");
  EXPECT_EQ(g.Heartbeat(g.follower, "follower-1"), 0) << "the follower is not disturbed";
}

TEST(GroupCoordinator, ASecondClientWithTheSameInstanceIdFencesTheFirst) {
  StaticGroup g;
  ASSERT_NO_FATAL_FAILURE(g.SetUp());
  // A second process starts with follower-1's instance id while the first still runs.
  g.JoinStatic("", "follower-1");
  ASSERT_EQ(g.joins.size(), 1u);
  std::string second = g.joins[0].member_id;
  // The first one's requests are all fenced from now on: no rebalance storm.
  EXPECT_EQ(g.Heartbeat(g.follower, "follower-1"), Wire(ErrorCode::kFencedInstanceId));
  EXPECT_EQ(g.Sync(g.follower, "follower-1").error_code, Wire(ErrorCode::kFencedInstanceId));
  g.joins.clear();
  g.JoinStatic(g.follower, "follower-1");
  ASSERT_EQ(g.joins.size(), 1u);
  EXPECT_EQ(g.joins[0].error_code, Wire(ErrorCode::kFencedInstanceId));
  OffsetCommitRequest oc;
  oc.group_id = "g";
  oc.generation_id_or_member_epoch = g.gen;
  oc.member_id = g.follower;
  oc.group_instance_id = "follower-1";
  auto& ot = oc.topics.emplace_back();
  ot.name = "t";
  ot.partitions.emplace_back().committed_offset = 1;
  EXPECT_EQ(g.gc->OffsetCommit(oc, 7, g.now).topics.at(0).partitions.at(0).error_code,
            Wire(ErrorCode::kFencedInstanceId));
  LeaveGroupRequest lv;
  lv.group_id = "g";
  auto& who = lv.members.emplace_back();
  who.member_id = g.follower;
  who.group_instance_id = "follower-1";
  EXPECT_EQ(g.gc->LeaveGroup(lv, 3, g.now).members.at(0).error_code,
            Wire(ErrorCode::kFencedInstanceId));
  // The second client holds the membership, in the same generation.
  EXPECT_EQ(g.Heartbeat(second, "follower-1"), 0);
  EXPECT_EQ(g.Heartbeat(g.leader, "leader-1"), 0);
}

TEST(GroupCoordinator, TheFirstRebalanceWaitsTheInitialDelayForMoreMembers) {
  ScratchDir dir;
  int64_t now = 7'000'000;
  GroupOptions o;
  o.initial_rebalance_delay_ms = 1000;
  auto gc = GroupCoordinator::Open(dir.path(), o, now);
  ASSERT_TRUE(gc.ok());
  std::vector<JoinGroupResponse> joins;
  auto on_join = [&](JoinGroupResponse r) { joins.push_back(r); };
  auto join = [&](const std::string& member, const std::string& client, int64_t at) {
    (*gc)->JoinGroup(Join(member, client), 3, {client, "h"}, at, on_join);
  };
  join("", "a", now);  // v3: the member id comes with the join
  EXPECT_TRUE(joins.empty()) << "the first member waits for others";
  (*gc)->Tick(now + 600);
  join("", "b", now + 600);  // pushes the end of the delay to now + 1600
  (*gc)->Tick(now + 1200);
  EXPECT_TRUE(joins.empty()) << "b joined during the delay, which started again";
  (*gc)->Tick(now + 1600);
  ASSERT_EQ(joins.size(), 2u) << "both join generation 1 together";
  for (const auto& j : joins) {
    EXPECT_EQ(j.error_code, 0);
    EXPECT_EQ(j.generation_id, 1);
  }
}

TEST(GroupCoordinator, AStaticMemberThatDidNotRejoinKeepsItsPlace) {
  StaticGroup g;
  ASSERT_NO_FATAL_FAILURE(g.SetUp());
  // A third, dynamic member joins: a rebalance; only the leader rejoins before the deadline
  // (the rebalance timeout, 5 s). The static follower stays a member (Kafka), so the leader can
  // keep its partitions for it until its session times out.
  JoinGroupRequest j = Join("", "c");
  g.gc->JoinGroup(j, 3, {"c", "h"}, g.now, [&](JoinGroupResponse r) { g.joins.push_back(r); });
  g.JoinStatic(g.leader, "leader-1");
  EXPECT_TRUE(g.joins.empty());
  g.now += 5001;
  g.gc->Tick(g.now);
  ASSERT_EQ(g.joins.size(), 2u);
  for (const auto& r : g.joins) {
    EXPECT_EQ(r.generation_id, g.gen + 1);
    if (r.member_id == g.leader) {
      EXPECT_EQ(r.members.size(), 3u) << "the follower is still in";
    }
  }
}

}  // namespace
}  // namespace eddy::kafka
