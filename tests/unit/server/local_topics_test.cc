// The local topics of `eddy server` (src/server/local_topics.h) over a real log and group
// coordinator: which bootstrap servers are served, the produce path (batches the log validates,
// offsets assigned), reads decoded record by record, ListOffsets by timestamp, simple-consumer
// commits, transactions (fencing, commit, abort, read_committed reads that skip aborted records
// and stop at the last stable offset, open transactions listed for recovery), and the default
// partitioner against Kafka's murmur2 test vectors.
#include "server/local_topics.h"

#include <deque>
#include <string>
#include <vector>

#include "../log/log_test_util.h"
#include "connectors/kafka/transport.h"
#include "gtest/gtest.h"
#include "log/record_batch.h"

namespace eddy::server {
namespace {

using connectors::kafka::HeaderView;
using connectors::kafka::LocalRecord;
using connectors::kafka::OutgoingRecord;
using connectors::kafka::TxnProducer;

class LocalTopicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = log::LogManager::Open(dir_.path());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    auto groups = kafka::GroupCoordinator::Open(dir_.path(), kafka::GroupOptions(), 0);
    ASSERT_TRUE(groups.ok()) << groups.status();
    groups_ = std::move(*groups);
    auto txns = kafka::TransactionCoordinator::Open(dir_.path(), log_.get(), groups_.get(),
                                                    kafka::TxnOptions(), 0);
    ASSERT_TRUE(txns.ok()) << txns.status();
    txns_ = std::move(*txns);
    broker_ = std::make_unique<kafka::Broker>(log_.get(), groups_.get(), kafka::BrokerOptions(),
                                              txns_.get());
    broker_->SetAppendListener([this] { ++appends_; });
    topics_ = std::make_unique<LogLocalTopics>(log_.get(), groups_.get(), broker_.get(),
                                               "127.0.0.1", 9092, txns_.get());
  }
  void TearDown() override {
    if (log_) {
      EXPECT_TRUE(log_->Close().ok());
    }
  }

  log::testing::ScratchDir dir_;
  std::unique_ptr<log::LogManager> log_;
  std::unique_ptr<kafka::GroupCoordinator> groups_;
  std::unique_ptr<kafka::TransactionCoordinator> txns_;
  std::unique_ptr<kafka::Broker> broker_;
  std::unique_ptr<LogLocalTopics> topics_;
  int appends_ = 0;
};

TEST(ServesTest, TheListenAddressOrLoopbackNamesWithItsPort) {
  LogLocalTopics loopback(nullptr, nullptr, nullptr, "127.0.0.1", 9092);
  EXPECT_TRUE(loopback.Serves("127.0.0.1:9092"));
  EXPECT_TRUE(loopback.Serves("localhost:9092"));
  EXPECT_TRUE(loopback.Serves("LOCALHOST:9092"));
  EXPECT_TRUE(loopback.Serves("other:9093, localhost:9092"));
  EXPECT_TRUE(loopback.Serves("PLAINTEXT://127.0.0.1:9092"));
  EXPECT_FALSE(loopback.Serves("127.0.0.1:9093"));
  EXPECT_FALSE(loopback.Serves("kafka.example:9092"));
  EXPECT_FALSE(loopback.Serves("127.0.0.1"));
  EXPECT_FALSE(loopback.Serves(""));
  LogLocalTopics any(nullptr, nullptr, nullptr, "0.0.0.0", 9092);
  EXPECT_TRUE(any.Serves("localhost:9092"));
  EXPECT_TRUE(any.Serves("0.0.0.0:9092"));
  LogLocalTopics lan(nullptr, nullptr, nullptr, "10.1.2.3", 9092);
  EXPECT_TRUE(lan.Serves("10.1.2.3:9092"));
  EXPECT_FALSE(lan.Serves("localhost:9092")) << "the listener is not on the loopback address";
}

TEST_F(LocalTopicsTest, AppendsBatchesTheLogAcceptsAndReadsThemBack) {
  ASSERT_TRUE(log_->CreateTopic("t", 2).ok());
  EXPECT_EQ(*topics_->PartitionCount("t"), 2);
  EXPECT_TRUE(absl::IsNotFound(topics_->PartitionCount("missing").status()));
  std::vector<OutgoingRecord> records(3);
  records[0] = {true, "k0", "v0", 1000, {{"h", "x"}}};
  records[1] = {false, "", "v1", 1010, {}};
  records[2] = {true, "k2", "", 1005, {}};
  std::string batch = topics_->EncodeBatch(records);
  ASSERT_TRUE(log::ValidateRecordBatch(batch).ok());
  EXPECT_EQ(*topics_->Append("t", 1, batch), 0);
  EXPECT_EQ(*topics_->Append("t", 1, batch), 3);
  EXPECT_EQ(appends_, 2) << "long-polling fetches are woken";
  EXPECT_TRUE(topics_->Sync("t", 1).ok());
  auto range = topics_->Offsets("t", 1);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->log_start, 0);
  EXPECT_EQ(range->high_watermark, 6);
  auto read = topics_->Read("t", 1, 4, 1 << 20, false);
  ASSERT_TRUE(read.ok());
  std::deque<std::string> scratch;
  std::vector<LocalRecord> out;
  int64_t next = 4;
  ASSERT_TRUE(topics_->DecodeRecords(read->records, 4, &scratch, &out, &next, nullptr).ok());
  ASSERT_EQ(out.size(), 2u) << "records before the requested offset are skipped";
  EXPECT_EQ(next, 6);
  EXPECT_EQ(out[0].offset, 4);
  EXPECT_FALSE(out[0].has_key);
  EXPECT_EQ(out[0].value, "v1");
  EXPECT_EQ(out[0].timestamp_ms, 1010);
  EXPECT_FALSE(out[0].log_append_time);
  EXPECT_EQ(out[1].key, "k2");
  EXPECT_TRUE(out[1].has_value);
  EXPECT_EQ(out[1].value, "");
  out.clear();
  ASSERT_TRUE(topics_->DecodeRecords(read->records, 0, &scratch, &out, &next, nullptr).ok());
  std::vector<HeaderView> headers;
  ASSERT_EQ(out.size(), 3u);
  topics_->DecodeHeaders(out[0], &headers);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].key, "h");
  EXPECT_EQ(headers[0].value, "x");
  // ListOffsets by timestamp: the first record at or after 1006 ms is offset 1 (1010 ms).
  EXPECT_EQ(*topics_->OffsetForTimestamp("t", 1, 1006), std::optional<int64_t>(1));
  EXPECT_EQ(*topics_->OffsetForTimestamp("t", 1, 2000), std::nullopt);
  // An offset beyond the log end is out of range; at the end there is nothing.
  EXPECT_TRUE(absl::IsOutOfRange(topics_->Read("t", 1, 7, 100, false).status()));
  EXPECT_TRUE(topics_->Read("t", 1, 6, 100, false)->records.empty());
  EXPECT_FALSE(topics_->Append("t", 1, "not a batch").ok());
}

TEST_F(LocalTopicsTest, CorruptStoredBatchesAreAnErrorNotACrash) {
  log::testing::TestBatch b;
  b.attributes = 1;  // gzip
  b.compressed_payload = std::string("\x1f\x8b definitely not gzip");
  b.compressed_count = 2;
  std::string batch = log::testing::EncodeBatch(b);
  std::deque<std::string> scratch;
  std::vector<LocalRecord> out;
  int64_t next = 0;
  absl::Status st = topics_->DecodeRecords(batch, 0, &scratch, &out, &next, nullptr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("gzip"), std::string_view::npos) << st;
}

// The values a read_committed (or read_uncommitted) reader of partition 0 of "t" sees from 0.
std::vector<std::string> Values(LogLocalTopics& topics, bool read_committed) {
  auto read = topics.Read("t", 0, 0, 1 << 20, read_committed);
  EXPECT_TRUE(read.ok()) << read.status();
  std::deque<std::string> scratch;
  std::vector<LocalRecord> out;
  int64_t next = 0;
  EXPECT_TRUE(topics
                  .DecodeRecords(read->records, 0, &scratch, &out, &next,
                                 read_committed ? &read->aborted : nullptr)
                  .ok());
  std::vector<std::string> values;
  for (const auto& r : out) values.emplace_back(r.value);
  return values;
}

TEST_F(LocalTopicsTest, TransactionsCommitAbortAndFence) {
  ASSERT_TRUE(log_->CreateTopic("t", 1).ok());
  auto record = [](const std::string& v) {
    return std::vector<OutgoingRecord>{{false, "", v, 1000, {}}};
  };
  auto append = [&](const std::string& id, TxnProducer p, int32_t seq, const std::string& v) {
    return topics_->AppendTransactional(id, p, "t", 0,
                                        topics_->EncodeTransactionalBatch(record(v), p, seq));
  };
  auto a = topics_->InitTransactions("a", 60000);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(append("a", *a, 0, "a-committed").ok());       // offset 0
  ASSERT_TRUE(topics_->EndTransaction("a", *a, true).ok());  // marker 1
  EXPECT_TRUE(topics_->EndTransaction("a", *a, true).ok()) << "a retry of the commit succeeds";
  ASSERT_TRUE(append("a", *a, 1, "a-aborted").ok());                                 // offset 2
  ASSERT_TRUE(topics_->EndTransaction("a", *a, false).ok());                         // marker 3
  ASSERT_TRUE(topics_->Append("t", 0, topics_->EncodeBatch(record("plain"))).ok());  // 4
  auto b = topics_->InitTransactions("b", 60000);
  ASSERT_TRUE(append("b", *b, 0, "b-open").ok());  // offset 5, left open
  ASSERT_TRUE(topics_->Append("t", 0, topics_->EncodeBatch(record("after"))).ok());  // 6

  EXPECT_EQ(Values(*topics_, false),
            (std::vector<std::string>{"a-committed", "a-aborted", "plain", "b-open", "after"}));
  EXPECT_EQ(Values(*topics_, true), (std::vector<std::string>{"a-committed", "plain"}))
      << "no aborted record, nothing from the open transaction on";
  auto range = topics_->Offsets("t", 0);
  EXPECT_EQ(range->high_watermark, 7);
  EXPECT_EQ(range->last_stable, 5);
  auto open = topics_->OpenTransactions("b");
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].transactional_id, "b");
  EXPECT_EQ((*open)[0].producer.producer_id, b->producer_id);
  EXPECT_TRUE(topics_->OpenTransactions("a")->empty());

  // A second producer of "b" fences the first and aborts what it left open.
  auto b2 = topics_->InitTransactions("b", 60000);
  ASSERT_TRUE(b2.ok());
  EXPECT_GT(b2->epoch, b->epoch);
  EXPECT_TRUE(absl::IsFailedPrecondition(append("b", *b, 1, "zombie").status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(topics_->EndTransaction("b", *b, true)));
  EXPECT_EQ(Values(*topics_, true), (std::vector<std::string>{"a-committed", "plain", "after"}));
  EXPECT_EQ(topics_->Offsets("t", 0)->last_stable, topics_->Offsets("t", 0)->high_watermark);
}

TEST_F(LocalTopicsTest, SimpleConsumerCommitsThroughTheCoordinator) {
  EXPECT_EQ(*topics_->CommittedOffset("g", "t", 0), std::nullopt);
  ASSERT_TRUE(topics_->CommitOffset("g", "t", 0, 42).ok());
  EXPECT_EQ(*topics_->CommittedOffset("g", "t", 0), std::optional<int64_t>(42));
  EXPECT_EQ(*topics_->CommittedOffset("g", "t", 1), std::nullopt);
  EXPECT_EQ(*topics_->CommittedOffset("other", "t", 0), std::nullopt);
  ASSERT_TRUE(topics_->CommitOffset("g", "t", 0, 50).ok());
  EXPECT_EQ(*topics_->CommittedOffset("g", "t", 0), std::optional<int64_t>(50));
}

TEST(Murmur2PartitionTest, MatchesKafkasJavaClient) {
  // Kafka's UtilsTest.testMurmur2 vectors (signed murmur2), through toPositive.
  const std::vector<std::pair<std::string, int32_t>> cases = {
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107},
  };
  for (const auto& [key, murmur] : cases) {
    int32_t positive = murmur & 0x7fffffff;
    EXPECT_EQ(connectors::kafka::Murmur2Partition(key, INT32_MAX), positive % INT32_MAX) << key;
    EXPECT_EQ(connectors::kafka::Murmur2Partition(key, 7), positive % 7) << key;
  }
}

}  // namespace
}  // namespace eddy::server
