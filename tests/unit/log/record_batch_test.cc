#include "log/record_batch.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "log/log_error.h"
#include "log_test_util.h"

namespace eddy::log {
namespace {

using testing::EncodeBatch;
using testing::MakeBatch;
using testing::TestBatch;
using testing::TestRecord;

TEST(RecordBatchTest, DecodesTheHeaderOfAnEncodedBatch) {
  TestBatch b;
  b.base_offset = 5;
  b.partition_leader_epoch = 3;
  b.base_timestamp = 1000;
  b.producer_id = 77;
  b.producer_epoch = 2;
  b.base_sequence = 9;
  b.records = {TestRecord{"a", "x", 0, {}}, TestRecord{std::nullopt, "y", 7, {{"h", "v"}}}};
  std::string bytes = EncodeBatch(b);
  absl::StatusOr<RecordBatchHeader> h = ValidateRecordBatch(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->base_offset, 5);
  EXPECT_EQ(h->size_bytes(), static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(h->partition_leader_epoch, 3);
  EXPECT_EQ(h->magic, 2);
  EXPECT_EQ(h->last_offset_delta, 1);
  EXPECT_EQ(h->last_offset(), 6);
  EXPECT_EQ(h->base_timestamp, 1000);
  EXPECT_EQ(h->max_timestamp, 1007);
  EXPECT_EQ(h->producer_id, 77);
  EXPECT_EQ(h->producer_epoch, 2);
  EXPECT_EQ(h->base_sequence, 9);
  EXPECT_EQ(h->records_count, 2);
  EXPECT_EQ(h->compression(), 0);
  EXPECT_EQ(h->timestamp_type(), TimestampType::kCreateTime);
}

TEST(RecordBatchTest, WalksRecords) {
  TestBatch b;
  b.base_offset = 100;
  b.base_timestamp = 5000;
  b.records = {TestRecord{"key", "value", 0, {}}, TestRecord{std::nullopt, std::nullopt, -3, {}},
               TestRecord{"", std::string(300, 'z'), 12, {{"a", "b"}, {"c", ""}}}};
  std::string bytes = EncodeBatch(b);
  std::vector<RecordView> seen;
  ASSERT_TRUE(ForEachRecord(bytes, [&](const RecordView& r) {
                seen.push_back(r);
                return true;
              }).ok());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].offset, 100);
  EXPECT_EQ(seen[0].key, "key");
  EXPECT_EQ(seen[0].value, "value");
  EXPECT_EQ(seen[0].timestamp, 5000);
  EXPECT_EQ(seen[1].offset, 101);
  EXPECT_EQ(seen[1].key_size, -1);
  EXPECT_EQ(seen[1].value_size, -1);
  EXPECT_EQ(seen[1].timestamp, 4997);
  EXPECT_EQ(seen[2].key_size, 0);
  EXPECT_EQ(seen[2].value.size(), 300u);
  EXPECT_EQ(seen[2].headers_count, 2);
  EXPECT_EQ(seen[2].timestamp, 5012);
}

TEST(RecordBatchTest, TimestampOrOffsetOverflowIsABadRecordNotUndefinedBehavior) {
  // Found by fuzz/record_batch_fuzzer: base timestamp + delta overflowed int64 (UBSan).
  TestBatch b;
  b.base_timestamp = INT64_MIN + 10;
  b.max_timestamp = INT64_MIN + 10;
  b.records = {TestRecord{"k", "v", -100, {}}};
  absl::Status st = ForEachRecord(EncodeBatch(b), [](const RecordView&) { return true; });
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("timestamp out of range"), absl::string_view::npos) << st;
  TestBatch o;
  o.base_offset = INT64_MAX - 1;
  o.records = {TestRecord{"k", "v", 0, {}}, TestRecord{"k", "v", 0, {}},
               TestRecord{"k", "v", 0, {}}};
  st = ForEachRecord(EncodeBatch(o), [](const RecordView&) { return true; });
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("offset out of range"), absl::string_view::npos) << st;
}

TEST(RecordBatchTest, BaseOffsetRewriteKeepsTheCrcValid) {
  std::string bytes = MakeBatch(3);
  SetBaseOffset(bytes.data(), Offset(123456789012));
  SetPartitionLeaderEpoch(bytes.data(), 42);
  absl::StatusOr<RecordBatchHeader> h = ValidateRecordBatch(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->base_offset, 123456789012);
  EXPECT_EQ(h->partition_leader_epoch, 42);
}

TEST(RecordBatchTest, LogAppendTimeSetsTheBitAndRecomputesTheCrc) {
  std::string bytes = MakeBatch(2, 1000);
  SetLogAppendTime(bytes.data(), bytes.size(), 99999);
  absl::StatusOr<RecordBatchHeader> h = ValidateRecordBatch(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_EQ(h->max_timestamp, 99999);
  ASSERT_TRUE(ForEachRecord(bytes, [](const RecordView& r) {
                EXPECT_EQ(r.timestamp, 99999);
                return true;
              }).ok());
}

TEST(RecordBatchTest, RejectsCorruption) {
  std::string good = MakeBatch(4);
  ASSERT_TRUE(ValidateRecordBatch(good).ok());

  std::string flipped = good;
  flipped[flipped.size() - 2] ^= 0x01;
  absl::Status st = ValidateRecordBatch(flipped).status();
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_EQ(KafkaErrorOf(st), KafkaError::kCorruptMessage);

  std::string magic = good;
  magic[kMagicPos] = 1;
  EXPECT_TRUE(absl::IsDataLoss(ValidateRecordBatch(magic).status()));

  EXPECT_TRUE(absl::IsDataLoss(ValidateRecordBatch(good.substr(0, good.size() - 1)).status()));
  EXPECT_TRUE(absl::IsDataLoss(ValidateRecordBatch(good.substr(0, 30)).status()));
  EXPECT_TRUE(absl::IsDataLoss(ValidateRecordBatch(good + "x").status()));
}

TEST(RecordBatchTest, RejectsBadRecordsEvenWithAValidCrc) {
  // Declares 3 records but holds 2: CRC fine, contents wrong.
  TestBatch b;
  b.records = {TestRecord{"a", "1", 0, {}}, TestRecord{"b", "2", 0, {}}};
  std::string bytes = EncodeBatch(b);
  WriteBigEndian32(bytes.data() + kRecordsCountPos, 3);
  WriteBigEndian32(bytes.data() + kLastOffsetDeltaPos, 2);
  WriteBigEndian32(bytes.data() + kCrcPos, static_cast<int32_t>(ComputeBatchCrc(bytes)));
  absl::Status st = ValidateRecordBatch(bytes).status();
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_EQ(KafkaErrorOf(st), KafkaError::kInvalidRecord);
}

TEST(RecordBatchTest, CompressedBatchesAreCheckedOnlyByHeaderAndCrc) {
  TestBatch b;
  b.attributes = 1;  // gzip
  b.compressed_payload = std::string("\x1f\x8b opaque compressed bytes", 27);
  b.compressed_count = 5;
  std::string bytes = EncodeBatch(b);
  absl::StatusOr<RecordBatchHeader> h = ValidateRecordBatch(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->compression(), 1);
  EXPECT_EQ(h->records_count, 5);
  EXPECT_TRUE(
      absl::IsFailedPrecondition(ForEachRecord(bytes, [](const RecordView&) { return true; })));
}

TEST(RecordBatchTest, Varints) {
  for (int64_t v :
       std::initializer_list<int64_t>{0, 1, -1, 63, -64, 64, 300, -300, int64_t{1} << 40,
                                      -(int64_t{1} << 40), INT64_MAX, INT64_MIN}) {
    std::string s;
    testing::PutZigZagVarint(&s, v);
    const char* p = s.data();
    int64_t out = 0;
    ASSERT_TRUE(ReadVarint64(&p, s.data() + s.size(), &out));
    EXPECT_EQ(out, v);
    EXPECT_EQ(p, s.data() + s.size());
    if (v >= INT32_MIN && v <= INT32_MAX) {
      p = s.data();
      int32_t out32 = 0;
      ASSERT_TRUE(ReadVarint32(&p, s.data() + s.size(), &out32));
      EXPECT_EQ(out32, v);
    }
  }
  std::string truncated = "\x80\x80";
  const char* p = truncated.data();
  int64_t out = 0;
  EXPECT_FALSE(ReadVarint64(&p, truncated.data() + truncated.size(), &out));
}

TEST(KafkaErrorTest, DefaultMappingAndPayload) {
  EXPECT_EQ(KafkaErrorOf(absl::OkStatus()), KafkaError::kNone);
  EXPECT_EQ(KafkaErrorOf(absl::OutOfRangeError("x")), KafkaError::kOffsetOutOfRange);
  EXPECT_EQ(KafkaErrorOf(absl::NotFoundError("x")), KafkaError::kUnknownTopicOrPartition);
  EXPECT_EQ(KafkaErrorOf(absl::InternalError("x")), KafkaError::kKafkaStorageError);
  EXPECT_EQ(
      KafkaErrorOf(LogError(absl::StatusCode::kInvalidArgument, KafkaError::kInvalidTopic, "bad")),
      KafkaError::kInvalidTopic);
  EXPECT_EQ(KafkaErrorOf(IoError(2, "cannot open", "/x")), KafkaError::kKafkaStorageError);
}

TEST(RecordBatchBuilderTest, BuildsABatchTheLogAccepts) {
  RecordBatchBuilder b;
  b.Add("k1", false, "v1", false, 1000, {{"h", "x", false}, {"n", "", true}});
  b.Add("", true, "", true, 990);  // null key and value; a timestamp before the first
  b.Add("", false, std::string(300, 'z'), false, 1005);
  EXPECT_EQ(b.count(), 3);
  size_t expected_size = b.size_bytes();
  std::string bytes = b.Build();
  EXPECT_EQ(bytes.size(), expected_size);
  EXPECT_EQ(b.count(), 0);
  absl::StatusOr<RecordBatchHeader> h = ValidateRecordBatch(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->records_count, 3);
  EXPECT_EQ(h->base_timestamp, 1000);
  EXPECT_EQ(h->max_timestamp, 1005);
  EXPECT_EQ(h->producer_id, -1);
  EXPECT_EQ(h->compression(), 0);
  EXPECT_EQ(h->timestamp_type(), TimestampType::kCreateTime);
  std::vector<std::string> seen;
  ASSERT_TRUE(ForEachRecord(bytes, [&](const RecordView& r) {
                std::string s = std::to_string(r.offset) + " " + std::to_string(r.timestamp) + " " +
                                (r.key_size < 0 ? "<null>" : std::string(r.key)) + " " +
                                (r.value_size < 0 ? "<null>" : std::string(r.value).substr(0, 3));
                ForEachHeader(r, [&](std::string_view k, std::string_view v, bool null) {
                  s += " " + std::string(k) + "=" + (null ? "<null>" : std::string(v));
                });
                seen.push_back(s);
                return true;
              }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"0 1000 k1 v1 h=x n=<null>", "1 990 <null> <null>",
                                            "2 1005  zzz"}));
  // The same walk through the decompressing reader (an uncompressed batch needs no scratch).
  std::string scratch;
  int n = 0;
  ASSERT_TRUE(ForEachRecordDecompressing(bytes, &scratch, [&](const RecordView&) {
                ++n;
                return true;
              }).ok());
  EXPECT_EQ(n, 3);
  // Builders are reusable.
  b.Add("a", false, "b", false, 7);
  EXPECT_TRUE(ValidateRecordBatch(b.Build()).ok());
}

}  // namespace
}  // namespace eddy::log
