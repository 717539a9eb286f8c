// Malformed input: every failure is an error status, never a crash, an out-of-bounds read or a huge
// allocation.
#include <cstring>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "kafka/messages.h"
#include "test_bytes.h"

namespace eddy::kafka {
namespace {

// Decodes from a heap copy of exactly the input's size (so that the sanitizers see overreads).
template <typename T>
absl::Status DecodeExact(std::string_view bytes, int16_t version, T* out = nullptr) {
  std::unique_ptr<char[]> buf(new char[bytes.size() + 1]);
  std::memcpy(buf.get(), bytes.data(), bytes.size());
  ByteReader r(std::string_view(buf.get(), bytes.size()));
  T msg;
  absl::Status s = msg.Decode(r, version);
  if (s.ok() && !r.empty()) s = r.ExpectEnd();
  if (out != nullptr) *out = std::move(msg);
  return s;
}

template <typename T>
void ExpectEveryTruncationFails(const std::string& bytes, int16_t version) {
  ASSERT_TRUE(DecodeExact<T>(bytes, version).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::Status s = DecodeExact<T>(std::string_view(bytes).substr(0, n), version);
    EXPECT_FALSE(s.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
}

void ExpectError(const absl::Status& s, std::string_view needle) {
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find(needle), std::string::npos) << s;
}

TEST(MalformedTest, TruncationOfHandWrittenMessages) {
  ExpectEveryTruncationFails<ApiVersionsResponse>(
      Bytes("00 00 03 00 00 00 00 00 09 00 00 12 00 00 00 03 00 00 00 00 00"
            "02 01 08 00 00 00 00 00 00 00 05 07 02 'xy'"),
      3);
  ExpectEveryTruncationFails<RequestHeader>(Bytes("00 03 00 0c 01 02 03 04 00 07 'rdkafka' 00"), 2);
  ExpectEveryTruncationFails<ProduceRequest>(
      Bytes("ff ff ff ff 00 00 75 30 00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00"
            "00 00 00 06 01 02 03 'abc'"),
      3);
  ExpectEveryTruncationFails<MetadataRequest>(Bytes("00 00 00 01 00 03 'foo'"), 1);
}

TEST(MalformedTest, TaggedFieldsOutOfOrderOrRepeatedAreRejected) {
  // Found by fuzz/kafka_request_fuzzer: tags 49 then 0 decoded, but re-encoded in tag order, so
  // the message did not round-trip. KIP-482 requires strictly increasing tags.
  // FindCoordinatorRequest v3: key "eddy", key type 0x31, then 2 tagged fields: 49, then 0.
  absl::Status s = DecodeExact<FindCoordinatorRequest>(Bytes("05 'eddy' 31 02 31 00 00 00"), 3);
  ExpectError(s, "tagged field 0 follows tag 49");
  // The same tag twice (ApiVersionsRequest v3: two empty compact strings, then tags 7 and 7).
  s = DecodeExact<ApiVersionsRequest>(Bytes("01 01 02 07 00 07 00"), 3);
  ExpectError(s, "tagged field 7 follows tag 7");
  // In order: accepted.
  EXPECT_TRUE(DecodeExact<ApiVersionsRequest>(Bytes("01 01 02 00 00 07 00"), 3).ok());
}

TEST(MalformedTest, TruncationErrorNamesOffsetAndMessage) {
  absl::Status s = DecodeExact<MetadataRequest>(Bytes("00 00 00 01 00 05 'foo'"), 1);
  ExpectError(s, "decoding MetadataRequest v1");
  ExpectError(s, "string length 5 exceeds the 3 bytes left at offset 6");
}

TEST(MalformedTest, HugeArrayLengthIsRejectedBeforeAllocating) {
  // int32 array length 2^31-1 with only a few bytes behind it.
  ExpectError(DecodeExact<MetadataRequest>(Bytes("7f ff ff ff 00 03 'foo'"), 1),
              "array length 2147483647 exceeds the 5 bytes left");
  // Compact array length: unsigned varint 0xffffffff (= 2^32 - 2 elements).
  ExpectError(DecodeExact<ApiVersionsResponse>(Bytes("00 00 ff ff ff ff 0f 00"), 3),
              "array length 4294967294 exceeds");
  // An int32 array ([]int32 in a struct) claiming a million elements.
  ExpectError(DecodeExact<DescribeProducersRequest>(Bytes("02 02 't' 80 a4 e8 03 00 00 00 00"), 0),
              "exceeds");
  // Huge string and bytes lengths.
  ExpectError(DecodeExact<RequestHeader>(Bytes("00 12 00 03 00 00 00 01 7f ff 'x'"), 1),
              "string length 32767 exceeds");
  ExpectError(DecodeExact<ProduceRequest>(Bytes("ff ff ff ff 00 00 75 30 00 00 00 01 00 01 't'"
                                                "00 00 00 01 00 00 00 00 7f ff ff ff 'abc'"),
                                          3),
              "bytes length 2147483647 exceeds");
}

TEST(MalformedTest, NegativeLengthsOtherThanNullAreErrors) {
  // String length -2 (topic name in MetadataRequest v1).
  ExpectError(DecodeExact<MetadataRequest>(Bytes("00 00 00 01 ff fe"), 1),
              "negative string length -2");
  // Array length -2 (topics are nullable in v1, but only -1 means null).
  ExpectError(DecodeExact<MetadataRequest>(Bytes("ff ff ff fe"), 1), "negative array length -2");
  // Records length -5.
  ExpectError(DecodeExact<ProduceRequest>(Bytes("ff ff ff ff 00 00 75 30 00 00 00 01 00 01 't'"
                                                "00 00 00 01 00 00 00 00 ff ff ff fb"),
                                          3),
              "negative bytes length -5");
  // Null (-1) where the field is not nullable: topic name in v1, client software name in v3.
  ExpectError(DecodeExact<MetadataRequest>(Bytes("00 00 00 01 ff ff"), 1),
              "non-nullable string is null");
  ExpectError(DecodeExact<ApiVersionsRequest>(Bytes("00 01 00"), 3),
              "non-nullable compact string is null");
  // A null array where the array is not nullable.
  ExpectError(DecodeExact<ApiVersionsResponse>(Bytes("00 00 ff ff ff ff"), 0),
              "non-nullable field ApiKeys is null");
}

TEST(MalformedTest, BadVarints) {
  // Six continuation bytes: longer than a 32-bit varint.
  ExpectError(DecodeExact<ApiVersionsRequest>(Bytes("ff ff ff ff ff 01"), 3),
              "does not fit in 32 bits");
  // Five bytes whose last one carries more than 4 bits.
  ExpectError(DecodeExact<ApiVersionsRequest>(Bytes("ff ff ff ff 1f"), 3),
              "does not fit in 32 bits");
  // Incomplete varint.
  ExpectError(DecodeExact<ApiVersionsRequest>(Bytes("80"), 3), "incomplete");
}

TEST(MalformedTest, BadTaggedFields) {
  const std::string header = Bytes("00 12 00 03 00 00 00 2a ff ff");
  // Tagged field size larger than what is left.
  ExpectError(DecodeExact<RequestHeader>(header + Bytes("01 05 09 aa"), 2),
              "tagged field 5 size 9 exceeds");
  // A huge tagged-field count with nothing behind it: an error, not a long loop.
  ExpectError(DecodeExact<RequestHeader>(header + Bytes("ff ff ff ff 0f"), 2), "truncated");
  // A known tagged field (ZkMigrationReady, a bool) whose body is longer than its value.
  ExpectError(DecodeExact<ApiVersionsResponse>(Bytes("00 00 01 00 00 00 00 01 03 02 01 01"), 3),
              "unexpected trailing bytes");
  // A known tagged field whose body is too short.
  ExpectError(DecodeExact<ApiVersionsResponse>(Bytes("00 00 01 00 00 00 00 01 01 02 00 00"), 3),
              "truncated");
}

TEST(MalformedTest, UnsupportedVersions) {
  ExpectError(DecodeExact<FetchRequest>("", 18), "FetchRequest version 18 is not supported");
  ExpectError(DecodeExact<RequestHeader>("", 3), "RequestHeader version 3 is not supported");
  ExpectError(DecodeExact<ProduceResponse>("", -1), "version -1 is not supported");
}

// One decode of garbage: rejected with InvalidArgument and a message, or accepted as a valid
// message, which then encodes and decodes back to itself. Counts rejections in `*rejected`.
template <typename T>
void CheckGarbage(std::string_view bytes, int16_t version, int* rejected) {
  T msg;
  absl::Status s = DecodeExact<T>(bytes, version, &msg);
  if (!s.ok()) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_FALSE(s.message().empty());
    ++*rejected;
    return;
  }
  ByteWriter w;
  msg.Encode(w, version);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string again = w.Release();
  T back;
  EXPECT_TRUE(DecodeExact<T>(again, version, &back).ok()) << "version " << version;
  EXPECT_TRUE(back == msg) << "accepted garbage does not round-trip, version " << version;
}

TEST(MalformedTest, GarbageNeverCrashes) {
  // Deterministic pseudo-random bytes through every message at every version.
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int decodes = 0, rejected = 0;
  for (int round = 0; round < 200; ++round) {
    std::string bytes(next() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(next());
    for (int16_t v = 0; v <= 17; ++v) {
      if (v <= FetchResponse::kMaxVersion) {
        CheckGarbage<FetchResponse>(bytes, v, &rejected);
        ++decodes;
      }
      if (v <= MetadataResponse::kMaxVersion) {
        CheckGarbage<MetadataResponse>(bytes, v, &rejected);
        ++decodes;
      }
      if (v <= ProduceRequest::kMaxVersion) {
        CheckGarbage<ProduceRequest>(bytes, v, &rejected);
        ++decodes;
      }
      if (v <= ApiVersionsResponse::kMaxVersion) {
        CheckGarbage<ApiVersionsResponse>(bytes, v, &rejected);
        ++decodes;
      }
    }
  }
  // Random bytes are almost never a valid message: most decodes must have been rejected (a
  // decoder that accepted anything would pass the checks above).
  EXPECT_GT(rejected, decodes * 9 / 10) << rejected << " of " << decodes << " rejected";
}

}  // namespace
}  // namespace eddy::kafka
