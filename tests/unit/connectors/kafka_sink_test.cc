// The kafka sink's record path against a fake ProducerTransport (connectors/kafka/transport.h):
// what it produces for each row (key, value, partition, timestamp, headers), that records are
// handed over per batch and acknowledged only by a flush (at each checkpoint under
// 'at-least-once', at the end of the job), and that a delivery failure at any point (a Produce,
// the end of a batch, a flush) fails the job.
// The fake acknowledges like librdkafka: a record is delivered only when Flush returns, so records
// of the last batch still queued at the end must be flushed, not lost.
#include "connectors/kafka/kafka_sink.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace eddy::connectors::kafka {
namespace {

struct Produced {
  int32_t partition;
  std::string key;
  bool has_key;
  std::string value;
  int64_t timestamp_ms;
  std::map<std::string, std::string> headers;
};

// What the fake saw, shared with the test (the sink owns the transport).
struct Log {
  std::vector<Produced> queued;     // produced, not yet acknowledged
  std::vector<Produced> delivered;  // acknowledged by a Flush
  int end_of_batch = 0;
  int flushes = 0;
  // Failures to inject: the n-th Produce (1-based, 0 = never), every EndOfBatch, the Flush.
  int fail_produce_at = 0;
  bool fail_end_of_batch = false;
  bool fail_flush = false;
};

class FakeProducer final : public ProducerTransport {
 public:
  explicit FakeProducer(std::shared_ptr<Log> log) : log_(std::move(log)) {}
  const char* name() const override { return "fake"; }
  absl::Status Produce(int32_t partition, std::string_view key, bool has_key,
                       std::string_view value, int64_t timestamp_ms,
                       const std::vector<HeaderView>& headers) override {
    if (++produced_ == log_->fail_produce_at) {
      return absl::UnavailableError("fake: an earlier record failed delivery");
    }
    Produced p{partition, std::string(key), has_key, std::string(value), timestamp_ms, {}};
    for (const auto& h : headers) p.headers[std::string(h.key)] = std::string(h.value);
    log_->queued.push_back(std::move(p));
    return absl::OkStatus();
  }
  absl::Status EndOfBatch() override {
    ++log_->end_of_batch;
    if (log_->fail_end_of_batch) return absl::UnavailableError("fake: delivery failed");
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    ++log_->flushes;
    if (log_->fail_flush) return absl::UnavailableError("fake: 2 records failed delivery");
    for (auto& p : log_->queued) log_->delivered.push_back(std::move(p));
    log_->queued.clear();
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<Log> log_;
  int produced_ = 0;
};

// The table: id INT (value), name STRING (key, raw, and value), ts TIMESTAMP(3) METADATA
// 'timestamp', hdrs STRING METADATA 'headers'. The batches carry the four columns in that order.
Schema BatchSchema() {
  Schema s;
  s.fields = {{"id", DataType::Int()},
              {"name", DataType::String()},
              {"ts", DataType::Timestamp(3)},
              {"hdrs", DataType::String()}};
  return s;
}

KafkaTableOptions Options(const std::string& partitioner) {
  KafkaTableOptions o;
  o.table = "out";
  o.topic = "events";
  o.bootstrap_servers = "127.0.0.1:1";
  o.value.kind = RecordFormat::Kind::kJson;
  o.value.text.json = true;
  o.key.kind = RecordFormat::Kind::kRaw;
  o.key_columns = {1};
  o.value_columns = {0, 1};
  o.metadata = {"", "", "timestamp", "headers"};
  o.partitioner = partitioner;
  return o;
}

struct Sink {
  std::shared_ptr<Log> log = std::make_shared<Log>();
  std::shared_ptr<SinkMetrics> metrics = std::make_shared<SinkMetrics>();
  std::unique_ptr<runtime::OneInputOperator> op;
};

Sink MakeSink(const std::string& partitioner = "default", int subtask = 0, int partitions = 4,
              DeliveryGuarantee delivery = DeliveryGuarantee::kAtLeastOnce) {
  Sink s;
  runtime::SubtaskInfo info;
  info.index = subtask;
  info.parallelism = 2;
  KafkaTableOptions o = Options(partitioner);
  o.delivery = delivery;
  auto op = NewKafkaSinkSubtask(o, BatchSchema(), {0, 1, 2, 3}, partitions, info, s.metrics,
                                std::make_unique<FakeProducer>(s.log));
  EXPECT_TRUE(op.ok()) << op.status();
  if (op.ok()) s.op = std::move(*op);
  return s;
}

// A batch of rows (id, name or NULL, ts in ms or NULL, headers JSON or NULL), all +I.
struct In {
  int id;
  const char* name;
  int64_t ts_ms;  // -1: NULL
  const char* headers;
};

Batch Rows(const std::vector<In>& rows, RowKind kind = RowKind::kInsert) {
  Batch b = Batch::Empty(BatchSchema());
  b.NewArena();
  for (const In& r : rows) {
    b.columns[0].AppendInt(r.id);
    if (r.name) {
      b.columns[1].AppendString(r.name);
    } else {
      b.columns[1].AppendNull();
    }
    if (r.ts_ms >= 0) {
      b.columns[2].AppendInt(r.ts_ms * 1000);
    } else {
      b.columns[2].AppendNull();
    }
    if (r.headers) {
      b.columns[3].AppendString(r.headers);
    } else {
      b.columns[3].AppendNull();
    }
    b.kinds.push_back(kind);
  }
  return b;
}

TEST(KafkaSink, ProducesEveryRowAndFlushesTheLastBatchAtTheEnd) {
  Sink s = MakeSink();
  ASSERT_TRUE(s.op);
  Batch b1 = Rows({{1, "a", 1700000000123, R"({"trace":"t1"})"}, {2, nullptr, -1, nullptr}});
  ASSERT_TRUE(s.op->ProcessBatch(b1, {}, nullptr).ok());
  EXPECT_EQ(s.log->end_of_batch, 1);
  EXPECT_EQ(s.metrics->rows_written.load(), 2);
  Batch b2 = Rows({{3, "c", 5, R"({"x":"1","y":"2"})"}});
  ASSERT_TRUE(s.op->ProcessBatch(b2, {}, nullptr).ok());
  EXPECT_EQ(s.log->end_of_batch, 2);
  // Nothing is acknowledged before the end of the job: the last batch is still queued.
  EXPECT_TRUE(s.log->delivered.empty());
  ASSERT_EQ(s.log->queued.size(), 3u);
  ASSERT_TRUE(s.op->Finish(nullptr).ok());
  EXPECT_EQ(s.log->flushes, 1);
  EXPECT_TRUE(s.log->queued.empty());
  ASSERT_EQ(s.log->delivered.size(), 3u);
  EXPECT_EQ(s.metrics->rows_written.load(), 3);

  const auto& d = s.log->delivered;
  // Row 1: key 'a' (raw), value {"id":1,"name":"a"}, timestamp in ms, one header.
  EXPECT_EQ(d[0].partition, -1) << "the default partitioner is left to the transport";
  EXPECT_TRUE(d[0].has_key);
  EXPECT_EQ(d[0].key, "a");
  auto v0 = nlohmann::json::parse(d[0].value);
  EXPECT_EQ(v0, nlohmann::json::parse(R"({"id":1,"name":"a"})"));
  EXPECT_EQ(d[0].timestamp_ms, 1700000000123);
  EXPECT_EQ(d[0].headers, (std::map<std::string, std::string>{{"trace", "t1"}}));
  // Row 2: NULL key column → no key; NULL name in the value; NULL timestamp → 0 ("now").
  EXPECT_FALSE(d[1].has_key);
  EXPECT_EQ(nlohmann::json::parse(d[1].value), nlohmann::json::parse(R"({"id":2,"name":null})"));
  EXPECT_EQ(d[1].timestamp_ms, 0);
  EXPECT_TRUE(d[1].headers.empty());
  // Row 3 (the last batch).
  EXPECT_EQ(d[2].key, "c");
  EXPECT_EQ(nlohmann::json::parse(d[2].value), nlohmann::json::parse(R"({"id":3,"name":"c"})"));
  EXPECT_EQ(d[2].timestamp_ms, 5);
  EXPECT_EQ(d[2].headers, (std::map<std::string, std::string>{{"x", "1"}, {"y", "2"}}));
}

TEST(KafkaSink, ADeliveryFailureAtTheFinalFlushFailsTheJob) {
  Sink s = MakeSink();
  ASSERT_TRUE(s.op);
  Batch b = Rows({{1, "a", 1, nullptr}, {2, "b", 2, nullptr}});
  ASSERT_TRUE(s.op->ProcessBatch(b, {}, nullptr).ok());
  s.log->fail_flush = true;
  absl::Status st = s.op->Finish(nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("failed delivery"), std::string::npos) << st;
  EXPECT_EQ(s.log->flushes, 1);
  EXPECT_TRUE(s.log->delivered.empty());
}

TEST(KafkaSink, ADeliveryFailureReportedAtTheEndOfABatchFailsIt) {
  Sink s = MakeSink();
  ASSERT_TRUE(s.op);
  s.log->fail_end_of_batch = true;
  Batch b = Rows({{1, "a", 1, nullptr}});
  absl::Status st = s.op->ProcessBatch(b, {}, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
}

TEST(KafkaSink, AFailedProduceStopsTheBatchAtThatRow) {
  Sink s = MakeSink();
  ASSERT_TRUE(s.op);
  s.log->fail_produce_at = 2;
  Batch b = Rows({{1, "a", 1, nullptr}, {2, "b", 2, nullptr}, {3, "c", 3, nullptr}});
  absl::Status st = s.op->ProcessBatch(b, {}, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_EQ(s.log->queued.size(), 1u) << "rows after the failure are not produced";
  EXPECT_EQ(s.log->end_of_batch, 0);
}

TEST(KafkaSink, RetractionsAreRefusedNamingTheTable) {
  Sink s = MakeSink();
  ASSERT_TRUE(s.op);
  Batch b = Rows({{1, "a", 1, nullptr}}, RowKind::kUpdateBefore);
  absl::Status st = s.op->ProcessBatch(b, {}, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("table 'out'"), std::string::npos) << st;
  EXPECT_NE(st.message().find("-U"), std::string::npos) << st;
  EXPECT_TRUE(s.log->queued.empty());
}

TEST(KafkaSink, HeadersMustBeAJsonObjectOfStrings) {
  for (const char* bad : {"[1,2]", "{\"a\":1}", "not json"}) {
    Sink s = MakeSink();
    ASSERT_TRUE(s.op);
    Batch b = Rows({{1, "a", 1, bad}});
    absl::Status st = s.op->ProcessBatch(b, {}, nullptr);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad << ": " << st;
    EXPECT_TRUE(s.log->queued.empty()) << bad;
  }
}

TEST(KafkaSink, FixedAndRoundRobinPartitioners) {
  // 'fixed': subtask i writes partition i mod N (subtask 5 of a 4-partition topic: 1).
  Sink f = MakeSink("fixed", 5, 4);
  ASSERT_TRUE(f.op);
  Batch b = Rows({{1, "a", 1, nullptr}, {2, "b", 2, nullptr}, {3, "c", 3, nullptr}});
  ASSERT_TRUE(f.op->ProcessBatch(b, {}, nullptr).ok());
  ASSERT_EQ(f.log->queued.size(), 3u);
  for (const auto& p : f.log->queued) EXPECT_EQ(p.partition, 1);
  // 'round-robin': cycles through the partitions from the subtask's index: 2, 0, 1, 2 for
  // subtask 2 of a 3-partition topic.
  Sink r = MakeSink("round-robin", 2, 3);
  ASSERT_TRUE(r.op);
  Batch b2 = Rows({{1, "a", 1, nullptr}, {2, "b", 2, nullptr}, {3, "c", 3, nullptr}});
  ASSERT_TRUE(r.op->ProcessBatch(b2, {}, nullptr).ok());
  Batch b3 = Rows({{4, "d", 4, nullptr}});
  ASSERT_TRUE(r.op->ProcessBatch(b3, {}, nullptr).ok());
  std::vector<int32_t> parts;
  for (const auto& p : r.log->queued) parts.push_back(p.partition);
  EXPECT_EQ(parts, (std::vector<int32_t>{2, 0, 1, 2}));
}

TEST(KafkaSink, AtLeastOnceFlushesAtEveryCheckpointAndNoneDoesNot) {
  // 'at-least-once' (the default): PrepareCommit, right before each checkpoint's snapshot, waits
  // for every record produced so far; it has nothing to commit later.
  Sink s = MakeSink();
  ASSERT_TRUE(s.op);
  Batch b = Rows({{1, "a", 1, nullptr}, {2, "b", 2, nullptr}});
  ASSERT_TRUE(s.op->ProcessBatch(b, {}, nullptr).ok());
  ASSERT_EQ(s.log->queued.size(), 2u);
  std::vector<std::string> committables;
  ASSERT_TRUE(s.op->PrepareCommit(&committables).ok());
  EXPECT_TRUE(committables.empty());
  EXPECT_TRUE(s.log->queued.empty());
  EXPECT_EQ(s.log->delivered.size(), 2u) << "acknowledged before the checkpoint completes";
  // A record that cannot be delivered fails the checkpoint (and so the job), not later.
  Batch b2 = Rows({{3, "c", 3, nullptr}});
  ASSERT_TRUE(s.op->ProcessBatch(b2, {}, nullptr).ok());
  s.log->fail_flush = true;
  EXPECT_EQ(s.op->PrepareCommit(&committables).code(), absl::StatusCode::kUnavailable);

  // 'none': nothing is waited for at checkpoints; the end of the input still flushes.
  Sink n = MakeSink("default", 0, 4, DeliveryGuarantee::kNone);
  ASSERT_TRUE(n.op);
  Batch b3 = Rows({{1, "a", 1, nullptr}});
  ASSERT_TRUE(n.op->ProcessBatch(b3, {}, nullptr).ok());
  ASSERT_TRUE(n.op->PrepareCommit(&committables).ok());
  EXPECT_EQ(n.log->flushes, 0);
  EXPECT_EQ(n.log->queued.size(), 1u);
  ASSERT_TRUE(n.op->Finish(nullptr).ok());
  EXPECT_EQ(n.log->delivered.size(), 1u);
}

}  // namespace
}  // namespace eddy::connectors::kafka
