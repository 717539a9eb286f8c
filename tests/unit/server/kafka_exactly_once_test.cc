// The kafka connector's checkpoint contract and exactly-once output, on the local log of a real
// broker (log, group and transaction coordinators in a scratch directory): the source stores its
// partition offsets in the checkpoint, commits them to the consumer group only when that
// checkpoint completes, resumes each partition at its offset when restored at another
// parallelism, and honours 'properties.isolation.level' = 'read_committed'; the exactly-once sink
// writes every row once in committed transactions and refuses to run without checkpoints. The
// expected rows are the ones the test wrote.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "../log/log_test_util.h"
#include "connectors/connector.h"
#include "connectors/kafka/local_topics.h"
#include "eddy/engine.h"
#include "kafka/broker.h"
#include "kafka/group_coordinator.h"
#include "kafka/txn_coordinator.h"
#include "server/local_topics.h"
#include "state/snapshot.h"

namespace eddy::server {
namespace {

using connectors::kafka::LocalRecord;
using connectors::kafka::OutgoingRecord;
using connectors::kafka::TxnProducer;

// Collects the first column (STRING) of what a source emits.
class CollectOutput final : public runtime::SourceOutput {
 public:
  absl::Status Emit(Batch batch) override {
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      values.emplace_back(batch.columns[0].str[r]);
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t) override { return absl::OkStatus(); }
  absl::Status EmitChunkEnd(int64_t, int64_t) override { return absl::OkStatus(); }
  bool cancelled() const override { return false; }
  std::vector<std::string> values;
};

class KafkaExactlyOnceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = std::move(log::LogManager::Open(dir_.Sub("data")).value());
    groups_ = std::move(
        kafka::GroupCoordinator::Open(dir_.Sub("data"), kafka::GroupOptions(), 0).value());
    txns_ = std::move(kafka::TransactionCoordinator::Open(dir_.Sub("data"), log_.get(),
                                                          groups_.get(), kafka::TxnOptions(), 0)
                          .value());
    broker_ = std::make_unique<kafka::Broker>(log_.get(), groups_.get(), kafka::BrokerOptions(),
                                              txns_.get());
    topics_ = std::make_shared<LogLocalTopics>(log_.get(), groups_.get(), broker_.get(),
                                               "127.0.0.1", 9092, txns_.get());
    connectors::kafka::SetLocalTopics(topics_);
  }
  void TearDown() override { connectors::kafka::SetLocalTopics(nullptr); }

  void Append(const std::string& topic, int32_t p, const std::vector<std::string>& values) {
    std::vector<OutgoingRecord> records;
    for (const auto& v : values) records.push_back({false, "", v, 1000, {}});
    ASSERT_TRUE(topics_->Append(topic, p, topics_->EncodeBatch(records)).ok());
  }

  // A kafka table of one STRING column 'v' (raw format) over `topic` of this broker.
  std::shared_ptr<TableDef> Table(const std::string& topic,
                                  std::map<std::string, std::string> extra = {}) {
    auto t = std::make_shared<TableDef>();
    t->name = topic;
    t->physical.fields = {Field{"v", DataType::String()}};
    t->columns = t->physical.fields;
    t->computed.resize(1);
    t->metadata = {""};
    t->virtual_column = {false};
    t->options = {{"connector", "kafka"},
                  {"topic", topic},
                  {"properties.bootstrap.servers", "127.0.0.1:9092"},
                  {"scan.startup.mode", "earliest-offset"},
                  {"format", "raw"}};
    for (auto& [k, v] : extra) t->options[k] = v;
    return t;
  }

  std::unique_ptr<runtime::SourceOperator> Source(std::shared_ptr<TableDef> t, int index,
                                                  int parallelism, bool checkpointing) {
    connectors::ScanSpec spec;
    spec.table = t;
    spec.computed.resize(1);
    spec.checkpointing = checkpointing;
    auto factory = connectors::MakeSourceFactory(spec);
    EXPECT_TRUE(factory.ok()) << factory.status();
    auto s = (*factory)->Create(runtime::SubtaskInfo{index, parallelism, 128});
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }

  // Steps `s` until it has emitted `want` rows (or ended).
  static std::vector<std::string> Read(runtime::SourceOperator& s, size_t want) {
    CollectOutput out;
    for (int i = 0; i < 1000 && out.values.size() < want; ++i) {
      auto step = s.NextStep(&out);
      EXPECT_TRUE(step.ok()) << step.status();
      if (!step.ok() || *step == runtime::SourceOperator::Step::kEnd) break;
    }
    std::sort(out.values.begin(), out.values.end());
    return out.values;
  }

  std::optional<int64_t> Committed(const std::string& topic, int32_t p) {
    return topics_->CommittedOffset("g", topic, p).value();
  }

  log::testing::ScratchDir dir_;
  std::unique_ptr<log::LogManager> log_;
  std::unique_ptr<kafka::GroupCoordinator> groups_;
  std::unique_ptr<kafka::TransactionCoordinator> txns_;
  std::unique_ptr<kafka::Broker> broker_;
  std::shared_ptr<LogLocalTopics> topics_;
};

TEST_F(KafkaExactlyOnceTest, SourceOffsetsLiveInTheCheckpointAndGoToTheGroupWhenItCompletes) {
  ASSERT_TRUE(log_->CreateTopic("in", 2).ok());
  Append("in", 0, {"a0", "a1", "a2", "a3", "a4"});
  Append("in", 1, {"b0", "b1", "b2"});
  auto table = Table("in", {{"properties.group.id", "g"}});
  auto first = Source(table, 0, 1, /*checkpointing=*/true);
  EXPECT_EQ(Read(*first, 8),
            (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2"}));
  EXPECT_EQ(Committed("in", 0), std::nullopt) << "nothing committed before a checkpoint completes";
  state::OperatorSnapshot snap;
  ASSERT_TRUE(first->SnapshotState(1, &snap).ok());
  EXPECT_EQ(Committed("in", 0), std::nullopt) << "taken is not complete";
  ASSERT_TRUE(first->NotifyCheckpointComplete(1).ok());
  EXPECT_EQ(Committed("in", 0), 5);
  EXPECT_EQ(Committed("in", 1), 3);

  // Restored at parallelism 2: each subtask resumes its partition at the checkpoint's offset.
  Append("in", 0, {"a5"});
  Append("in", 1, {"b3", "b4"});
  for (int index : {0, 1}) {
    auto restored = Source(table, index, 2, true);
    state::OperatorRestore in({&snap}, state::KeyGroupRange::Of(index, 2, 128));
    ASSERT_TRUE(restored->InitializeState(in).ok());
    std::vector<std::string> want = {"a5"};
    if (index == 1) want = {"b3", "b4"};
    EXPECT_EQ(Read(*restored, want.size()), want);
  }
}

TEST_F(KafkaExactlyOnceTest, ARestoreAtLowerParallelismTakesEveryOldSubtasksPartitions) {
  ASSERT_TRUE(log_->CreateTopic("in", 2).ok());
  Append("in", 0, {"a0", "a1"});
  Append("in", 1, {"b0", "b1", "b2"});
  auto table = Table("in");
  // Parallelism 2: subtask 0 reads partition 0, subtask 1 partition 1; each checkpoints its own.
  std::vector<state::OperatorSnapshot> snaps(2);
  std::vector<std::vector<std::string>> want = {{"a0", "a1"}, {"b0", "b1", "b2"}};
  for (int index : {0, 1}) {
    auto s = Source(table, index, 2, true);
    EXPECT_EQ(Read(*s, want[index].size()), want[index]);
    ASSERT_TRUE(s->SnapshotState(1, &snaps[index]).ok());
  }
  Append("in", 0, {"a2"});
  Append("in", 1, {"b3"});
  // Parallelism 1: the one subtask resumes both partitions where the old subtasks stopped.
  auto restored = Source(table, 0, 1, true);
  state::OperatorRestore in({&snaps[0], &snaps[1]}, state::KeyGroupRange::Of(0, 1, 128));
  ASSERT_TRUE(restored->InitializeState(in).ok());
  EXPECT_EQ(Read(*restored, 2), (std::vector<std::string>{"a2", "b3"}));
}

TEST_F(KafkaExactlyOnceTest, ReadCommittedSkipsAbortedRecordsAndStopsAtTheLastStableOffset) {
  ASSERT_TRUE(log_->CreateTopic("in", 1).ok());
  auto txn = [&](const std::string& id, const std::string& v, std::optional<bool> commit) {
    TxnProducer p = topics_->InitTransactions(id, 60000).value();
    std::vector<OutgoingRecord> r = {{false, "", v, 1000, {}}};
    ASSERT_TRUE(
        topics_->AppendTransactional(id, p, "in", 0, topics_->EncodeTransactionalBatch(r, p, 0))
            .ok());
    if (commit) {
      ASSERT_TRUE(topics_->EndTransaction(id, p, *commit).ok());
    }
  };
  txn("t1", "committed", true);
  txn("t2", "aborted", false);
  Append("in", 0, {"plain"});
  txn("t3", "open", std::nullopt);
  Append("in", 0, {"after"});
  auto bounded = [&](const std::string& isolation) {
    auto s = Source(Table("in", {{"scan.bounded.mode", "latest-offset"},
                                 {"properties.isolation.level", isolation}}),
                    0, 1, false);
    return Read(*s, 100);  // to the bound
  };
  EXPECT_EQ(bounded("read_committed"), (std::vector<std::string>{"committed", "plain"}));
  EXPECT_EQ(bounded("read_uncommitted"),
            (std::vector<std::string>{"aborted", "after", "committed", "open", "plain"}));
}

TEST_F(KafkaExactlyOnceTest, ExactlyOnceSinkWritesEveryRowOnceInCommittedTransactions) {
  ASSERT_TRUE(log_->CreateTopic("in", 2).ok());
  ASSERT_TRUE(log_->CreateTopic("out", 2).ok());
  std::vector<std::string> want;
  for (int p = 0; p < 2; ++p) {
    std::vector<std::string> values;
    for (int i = 0; i < 500; ++i) values.push_back(fmt::format("{}-{}", p, i));
    Append("in", p, values);
    want.insert(want.end(), values.begin(), values.end());
  }
  std::string tables = R"(
    CREATE TABLE src (v STRING) WITH ('connector' = 'kafka', 'topic' = 'in',
      'properties.bootstrap.servers' = '127.0.0.1:9092', 'scan.startup.mode' = 'earliest-offset',
      'scan.bounded.mode' = 'latest-offset', 'format' = 'raw');
    CREATE TABLE dst (v STRING) WITH ('connector' = 'kafka', 'topic' = 'out',
      'properties.bootstrap.servers' = '127.0.0.1:9092', 'format' = 'raw',
      'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'copy');
  )";
  Engine without;
  absl::Status st = without.ExecuteScript(tables + "INSERT INTO dst SELECT v FROM src;");
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_NE(st.message().find("execution.checkpointing.interval"), std::string_view::npos) << st;

  Engine e;
  st = e.ExecuteScript(
      fmt::format("SET 'execution.checkpointing.interval' = '20 ms';\n"
                  "SET 'execution.checkpointing.dir' = '{}';\n{}INSERT INTO dst SELECT v FROM src;",
                  dir_.Sub("checkpoints"), tables));
  ASSERT_TRUE(st.ok()) << st;
  std::vector<std::string> got;
  for (int p = 0; p < 2; ++p) {
    auto range = topics_->Offsets("out", p).value();
    EXPECT_EQ(range.last_stable, range.high_watermark) << "every transaction ended";
    auto read = topics_->Read("out", p, 0, 1 << 24, true).value();
    std::deque<std::string> scratch;
    std::vector<LocalRecord> out;
    int64_t next = 0;
    ASSERT_TRUE(topics_->DecodeRecords(read.records, 0, &scratch, &out, &next, &read.aborted).ok());
    for (const auto& r : out) got.emplace_back(r.value);
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  EXPECT_TRUE(topics_->OpenTransactions("copy-")->empty());

  Engine no_prefix;
  st = no_prefix.ExecuteScript(tables + R"(
    CREATE TABLE dst2 (v STRING) WITH ('connector' = 'kafka', 'topic' = 'out',
      'properties.bootstrap.servers' = '127.0.0.1:9092', 'format' = 'raw',
      'sink.delivery-guarantee' = 'exactly-once');
    INSERT INTO dst2 SELECT v FROM src;)");
  EXPECT_NE(st.message().find("sink.transactional-id-prefix"), std::string_view::npos) << st;
}

}  // namespace
}  // namespace eddy::server
