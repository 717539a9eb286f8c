// Runtime pieces on their own: bounded channels (backpressure, cancellation), key groups and the
// window operator's firing and late-row rules driven directly.
#include <gtest/gtest.h>

#include <thread>

#include "function/aggregate.h"
#include "runtime/aggregate_ops.h"
#include "runtime/operator.h"
#include "runtime/stream.h"
#include "types/time_util.h"

namespace eddy::runtime {
namespace {

StreamElement BatchOf(int64_t v) {
  StreamElement e;
  e.batch.columns.emplace_back(DataType::Bigint());
  e.batch.columns[0].AppendInt(v);
  e.batch.kinds.push_back(RowKind::kInsert);
  return e;
}

TEST(InputGate, BlocksWhenFullAndKeepsFifoOrder) {
  CancelFlag cancel;
  InputGate gate(1, 2, &cancel);
  ASSERT_TRUE(gate.Push(0, BatchOf(1)));
  ASSERT_TRUE(gate.Push(0, BatchOf(2)));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    gate.Push(0, BatchOf(3));  // blocks until the consumer makes room
    pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(pushed.load()) << "a full channel must block the producer (backpressure)";
  StreamElement e;
  for (int64_t want : {1, 2, 3}) {
    ASSERT_TRUE(gate.PopFrom(0, &e));
    EXPECT_EQ(e.batch.columns[0].i64[0], want);
  }
  producer.join();
  EXPECT_TRUE(pushed.load());
}

TEST(InputGate, CancellationWakesWaiters) {
  CancelFlag cancel;
  InputGate gate(2, 1, &cancel);
  std::thread consumer([&] {
    StreamElement e;
    int ch;
    EXPECT_FALSE(gate.PopAny(&e, &ch));  // returns false once cancelled
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cancel.cancelled = true;  // no notify: the gate must notice by itself
  consumer.join();
}

TEST(KeyGroups, RangesCoverEverySubtaskEvenly) {
  // Flink's assignment: key group g of 128 goes to subtask g * p / 128.
  for (int p : {1, 2, 3, 7}) {
    std::vector<int> count(p, 0);
    for (int g = 0; g < 128; ++g) count[SubtaskOfKeyGroup(g, p, 128)]++;
    for (int c : count) EXPECT_NEAR(c, 128.0 / p, 1.0);
  }
  Batch b;
  b.columns.emplace_back(DataType::String());
  b.columns[0].AppendString("ATL");
  b.columns[0].AppendString("ATL");
  b.columns[0].AppendString("ORD");
  b.kinds.assign(3, RowKind::kInsert);
  EXPECT_EQ(HashRow(b, {0}, 0), HashRow(b, {0}, 1));
  EXPECT_NE(HashRow(b, {0}, 0), HashRow(b, {0}, 2));
}

// Collects what an operator emits.
class Sink : public Output {
 public:
  absl::Status Emit(Batch b) override {
    for (size_t i = 0; i < b.num_rows(); ++i) {
      rows.push_back({b.columns[1].i64[i], b.columns[4].i64[i]});  // window_start, COUNT(*)
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t w) override {
    watermarks.push_back(w);
    return absl::OkStatus();
  }
  std::vector<std::pair<int64_t, int64_t>> rows;
  std::vector<int64_t> watermarks;
};

TEST(WindowAggregate, FiresAtWindowEndAndCountsLateRows) {
  AggregateConfig c;
  c.name = "test";
  c.key_columns = {0};
  c.time_column = 1;
  c.window.kind = WindowKind::kTumble;
  c.window.size = kMicrosPerMinute;
  c.input_fields = {{"k", DataType::String()}, {"ts", DataType::Timestamp(3)}};
  c.aggs.push_back({*ResolveAggregate("COUNT", {}, false), -1, -1});
  c.metrics = std::make_shared<OperatorMetrics>();
  auto op = MakeWindowAggregate(c, SideOutputs{});
  Sink out;
  auto batch = [](std::vector<int64_t> ts) {
    Batch b;
    b.columns.emplace_back(DataType::String());
    b.columns.emplace_back(DataType::Timestamp(3));
    for (int64_t t : ts) {
      b.columns[0].AppendString("k");
      b.columns[1].AppendInt(t);
      b.kinds.push_back(RowKind::kInsert);
    }
    return b;
  };
  const int64_t m = kMicrosPerMinute;
  Batch b1 = batch({10, m + 5, 20});
  ASSERT_TRUE(op->ProcessBatch(b1, RowWatermarks{}, &out).ok());
  // Watermark m - 2: window [0, m) has not ended (it fires at m - 1).
  ASSERT_TRUE(op->ProcessWatermark(m - 2, &out).ok());
  EXPECT_TRUE(out.rows.empty());
  ASSERT_TRUE(op->ProcessWatermark(m - 1, &out).ok());
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0], std::make_pair(int64_t{0}, int64_t{2}));
  // A row for the fired window is late; one for the open window is not.
  Batch b2 = batch({30, m + 6});
  RowWatermarks wm;
  wm.base = m - 1;
  ASSERT_TRUE(op->ProcessBatch(b2, wm, &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 1);
  ASSERT_TRUE(op->ProcessWatermark(INT64_MAX, &out).ok());
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[1], std::make_pair(m, int64_t{2}));
  EXPECT_EQ(out.watermarks.back(), INT64_MAX);
}

}  // namespace
}  // namespace eddy::runtime
