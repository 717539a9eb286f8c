// The transaction coordinator's state machine (Kafka's transitions: Empty → Ongoing →
// PrepareCommit/PrepareAbort → CompleteCommit/CompleteAbort), fencing, timeouts, consumer offsets
// in transactions, and recovery from transactions.log, over a real log and group coordinator in a
// scratch directory. Expected markers and offsets are counted by hand.
#include "kafka/txn_coordinator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../log/log_test_util.h"
#include "kafka/group_coordinator.h"
#include "log/log_manager.h"
#include "log/record_batch.h"

namespace eddy::kafka {
namespace {

using log::testing::ScratchDir;
using log::testing::TestBatch;
using log::testing::TestRecord;

constexpr int64_t kNow = 1'800'000'000'000;

// A transactional batch of `count` records of producer `pid`/`epoch`.
std::string TxnBatch(int64_t pid, int16_t epoch, int count) {
  TestBatch b;
  b.producer_id = pid;
  b.producer_epoch = epoch;
  b.base_sequence = 0;
  b.attributes = 0x10;
  for (int i = 0; i < count; ++i) {
    TestRecord r;
    r.value = "v" + std::to_string(i);
    b.records.push_back(r);
  }
  return log::testing::EncodeBatch(b);
}

class TxnCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start(TxnOptions options = TxnOptions()) {
    txns_.reset();
    groups_.reset();
    log_.reset();
    auto log = log::LogManager::Open(dir_.Sub("data"));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    if (!log_->DescribeTopic("out").ok()) {
      ASSERT_TRUE(log_->CreateTopic("out", 2).ok());
    }
    auto groups = GroupCoordinator::Open(dir_.Sub("data"), GroupOptions(), kNow);
    ASSERT_TRUE(groups.ok()) << groups.status();
    groups_ = std::move(*groups);
    auto txns =
        TransactionCoordinator::Open(dir_.Sub("data"), log_.get(), groups_.get(), options, kNow);
    ASSERT_TRUE(txns.ok()) << txns.status();
    txns_ = std::move(*txns);
    txns_->SetProducerIdSource([this] { return next_pid_++; });
  }

  std::shared_ptr<log::Partition> Part(int p) {
    return log_->GetPartition("out", PartitionId(p)).value();
  }

  // Appends a transactional batch the way Produce does (under the coordinator's lock).
  ErrorCode Write(const std::string& id, int64_t pid, int16_t epoch, int p, int count) {
    ErrorCode e;
    auto lock = txns_->LockForAppend(id, pid, epoch, {"out", p}, &e);
    if (e != ErrorCode::kNone) return e;
    EXPECT_TRUE(Part(p)->Append(TxnBatch(pid, epoch, count)).ok());
    return e;
  }

  // The control types of the markers in partition `p`, in log order.
  std::vector<log::ControlType> Markers(int p) {
    std::vector<log::ControlType> out;
    auto rr = Part(p)->Read(Offset(0), 1 << 20);
    EXPECT_TRUE(rr.ok());
    std::string_view rest = rr->records;
    while (rest.size() >= log::kBatchHeaderSize) {
      auto h = log::DecodeBatchHeader(rest);
      std::string_view batch = rest.substr(0, h->size_bytes());
      if (h->is_control()) out.push_back(log::ReadControlType(batch).value());
      rest.remove_prefix(batch.size());
    }
    return out;
  }

  std::string State(const std::string& id) {
    DescribeTransactionsRequest req;
    req.transactional_ids = {id};
    auto resp = txns_->Describe(req, kNow);
    return resp.transaction_states.at(0).transaction_state;
  }

  ScratchDir dir_;
  std::unique_ptr<log::LogManager> log_;
  std::unique_ptr<GroupCoordinator> groups_;
  std::unique_ptr<TransactionCoordinator> txns_;
  int64_t next_pid_ = 1000;
};

TEST_F(TxnCoordinatorTest, IdleIdsExpireAndTheLogIsCompactedWhileRunning) {
  TxnOptions o;
  o.id_expiration_ms = 7LL * 24 * 3600 * 1000;  // Kafka's default
  o.compact_min_bytes = 4096;
  Start(o);
  const int64_t kDay = 24LL * 3600 * 1000;
  // "done": a committed transaction at kNow; "fresh": initialized a day before the expiry check;
  // "open": a transaction open at the check (its timeout aborts it in the same tick).
  auto done = txns_->InitProducerId("done", 60000, -1, -1, kNow);
  ASSERT_EQ(txns_->AddPartitions("done", done.producer_id, 0, {{"out", 0}}, kNow),
            ErrorCode::kNone);
  ASSERT_EQ(txns_->EndTxn("done", done.producer_id, 0, true, kNow), ErrorCode::kNone);
  auto open = txns_->InitProducerId("open", 60000, -1, -1, kNow);
  ASSERT_EQ(txns_->AddPartitions("open", open.producer_id, 0, {{"out", 1}}, kNow),
            ErrorCode::kNone);
  auto fresh = txns_->InitProducerId("fresh", 60000, -1, -1, kNow + 6 * kDay);
  ASSERT_EQ(fresh.error, ErrorCode::kNone);
  txns_->Tick(kNow + 7 * kDay + 1000);
  DescribeTransactionsRequest req;
  req.transactional_ids = {"done"};
  EXPECT_EQ(txns_->Describe(req, kNow).transaction_states.at(0).error_code,
            Wire(ErrorCode::kTransactionalIdNotFound));
  EXPECT_EQ(txns_->EndTxn("done", done.producer_id, 0, true, kNow),
            ErrorCode::kInvalidProducerIdMapping);
  EXPECT_EQ(State("fresh"), "Empty");
  EXPECT_EQ(State("open"), "CompleteAbort") << "aborted by its timeout, not forgotten";
  // A forgotten id starts over: a new producer id at epoch 0.
  auto again = txns_->InitProducerId("done", 60000, -1, -1, kNow + 8 * kDay);
  EXPECT_NE(again.producer_id, done.producer_id);
  EXPECT_EQ(again.producer_epoch, 0);

  // Every change appends a record; the file is rewritten before superseded records dominate it.
  std::string path = dir_.Sub("data") + "/transactions.log";
  int16_t epoch = fresh.producer_epoch;
  for (int i = 0; i < 300; ++i) {
    auto r = txns_->InitProducerId("fresh", 60000, -1, -1, kNow + 8 * kDay);
    ASSERT_EQ(r.error, ErrorCode::kNone);
    epoch = r.producer_epoch;
    ASSERT_LE(std::filesystem::file_size(path), 4096u + 4 * 1024u);
  }
  Start(o);
  EXPECT_EQ(State("fresh"), "Empty");
  auto next = txns_->InitProducerId("fresh", 60000, -1, -1, kNow + 8 * kDay);
  EXPECT_EQ(next.producer_epoch, epoch + 1) << "the compacted file kept the last epoch";
}

TEST_F(TxnCoordinatorTest, InitProducerIdGivesAnIdAndBumpsItsEpoch) {
  auto a = txns_->InitProducerId("t", 60000, -1, -1, kNow);
  EXPECT_EQ(a.error, ErrorCode::kNone);
  EXPECT_EQ(a.producer_id, 1000);
  EXPECT_EQ(a.producer_epoch, 0);
  auto b = txns_->InitProducerId("t", 60000, -1, -1, kNow);
  EXPECT_EQ(b.producer_id, 1000);
  EXPECT_EQ(b.producer_epoch, 1);
  EXPECT_EQ(txns_->InitProducerId("u", 60000, -1, -1, kNow).producer_id, 1001);
  EXPECT_EQ(txns_->InitProducerId("t", 0, -1, -1, kNow).error,
            ErrorCode::kInvalidTransactionTimeout);
  EXPECT_EQ(txns_->InitProducerId("t", 900001, -1, -1, kNow).error,
            ErrorCode::kInvalidTransactionTimeout)
      << "above transaction.max.timeout.ms";
  EXPECT_EQ(txns_->InitProducerId("", 1000, -1, -1, kNow).error, ErrorCode::kInvalidRequest);
  // KIP-360: the producer bumps its own epoch; a retry of that bump gets the same answer; an
  // older epoch is fenced.
  auto c = txns_->InitProducerId("t", 60000, 1000, 1, kNow);
  EXPECT_EQ(c.error, ErrorCode::kNone);
  EXPECT_EQ(c.producer_epoch, 2);
  EXPECT_EQ(txns_->InitProducerId("t", 60000, 1000, 1, kNow).producer_epoch, 2);
  EXPECT_EQ(txns_->InitProducerId("t", 60000, 1000, 0, kNow).error, ErrorCode::kProducerFenced);
  EXPECT_EQ(txns_->InitProducerId("t", 60000, 77, 2, kNow).error, ErrorCode::kProducerFenced);
}

TEST_F(TxnCoordinatorTest, CommitAndAbortWriteMarkersToEveryPartition) {
  auto id = txns_->InitProducerId("t", 60000, -1, -1, kNow);
  int64_t pid = id.producer_id;
  EXPECT_EQ(State("t"), "Empty");
  EXPECT_EQ(Write("t", pid, 0, 0, 2), ErrorCode::kInvalidTxnState) << "not added yet";
  ASSERT_EQ(txns_->AddPartitions("t", pid, 0, {{"out", 0}, {"out", 1}}, kNow), ErrorCode::kNone);
  EXPECT_EQ(State("t"), "Ongoing");
  EXPECT_EQ(Write("t", pid, 0, 0, 2), ErrorCode::kNone);  // offsets 0-1
  EXPECT_EQ(Write("t", pid, 0, 1, 3), ErrorCode::kNone);  // offsets 0-2
  EXPECT_EQ(Part(0)->LastStableOffset(), Offset(0));
  EXPECT_EQ(txns_->EndTxn("t", pid, 0, /*commit=*/true, kNow), ErrorCode::kNone);
  EXPECT_EQ(State("t"), "CompleteCommit");
  EXPECT_EQ(Markers(0), std::vector<log::ControlType>{log::ControlType::kCommit});
  EXPECT_EQ(Markers(1), std::vector<log::ControlType>{log::ControlType::kCommit});
  EXPECT_EQ(Part(0)->LastStableOffset(), Offset(3)) << "2 records and the marker";
  EXPECT_EQ(Part(1)->LastStableOffset(), Offset(4));
  // A retried commit succeeds; an abort of a committed transaction does not.
  EXPECT_EQ(txns_->EndTxn("t", pid, 0, true, kNow), ErrorCode::kNone);
  EXPECT_EQ(txns_->EndTxn("t", pid, 0, false, kNow), ErrorCode::kInvalidTxnState);

  // The next transaction writes to partition 1 only and aborts.
  ASSERT_EQ(txns_->AddPartitions("t", pid, 0, {{"out", 1}}, kNow), ErrorCode::kNone);
  EXPECT_EQ(Write("t", pid, 0, 1, 1), ErrorCode::kNone);  // offset 4
  EXPECT_EQ(Write("t", pid, 0, 0, 1), ErrorCode::kInvalidTxnState) << "partition 0 not added";
  EXPECT_EQ(txns_->EndTxn("t", pid, 0, false, kNow), ErrorCode::kNone);
  EXPECT_EQ(Markers(0), std::vector<log::ControlType>{log::ControlType::kCommit});
  EXPECT_EQ(Markers(1),
            (std::vector<log::ControlType>{log::ControlType::kCommit, log::ControlType::kAbort}));
  EXPECT_EQ(Part(1)->AbortedTransactions(Offset(0), Offset(10)),
            (std::vector<log::AbortedTxn>{{pid, Offset(4), Offset(5)}}));
  EXPECT_EQ(txns_->EndTxn("t", pid, 0, true, kNow), ErrorCode::kInvalidTxnState);
}

TEST_F(TxnCoordinatorTest, ANewProducerFencesTheOldOneAndAbortsItsTransaction) {
  auto old = txns_->InitProducerId("t", 60000, -1, -1, kNow);
  ASSERT_EQ(txns_->AddPartitions("t", old.producer_id, 0, {{"out", 0}}, kNow), ErrorCode::kNone);
  EXPECT_EQ(Write("t", old.producer_id, 0, 0, 2), ErrorCode::kNone);
  auto fresh = txns_->InitProducerId("t", 60000, -1, -1, kNow);
  EXPECT_EQ(fresh.producer_id, old.producer_id);
  EXPECT_EQ(fresh.producer_epoch, 2) << "one bump to fence, one for the new producer";
  // The zombie's transaction was aborted (with the fencing epoch), and it can do nothing more.
  EXPECT_EQ(Markers(0), std::vector<log::ControlType>{log::ControlType::kAbort});
  auto rr = Part(0)->Read(Offset(2), 1 << 20);
  EXPECT_EQ(log::DecodeBatchHeader(rr->records)->producer_epoch, 1);
  EXPECT_EQ(Write("t", old.producer_id, 0, 0, 1), ErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(txns_->EndTxn("t", old.producer_id, 0, true, kNow), ErrorCode::kProducerFenced);
  EXPECT_EQ(txns_->AddPartitions("t", old.producer_id, 0, {{"out", 0}}, kNow),
            ErrorCode::kProducerFenced);
  EXPECT_EQ(txns_->AddPartitions("t", 999, 2, {{"out", 0}}, kNow),
            ErrorCode::kInvalidProducerIdMapping);
  EXPECT_EQ(Part(0)->LastStableOffset(), Part(0)->HighWatermark());
}

TEST_F(TxnCoordinatorTest, ATransactionOpenPastItsTimeoutIsAborted) {
  auto id = txns_->InitProducerId("t", 100, -1, -1, kNow);
  ASSERT_EQ(txns_->AddPartitions("t", id.producer_id, 0, {{"out", 1}}, kNow), ErrorCode::kNone);
  EXPECT_EQ(Write("t", id.producer_id, 0, 1, 1), ErrorCode::kNone);
  txns_->Tick(kNow + 100);
  EXPECT_EQ(State("t"), "Ongoing") << "not past its 100 ms yet";
  txns_->Tick(kNow + 101);
  EXPECT_EQ(State("t"), "CompleteAbort");
  EXPECT_EQ(Markers(1), std::vector<log::ControlType>{log::ControlType::kAbort});
  EXPECT_EQ(txns_->EndTxn("t", id.producer_id, 0, true, kNow), ErrorCode::kProducerFenced);
}

TEST_F(TxnCoordinatorTest, OffsetsOfATransactionApplyOnlyWhenItCommits) {
  auto id = txns_->InitProducerId("t", 60000, -1, -1, kNow);
  int64_t pid = id.producer_id;
  auto committed = [&](int p) {
    OffsetFetchRequest req;
    req.group_id = "g";
    auto& t = req.topics.emplace().emplace_back();
    t.name = "in";
    t.partition_indexes = {p};
    return groups_->OffsetFetch(req, 7).topics.at(0).partitions.at(0).committed_offset;
  };
  for (bool commit : {false, true}) {
    ASSERT_EQ(txns_->AddOffsets("t", pid, 0, "g", kNow), ErrorCode::kNone);
    GroupCoordinator::TxnOffset o;
    o.topic = "in";
    o.partition = 3;
    o.offset = commit ? 42 : 17;
    ASSERT_EQ(txns_->TxnOffsetCommit("t", pid, 0, "g", {o}), ErrorCode::kNone);
    EXPECT_TRUE(txns_->HasPendingOffsets("g", {"in", 3}));
    EXPECT_FALSE(txns_->HasPendingOffsets("g", {"in", 2}));
    EXPECT_EQ(txns_->EndTxn("t", pid, 0, commit, kNow), ErrorCode::kNone);
    EXPECT_FALSE(txns_->HasPendingOffsets("g", {"in", 3}));
    EXPECT_EQ(committed(3), commit ? 42 : -1);
  }
  EXPECT_EQ(txns_->TxnOffsetCommit("t", pid, 0, "g", {}), ErrorCode::kInvalidTxnState)
      << "no open transaction";
}

TEST_F(TxnCoordinatorTest, AnOpenTransactionSurvivesARestartAndCanCommit) {
  auto id = txns_->InitProducerId("t", 60000, -1, -1, kNow);
  ASSERT_EQ(txns_->AddPartitions("t", id.producer_id, 0, {{"out", 0}}, kNow), ErrorCode::kNone);
  EXPECT_EQ(Write("t", id.producer_id, 0, 0, 2), ErrorCode::kNone);
  Start();  // the log and both coordinators reopened from disk
  EXPECT_EQ(State("t"), "Ongoing");
  EXPECT_EQ(Part(0)->LastStableOffset(), Offset(0));
  EXPECT_EQ(txns_->EndTxn("t", id.producer_id, 0, true, kNow), ErrorCode::kNone);
  EXPECT_EQ(Part(0)->LastStableOffset(), Offset(3));
  // The epoch is remembered: the next producer of the id gets epoch 1.
  Start();
  EXPECT_EQ(txns_->InitProducerId("t", 60000, -1, -1, kNow).producer_epoch, 1);
}

TEST_F(TxnCoordinatorTest, ADecidedTransactionIsCompletedOnStart) {
  auto id = txns_->InitProducerId("t", 60000, -1, -1, kNow);
  int64_t pid = id.producer_id;
  ASSERT_EQ(txns_->AddPartitions("t", pid, 0, {{"out", 0}, {"out", 1}}, kNow), ErrorCode::kNone);
  ASSERT_EQ(txns_->AddOffsets("t", pid, 0, "g", kNow), ErrorCode::kNone);
  EXPECT_EQ(Write("t", pid, 0, 0, 1), ErrorCode::kNone);
  EXPECT_EQ(Write("t", pid, 0, 1, 1), ErrorCode::kNone);
  txns_.reset();
  // A crash after the commit decision was persisted and before any marker was written: the
  // record the coordinator appends at PrepareCommit, written here by hand.
  {
    std::ofstream f(dir_.Sub("data") + "/transactions.log", std::ios::app);
    f << R"({"type":"txn","id":"t","pid":)" << pid
      << R"(,"epoch":0,"timeout_ms":60000,"state":"PrepareCommit","start_ms":1,"update_ms":2,)"
      << R"("partitions":[["out",0],["out",1]],"groups":["g"],)"
      << R"("offsets":[{"group":"g","topic":"in","partition":0,"offset":5}]})"
      << "\n";
  }
  Start();
  EXPECT_EQ(State("t"), "CompleteCommit");
  EXPECT_EQ(Markers(0), std::vector<log::ControlType>{log::ControlType::kCommit});
  EXPECT_EQ(Markers(1), std::vector<log::ControlType>{log::ControlType::kCommit});
  EXPECT_EQ(Part(0)->LastStableOffset(), Offset(2));
  OffsetFetchRequest req;
  req.group_id = "g";
  auto& t = req.topics.emplace().emplace_back();
  t.name = "in";
  t.partition_indexes = {0};
  EXPECT_EQ(groups_->OffsetFetch(req, 7).topics.at(0).partitions.at(0).committed_offset, 5);
}

TEST_F(TxnCoordinatorTest, ListAndDescribe) {
  auto a = txns_->InitProducerId("a", 60000, -1, -1, kNow);
  auto b = txns_->InitProducerId("b", 60000, -1, -1, kNow);
  ASSERT_EQ(txns_->AddPartitions("a", a.producer_id, 0, {{"out", 1}, {"out", 0}}, kNow - 5000),
            ErrorCode::kNone);
  DescribeTransactionsRequest d;
  d.transactional_ids = {"a", "nope"};
  auto desc = txns_->Describe(d, kNow);
  ASSERT_EQ(desc.transaction_states.size(), 2u);
  const auto& s = desc.transaction_states[0];
  EXPECT_EQ(s.error_code, 0);
  EXPECT_EQ(s.transaction_state, "Ongoing");
  EXPECT_EQ(s.producer_id, a.producer_id);
  EXPECT_EQ(s.transaction_start_time_ms, kNow - 5000);
  EXPECT_EQ(s.transaction_timeout_ms, 60000);
  ASSERT_EQ(s.topics.size(), 1u);
  EXPECT_EQ(s.topics[0].partitions, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(desc.transaction_states[1].error_code, Wire(ErrorCode::kTransactionalIdNotFound));

  ListTransactionsRequest l;
  EXPECT_EQ(txns_->List(l, kNow).transaction_states.size(), 2u);
  l.state_filters = {"Ongoing", "Bogus"};
  auto listed = txns_->List(l, kNow);
  ASSERT_EQ(listed.transaction_states.size(), 1u);
  EXPECT_EQ(listed.transaction_states[0].transactional_id, "a");
  EXPECT_EQ(listed.unknown_state_filters, std::vector<std::string>{"Bogus"});
  l.state_filters.clear();
  l.producer_id_filters = {b.producer_id};
  EXPECT_EQ(txns_->List(l, kNow).transaction_states.at(0).transactional_id, "b");
  l.producer_id_filters.clear();
  l.duration_filter = 6000;  // running longer than 6 s: none
  EXPECT_TRUE(txns_->List(l, kNow).transaction_states.empty());
  l.duration_filter = 4000;
  EXPECT_EQ(txns_->List(l, kNow).transaction_states.size(), 1u);
}

}  // namespace
}  // namespace eddy::kafka
