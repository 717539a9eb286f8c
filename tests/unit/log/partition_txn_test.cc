// Transactions in a partition's log (Kafka protocol: KIP-98): the last stable offset, the
// aborted-transaction list, read_committed reads, and the transaction state surviving a clean
// close, a crash (the batches after the snapshot are scanned again) and a stale snapshot. Batches
// and markers come from the tests' independent encoder; expected offsets are counted by hand.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "log/log_error.h"
#include "log/partition.h"
#include "log/record_batch.h"
#include "log_test_util.h"

namespace eddy::log {
namespace {

using testing::EncodeBatch;
using testing::ScratchDir;
using testing::TestBatch;
using testing::TestRecord;

// `count` records of producer `pid` (transactional when `txn`).
std::string ProducerBatch(int64_t pid, int count, bool txn = true) {
  TestBatch b;
  b.producer_id = pid;
  b.producer_epoch = 0;
  b.base_sequence = 0;
  b.attributes = txn ? 0x10 : 0;
  for (int i = 0; i < count; ++i) {
    TestRecord r;
    r.value = "p" + std::to_string(pid) + "-" + std::to_string(i);
    r.timestamp_delta = i;
    b.records.push_back(r);
  }
  return EncodeBatch(b);
}

// A commit (type 1) or abort (type 0) marker of `pid`, encoded by hand: attributes
// transactional|control, key {version 0, type}, value {version 0, coordinator epoch 0}.
std::string Marker(int64_t pid, bool commit) {
  TestBatch b;
  b.producer_id = pid;
  b.producer_epoch = 0;
  b.attributes = 0x30;
  TestRecord r;
  r.key = std::string("\x00\x00\x00", 3) + (commit ? '\x01' : '\x00');
  r.value = std::string(6, '\0');
  b.records.push_back(r);
  return EncodeBatch(b);
}

// The base offsets of the batches in `records`.
std::vector<int64_t> BaseOffsets(std::string_view records) {
  std::vector<int64_t> out;
  while (records.size() >= kBatchHeaderSize) {
    auto h = DecodeBatchHeader(records);
    EXPECT_TRUE(h.ok());
    out.push_back(h->base_offset);
    records.remove_prefix(static_cast<size_t>(h->size_bytes()));
  }
  return out;
}

class PartitionTxnTest : public ::testing::Test {
 protected:
  std::shared_ptr<Partition> Open() {
    auto p = Partition::Open(dir_.Sub("t-0"), "t", PartitionId(0), TopicConfig{});
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : nullptr;
  }
  static int64_t Append(Partition& p, const std::string& batch) {
    auto r = p.Append(batch);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->base_offset.value() : -1;
  }
  ScratchDir dir_;
};

TEST_F(PartitionTxnTest, LastStableOffsetStopsAtTheOldestOpenTransaction) {
  auto p = Open();
  EXPECT_EQ(Append(*p, ProducerBatch(-1, 3, false)), 0);  // offsets 0-2, plain
  EXPECT_EQ(Append(*p, ProducerBatch(7, 2)), 3);          // 3-4, producer 7 opens
  EXPECT_EQ(Append(*p, ProducerBatch(8, 1)), 5);          // 5, producer 8 opens
  EXPECT_EQ(Append(*p, ProducerBatch(-1, 1, false)), 6);  // 6, plain
  EXPECT_EQ(p->HighWatermark(), Offset(7));
  EXPECT_EQ(p->LastStableOffset(), Offset(3));
  EXPECT_EQ(p->OngoingTransactions(), (std::map<int64_t, Offset>{{7, Offset(3)}, {8, Offset(5)}}));

  auto committed = p->Read(Offset(0), 1 << 20, true, /*read_committed=*/true);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(BaseOffsets(committed->records), (std::vector<int64_t>{0}));
  EXPECT_EQ(committed->last_stable_offset, Offset(3));
  auto all = p->Read(Offset(0), 1 << 20);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(BaseOffsets(all->records), (std::vector<int64_t>{0, 3, 5, 6}));
  // Fetching at or past the LSO gives nothing to read_committed readers.
  committed = p->Read(Offset(3), 1 << 20, true, true);
  ASSERT_TRUE(committed.ok());
  EXPECT_TRUE(committed->records.empty());

  EXPECT_EQ(Append(*p, Marker(7, /*commit=*/true)), 7);
  EXPECT_EQ(p->LastStableOffset(), Offset(5)) << "producer 8 is still open";
  EXPECT_EQ(Append(*p, Marker(8, /*commit=*/false)), 8);
  EXPECT_EQ(p->LastStableOffset(), Offset(9));
  EXPECT_TRUE(p->OngoingTransactions().empty());
  committed = p->Read(Offset(0), 1 << 20, true, true);
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(BaseOffsets(committed->records), (std::vector<int64_t>{0, 3, 5, 6, 7, 8}));
  // Only producer 8's transaction was aborted: from offset 5 to its marker at 8.
  EXPECT_EQ(p->AbortedTransactions(Offset(0), Offset(9)),
            (std::vector<AbortedTxn>{{8, Offset(5), Offset(8)}}));
  EXPECT_TRUE(p->AbortedTransactions(Offset(9), Offset(20)).empty()) << "ended before 9";
  EXPECT_TRUE(p->AbortedTransactions(Offset(0), Offset(5)).empty()) << "began at 5";
}

TEST_F(PartitionTxnTest, AMarkerWithoutAnOpenTransactionChangesNothing) {
  auto p = Open();
  EXPECT_EQ(Append(*p, Marker(5, false)), 0);
  EXPECT_EQ(Append(*p, ProducerBatch(5, 2)), 1);
  EXPECT_EQ(Append(*p, Marker(5, false)), 3);
  EXPECT_EQ(Append(*p, Marker(5, false)), 4);  // a coordinator writing it again
  EXPECT_EQ(p->AbortedTransactions(Offset(0), Offset(10)),
            (std::vector<AbortedTxn>{{5, Offset(1), Offset(3)}}));
  EXPECT_EQ(p->LastStableOffset(), Offset(5));
}

TEST_F(PartitionTxnTest, AControlBatchWithoutAMarkerKeyIsRefused) {
  auto p = Open();
  TestBatch b;
  b.producer_id = 1;
  b.producer_epoch = 0;
  b.attributes = 0x30;
  TestRecord r;
  r.key = "x";
  r.value = "y";
  b.records.push_back(r);
  auto res = p->Append(EncodeBatch(b));
  EXPECT_FALSE(res.ok());
  EXPECT_EQ(KafkaErrorOf(res.status()), KafkaError::kInvalidRecord);
  EXPECT_EQ(p->HighWatermark(), Offset(0));
}

TEST_F(PartitionTxnTest, BuiltControlBatchesAreReadBack) {
  std::string commit = BuildControlBatch(42, 3, ControlType::kCommit, 0, 1700000000000);
  ASSERT_TRUE(ValidateRecordBatch(commit).ok());
  auto h = DecodeBatchHeader(commit);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->is_control());
  EXPECT_TRUE(h->is_transactional());
  EXPECT_EQ(h->producer_id, 42);
  EXPECT_EQ(h->producer_epoch, 3);
  EXPECT_EQ(ReadControlType(commit).value(), ControlType::kCommit);
  // Same bytes as the independent encoder's marker (it uses epoch 0 and timestamp 1700000000000).
  EXPECT_EQ(BuildControlBatch(9, 0, ControlType::kAbort, 0, 1700000000000), Marker(9, false));
  EXPECT_EQ(ReadControlType(Marker(9, true)).value(), ControlType::kCommit);
  EXPECT_FALSE(ReadControlType(ProducerBatch(9, 1)).ok());
}

TEST_F(PartitionTxnTest, StateSurvivesCloseAndCrash) {
  {
    auto p = Open();
    Append(*p, ProducerBatch(1, 2));  // 0-1
    Append(*p, Marker(1, false));     // 2
    Append(*p, ProducerBatch(2, 1));  // 3, open
    ASSERT_TRUE(p->Close().ok());
  }
  {
    auto p = Open();  // from the snapshot written at close
    EXPECT_EQ(p->LastStableOffset(), Offset(3));
    EXPECT_EQ(p->AbortedTransactions(Offset(0), Offset(10)),
              (std::vector<AbortedTxn>{{1, Offset(0), Offset(2)}}));
    // A crash: batches appended after the snapshot (taken when this open finished) and no close.
    Append(*p, ProducerBatch(3, 1));  // 4, open
    Append(*p, Marker(2, false));     // 5: producer 2 aborted
    p->CloseWithoutFlush();
  }
  auto p = Open();
  EXPECT_EQ(p->OngoingTransactions(), (std::map<int64_t, Offset>{{3, Offset(4)}}));
  EXPECT_EQ(p->LastStableOffset(), Offset(4));
  EXPECT_EQ(p->AbortedTransactions(Offset(0), Offset(10)),
            (std::vector<AbortedTxn>{{1, Offset(0), Offset(2)}, {2, Offset(3), Offset(5)}}));
}

TEST_F(PartitionTxnTest, ASnapshotAheadOfTheLogIsIgnoredAndTheLogScanned) {
  {
    auto p = Open();
    Append(*p, ProducerBatch(4, 1));  // 0, open
    Append(*p, ProducerBatch(5, 1));  // 1, open
    Append(*p, Marker(5, true));      // 2
    ASSERT_TRUE(p->Close().ok());
  }
  // A snapshot claiming a longer log with other transactions (as after losing the log's tail).
  {
    std::ofstream f(dir_.Sub("t-0") + "/txn.snapshot", std::ios::trunc);
    f << "eddy-txn-snapshot 1\noffset 100\nongoing 9 50\naborted 8 10 20\n";
  }
  auto p = Open();
  EXPECT_EQ(p->OngoingTransactions(), (std::map<int64_t, Offset>{{4, Offset(0)}}));
  EXPECT_TRUE(p->AbortedTransactions(Offset(0), Offset(100)).empty());
}

TEST_F(PartitionTxnTest, TransactionsAcrossSegmentsAreScanned) {
  TopicConfig config;
  config.segment_bytes = 300;  // a roll every few batches
  {
    auto p = Partition::Open(dir_.Sub("t-0"), "t", PartitionId(0), config);
    ASSERT_TRUE(p.ok());
    for (int i = 0; i < 10; ++i) Append(**p, ProducerBatch(100 + i, 2));
    for (int i = 0; i < 10; i += 2) Append(**p, Marker(100 + i, /*commit=*/i % 4 == 0));
    EXPECT_GT((*p)->SegmentCount(), 3u);
    (*p)->CloseWithoutFlush();
  }
  // Remove the snapshot: recovery scans every segment.
  std::filesystem::remove(dir_.Sub("t-0") + "/txn.snapshot");
  auto p = Partition::Open(dir_.Sub("t-0"), "t", PartitionId(0), config);
  ASSERT_TRUE(p.ok());
  // Producers 101, 103, ... stay open; 102 and 106 were aborted (i = 2, 6), 100, 104, 108
  // committed. Producer 100+i wrote offsets 2i and 2i+1; the markers follow at 20, 21, ...
  std::map<int64_t, Offset> open;
  for (int i = 1; i < 10; i += 2) open[100 + i] = Offset(2 * i);
  EXPECT_EQ((*p)->OngoingTransactions(), open);
  EXPECT_EQ((*p)->AbortedTransactions(Offset(0), Offset(100)),
            (std::vector<AbortedTxn>{{102, Offset(4), Offset(21)}, {106, Offset(12), Offset(23)}}));
  EXPECT_EQ((*p)->LastStableOffset(), Offset(2));
}

}  // namespace
}  // namespace eddy::log
