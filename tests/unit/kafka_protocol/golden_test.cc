// Byte-exact encodings written by hand from the Kafka protocol guide and KIP-482 (not produced by
// the generator), checked in both directions.
#include <string>

#include "gtest/gtest.h"
#include "kafka/messages.h"
#include "test_bytes.h"

namespace eddy::kafka {
namespace {

template <typename T>
std::string Encode(const T& msg, int16_t version) {
  ByteWriter w;
  msg.Encode(w, version);
  EXPECT_TRUE(w.ok()) << w.status();
  return w.Release();
}

template <typename T>
T Decode(const std::string& bytes, int16_t version) {
  T msg;
  ByteReader r(bytes);
  absl::Status s = msg.Decode(r, version);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(r.empty()) << r.remaining() << " bytes left";
  return msg;
}

// Checks encode(msg) == bytes and that decoding bytes gives back msg.
template <typename T>
void ExpectBytes(const T& msg, int16_t version, const std::string& bytes) {
  EXPECT_EQ(testing::PrintToString(Encode(msg, version)), testing::PrintToString(bytes));
  EXPECT_TRUE(Decode<T>(bytes, version) == msg);
}

TEST(GoldenTest, ApiVersionsRequestV0IsEmpty) {
  ApiVersionsRequest req;
  ExpectBytes(req, 0, "");
  // v0 has no fields: the client software fields are not encoded.
  req.client_software_name = "eddy";
  EXPECT_EQ(Encode(req, 0), "");
}

TEST(GoldenTest, ApiVersionsRequestV3) {
  ApiVersionsRequest req;
  req.client_software_name = "eddy";
  req.client_software_version = "1.0";
  // Compact strings (length + 1 as unsigned varint), then an empty tagged-field section.
  ExpectBytes(req, 3, Bytes("05 'eddy' 04 '1.0' 00"));
}

TEST(GoldenTest, RequestHeaderV1) {
  RequestHeader h;
  h.request_api_key = 18;
  h.request_api_version = 3;
  h.correlation_id = 7;
  h.client_id = "cli";
  ExpectBytes(h, 1, Bytes("00 12  00 03  00 00 00 07  00 03 'cli'"));
  h.client_id.reset();
  ExpectBytes(h, 1, Bytes("00 12  00 03  00 00 00 07  ff ff"));
  // v0 has no client id.
  h.client_id = "cli";
  EXPECT_EQ(Encode(h, 0), Bytes("00 12  00 03  00 00 00 07"));
}

TEST(GoldenTest, RequestHeaderV2KeepsInt16ClientIdLength) {
  RequestHeader h;
  h.request_api_key = 3;
  h.request_api_version = 12;
  h.correlation_id = 0x01020304;
  h.client_id = "rdkafka";
  // ClientId is not a compact string even in the flexible header; then the tagged fields.
  ExpectBytes(h, 2, Bytes("00 03  00 0c  01 02 03 04  00 07 'rdkafka'  00"));
  h.client_id.reset();
  ExpectBytes(h, 2, Bytes("00 03  00 0c  01 02 03 04  ff ff  00"));
  h.client_id = "";
  ExpectBytes(h, 2, Bytes("00 03  00 0c  01 02 03 04  00 00  00"));
}

TEST(GoldenTest, RequestHeaderV2TaggedFieldsAfterNullClientId) {
  // A null client id followed by one unknown tagged field (tag 5, 2 bytes): kept raw.
  const std::string bytes = Bytes("00 12  00 03  00 00 00 2a  ff ff  01 05 02 aa bb");
  RequestHeader h = Decode<RequestHeader>(bytes, 2);
  EXPECT_EQ(h.request_api_key, 18);
  EXPECT_EQ(h.correlation_id, 42);
  EXPECT_FALSE(h.client_id.has_value());
  ASSERT_EQ(h.unknown_tagged_fields.size(), 1u);
  EXPECT_EQ(h.unknown_tagged_fields[0].tag, 5u);
  EXPECT_EQ(h.unknown_tagged_fields[0].data, Bytes("aa bb"));
  EXPECT_EQ(Encode(h, 2), bytes);
}

TEST(GoldenTest, ResponseHeader) {
  ResponseHeader h;
  h.correlation_id = 9;
  ExpectBytes(h, 0, Bytes("00 00 00 09"));
  ExpectBytes(h, 1, Bytes("00 00 00 09 00"));
}

TEST(GoldenTest, MetadataRequestV1) {
  MetadataRequest req;
  req.topics.emplace().emplace_back().name = "foo";
  ExpectBytes(req, 1, Bytes("00 00 00 01  00 03 'foo'"));
  // Null topics = all topics.
  req.topics.reset();
  ExpectBytes(req, 1, Bytes("ff ff ff ff"));
  // Empty (not null) array: no topics.
  req.topics.emplace();
  ExpectBytes(req, 1, Bytes("00 00 00 00"));
}

TEST(GoldenTest, MetadataRequestV4HasAllowAutoTopicCreation) {
  MetadataRequest req;
  req.topics.reset();
  EXPECT_TRUE(req.allow_auto_topic_creation);  // schema default "true"
  ExpectBytes(req, 4, Bytes("ff ff ff ff  01"));
  req.allow_auto_topic_creation = false;
  ExpectBytes(req, 4, Bytes("ff ff ff ff  00"));
}

TEST(GoldenTest, MetadataRequestV0NullTopicsIsAnEncodingError) {
  MetadataRequest req;
  req.topics.reset();  // not nullable in v0
  ByteWriter w;
  req.Encode(w, 0);
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.data(), Bytes("00 00 00 00"));
  // Decoding a null array in v0 is an error too.
  MetadataRequest decoded;
  const std::string null_array = Bytes("ff ff ff ff");
  ByteReader r(null_array);
  EXPECT_FALSE(decoded.Decode(r, 0).ok());
}

TEST(GoldenTest, ProduceRequestV3) {
  ProduceRequest req;
  req.transactional_id.reset();
  req.acks = -1;
  req.timeout_ms = 30000;
  auto& topic = req.topic_data.emplace_back();
  topic.name = "t";
  auto& partition = topic.partition_data.emplace_back();
  partition.index = 0;
  partition.records = Bytes("01 02 03 'abc'");
  ExpectBytes(req, 3,
              Bytes("ff ff"        // transactional id: null
                    "ff ff"        // acks -1
                    "00 00 75 30"  // timeout 30000
                    "00 00 00 01"  // 1 topic
                    "00 01 't'"    // name
                    "00 00 00 01"  // 1 partition
                    "00 00 00 00"  // index 0
                    "00 00 00 06"  // records: 6 bytes, opaque
                    "01 02 03 'abc'"));
}

TEST(GoldenTest, ProduceRequestV9IsCompact) {
  ProduceRequest req;
  req.transactional_id = "tx";
  req.acks = 1;
  req.timeout_ms = 1000;
  auto& topic = req.topic_data.emplace_back();
  topic.name = "t";
  topic.partition_data.emplace_back().records = Bytes("aa");
  ExpectBytes(req, 9,
              Bytes("03 'tx'  00 01  00 00 03 e8"
                    "02  02 't'"       // 1 topic, compact name
                    "02  00 00 00 00"  // 1 partition, index 0
                    "02 aa  00"        // compact records, partition tagged fields
                    "00"               // topic tagged fields
                    "00"));            // request tagged fields
}

TEST(GoldenTest, FetchResponseV11WithEmptyRecordSet) {
  FetchResponse resp;
  resp.throttle_time_ms = 0;
  resp.error_code = 0;
  resp.session_id = 0x11;
  auto& topic = resp.responses.emplace_back();
  topic.topic = "t";
  auto& p = topic.partitions.emplace_back();
  p.partition_index = 2;
  p.error_code = 0;
  p.high_watermark = 100;
  p.last_stable_offset = 100;
  p.log_start_offset = 0;
  p.aborted_transactions.emplace();  // empty, not null
  p.preferred_read_replica = -1;
  p.records = "";
  const std::string partition =
      "00 00 00 02"              // partition index
      "00 00"                    // error code
      "00 00 00 00 00 00 00 64"  // high watermark
      "00 00 00 00 00 00 00 64"  // last stable offset (v4+)
      "00 00 00 00 00 00 00 00"  // log start offset (v5+)
      "00 00 00 00"              // aborted transactions: empty array (v4+)
      "ff ff ff ff";             // preferred read replica (v11+)
  ExpectBytes(resp, 11,
              Bytes("00 00 00 00  00 00  00 00 00 11"  // throttle, error code, session id
                    "00 00 00 01  00 01 't'"           // 1 topic
                    "00 00 00 01" +                    // 1 partition
                    partition +
                    "00 00 00 00"));  // records: empty, not null
  // The default record set is empty, not null.
  EXPECT_EQ(FetchResponse::PartitionData().records, std::optional<std::string>(""));
  // Null aborted transactions and null records are encoded as -1.
  p.aborted_transactions.reset();
  p.records.reset();
  const std::string bytes = Encode(resp, 11);
  EXPECT_EQ(bytes.substr(bytes.size() - 12), Bytes("ff ff ff ff  ff ff ff ff  ff ff ff ff"));
}

TEST(GoldenTest, FetchResponseV12TaggedPartitionFields) {
  FetchResponse resp;
  auto& topic = resp.responses.emplace_back();
  topic.topic = "t";
  auto& p = topic.partitions.emplace_back();
  p.current_leader.leader_id = 1;
  p.current_leader.leader_epoch = 5;
  p.records = "";
  const std::string bytes = Encode(resp, 12);
  const std::string partition_tail =
      "01"                          // records: empty compact bytes
      "01"                          // partition tagged fields: one
      "01 09"                       // tag 1 (CurrentLeader), 9 bytes:
      "00 00 00 01 00 00 00 05 00"  // leader id, leader epoch, its own empty tagged fields
      "00"                          // topic tagged fields
      "00";                         // response tagged fields
  EXPECT_EQ(bytes.substr(bytes.size() - 15), Bytes(partition_tail));
  EXPECT_TRUE(Decode<FetchResponse>(bytes, 12) == resp);
}

TEST(GoldenTest, ApiVersionsResponseV0) {
  ApiVersionsResponse resp;
  resp.error_code = 35;
  resp.api_keys.push_back({.api_key = 18, .min_version = 0, .max_version = 3});
  resp.throttle_time_ms = 100;  // not in v0
  const std::string bytes = Bytes("00 23  00 00 00 01  00 12 00 00 00 03");
  EXPECT_EQ(Encode(resp, 0), bytes);
  ApiVersionsResponse decoded = Decode<ApiVersionsResponse>(bytes, 0);
  ASSERT_EQ(decoded.api_keys.size(), 1u);
  EXPECT_EQ(decoded.api_keys[0].max_version, 3);
  EXPECT_EQ(decoded.throttle_time_ms, 0);
}

TEST(GoldenTest, ApiVersionsResponseV3WithTaggedFields) {
  ApiVersionsResponse resp;
  resp.api_keys.push_back({.api_key = 0, .min_version = 0, .max_version = 9});
  resp.api_keys.push_back({.api_key = 18, .min_version = 0, .max_version = 3});
  resp.throttle_time_ms = 0;
  resp.finalized_features_epoch = 5;
  resp.unknown_tagged_fields.push_back({.tag = 7, .data = "xy"});
  ExpectBytes(resp, 3,
              Bytes("00 00"                           // error code
                    "03"                              // 2 api keys (compact array)
                    "00 00  00 00  00 09  00"         // Produce 0-9, no tagged fields
                    "00 12  00 00  00 03  00"         // ApiVersions 0-3
                    "00 00 00 00"                     // throttle time
                    "02"                              // 2 tagged fields, in tag order:
                    "01 08  00 00 00 00 00 00 00 05"  //   1: FinalizedFeaturesEpoch = 5
                    "07 02  'xy'"));                  //   7: unknown, kept raw

  resp.supported_features.push_back({.name = "kraft", .min_version = 0, .max_version = 1});
  resp.zk_migration_ready = true;
  ExpectBytes(resp, 3,
              Bytes("00 00  03  00 00 00 00 00 09 00  00 12 00 00 00 03 00  00 00 00 00"
                    "04"
                    "00 0c  02 06 'kraft' 00 00 00 01 00"  // 0: SupportedFeatures
                    "01 08  00 00 00 00 00 00 00 05"       // 1: FinalizedFeaturesEpoch
                    "03 01  01"                            // 3: ZkMigrationReady
                    "07 02  'xy'"));
}

TEST(GoldenTest, TaggedFieldsAtTheirDefaultAreNotWritten) {
  ApiVersionsResponse resp;
  resp.finalized_features_epoch = -1;  // the default
  resp.zk_migration_ready = false;
  EXPECT_EQ(Encode(resp, 3), Bytes("00 00  01  00 00 00 00  00"));
}

TEST(GoldenTest, FetchRequestV12NullableTaggedClusterId) {
  FetchRequest req;
  req.max_wait_ms = 500;
  req.min_bytes = 1;
  EXPECT_EQ(req.max_bytes, 0x7fffffff);
  EXPECT_EQ(req.replica_id, -1);
  const std::string without = Encode(req, 12);
  EXPECT_EQ(without.back(), '\0');  // no tagged fields: ClusterId defaults to null
  req.cluster_id = "c";
  const std::string with = Encode(req, 12);
  EXPECT_EQ(with.substr(with.size() - 5), Bytes("01  00 02  02 'c'"));
  EXPECT_TRUE(Decode<FetchRequest>(with, 12) == req);
}

TEST(GoldenTest, OutOfRangeVersions) {
  ApiVersionsRequest req;
  ByteReader r("");
  absl::Status s = req.Decode(r, 5);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ApiVersionsRequest version 5"), std::string_view::npos) << s;
  EXPECT_FALSE(req.Decode(r, -1).ok());
  ByteWriter w;
  req.Encode(w, 5);
  EXPECT_FALSE(w.ok());
  EXPECT_TRUE(w.data().empty());
}

TEST(ApiTableTest, NamesAndRanges) {
  EXPECT_STREQ(ApiName(0), "Produce");
  EXPECT_STREQ(ApiName(18), "ApiVersions");
  EXPECT_STREQ(ApiName(3), "Metadata");
  EXPECT_EQ(ApiName(7), nullptr);
  EXPECT_EQ(ApiName(-1), nullptr);
  EXPECT_EQ(ApiName(1000), nullptr);
  const auto& apis = AllApis();
  EXPECT_EQ(apis.size(), 39u);
  for (size_t i = 1; i < apis.size(); ++i) EXPECT_LT(apis[i - 1].key, apis[i].key);
  bool found = false;
  for (const ApiInfo& api : apis) {
    EXPECT_STREQ(ApiName(api.key), api.name);
    if (api.key == 18) {
      found = true;
      EXPECT_EQ(api.min_version, ApiVersionsRequest::kMinVersion);
      EXPECT_EQ(api.max_version, ApiVersionsRequest::kMaxVersion);
      EXPECT_EQ(api.first_flexible, 3);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(ProduceRequest::kApiKey, 0);
  EXPECT_EQ(FetchResponse::kApiKey, 1);
  EXPECT_EQ(OffsetDeleteRequest::kFirstFlexibleVersion, -1);
  EXPECT_EQ(RequestHeader::kFirstFlexibleVersion, 2);
}

TEST(ApiTableTest, HeaderVersions) {
  EXPECT_EQ(RequestHeaderVersion(18, 0), 1);
  EXPECT_EQ(RequestHeaderVersion(18, 2), 1);
  EXPECT_EQ(RequestHeaderVersion(18, 3), 2);
  EXPECT_EQ(RequestHeaderVersion(0, 8), 1);
  EXPECT_EQ(RequestHeaderVersion(0, 9), 2);
  EXPECT_EQ(RequestHeaderVersion(17, 1), 1);  // SaslHandshake: never flexible
  EXPECT_EQ(RequestHeaderVersion(7, 0), 0);   // ControlledShutdown v0
  EXPECT_EQ(RequestHeaderVersion(7, 1), 1);
  EXPECT_EQ(RequestHeaderVersion(999, 5), 1);  // unknown key
  EXPECT_EQ(ResponseHeaderVersion(18, 0), 0);
  EXPECT_EQ(ResponseHeaderVersion(18, 3), 0);  // ApiVersions: always v0
  EXPECT_EQ(ResponseHeaderVersion(18, 4), 0);
  EXPECT_EQ(ResponseHeaderVersion(3, 8), 0);
  EXPECT_EQ(ResponseHeaderVersion(3, 9), 1);
  EXPECT_EQ(ResponseHeaderVersion(1, 12), 1);
  EXPECT_EQ(ResponseHeaderVersion(47, 0), 0);  // OffsetDelete: never flexible
  EXPECT_EQ(ResponseHeaderVersion(999, 5), 0);
}

}  // namespace
}  // namespace eddy::kafka
