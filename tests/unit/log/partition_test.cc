#include "log/partition.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "log/log_error.h"
#include "log/record_batch.h"
#include "log_test_util.h"

namespace eddy::log {
namespace {

using testing::EncodeBatch;
using testing::MakeBatch;
using testing::ScratchDir;
using testing::TestBatch;
using testing::TestRecord;

constexpr int64_t kT0 = 1700000000000;

std::vector<std::string> SplitBatches(const std::string& records) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < records.size()) {
    EXPECT_GE(records.size() - pos, kBatchHeaderSize);
    size_t size = kBatchLengthPrefix + ReadBigEndian32(records.data() + pos + kBatchLengthPos);
    EXPECT_LE(pos + size, records.size());
    out.push_back(records.substr(pos, size));
    pos += size;
  }
  return out;
}

int64_t BaseOf(const std::string& batch) { return ReadBigEndian64(batch.data()); }

// The bytes the log should store for `produced` once given `base`.
std::string WithBase(std::string produced, int64_t base) {
  SetBaseOffset(produced.data(), Offset(base));
  return produced;
}

std::vector<std::string> SegmentFiles(const std::string& dir, const std::string& ext) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ext) files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class PartitionTest : public ::testing::Test {
 protected:
  std::shared_ptr<Partition> Open(const TopicConfig& config = {}, const std::string& name = "t-0") {
    PartitionOptions options;
    options.clock_ms = [this] { return now_.load(); };
    absl::StatusOr<std::shared_ptr<Partition>> p =
        Partition::Open(dir_.Sub(name), "t", PartitionId(0), config, options);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : nullptr;
  }

  // Appends `batch` and checks the offsets it gets.
  AppendResult MustAppend(Partition& p, const std::string& batch) {
    absl::StatusOr<AppendResult> r = p.Append(batch);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : AppendResult{};
  }

  // Reads the whole log from the start.
  std::string ReadAll(const Partition& p) {
    std::string all;
    Offset next = p.LogStartOffset();
    while (next < p.HighWatermark()) {
      absl::StatusOr<ReadResult> r = p.Read(next, 1 << 20);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok() || r->records.empty()) break;
      std::vector<std::string> batches = SplitBatches(r->records);
      for (const std::string& b : batches) {
        if (BaseOf(b) + ReadBigEndian32(b.data() + kLastOffsetDeltaPos) >= next.value()) all += b;
      }
      const std::string& last = batches.back();
      next = Offset(BaseOf(last) + ReadBigEndian32(last.data() + kLastOffsetDeltaPos) + 1);
    }
    return all;
  }

  ScratchDir dir_;
  std::atomic<int64_t> now_{kT0};
};

TEST_F(PartitionTest, AppendAssignsOffsetsAndReadServesTheSameBytes) {
  auto p = Open();
  std::string a = MakeBatch(3), b = MakeBatch(1), c = MakeBatch(5);
  AppendResult ra = MustAppend(*p, a);
  AppendResult rb = MustAppend(*p, b);
  AppendResult rc = MustAppend(*p, c);
  EXPECT_EQ(ra.base_offset, Offset(0));
  EXPECT_EQ(ra.last_offset, Offset(2));
  EXPECT_EQ(rb.base_offset, Offset(3));
  EXPECT_EQ(rb.last_offset, Offset(3));
  EXPECT_EQ(rc.base_offset, Offset(4));
  EXPECT_EQ(rc.last_offset, Offset(8));
  EXPECT_EQ(ra.log_append_time_ms, -1);
  EXPECT_EQ(rc.record_count, 5);
  EXPECT_EQ(p->HighWatermark(), Offset(9));
  EXPECT_EQ(p->LogStartOffset(), Offset(0));

  absl::StatusOr<ReadResult> r = p->Read(Offset(0), 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->high_watermark, Offset(9));
  EXPECT_EQ(r->last_stable_offset, Offset(9));
  EXPECT_EQ(r->records, WithBase(a, 0) + WithBase(b, 3) + WithBase(c, 4));
  for (const std::string& batch : SplitBatches(r->records)) {
    EXPECT_TRUE(ValidateRecordBatch(batch).ok()) << "CRC must survive the base offset rewrite";
  }
}

TEST_F(PartitionTest, ProducerBaseOffsetIsOverwritten) {
  auto p = Open();
  TestBatch b;
  b.base_offset = 987654;  // whatever the producer says
  b.records = {TestRecord{"k", "v", 0, {}}};
  MustAppend(*p, MakeBatch(2));
  AppendResult r = MustAppend(*p, EncodeBatch(b));
  EXPECT_EQ(r.base_offset, Offset(2));
  absl::StatusOr<ReadResult> read = p->Read(Offset(2), 1000);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(BaseOf(read->records), 2);
  EXPECT_TRUE(ValidateRecordBatch(read->records).ok());
}

TEST_F(PartitionTest, SeveralBatchesInOneAppend) {
  auto p = Open();
  std::string a = MakeBatch(2), b = MakeBatch(3), c = MakeBatch(1);
  AppendResult r = MustAppend(*p, a + b + c);
  EXPECT_EQ(r.base_offset, Offset(0));
  EXPECT_EQ(r.last_offset, Offset(5));
  EXPECT_EQ(r.batch_count, 3);
  EXPECT_EQ(ReadAll(*p), WithBase(a, 0) + WithBase(b, 2) + WithBase(c, 5));
}

TEST_F(PartitionTest, ReadFromTheMiddleOfABatchStartsAtThatBatch) {
  auto p = Open();
  MustAppend(*p, MakeBatch(4));   // 0..3
  MustAppend(*p, MakeBatch(10));  // 4..13
  MustAppend(*p, MakeBatch(2));   // 14..15
  for (int64_t o = 4; o <= 13; ++o) {
    absl::StatusOr<ReadResult> r = p->Read(Offset(o), 1 << 20);
    ASSERT_TRUE(r.ok());
    std::vector<std::string> batches = SplitBatches(r->records);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(BaseOf(batches[0]), 4);
    EXPECT_EQ(BaseOf(batches[1]), 14);
  }
}

TEST_F(PartitionTest, MaxBytesReturnsWholeBatchesAndAtLeastOne) {
  auto p = Open();
  std::string big = MakeBatch(5, kT0, 2000);  // > 10 KB
  std::string small = MakeBatch(1);
  MustAppend(*p, big);
  MustAppend(*p, small);
  MustAppend(*p, small);
  // KIP-74: one oversized batch, whole.
  absl::StatusOr<ReadResult> r = p->Read(Offset(0), 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records, WithBase(big, 0));
  r = p->Read(Offset(2), 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records, WithBase(big, 0));
  // Two small batches fit in 2*size, not in 2*size - 1.
  r = p->Read(Offset(5), static_cast<int64_t>(2 * small.size()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(SplitBatches(r->records).size(), 2u);
  r = p->Read(Offset(5), static_cast<int64_t>(2 * small.size() - 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(SplitBatches(r->records).size(), 1u);
  // Never a partial batch.
  r = p->Read(Offset(0), static_cast<int64_t>(big.size() + small.size() / 2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records, WithBase(big, 0));
}

TEST_F(PartitionTest, OutOfRangeFetches) {
  auto p = Open();
  MustAppend(*p, MakeBatch(5));
  absl::StatusOr<ReadResult> at_end = p->Read(Offset(5), 1000);
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->records.empty());
  EXPECT_EQ(at_end->high_watermark, Offset(5));

  absl::Status above = p->Read(Offset(6), 1000).status();
  EXPECT_TRUE(absl::IsOutOfRange(above)) << above;
  EXPECT_EQ(KafkaErrorOf(above), KafkaError::kOffsetOutOfRange);
  EXPECT_TRUE(absl::IsOutOfRange(p->Read(Offset(-1), 1000).status()));

  ASSERT_TRUE(p->TruncateBefore(Offset(3)).ok());
  EXPECT_EQ(p->LogStartOffset(), Offset(3));
  EXPECT_TRUE(absl::IsOutOfRange(p->Read(Offset(2), 1000).status()));
  absl::StatusOr<ReadResult> from_start = p->Read(Offset(3), 1000);
  ASSERT_TRUE(from_start.ok());
  EXPECT_EQ(from_start->log_start_offset, Offset(3));
  EXPECT_EQ(BaseOf(from_start->records), 0);  // the batch containing offset 3
  EXPECT_TRUE(absl::IsOutOfRange(p->TruncateBefore(Offset(6)).status()));
  EXPECT_TRUE(absl::IsOutOfRange(p->SyncUpTo(Offset(5))));
}

TEST_F(PartitionTest, EmptyOrCorruptProducesAppendNothing) {
  auto p = Open();
  MustAppend(*p, MakeBatch(1));
  std::string good = MakeBatch(2);
  std::string bad = MakeBatch(2);
  bad[bad.size() - 1] ^= 0x40;
  absl::Status st = p->Append(good + bad).status();
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_EQ(KafkaErrorOf(st), KafkaError::kCorruptMessage);
  EXPECT_TRUE(absl::IsDataLoss(p->Append(good + "tail").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(p->Append("").status()));
  std::string wrong_magic = good;
  wrong_magic[kMagicPos] = 1;
  EXPECT_TRUE(absl::IsDataLoss(p->Append(wrong_magic).status()));
  EXPECT_EQ(p->HighWatermark(), Offset(1));
  EXPECT_EQ(p->SizeBytes(), static_cast<int64_t>(MakeBatch(1).size()));
}

TEST_F(PartitionTest, MaxMessageBytes) {
  TopicConfig config;
  config.max_message_bytes = 500;
  auto p = Open(config);
  absl::Status st = p->Append(MakeBatch(10, kT0, 100)).status();
  EXPECT_TRUE(absl::IsResourceExhausted(st)) << st;
  EXPECT_EQ(KafkaErrorOf(st), KafkaError::kMessageTooLarge);
  EXPECT_TRUE(p->Append(MakeBatch(1)).ok());
}

TEST_F(PartitionTest, CompressedBatchesAreStoredAsIs) {
  auto p = Open();
  TestBatch b;
  b.attributes = 4;  // zstd
  b.base_timestamp = kT0;
  b.max_timestamp = kT0 + 50;
  b.compressed_payload = std::string("(\xb5/\xfd not really zstd, never decompressed)");
  b.compressed_count = 7;
  std::string batch = EncodeBatch(b);
  MustAppend(*p, MakeBatch(2, kT0 - 100));
  AppendResult r = MustAppend(*p, batch);
  EXPECT_EQ(r.base_offset, Offset(2));
  EXPECT_EQ(r.last_offset, Offset(8));
  absl::StatusOr<ReadResult> read = p->Read(Offset(5), 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->records, WithBase(batch, 2));
  absl::StatusOr<std::optional<TimestampOffset>> t = p->OffsetForTimestamp(kT0 + 10);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->offset, Offset(2));
  EXPECT_FALSE((*t)->exact);
  EXPECT_EQ((*t)->timestamp_ms, kT0 + 50);
}

TEST_F(PartitionTest, LogAppendTime) {
  TopicConfig config;
  config.message_timestamp_type = TimestampType::kLogAppendTime;
  auto p = Open(config);
  now_ = kT0 + 777;
  AppendResult r = MustAppend(*p, MakeBatch(3, 1000));
  EXPECT_EQ(r.log_append_time_ms, kT0 + 777);
  absl::StatusOr<ReadResult> read = p->Read(Offset(0), 1 << 20);
  ASSERT_TRUE(read.ok());
  absl::StatusOr<RecordBatchHeader> h = ValidateRecordBatch(read->records);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_EQ(h->max_timestamp, kT0 + 777);
  auto t = p->OffsetForTimestamp(kT0 + 700);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->offset, Offset(0));
  EXPECT_EQ((*t)->timestamp_ms, kT0 + 777);
}

TEST_F(PartitionTest, LeaderEpochIsStamped) {
  auto p = Open();
  AppendOptions options;
  options.partition_leader_epoch = 7;
  ASSERT_TRUE(p->Append(MakeBatch(1), options).ok());
  absl::StatusOr<ReadResult> read = p->Read(Offset(0), 1000);
  ASSERT_TRUE(read.ok());
  absl::StatusOr<RecordBatchHeader> h = ValidateRecordBatch(read->records);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->partition_leader_epoch, 7);
}

TEST_F(PartitionTest, RollsBySegmentBytes) {
  TopicConfig config;
  config.segment_bytes = 1000;
  auto p = Open(config);
  std::string batch = MakeBatch(2, kT0, 40);  // ~170 bytes: 5 per segment
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    AppendResult r = MustAppend(*p, batch);
    expected += WithBase(batch, r.base_offset.value());
  }
  const size_t per_segment = 1000 / batch.size();
  EXPECT_EQ(p->SegmentCount(), (40 + per_segment - 1) / per_segment);
  std::vector<Offset> bases = p->SegmentBaseOffsets();
  for (size_t i = 0; i < bases.size(); ++i) {
    EXPECT_EQ(bases[i], Offset(static_cast<int64_t>(i * per_segment * 2)));
  }
  std::vector<std::string> logs = SegmentFiles(dir_.Sub("t-0"), ".log");
  ASSERT_EQ(logs.size(), bases.size());
  EXPECT_EQ(logs[0], "00000000000000000000.log");
  EXPECT_EQ(logs[1], fmt::format("{:020d}.log", per_segment * 2));
  EXPECT_EQ(SegmentFiles(dir_.Sub("t-0"), ".index").size(), bases.size() - 1);
  EXPECT_EQ(SegmentFiles(dir_.Sub("t-0"), ".timeindex").size(), bases.size() - 1);
  EXPECT_EQ(ReadAll(*p), expected);
  // A fetch spanning segments returns batches from several.
  absl::StatusOr<ReadResult> r = p->Read(Offset(0), 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records, expected);
}

TEST_F(PartitionTest, RollsBySegmentMsInRecordTime) {
  TopicConfig config;
  config.segment_ms = 1000;
  auto p = Open(config);
  MustAppend(*p, MakeBatch(1, kT0));
  MustAppend(*p, MakeBatch(1, kT0 + 1000));
  EXPECT_EQ(p->SegmentCount(), 1u);
  MustAppend(*p, MakeBatch(1, kT0 + 1001));
  EXPECT_EQ(p->SegmentCount(), 2u);
  EXPECT_EQ(p->SegmentBaseOffsets()[1], Offset(2));
}

// Every offset must be found through the sparse index + scan, across many segments, before and
// after a reopen (which loads the index files of closed segments).
TEST_F(PartitionTest, IndexLookupsAcrossManySegments) {
  TopicConfig config;
  config.segment_bytes = 8192;
  config.index_interval_bytes = 300;
  std::mt19937 rng(7);
  std::vector<std::pair<int64_t, int64_t>> ranges;  // base, last of each batch
  {
    auto p = Open(config);
    for (int i = 0; i < 400; ++i) {
      int count = 1 + static_cast<int>(rng() % 6);
      AppendResult r = MustAppend(*p, MakeBatch(count, kT0 + i, 10 + rng() % 60));
      ranges.emplace_back(r.base_offset.value(), r.last_offset.value());
    }
    EXPECT_GT(p->SegmentCount(), 10u);
    ASSERT_TRUE(p->Close().ok());
  }
  for (int pass = 0; pass < 2; ++pass) {
    auto p = Open(config);
    EXPECT_EQ(p->HighWatermark(), Offset(ranges.back().second + 1));
    size_t batch = 0;
    for (int64_t o = 0; o <= ranges.back().second; ++o) {
      while (ranges[batch].second < o) ++batch;
      absl::StatusOr<ReadResult> r = p->Read(Offset(o), 1);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(BaseOf(r->records), ranges[batch].first) << "offset " << o;
    }
    if (pass == 0) {
      // Lose the indexes of two closed segments: they must be rebuilt on open.
      std::vector<std::string> indexes = SegmentFiles(dir_.Sub("t-0"), ".index");
      std::filesystem::remove(dir_.Sub("t-0") + "/" + indexes[1]);
      std::ofstream(dir_.Sub("t-0") + "/" + indexes[3], std::ios::binary | std::ios::trunc)
          << "garbage!!";
    }
    ASSERT_TRUE(p->Close().ok());
  }
}

TEST_F(PartitionTest, TimeIndexLookupsMatchABruteForceScan) {
  TopicConfig config;
  config.segment_bytes = 4096;
  config.index_interval_bytes = 200;
  std::mt19937 rng(11);
  std::vector<std::pair<int64_t, int64_t>> records;  // offset, timestamp
  auto p = Open(config);
  int64_t ts = kT0;
  for (int i = 0; i < 300; ++i) {
    TestBatch b;
    ts += rng() % 50;
    b.base_timestamp = ts + static_cast<int64_t>(rng() % 40) - 20;  // a little out of order
    int count = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < count; ++k) {
      b.records.push_back(TestRecord{"k", "v", static_cast<int64_t>(rng() % 30), {}});
    }
    AppendResult r = MustAppend(*p, EncodeBatch(b));
    for (int k = 0; k < count; ++k) {
      records.emplace_back(r.base_offset.value() + k,
                           b.base_timestamp + b.records[k].timestamp_delta);
    }
  }
  EXPECT_GT(p->SegmentCount(), 3u);
  auto check = [&](Partition& part) {
    for (int64_t target = kT0 - 100; target <= ts + 100; target += 7) {
      std::optional<std::pair<int64_t, int64_t>> expected;
      for (const auto& rec : records) {
        if (rec.second >= target) {
          expected = rec;
          break;
        }
      }
      absl::StatusOr<std::optional<TimestampOffset>> got = part.OffsetForTimestamp(target);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(got->has_value(), expected.has_value()) << "target " << target;
      if (expected.has_value()) {
        EXPECT_EQ((*got)->offset.value(), expected->first) << "target " << target;
        EXPECT_EQ((*got)->timestamp_ms, expected->second) << "target " << target;
        EXPECT_TRUE((*got)->exact);
      }
    }
  };
  check(*p);
  auto latest = p->OffsetForTimestamp(kLatestTimestamp);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->offset, p->HighWatermark());
  auto earliest = p->OffsetForTimestamp(kEarliestTimestamp);
  ASSERT_TRUE(earliest.ok());
  EXPECT_EQ((*earliest)->offset, Offset(0));
  ASSERT_TRUE(p->Close().ok());
  p = Open(config);
  check(*p);
}

TEST_F(PartitionTest, RetentionByBytesDeletesOldestClosedSegments) {
  TopicConfig config;
  config.segment_bytes = 1000;
  auto p = Open(config);
  std::string batch = MakeBatch(2, kT0, 40);
  for (int i = 0; i < 40; ++i) MustAppend(*p, batch);
  const size_t segments = p->SegmentCount();
  const int64_t segment_size = static_cast<int64_t>((1000 / batch.size()) * batch.size());
  TopicConfig retained = config;
  retained.retention_bytes = 3 * segment_size;
  p->SetConfig(retained);
  absl::StatusOr<RetentionResult> r = p->RunRetention(now_);
  ASSERT_TRUE(r.ok()) << r.status();
  // Kafka's rule: delete the oldest segments while the log stays at or above retention.bytes.
  EXPECT_GE(p->SizeBytes(), retained.retention_bytes);
  EXPECT_LT(p->SizeBytes() - retained.retention_bytes, segment_size);
  EXPECT_EQ(static_cast<size_t>(r->segments_deleted), segments - p->SegmentCount());
  EXPECT_EQ(p->LogStartOffset(), p->SegmentBaseOffsets().front());
  EXPECT_EQ(r->log_start_offset, p->LogStartOffset());
  EXPECT_EQ(SegmentFiles(dir_.Sub("t-0"), ".log").size(), p->SegmentCount());
  EXPECT_TRUE(absl::IsOutOfRange(p->Read(Offset(0), 100).status()));
  absl::StatusOr<ReadResult> first = p->Read(p->LogStartOffset(), 100);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(BaseOf(first->records), p->LogStartOffset().value());

  // retention.bytes=0 deletes everything but the active segment.
  retained.retention_bytes = 0;
  p->SetConfig(retained);
  ASSERT_TRUE(p->RunRetention(now_).ok());
  EXPECT_EQ(p->SegmentCount(), 1u);
  EXPECT_EQ(p->HighWatermark(), Offset(80));
  // The log start survives a reopen.
  Offset start = p->LogStartOffset();
  ASSERT_TRUE(p->Close().ok());
  p = Open(config);
  EXPECT_EQ(p->LogStartOffset(), start);
  EXPECT_EQ(p->HighWatermark(), Offset(80));
}

TEST_F(PartitionTest, RetentionByTime) {
  TopicConfig config;
  config.segment_ms = 1000;  // one segment per second of record time
  config.retention_ms = 5000;
  auto p = Open(config);
  for (int s = 0; s < 10; ++s) {
    for (int i = 0; i < 3; ++i) MustAppend(*p, MakeBatch(1, kT0 + s * 2000 + i * 100));
  }
  ASSERT_EQ(p->SegmentCount(), 10u);
  // Segment s holds timestamps up to kT0 + s*2000 + 200.
  absl::StatusOr<RetentionResult> r = p->RunRetention(kT0 + 4 * 2000 + 200 + 5000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_deleted, 4);  // segments 0..3 are older than 5 s; segment 4 is exactly 5 s
  EXPECT_EQ(p->LogStartOffset(), Offset(12));
  // Nothing is deleted with retention.ms = -1, and the active segment never is.
  config.retention_ms = -1;
  p->SetConfig(config);
  EXPECT_EQ(p->RunRetention(kT0 + 1000000000)->segments_deleted, 0);
  config.retention_ms = 0;
  p->SetConfig(config);
  EXPECT_EQ(p->RunRetention(kT0 + 1000000000)->segments_deleted, 5);
  EXPECT_EQ(p->SegmentCount(), 1u);
  EXPECT_EQ(p->LogStartOffset(), Offset(27));
  absl::StatusOr<ReadResult> rest = p->Read(Offset(27), 1 << 20);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(SplitBatches(rest->records).size(), 3u);
}

TEST_F(PartitionTest, TruncateBeforeDeletesWholeSegmentsAndPersists) {
  TopicConfig config;
  config.segment_bytes = 1000;
  auto p = Open(config);
  std::string batch = MakeBatch(2, kT0, 40);
  for (int i = 0; i < 30; ++i) MustAppend(*p, batch);
  std::vector<Offset> bases = p->SegmentBaseOffsets();
  Offset cut = bases[2] + 3;  // inside segment 2
  absl::StatusOr<RetentionResult> r = p->TruncateBefore(cut);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_deleted, 2);
  EXPECT_EQ(p->LogStartOffset(), cut);
  EXPECT_EQ(p->SegmentBaseOffsets().front(), bases[2]);
  // A lower offset is a no-op.
  ASSERT_TRUE(p->TruncateBefore(Offset(1)).ok());
  EXPECT_EQ(p->LogStartOffset(), cut);
  // Timestamp look-ups do not go below the log start.
  auto t = p->OffsetForTimestamp(0);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->offset, cut);
  ASSERT_TRUE(p->Close().ok());
  p = Open(config);
  EXPECT_EQ(p->LogStartOffset(), cut);
  EXPECT_TRUE(absl::IsOutOfRange(p->Read(cut - 1, 100).status()));
}

TEST_F(PartitionTest, ReopenAfterCleanClose) {
  TopicConfig config;
  config.segment_bytes = 2000;
  std::string expected;
  {
    auto p = Open(config);
    for (int i = 0; i < 50; ++i) {
      std::string b = MakeBatch(1 + i % 3, kT0 + i);
      AppendResult r = MustAppend(*p, b);
      expected += WithBase(b, r.base_offset.value());
    }
    ASSERT_TRUE(p->Close().ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(p->Append(MakeBatch(1)).status()));
    EXPECT_TRUE(absl::IsFailedPrecondition(p->Read(Offset(0), 10).status()));
  }
  auto p = Open(config);
  EXPECT_EQ(p->HighWatermark(), Offset(99));
  EXPECT_EQ(p->DurableOffset(), Offset(99));
  EXPECT_EQ(ReadAll(*p), expected);
  AppendResult r = MustAppend(*p, MakeBatch(1));
  EXPECT_EQ(r.base_offset, Offset(99));
}

// Writes `count` batches into a fresh partition `name`, closes it, and returns the stored bytes
// of the last segment together with each batch's end position and last offset.
struct Written {
  std::string last_segment_path;
  std::string stored;                 // whole log, as read back
  std::vector<int64_t> ends;          // end position of each batch in the last segment
  std::vector<int64_t> next_offsets;  // next offset after each batch in the last segment
  int64_t last_segment_base = 0;
};

class RecoveryTest : public PartitionTest {
 protected:
  Written Write(const std::string& name, int count, int64_t segment_bytes, uint32_t seed) {
    TopicConfig config;
    config.segment_bytes = segment_bytes;
    config.index_interval_bytes = 128;
    auto p = Open(config, name);
    std::mt19937 rng(seed);
    for (int i = 0; i < count; ++i) {
      MustAppend(*p, MakeBatch(1 + static_cast<int>(rng() % 4), kT0 + i, 5 + rng() % 200));
    }
    Written w;
    w.stored = ReadAll(*p);
    w.last_segment_base = p->SegmentBaseOffsets().back().value();
    w.last_segment_path = dir_.Sub(name) + "/" + fmt::format("{:020d}.log", w.last_segment_base);
    int64_t position = 0;
    for (const std::string& b : SplitBatches(w.stored)) {
      if (BaseOf(b) < w.last_segment_base) continue;
      position += static_cast<int64_t>(b.size());
      w.ends.push_back(position);
      w.next_offsets.push_back(BaseOf(b) + ReadBigEndian32(b.data() + kLastOffsetDeltaPos) + 1);
    }
    EXPECT_TRUE(p->Close().ok());
    return w;
  }

  // The stored log as it must be after recovery keeps `kept` offsets.
  static std::string Prefix(const std::string& stored, int64_t next_offset) {
    std::string out;
    for (const std::string& b : SplitBatches(stored)) {
      if (BaseOf(b) < next_offset) out += b;
    }
    return out;
  }
};

TEST_F(RecoveryTest, TruncatedTailKeepsExactlyTheWholeBatchesBeforeTheCut) {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 12; ++trial) {
    std::string name = fmt::format("cut-{}", trial);
    // Trials alternate between a single segment and several.
    Written w = Write(name, 30, trial % 2 == 0 ? (1 << 30) : 2500, 100 + trial);
    int64_t size = w.ends.back();
    int64_t cut;
    if (trial == 0) {
      cut = 0;
    } else if (trial == 1) {
      cut = size - 1;
    } else if (trial == 2) {
      cut = w.ends[w.ends.size() / 2];  // exactly at a boundary: nothing to drop
    } else {
      cut = static_cast<int64_t>(rng() % static_cast<uint64_t>(size));
    }
    std::filesystem::resize_file(w.last_segment_path, static_cast<uintmax_t>(cut));
    int64_t kept_end = 0;
    int64_t next = w.last_segment_base;
    for (size_t i = 0; i < w.ends.size(); ++i) {
      if (w.ends[i] <= cut) {
        kept_end = w.ends[i];
        next = w.next_offsets[i];
      }
    }
    TopicConfig config;
    config.segment_bytes = trial % 2 == 0 ? (1 << 30) : 2500;
    auto p = Open(config, name);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->HighWatermark(), Offset(next)) << "trial " << trial << " cut " << cut;
    EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(w.last_segment_path)), kept_end);
    EXPECT_EQ(ReadAll(*p), Prefix(w.stored, next)) << "trial " << trial;
    // The log continues right after the last kept batch.
    AppendResult r = MustAppend(*p, MakeBatch(2));
    EXPECT_EQ(r.base_offset, Offset(next));
  }
}

TEST_F(RecoveryTest, CorruptByteTruncatesAtThatBatch) {
  Written w = Write("flip", 20, 1 << 30, 5);
  // Flip a byte inside batch 12's records: its CRC no longer matches.
  int64_t begin = w.ends[11];
  int64_t end = w.ends[12];
  {
    std::fstream f(w.last_segment_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(begin + (end - begin) - 3);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(begin + (end - begin) - 3);
    f.write(&c, 1);
  }
  auto p = Open({}, "flip");
  EXPECT_EQ(p->HighWatermark(), Offset(w.next_offsets[11]));
  EXPECT_EQ(ReadAll(*p), Prefix(w.stored, w.next_offsets[11]));
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(w.last_segment_path)), begin);
}

TEST_F(RecoveryTest, BadLengthBadMagicAndZeroTail) {
  {
    Written w = Write("len", 10, 1 << 30, 6);
    std::fstream f(w.last_segment_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(w.ends[4] + 8);
    f.write("\x7f\xff\xff\xff", 4);  // absurd length
    f.close();
    auto p = Open({}, "len");
    EXPECT_EQ(p->HighWatermark(), Offset(w.next_offsets[4]));
  }
  {
    Written w = Write("magic", 10, 1 << 30, 7);
    std::fstream f(w.last_segment_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(w.ends[6] + 16);
    f.write("\x01", 1);
    f.close();
    auto p = Open({}, "magic");
    EXPECT_EQ(p->HighWatermark(), Offset(w.next_offsets[6]));
  }
  {
    Written w = Write("zeros", 10, 1 << 30, 8);
    std::ofstream(w.last_segment_path, std::ios::binary | std::ios::app) << std::string(4096, '\0');
    auto p = Open({}, "zeros");
    EXPECT_EQ(p->HighWatermark(), Offset(w.next_offsets.back()));
    EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(w.last_segment_path)), w.ends.back());
  }
}

// Without partition.meta every segment is scanned; a torn older segment cuts the log there and
// the later segments go.
TEST_F(RecoveryTest, TornOlderSegmentDropsTheLaterOnes) {
  Written w = Write("older", 60, 1500, 9);
  std::string dir = dir_.Sub("older");
  std::vector<std::string> logs = SegmentFiles(dir, ".log");
  ASSERT_GE(logs.size(), 4u);
  std::filesystem::remove(dir + "/partition.meta");
  std::string victim = dir + "/" + logs[1];
  std::filesystem::resize_file(victim, std::filesystem::file_size(victim) - 5);
  auto p = Open({TopicConfig{}}, "older");
  EXPECT_EQ(p->SegmentCount(), 2u);
  EXPECT_EQ(SegmentFiles(dir, ".log").size(), 2u);
  Offset hw = p->HighWatermark();
  EXPECT_EQ(ReadAll(*p), Prefix(w.stored, hw.value()));
  EXPECT_LT(hw.value(), w.next_offsets.back());
}

TEST_F(PartitionTest, FlushPolicies) {
  {
    TopicConfig config;
    config.flush_messages = 1;
    auto p = Open(config, "every");
    MustAppend(*p, MakeBatch(3));
    EXPECT_EQ(p->DurableOffset(), Offset(3));
  }
  {
    auto p = Open({}, "default");
    MustAppend(*p, MakeBatch(3));
    EXPECT_EQ(p->DurableOffset(), Offset(0));  // fsync only on request
    ASSERT_TRUE(p->SyncUpTo(Offset(1)).ok());
    EXPECT_EQ(p->DurableOffset(), Offset(3));
    int64_t syncs = p->SyncCount();
    ASSERT_TRUE(p->SyncUpTo(Offset(2)).ok());  // already durable: no fsync
    EXPECT_EQ(p->SyncCount(), syncs);
  }
  {
    TopicConfig config;
    config.flush_ms = 1000;
    auto p = Open(config, "timed");
    MustAppend(*p, MakeBatch(3));
    EXPECT_EQ(p->DurableOffset(), Offset(0));
    ASSERT_TRUE(p->FlushIfDue(now_ + 999).ok());
    EXPECT_EQ(p->DurableOffset(), Offset(0));
    ASSERT_TRUE(p->FlushIfDue(now_ + 1000).ok());
    EXPECT_EQ(p->DurableOffset(), Offset(3));
  }
}

// Closed segments become durable through FlushIfDue, which advances the recovery point in
// partition.meta: on the next open only segments from there on are scanned.
TEST_F(PartitionTest, FlushIfDueMakesRolledSegmentsDurableAndAdvancesTheRecoveryPoint) {
  TopicConfig config;
  config.segment_bytes = 1000;
  auto p = Open(config);
  for (int i = 0; i < 20; ++i) MustAppend(*p, MakeBatch(2, kT0, 40));
  ASSERT_GT(p->SegmentCount(), 2u);
  auto meta = [&] {
    std::ifstream in(dir_.Sub("t-0") + "/partition.meta");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  EXPECT_NE(meta().find("eddy-partition-meta 1\n"), std::string::npos);
  EXPECT_NE(meta().find("recovery_point 0\n"), std::string::npos);
  ASSERT_TRUE(p->FlushIfDue(now_).ok());
  Offset active = p->SegmentBaseOffsets().back();
  EXPECT_NE(meta().find(fmt::format("recovery_point {}\n", active.value())), std::string::npos)
      << meta();
  EXPECT_EQ(p->DurableOffset(), p->HighWatermark());
  int64_t syncs = p->SyncCount();
  ASSERT_TRUE(p->FlushIfDue(now_).ok());  // nothing left to do
  EXPECT_EQ(p->SyncCount(), syncs);
}

// Several producers append and wait for durability concurrently while consumers read; every
// acknowledged batch must be there after a reopen, and the fsyncs are shared.
TEST_F(PartitionTest, GroupCommitWithConcurrentProducers) {
  TopicConfig config;
  config.segment_bytes = 64 * 1024;
  constexpr int kThreads = 6;
  constexpr int kPerThread = 40;
  std::map<int64_t, std::string> acknowledged;  // base offset -> stored bytes
  std::mutex ack_mu;
  std::atomic<int> failures{0};
  {
    auto p = Open(config);
    std::atomic<bool> done{false};
    std::thread reader([&] {
      std::mt19937 rng(1);
      while (!done.load()) {
        Offset hw = p->HighWatermark();
        if (hw.value() == 0) continue;
        absl::StatusOr<ReadResult> r = p->Read(Offset(rng() % hw.value()), 4096);
        if (!r.ok() || r->records.empty()) {
          failures++;
          continue;
        }
        for (const std::string& b : SplitBatches(r->records)) {
          if (!ValidateRecordBatch(b).ok()) failures++;
        }
      }
    });
    std::vector<std::thread> producers;
    for (int t = 0; t < kThreads; ++t) {
      producers.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string batch = MakeBatch(1 + i % 3, kT0 + i, 50, fmt::format("p{}-{}", t, i));
          absl::StatusOr<AppendResult> r = p->Append(batch);
          if (!r.ok()) {
            failures++;
            continue;
          }
          if (!p->SyncUpTo(r->last_offset).ok()) {
            failures++;
            continue;
          }
          if (p->DurableOffset() <= r->last_offset) failures++;
          std::lock_guard l(ack_mu);
          acknowledged[r->base_offset.value()] = WithBase(batch, r->base_offset.value());
        }
      });
    }
    for (auto& t : producers) t.join();
    done = true;
    reader.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_LT(p->SyncCount(), kThreads * kPerThread);
    p.reset();  // destroyed without Close(): the destructor closes
  }
  auto p = Open(config);
  EXPECT_EQ(acknowledged.size(), static_cast<size_t>(kThreads * kPerThread));
  std::string all = ReadAll(*p);
  std::map<int64_t, std::string> stored;
  for (const std::string& b : SplitBatches(all)) stored[BaseOf(b)] = b;
  for (const auto& [base, bytes] : acknowledged) {
    ASSERT_EQ(stored.count(base), 1u) << "acknowledged batch at " << base << " is missing";
    EXPECT_EQ(stored[base], bytes);
  }
}

}  // namespace
}  // namespace eddy::log
