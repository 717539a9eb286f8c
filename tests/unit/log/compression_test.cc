// Record batch decompression against batches written by a real client: librdkafka produces to an
// in-process `eddy server` broker with each of Kafka's codecs, and the batches the log stored are
// read back with ForEachRecordDecompressing. Also the xerial snappy framing of Kafka's Java
// client, corrupt and truncated payloads (a clear error, never a crash) and the size cap.
#include "log/compression.h"

#include <librdkafka/rdkafka.h>
#include <snappy.h>
#include <zstd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kafka/broker.h"
#include "kafka/group_coordinator.h"
#include "kafka/server.h"
#include "log/log_manager.h"
#include "log/record_batch.h"
#include "log_test_util.h"

namespace eddy::log {
namespace {

struct Sent {
  std::string key, value;
  int64_t timestamp_ms;
  std::string header_value;
};

std::vector<Sent> MakeRecords(int n) {
  std::vector<Sent> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({"key-" + std::to_string(i % 7),
                   "{\"flight\":" + std::to_string(i) +
                       ",\"origin\":\"ABE\",\"destination\":\"ORD\",\"delay\":" +
                       std::to_string(i % 40) + "}",
                   1700000000000 + i * 10, "h" + std::to_string(i)});
  }
  return out;
}

// Produces `records` to partition 0 of `topic` with librdkafka and `codec`.
void ProduceWithLibrdkafka(int port, const std::string& topic, const std::string& codec,
                           const std::vector<Sent>& records) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::string bs = "127.0.0.1:" + std::to_string(port);
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bs.c_str(), err, sizeof(err)),
            RD_KAFKA_CONF_OK);
  ASSERT_EQ(rd_kafka_conf_set(conf, "compression.codec", codec.c_str(), err, sizeof(err)),
            RD_KAFKA_CONF_OK)
      << err;
  ASSERT_EQ(rd_kafka_conf_set(conf, "linger.ms", "100", err, sizeof(err)), RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  for (const Sent& s : records) {
    rd_kafka_headers_t* h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "trace", -1, s.header_value.data(),
                        static_cast<ssize_t>(s.header_value.size()));
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(const_cast<char*>(s.key.data()), s.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(s.value.data()), s.value.size()),
        RD_KAFKA_V_TIMESTAMP(s.timestamp_ms), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  EXPECT_EQ(rd_kafka_flush(rk, 20000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

// The stored batches of partition 0 of `topic`, one string each.
std::vector<std::string> StoredBatches(LogManager* log, const std::string& topic) {
  std::vector<std::string> out;
  auto p = log->GetPartition(topic, PartitionId(0));
  EXPECT_TRUE(p.ok());
  if (!p.ok()) return out;
  auto rr = (*p)->Read(Offset(0), 64 << 20);
  EXPECT_TRUE(rr.ok());
  if (!rr.ok()) return out;
  std::string_view rest = rr->records;
  while (rest.size() >= kBatchHeaderSize) {
    auto h = DecodeBatchHeader(rest);
    EXPECT_TRUE(h.ok());
    if (!h.ok()) break;
    out.emplace_back(rest.substr(0, static_cast<size_t>(h->size_bytes())));
    rest.remove_prefix(static_cast<size_t>(h->size_bytes()));
  }
  return out;
}

class LibrdkafkaBatches : public ::testing::TestWithParam<std::pair<std::string, int>> {
 protected:
  void SetUp() override {
    auto log = LogManager::Open(dir_.path());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    // librdkafka enables gzip, snappy and lz4 only with a broker that has the group APIs.
    auto groups = kafka::GroupCoordinator::Open(dir_.path(), kafka::GroupOptions(), 0);
    ASSERT_TRUE(groups.ok()) << groups.status();
    groups_ = std::move(*groups);
    broker_ = std::make_unique<kafka::Broker>(log_.get(), groups_.get(), kafka::BrokerOptions());
    auto server = kafka::KafkaServer::Start(broker_.get(), "127.0.0.1", 0, 2);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    broker_->SetAdvertisedPort(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (log_) {
      EXPECT_TRUE(log_->Close().ok());
    }
  }

  testing::ScratchDir dir_;
  std::unique_ptr<LogManager> log_;
  std::unique_ptr<kafka::GroupCoordinator> groups_;
  std::unique_ptr<kafka::Broker> broker_;
  std::unique_ptr<kafka::KafkaServer> server_;
};

TEST_P(LibrdkafkaBatches, DecompressesWhatTheClientWrote) {
  const auto& [codec, id] = GetParam();
  std::string topic = "t-" + codec;
  ASSERT_TRUE(log_->CreateTopic(topic, 1).ok());
  std::vector<Sent> sent = MakeRecords(500);
  ProduceWithLibrdkafka(server_->port(), topic, codec, sent);
  std::vector<std::string> batches = StoredBatches(log_.get(), topic);
  ASSERT_FALSE(batches.empty());
  size_t i = 0;
  std::string scratch;
  int compressed = 0;
  for (const std::string& b : batches) {
    auto h = ValidateRecordBatch(b);
    ASSERT_TRUE(h.ok()) << h.status();
    // librdkafka sends a batch uncompressed when compressing does not make it smaller (e.g. a
    // single record sent before the rest arrived).
    EXPECT_TRUE(h->compression() == id || h->compression() == 0)
        << "librdkafka compressed the batch with " << codec;
    compressed += h->compression() == id ? 1 : 0;
    if (codec == "snappy") {
      // librdkafka writes raw snappy (no xerial framing); Kafka's Java client writes xerial.
      EXPECT_NE(b.substr(kBatchHeaderSize, 8), std::string("\x82SNAPPY\0", 8));
    }
    absl::Status st = ForEachRecordDecompressing(b, &scratch, [&](const RecordView& r) {
      EXPECT_LT(i, sent.size());
      if (i >= sent.size()) return false;
      EXPECT_EQ(r.offset, static_cast<int64_t>(i));
      EXPECT_EQ(r.key, sent[i].key);
      EXPECT_EQ(r.value, sent[i].value);
      EXPECT_EQ(r.timestamp, sent[i].timestamp_ms);
      std::vector<std::string> headers;
      ForEachHeader(r, [&](std::string_view k, std::string_view v, bool null) {
        headers.push_back(std::string(k) + "=" + (null ? "<null>" : std::string(v)));
      });
      EXPECT_EQ(headers, std::vector<std::string>{"trace=" + sent[i].header_value});
      ++i;
      return true;
    });
    ASSERT_TRUE(st.ok()) << st;
    // Every cut of the compressed payload is an error naming the batch, never a crash.
    if (h->compression() != 0) {
      for (size_t cut : {kBatchHeaderSize + 1, kBatchHeaderSize + 9, b.size() / 2, b.size() - 1}) {
        absl::Status t = ForEachRecordDecompressing(b.substr(0, cut), &scratch,
                                                    [](const RecordView&) { return true; });
        EXPECT_FALSE(t.ok()) << codec << " cut at " << cut;
        EXPECT_NE(t.message().find("batch at offset"), std::string_view::npos) << t;
      }
    }
  }
  EXPECT_EQ(i, sent.size());
  EXPECT_GT(compressed, 0) << "no batch was compressed with " << codec;
  // ListOffsets by timestamp looks inside compressed batches.
  auto part = log_->GetPartition(topic, PartitionId(0));
  ASSERT_TRUE(part.ok());
  auto at = (*part)->OffsetForTimestamp(sent[123].timestamp_ms - 5);
  ASSERT_TRUE(at.ok() && at->has_value());
  EXPECT_EQ((*at)->offset, Offset(123));
  EXPECT_TRUE((*at)->exact);
}

INSTANTIATE_TEST_SUITE_P(Codecs, LibrdkafkaBatches,
                         ::testing::Values(std::make_pair(std::string("none"), 0),
                                           std::make_pair(std::string("gzip"), 1),
                                           std::make_pair(std::string("snappy"), 2),
                                           std::make_pair(std::string("lz4"), 3),
                                           std::make_pair(std::string("zstd"), 4)),
                         [](const auto& info) { return info.param.first; });

std::string Records() {
  std::string s;
  for (int i = 0; i < 2000; ++i) s += "record " + std::to_string(i) + " with some text; ";
  return s;
}

TEST(DecompressTest, XerialSnappyFramingOfTheJavaClient) {
  std::string plain = Records();
  std::string framed("\x82SNAPPY\0", 8);
  testing::PutBigEndian(&framed, 1, 4);  // version
  testing::PutBigEndian(&framed, 1, 4);  // compatible version
  // Two blocks, as snappy-java writes one per 32 KiB.
  for (std::string_view part :
       {std::string_view(plain).substr(0, 10000), std::string_view(plain).substr(10000)}) {
    std::string block;
    snappy::Compress(part.data(), part.size(), &block);
    testing::PutBigEndian(&framed, block.size(), 4);
    framed += block;
  }
  std::string out;
  ASSERT_TRUE(Decompress(2, framed, &out).ok());
  EXPECT_EQ(out, plain);
  // A block length beyond the data.
  std::string cut = framed.substr(0, framed.size() - 3);
  absl::Status st = Decompress(2, cut, &out);
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_NE(st.message().find("snappy"), std::string_view::npos);
}

TEST(DecompressTest, GarbageIsAClearErrorForEveryCodec) {
  std::string out;
  for (int codec = 1; codec <= 4; ++codec) {
    for (std::string garbage :
         {std::string(), std::string("not compressed at all"), std::string(64, '\xff')}) {
      absl::Status st = Decompress(codec, garbage, &out);
      EXPECT_FALSE(st.ok()) << CodecName(codec) << " accepted garbage";
      EXPECT_NE(st.message().find(CodecName(codec)), std::string_view::npos) << st;
    }
  }
  absl::Status st = Decompress(6, "x", &out);
  EXPECT_TRUE(absl::IsInvalidArgument(st));
}

TEST(DecompressTest, OutputIsCapped) {
  std::string zeros(1 << 20, '\0');
  std::string z(ZSTD_compressBound(zeros.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), zeros.data(), zeros.size(), 3));
  std::string out;
  ASSERT_TRUE(Decompress(4, z, &out).ok());
  EXPECT_EQ(out, zeros);
  EXPECT_TRUE(absl::IsResourceExhausted(Decompress(4, z, &out, 1000)));
  std::string s;
  snappy::Compress(zeros.data(), zeros.size(), &s);
  EXPECT_TRUE(absl::IsResourceExhausted(Decompress(2, s, &out, 1000)));
}

TEST(DecompressTest, CorruptRecordsInsideAValidFrameNameTheBatch) {
  // A zstd frame holding bytes that are not records.
  std::string junk = "\x05junk";
  std::string z(ZSTD_compressBound(junk.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), junk.data(), junk.size(), 1));
  testing::TestBatch b;
  b.base_offset = 42;
  b.attributes = 4;
  b.compressed_payload = z;
  b.compressed_count = 1;
  std::string scratch;
  absl::Status st = ForEachRecordDecompressing(testing::EncodeBatch(b), &scratch,
                                               [](const RecordView&) { return true; });
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_NE(st.message().find("offset 42"), std::string_view::npos) << st;
  EXPECT_NE(st.message().find("zstd"), std::string_view::npos) << st;
}

}  // namespace
}  // namespace eddy::log
