// The transaction APIs and transactional reads of the broker's handlers, driven directly (no
// network): requests encoded and answers decoded with the generated codecs, batches from the log
// tests' independent encoder. Expected offsets are counted by hand.
#include <gtest/gtest.h>

#include "../log/log_test_util.h"
#include "kafka/broker.h"
#include "kafka/group_coordinator.h"
#include "kafka/messages.h"
#include "kafka/txn_coordinator.h"
#include "kafka_test_util.h"
#include "log/log_manager.h"
#include "log/record_batch.h"

namespace eddy::kafka {
namespace {

using log::testing::ScratchDir;
using log::testing::TestBatch;
using log::testing::TestRecord;

std::string Batch(int64_t pid, int16_t epoch, int32_t seq, int count, bool txn,
                  bool control = false) {
  TestBatch b;
  b.producer_id = pid;
  b.producer_epoch = epoch;
  b.base_sequence = seq;
  b.attributes = static_cast<int16_t>((txn ? 0x10 : 0) | (control ? 0x20 : 0));
  for (int i = 0; i < count; ++i) {
    TestRecord r;
    r.key = control ? std::string("\0\0\0\1", 4) : "k";
    r.value = control ? std::string(6, '\0') : "v" + std::to_string(seq + i);
    b.records.push_back(r);
  }
  return log::testing::EncodeBatch(b);
}

class TxnHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::move(log::LogManager::Open(dir_.Sub("data")).value());
    ASSERT_TRUE(log_->CreateTopic("out", 1).ok());
    groups_ = std::move(GroupCoordinator::Open(dir_.Sub("data"), GroupOptions(), 0).value());
    txns_ = std::move(TransactionCoordinator::Open(dir_.Sub("data"), log_.get(), groups_.get(),
                                                   TxnOptions(), log::WallClockMs())
                          .value());
    broker_ = std::make_unique<Broker>(log_.get(), groups_.get(), BrokerOptions(), txns_.get());
  }

  template <typename Resp, typename Req>
  Resp Call(const Req& req, int16_t version) {
    std::string bytes = Frame(req, version);  // the parsed frame points into it
    auto frame = ParseRequestFrame(bytes);
    EXPECT_TRUE(frame.ok());
    auto reply = broker_->Handle(*frame, /*final_attempt=*/true);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return Decode<Resp>(reply->frame, Req::kApiKey, version);
  }

  int16_t Produce(const std::string& batch, std::optional<std::string> txn_id) {
    ProduceRequest p;
    p.acks = 1;
    p.transactional_id = txn_id;
    auto& t = p.topic_data.emplace_back();
    t.name = "out";
    auto& pd = t.partition_data.emplace_back();
    pd.index = 0;
    pd.records = batch;
    auto r = Call<ProduceResponse>(p, 8);
    return r.responses.at(0).partition_responses.at(0).error_code;
  }

  InitProducerIdResponse Init(const std::string& id, int16_t version = 4) {
    InitProducerIdRequest i;
    i.transactional_id = id;
    i.transaction_timeout_ms = 60000;
    return Call<InitProducerIdResponse>(i, version);
  }

  int16_t AddPartition(const std::string& id, int64_t pid, int16_t epoch, const std::string& topic,
                       int32_t partition) {
    AddPartitionsToTxnRequest a;
    a.v3_and_below_transactional_id = id;
    a.v3_and_below_producer_id = pid;
    a.v3_and_below_producer_epoch = epoch;
    auto& t = a.v3_and_below_topics.emplace_back();
    t.name = topic;
    t.partitions = {partition};
    auto r = Call<AddPartitionsToTxnResponse>(a, 3);
    return r.results_by_topic_v3_and_below.at(0).results_by_partition.at(0).partition_error_code;
  }

  int16_t End(const std::string& id, int64_t pid, int16_t epoch, bool commit, int16_t version = 3) {
    EndTxnRequest e;
    e.transactional_id = id;
    e.producer_id = pid;
    e.producer_epoch = epoch;
    e.committed = commit;
    return Call<EndTxnResponse>(e, version).error_code;
  }

  FetchResponse::PartitionData Fetch(int8_t isolation) {
    FetchRequest f;
    f.max_wait_ms = 0;
    f.isolation_level = isolation;
    auto& t = f.topics.emplace_back();
    t.topic = "out";
    auto& p = t.partitions.emplace_back();
    p.partition = 0;
    p.fetch_offset = 0;
    p.partition_max_bytes = 1 << 20;
    return Call<FetchResponse>(f, 11).responses.at(0).partitions.at(0);
  }

  ScratchDir dir_;
  std::unique_ptr<log::LogManager> log_;
  std::unique_ptr<GroupCoordinator> groups_;
  std::unique_ptr<TransactionCoordinator> txns_;
  std::unique_ptr<Broker> broker_;
};

TEST_F(TxnHandlersTest, ApiVersionsListsTheTransactionApis) {
  auto r = Call<ApiVersionsResponse>(ApiVersionsRequest(), 3);
  std::set<int16_t> keys;
  for (const auto& k : r.api_keys) keys.insert(k.api_key);
  for (int16_t k : {AddPartitionsToTxnRequest::kApiKey, AddOffsetsToTxnRequest::kApiKey,
                    EndTxnRequest::kApiKey, TxnOffsetCommitRequest::kApiKey,
                    DescribeTransactionsRequest::kApiKey, ListTransactionsRequest::kApiKey}) {
    EXPECT_TRUE(keys.count(k)) << ApiName(k);
  }
}

TEST_F(TxnHandlersTest, TransactionalProduceIsCheckedAndReadCommittedSeesOnlyCommittedData) {
  auto id = Init("t");
  ASSERT_EQ(id.error_code, 0);
  int64_t pid = id.producer_id;
  // Not added to the transaction yet, no transactional id, or a control batch: refused.
  EXPECT_EQ(Produce(Batch(pid, 0, 0, 2, true), "t"), Wire(ErrorCode::kInvalidTxnState));
  EXPECT_EQ(Produce(Batch(pid, 0, 0, 2, true), std::nullopt), Wire(ErrorCode::kInvalidTxnState));
  EXPECT_EQ(Produce(Batch(pid, 0, -1, 1, true, true), "t"), Wire(ErrorCode::kInvalidRecord));
  EXPECT_EQ(AddPartition("t", pid, 0, "out", 0), 0);
  EXPECT_EQ(AddPartition("t", pid, 0, "nope", 0), Wire(ErrorCode::kUnknownTopicOrPartition));
  EXPECT_EQ(Produce(Batch(pid, 0, 0, 2, true), "t"), 0);             // offsets 0-1
  EXPECT_EQ(Produce(Batch(-1, -1, -1, 1, false), std::nullopt), 0);  // offset 2
  auto uncommitted = Fetch(0);
  EXPECT_EQ(uncommitted.high_watermark, 3);
  EXPECT_EQ(uncommitted.last_stable_offset, 0);
  EXPECT_FALSE(uncommitted.aborted_transactions.has_value()) << "null for read_uncommitted";
  EXPECT_FALSE(uncommitted.records->empty());
  auto committed = Fetch(1);
  EXPECT_TRUE(committed.records->empty()) << "everything is behind the open transaction";
  // ListOffsets latest: the high watermark, or the LSO for read_committed.
  ListOffsetsRequest l;
  auto& lt = l.topics.emplace_back();
  lt.name = "out";
  auto& lp = lt.partitions.emplace_back();
  lp.partition_index = 0;
  lp.timestamp = -1;
  EXPECT_EQ(Call<ListOffsetsResponse>(l, 4).topics[0].partitions[0].offset, 3);
  l.isolation_level = 1;
  EXPECT_EQ(Call<ListOffsetsResponse>(l, 4).topics[0].partitions[0].offset, 0);

  EXPECT_EQ(End("t", pid, 0, /*commit=*/false), 0);  // abort marker at 3
  committed = Fetch(1);
  EXPECT_EQ(committed.last_stable_offset, 4);
  ASSERT_TRUE(committed.aborted_transactions.has_value());
  ASSERT_EQ(committed.aborted_transactions->size(), 1u);
  EXPECT_EQ((*committed.aborted_transactions)[0].producer_id, pid);
  EXPECT_EQ((*committed.aborted_transactions)[0].first_offset, 0);
  EXPECT_EQ(Call<ListOffsetsResponse>(l, 4).topics[0].partitions[0].offset, 4);
}

TEST_F(TxnHandlersTest, FencingErrorsFollowTheRequestVersion) {
  auto first = Init("t");
  auto second = Init("t");
  EXPECT_EQ(second.producer_epoch, first.producer_epoch + 1);
  // KIP-588: PRODUCER_FENCED from the versions that know it, INVALID_PRODUCER_EPOCH before.
  EXPECT_EQ(End("t", first.producer_id, first.producer_epoch, true, 2),
            Wire(ErrorCode::kProducerFenced));
  EXPECT_EQ(End("t", first.producer_id, first.producer_epoch, true, 1),
            Wire(ErrorCode::kInvalidProducerEpoch));
  EXPECT_EQ(AddPartition("t", first.producer_id, first.producer_epoch, "out", 0),
            Wire(ErrorCode::kProducerFenced));
  EXPECT_EQ(End("t", second.producer_id, second.producer_epoch, true),
            Wire(ErrorCode::kInvalidTxnState))
      << "nothing to commit";
}

TEST_F(TxnHandlersTest, OffsetFetchRequireStableWaitsForTheTransaction) {
  auto id = Init("t");
  AddOffsetsToTxnRequest a;
  a.transactional_id = "t";
  a.producer_id = id.producer_id;
  a.producer_epoch = id.producer_epoch;
  a.group_id = "g";
  EXPECT_EQ(Call<AddOffsetsToTxnResponse>(a, 3).error_code, 0);
  TxnOffsetCommitRequest c;
  c.transactional_id = "t";
  c.group_id = "g";
  c.producer_id = id.producer_id;
  c.producer_epoch = id.producer_epoch;
  auto& ct = c.topics.emplace_back();
  ct.name = "out";
  auto& cp = ct.partitions.emplace_back();
  cp.partition_index = 0;
  cp.committed_offset = 9;
  auto& cu = c.topics.emplace_back();
  cu.name = "missing";
  cu.partitions.emplace_back().partition_index = 0;
  auto cr = Call<TxnOffsetCommitResponse>(c, 3);
  EXPECT_EQ(cr.topics.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(cr.topics.at(1).partitions.at(0).error_code, Wire(ErrorCode::kUnknownTopicOrPartition));
  OffsetFetchRequest f;
  f.group_id = "g";
  f.require_stable = true;
  auto& ft = f.topics->emplace_back();
  ft.name = "out";
  ft.partition_indexes = {0};
  auto fr = Call<OffsetFetchResponse>(f, 7);
  EXPECT_EQ(fr.topics.at(0).partitions.at(0).error_code, Wire(ErrorCode::kUnstableOffsetCommit));
  EXPECT_EQ(End("t", id.producer_id, id.producer_epoch, true), 0);
  fr = Call<OffsetFetchResponse>(f, 7);
  EXPECT_EQ(fr.topics.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(fr.topics.at(0).partitions.at(0).committed_offset, 9);
}

}  // namespace
}  // namespace eddy::kafka
