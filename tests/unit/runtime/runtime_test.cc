// Runtime pieces on their own: channels (soft bound, wake-ups), the worker pool (backpressure,
// failure, cancellation), key groups and the firing and late-row rules of the window aggregation
// and window Top-N operators, driven directly.
#include <gtest/gtest.h>

#include <thread>

#include "base/status.h"
#include "function/aggregate.h"
#include "runtime/aggregate_ops.h"
#include "runtime/operator.h"
#include "runtime/operator_harness.h"
#include "runtime/regular_join.h"
#include "runtime/stream.h"
#include "runtime/subtask_outputs.h"
#include "runtime/window_rank.h"
#include "runtime/worker_pool.h"
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

// Counts wake-ups instead of scheduling anything.
struct CountingWaker : Schedulable {
  int wakes = 0;
  void Wake() override { ++wakes; }
};

TEST(InputGate, SoftBoundFifoOrderAndEdgeTriggeredWakeUps) {
  InputGate gate(2, 2);
  CountingWaker consumer, producer0, producer1;
  gate.SetConsumer(&consumer);
  gate.SetProducer(0, &producer0);
  gate.SetProducer(1, &producer1);
  gate.Push(0, BatchOf(1));
  EXPECT_EQ(consumer.wakes, 1) << "empty -> non-empty wakes the consumer";
  gate.Push(0, BatchOf(2));
  EXPECT_EQ(consumer.wakes, 1) << "a non-empty channel does not wake again";
  EXPECT_TRUE(gate.Full(0)) << "capacity 2 reached: the producer must wait";
  EXPECT_FALSE(gate.Full(1));
  gate.Push(0, BatchOf(3));  // a soft bound: the unit of work in progress may overshoot
  StreamElement e;
  ASSERT_TRUE(gate.TryPopFrom(0, &e));
  EXPECT_EQ(e.batch.columns[0].i64[0], 1);
  EXPECT_EQ(producer0.wakes, 0) << "still full (2 of 2)";
  ASSERT_TRUE(gate.TryPopFrom(0, &e));
  EXPECT_EQ(e.batch.columns[0].i64[0], 2);
  EXPECT_EQ(producer0.wakes, 1) << "full -> not full wakes the channel's producer";
  EXPECT_FALSE(gate.Full(0));
  EXPECT_EQ(producer1.wakes, 0);
  int ch = -1;
  gate.Push(1, BatchOf(10));
  ASSERT_TRUE(gate.TryPopAny(&e, &ch));
  ASSERT_TRUE(gate.TryPopAny(&e, &ch));
  ASSERT_FALSE(gate.TryPopAny(&e, &ch));
  EXPECT_FALSE(gate.TryPopFrom(0, &e));
}

// A source of `steps` steps; step s emits one batch holding the value s, then a watermark s.
// It records how far it ever got ahead of the consumers (backpressure bound).
struct Progress {
  std::atomic<int64_t> produced{0}, consumed{0}, max_ahead{0};
};
class CountingSource : public SourceOperator {
 public:
  CountingSource(int64_t first, int64_t stride, int64_t steps, Progress* p)
      : next_(first), stride_(stride), steps_(steps), p_(p) {}
  absl::StatusOr<Step> NextStep(SourceOutput* out) override {
    if (next_ >= steps_) return Step::kEnd;
    EDDY_RETURN_IF_ERROR(out->Emit(BatchOf(next_).batch));
    EDDY_RETURN_IF_ERROR(out->EmitWatermark(next_));
    int64_t ahead = ++p_->produced - p_->consumed.load();
    int64_t m = p_->max_ahead.load();
    while (ahead > m && !p_->max_ahead.compare_exchange_weak(m, ahead)) {
    }
    next_ += stride_;
    return Step::kMore;
  }

 private:
  int64_t next_, stride_, steps_;
  Progress* p_;
};
// Sums what it sees; fails on `fail_at`.
class SumOperator : public OneInputOperator {
 public:
  SumOperator(std::atomic<int64_t>* sum, Progress* p, int64_t fail_at)
      : sum_(sum), p_(p), fail_at_(fail_at) {}
  absl::Status ProcessBatch(Batch& b, const RowWatermarks&, Output*) override {
    for (int64_t v : b.columns[0].i64) {
      if (v == fail_at_) return absl::InvalidArgumentError("bad value");
      *sum_ += v;
    }
    ++p_->consumed;
    return absl::OkStatus();
  }

 private:
  std::atomic<int64_t>* sum_;
  Progress* p_;
  int64_t fail_at_;
};

// sources (parallelism ps) --hash--> sum (parallelism pc).
JobGraph SumJob(int ps, int pc, int64_t steps, Progress* p, std::atomic<int64_t>* sum,
                int64_t fail_at = -1) {
  JobGraph g;
  g.channel_capacity = 2;
  VertexSpec src;
  src.name = "source";
  src.parallelism = ps;
  src.make_source = [=](const SubtaskInfo& i) -> absl::StatusOr<std::unique_ptr<SourceOperator>> {
    return std::make_unique<CountingSource>(i.index, i.parallelism, steps, p);
  };
  VertexSpec agg;
  agg.name = "sum";
  agg.parallelism = pc;
  agg.inputs.push_back({0, 0, Partitioning::kHash, {0}});
  agg.make_chain =
      [=](const SubtaskInfo&) -> absl::StatusOr<std::vector<std::unique_ptr<StreamOperator>>> {
    std::vector<std::unique_ptr<StreamOperator>> ops;
    ops.push_back(std::make_unique<SumOperator>(sum, p, fail_at));
    return ops;
  };
  g.vertices.push_back(std::move(src));
  g.vertices.push_back(std::move(agg));
  return g;
}

TEST(WorkerPool, RunsManySubtasksOnOneThreadWithBackpressure) {
  // 3 sources and 2 consumers share a single worker thread: nothing may wait for another
  // subtask while holding the thread, and full channels must stop the sources.
  for (int threads : {1, 2, 4}) {
    WorkerPool pool(threads);
    Progress p;
    std::atomic<int64_t> sum{0};
    const int64_t steps = 3000;
    JobGraph g = SumJob(3, 2, steps, &p, &sum);
    CancelFlag cancel;
    ASSERT_TRUE(ExecuteJob(g, &cancel, &pool).ok());
    EXPECT_EQ(sum.load(), steps * (steps - 1) / 2) << threads << " threads";
    EXPECT_EQ(p.produced.load(), steps);
    // 2 channels of capacity 2 per source plus one step of overshoot; generous for races.
    EXPECT_LT(p.max_ahead.load(), 64) << "sources ran ahead of their consumers: no backpressure";
  }
}

TEST(WorkerPool, FirstErrorFailsTheJobAndStopsEverySubtask) {
  WorkerPool pool(2);
  Progress p;
  std::atomic<int64_t> sum{0};
  JobGraph g = SumJob(2, 2, 1'000'000, &p, &sum, /*fail_at=*/500);
  CancelFlag cancel;
  absl::Status st = ExecuteJob(g, &cancel, &pool);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_EQ(st.message(), "bad value");
  EXPECT_LT(p.produced.load(), 1'000'000) << "the sources must stop once the job failed";
}

TEST(WorkerPool, CancellationFromOutsideStopsAnEndlessJob) {
  WorkerPool pool(1);
  Progress p;
  std::atomic<int64_t> sum{0};
  JobGraph g = SumJob(2, 1, INT64_MAX, &p, &sum);
  CancelFlag cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel.cancelled = true;  // as Ctrl-C does: no wake-up, the job must notice by itself
  });
  absl::Status st = ExecuteJob(g, &cancel, &pool);
  canceller.join();
  EXPECT_TRUE(absl::IsCancelled(st)) << st;
  EXPECT_GT(p.produced.load(), 0);
}

// What a source's output received, in order: "b<rows>:<first value>" per batch, "w<wm>" per
// watermark, "i" for idleness.
struct RecordingOutput : SourceOutput {
  std::vector<std::string> events;
  std::vector<Batch> batches;
  absl::Status Emit(Batch b) override {
    events.push_back("b" + std::to_string(b.num_rows()) + ":" +
                     std::to_string(b.columns[0].i64[0]));
    batches.push_back(std::move(b));
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t wm) override {
    events.push_back("w" + std::to_string(wm));
    return absl::OkStatus();
  }
  absl::Status EmitIdle() override {
    events.push_back("i");
    return absl::OkStatus();
  }
  absl::Status EmitChunkEnd(int64_t, int64_t) override { return absl::OkStatus(); }
  bool cancelled() const override { return false; }
};

// A batch of (v, "s<v>") rows for v in [from, to), its strings in its own arena.
Batch RowsWithStrings(int64_t from, int64_t to) {
  Batch b;
  b.columns.emplace_back(DataType::Bigint());
  b.columns.emplace_back(DataType::String());
  Arena* a = b.NewArena();
  for (int64_t v = from; v < to; ++v) {
    b.columns[0].AppendInt(v);
    b.columns[1].AppendString(a->Add("s" + std::to_string(v)));
    b.kinds.push_back(v % 2 ? RowKind::kInsert : RowKind::kDelete);
  }
  return b;
}

TEST(CoalescingOutput, GathersSmallBatchesAndNeverLetsARowPassAWatermark) {
  RecordingOutput rec;
  internal::CoalescingOutput out(&rec, /*max_rows=*/4, /*timeout_us=*/3'600'000'000);
  ASSERT_TRUE(out.Emit(RowsWithStrings(0, 1)).ok());
  ASSERT_TRUE(out.Emit(RowsWithStrings(1, 3)).ok());
  EXPECT_TRUE(rec.events.empty()) << "3 of 4 rows: gathered, not sent";
  ASSERT_TRUE(out.Emit(RowsWithStrings(3, 5)).ok());
  ASSERT_EQ(rec.events, std::vector<std::string>({"b5:0"})) << "reached 4 rows: sent as one";
  // The gathered batch holds every row in order, kinds and strings intact (the arenas of the
  // batches it came from are kept; theirs are gone).
  const Batch& b = rec.batches[0];
  for (int64_t v = 0; v < 5; ++v) {
    EXPECT_EQ(b.columns[0].i64[v], v);
    EXPECT_EQ(b.columns[1].str[v], "s" + std::to_string(v));
    EXPECT_EQ(b.kinds[v], v % 2 ? RowKind::kInsert : RowKind::kDelete);
  }
  ASSERT_TRUE(out.Emit(RowsWithStrings(5, 6)).ok());
  ASSERT_TRUE(out.EmitWatermark(42).ok());
  ASSERT_TRUE(out.Emit(RowsWithStrings(6, 7)).ok());
  ASSERT_TRUE(out.EmitIdle().ok());
  EXPECT_EQ(rec.events, std::vector<std::string>({"b5:0", "b1:5", "w42", "b1:6", "i"}))
      << "rows gathered before a watermark or idleness go first";
  ASSERT_TRUE(out.Emit(RowsWithStrings(10, 20)).ok());
  EXPECT_EQ(rec.events.back(), "b10:10") << "a full batch passes at once";
  ASSERT_TRUE(out.Emit(RowsWithStrings(20, 21)).ok());
  ASSERT_TRUE(out.FlushIfDue().ok());
  EXPECT_EQ(out.pending_rows(), 1u) << "an hour's timeout is not due";
  ASSERT_TRUE(out.Flush().ok());
  EXPECT_EQ(rec.events.back(), "b1:20");
  ASSERT_TRUE(out.Flush().ok());
  EXPECT_EQ(rec.events.size(), 7u) << "nothing gathered: Flush sends nothing";
}

TEST(CoalescingOutput, SendsWhatWaitedTheBufferTimeout) {
  RecordingOutput rec;
  internal::CoalescingOutput out(&rec, /*max_rows=*/1000, /*timeout_us=*/2000);
  ASSERT_TRUE(out.Emit(RowsWithStrings(0, 1)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(out.Emit(RowsWithStrings(1, 2)).ok());
  ASSERT_TRUE(out.FlushIfDue().ok());
  EXPECT_EQ(rec.events, std::vector<std::string>({"b2:0"}))
      << "the first row waited past 2 ms: both go";
}

// One source of `rows` one-row batches (values 0..rows-1, no watermarks) into a sum, with
// execution.buffer-timeout on: the consumer gets the rows gathered into batches of
// `batch_rows`, and the rows still gathered at the end of the input are not lost.
TEST(WorkerPool, BufferTimeoutGathersASourcesSmallBatches) {
  struct OneRowSource : SourceOperator {
    int64_t next = 0, rows = 0;
    absl::StatusOr<Step> NextStep(SourceOutput* out) override {
      if (next >= rows) return Step::kEnd;
      EDDY_RETURN_IF_ERROR(out->Emit(BatchOf(next++).batch));
      return Step::kMore;
    }
  };
  struct BatchSizes : OneInputOperator {
    std::vector<size_t>* sizes;
    std::atomic<int64_t>* sum;
    absl::Status ProcessBatch(Batch& b, const RowWatermarks&, Output*) override {
      sizes->push_back(b.num_rows());
      for (int64_t v : b.columns[0].i64) *sum += v;
      return absl::OkStatus();
    }
  };
  const int64_t rows = 1050;
  std::vector<size_t> sizes;
  std::atomic<int64_t> sum{0};
  JobGraph g;
  g.buffer_timeout_us = 3'600'000'000;  // an hour: only full batches and the end send rows
  g.batch_rows = 100;
  VertexSpec src;
  src.name = "source";
  src.parallelism = 1;
  src.make_source = [=](const SubtaskInfo&) -> absl::StatusOr<std::unique_ptr<SourceOperator>> {
    auto s = std::make_unique<OneRowSource>();
    s->rows = rows;
    return s;
  };
  VertexSpec sink;
  sink.name = "sizes";
  sink.parallelism = 1;
  sink.inputs.push_back({0, 0, Partitioning::kForward, {}});
  sink.make_chain =
      [&](const SubtaskInfo&) -> absl::StatusOr<std::vector<std::unique_ptr<StreamOperator>>> {
    auto op = std::make_unique<BatchSizes>();
    op->sizes = &sizes;
    op->sum = &sum;
    std::vector<std::unique_ptr<StreamOperator>> ops;
    ops.push_back(std::move(op));
    return ops;
  };
  g.vertices.push_back(std::move(src));
  g.vertices.push_back(std::move(sink));
  WorkerPool pool(2);
  CancelFlag cancel;
  ASSERT_TRUE(ExecuteJob(g, &cancel, &pool).ok());
  EXPECT_EQ(sum.load(), rows * (rows - 1) / 2);
  std::vector<size_t> want(10, 100);
  want.push_back(50);
  EXPECT_EQ(sizes, want) << "ten gathered batches of 100 rows, then the 50 left at the end";
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
  b.columns.emplace_back(DataType::Double());
  b.columns[1].AppendDouble(0.0);
  b.columns[1].AppendDouble(-0.0);
  b.columns[1].AppendDouble(0.0);
  b.columns.emplace_back(DataType::Bigint());
  b.columns[2].AppendNull();
  b.columns[2].AppendNull();
  b.columns[2].AppendInt(7);
  b.kinds.assign(3, RowKind::kInsert);
  uint64_t h[3];
  HashRows(b, {0, 1, 2}, h);
  EXPECT_EQ(h[0], h[1]) << "equal keys (NULL = NULL, -0.0 = 0.0 for grouping) hash alike";
  EXPECT_NE(h[0], h[2]);
  uint64_t again[3];
  HashRows(b, {0, 1, 2}, again);
  EXPECT_EQ(h[2], again[2]);
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

// COUNT(*) per key k over a 1-minute TUMBLE on ts (TIMESTAMP(precision)).
AggregateConfig TumbleCountConfig(int precision) {
  AggregateConfig c;
  c.name = "test";
  c.key_columns = {0};
  c.time_column = 1;
  c.window.kind = WindowKind::kTumble;
  c.window.size = kMicrosPerMinute;
  c.input_fields = {{"k", DataType::String()}, {"ts", DataType::Timestamp(precision)}};
  c.aggs.push_back({*ResolveAggregate("COUNT", {}, false), -1, -1});
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

TEST(WindowAggregate, FiresAtWindowEndAndCountsLateRows) {
  AggregateConfig c = TumbleCountConfig(3);
  OperatorHarness harness(MakeWindowAggregate(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
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
  // TIMESTAMP(3): window [0, m) fires when the watermark reaches m - 1 ms, its window_time (Flink:
  // watermark >= windowEnd - 1 in milliseconds). One microsecond before: not yet.
  ASSERT_TRUE(op->ProcessWatermark(m - 1001, &out).ok());
  EXPECT_TRUE(out.rows.empty());
  ASSERT_TRUE(op->ProcessWatermark(m - 1000, &out).ok());
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0], std::make_pair(int64_t{0}, int64_t{2}));
  // Windows fire at their window_time, so the watermark goes on unchanged, as in Flink.
  EXPECT_EQ(out.watermarks, (std::vector<int64_t>{m - 1001, m - 1000}));
  // A row for the fired window is late; one for the open window is not.
  Batch b2 = batch({30, m + 6});
  RowWatermarks wm;
  wm.base = m - 1000;
  ASSERT_TRUE(op->ProcessBatch(b2, wm, &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 1);
  ASSERT_TRUE(op->ProcessWatermark(INT64_MAX, &out).ok());
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[1], std::make_pair(m, int64_t{2}));
  EXPECT_EQ(out.watermarks.back(), INT64_MAX);
}

TEST(WindowAggregate, ForwardedWatermarkStaysBehindTheWindowTimeOfOpenWindows) {
  AggregateConfig c = TumbleCountConfig(6);
  OperatorHarness harness(MakeWindowAggregate(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  Sink out;
  const int64_t m = kMicrosPerMinute;
  Batch b;
  b.columns.emplace_back(DataType::String());
  b.columns.emplace_back(DataType::Timestamp(6));
  b.columns[0].AppendString("k");
  b.columns[1].AppendInt(m - 500);  // in the last millisecond of [0, m)
  b.kinds.push_back(RowKind::kInsert);
  ASSERT_TRUE(op->ProcessBatch(b, RowWatermarks{}, &out).ok());
  // Watermark m - 1 ms: [0, m) is still open (it fires at m - 1 µs), yet its row will carry
  // window_time m - 1 ms; the forwarded watermark must stay below that or the row is late.
  ASSERT_TRUE(op->ProcessWatermark(m - 1000, &out).ok());
  EXPECT_TRUE(out.rows.empty());
  ASSERT_EQ(out.watermarks.size(), 1u);
  EXPECT_LT(out.watermarks[0], m - 1000);
  ASSERT_TRUE(op->ProcessWatermark(m - 1, &out).ok());
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_LT(out.watermarks.back(), m - 1000) << "behind the window_time of the rows it fired";
}

// Records what a window Top-N emits: "kind v window_end rank" per row and "wm W" per watermark,
// in order.
class RankSink : public Output {
 public:
  absl::Status Emit(Batch b) override {
    for (size_t i = 0; i < b.num_rows(); ++i) {
      events.push_back(
          std::string(RowKindName(b.kinds[i])) + " " + std::to_string(b.columns[1].i64[i]) + " " +
          std::to_string(b.columns[3].i64[i]) + " " + std::to_string(b.columns[5].i64[i]));
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t w) override {
    events.push_back("wm " + std::to_string(w));
    return absl::OkStatus();
  }
  std::vector<std::string> events;
};

// Rows (ts, v) as a window Top-N input.
Batch TimedRows(std::vector<std::pair<int64_t, int64_t>> rows, RowKind kind = RowKind::kInsert) {
  Batch b;
  b.columns.emplace_back(DataType::Timestamp(3));
  b.columns.emplace_back(DataType::Bigint());
  for (auto [ts, v] : rows) {
    b.columns[0].AppendInt(ts);
    b.columns[1].AppendInt(v);
    b.kinds.push_back(kind);
  }
  return b;
}

// Window Top-N directly on a 1-minute TUMBLE: row = ts, v, window_start, window_end,
// window_time; PARTITION BY window_start, window_end.
WindowRankConfig TumbleRankConfig() {
  WindowRankConfig c;
  c.name = "test";
  c.input_columns = 2;
  c.assign_windows = true;
  c.window.kind = WindowKind::kTumble;
  c.window.size = kMicrosPerMinute;
  c.time_column = 0;
  c.window_end_column = 3;
  c.key_columns = {2, 3};
  c.input_fields = {{"ts", DataType::Timestamp(3)}, {"v", DataType::Bigint()}};
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

TEST(WindowRank, EmitsTheFinalTopNOnceWhenTheWatermarkPassesWindowEnd) {
  WindowRankConfig c = TumbleRankConfig();
  c.order = {{1, true}};  // v DESC
  c.limit = 2;
  OperatorHarness harness(MakeWindowRank(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  RankSink out;
  const int64_t m = kMicrosPerMinute;
  // v = 5 twice: the earlier one ranks first (ROW_NUMBER ties keep arrival order).
  Batch b1 = TimedRows({{10, 1}, {20, 5}, {m + 5, 9}, {30, 3}, {40, 5}});
  ASSERT_TRUE(op->ProcessBatch(b1, RowWatermarks{}, &out).ok());
  // TIMESTAMP(3): [0, m) fires when the watermark reaches its window_time m - 1 ms, not 1 µs
  // earlier; the watermark is forwarded unchanged.
  ASSERT_TRUE(op->ProcessWatermark(m - 1001, &out).ok());
  EXPECT_EQ(out.events, std::vector<std::string>{"wm " + std::to_string(m - 1001)});
  // Its final top 2 (insert-only), then the watermark.
  ASSERT_TRUE(op->ProcessWatermark(m - 1000, &out).ok());
  std::string e = " " + std::to_string(m) + " ";
  EXPECT_EQ(out.events,
            (std::vector<std::string>{"wm " + std::to_string(m - 1001), "+I 5" + e + "1",
                                      "+I 5" + e + "2", "wm " + std::to_string(m - 1000)}));
  // A row of the fired window is late (counted, not ranked); the open window still takes rows.
  RowWatermarks wm;
  wm.base = m - 1000;
  Batch b2 = TimedRows({{50, 100}, {m + 6, 2}});
  ASSERT_TRUE(op->ProcessBatch(b2, wm, &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 1);
  out.events.clear();
  ASSERT_TRUE(op->ProcessWatermark(INT64_MAX, &out).ok());
  std::string e2 = " " + std::to_string(2 * m) + " ";
  EXPECT_EQ(out.events, (std::vector<std::string>{"+I 9" + e2 + "1", "+I 2" + e2 + "2",
                                                  "wm " + std::to_string(INT64_MAX)}));
  // Fired windows are freed: nothing is emitted twice.
  out.events.clear();
  ASSERT_TRUE(op->ProcessWatermark(INT64_MAX, &out).ok());
  EXPECT_EQ(out.events, std::vector<std::string>{"wm " + std::to_string(INT64_MAX)});
  EXPECT_EQ(c.metrics->rows_out.load(), 4);
}

TEST(WindowRank, DeduplicationKeepingTheLastRowTakesTheLaterOfEqualTimes) {
  WindowRankConfig c = TumbleRankConfig();
  c.order = {{0, true}};  // ts DESC
  c.limit = 1;
  c.ties_to_last = true;
  OperatorHarness harness(MakeWindowRank(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  RankSink out;
  Batch b = TimedRows({{20, 1}, {30, 2}, {30, 3}, {10, 4}});
  ASSERT_TRUE(op->ProcessBatch(b, RowWatermarks{}, &out).ok());
  ASSERT_TRUE(op->ProcessWatermark(INT64_MAX, &out).ok());
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0], "+I 3 " + std::to_string(kMicrosPerMinute) + " 1");
}

TEST(WindowRank, RejectsRetractions) {
  WindowRankConfig c = TumbleRankConfig();
  c.order = {{1, false}};
  OperatorHarness harness(MakeWindowRank(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  RankSink out;
  Batch b = TimedRows({{20, 1}}, RowKind::kDelete);
  absl::Status st = op->ProcessBatch(b, RowWatermarks{}, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("insert-only"), std::string::npos) << st;
}

// Collects (kind, key, count) of a group aggregate's changelog.
class ChangelogSink : public Output {
 public:
  absl::Status Emit(Batch b) override {
    for (size_t i = 0; i < b.num_rows(); ++i) {
      rows.push_back(std::string(RowKindName(b.kinds[i])) + " " + std::string(b.columns[0].str[i]) +
                     " " + std::to_string(b.columns[1].i64[i]));
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t) override { return absl::OkStatus(); }
  std::vector<std::string> rows;
};

TEST(GroupAggregate, StateTtlDropsIdleGroupsWhichThenStartAgain) {
  int64_t now = 0;
  AggregateConfig c;
  c.name = "test";
  c.key_columns = {0};
  c.input_fields = {{"k", DataType::String()}};
  c.aggs.push_back({*ResolveAggregate("COUNT", {}, false), -1, -1});
  c.metrics = std::make_shared<OperatorMetrics>();
  c.state_ttl_ms = 1000;
  c.clock_ms = [&now] { return now; };
  OperatorHarness harness(MakeGroupAggregate(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  ChangelogSink out;
  auto batch = [](std::vector<std::string> keys) {
    Batch b;
    b.columns.emplace_back(DataType::String());
    Arena* arena = b.NewArena();  // the batch owns its strings
    for (const auto& k : keys) {
      b.columns[0].AppendString(arena->Add(k));
      b.kinds.push_back(RowKind::kInsert);
    }
    return b;
  };
  Batch b1 = batch({"a", "b"});
  ASSERT_TRUE(op->ProcessBatch(b1, RowWatermarks{}, &out).ok());
  now = 600;  // within the TTL of both
  Batch b2 = batch({"a"});
  ASSERT_TRUE(op->ProcessBatch(b2, RowWatermarks{}, &out).ok());
  now = 1300;  // b idle for 1300 ms (expired), a for 700 ms (kept)
  Batch b3 = batch({"a", "b"});
  ASSERT_TRUE(op->ProcessBatch(b3, RowWatermarks{}, &out).ok());
  std::vector<std::string> want = {"+I a 1", "+I b 1", "-U a 1", "+U a 2",
                                   "-U a 2", "+U a 3", "+I b 1"};
  EXPECT_EQ(out.rows, want) << "b's expired group starts again from scratch with +I";
  EXPECT_EQ(c.metrics->expired_keys.load(), 1);
}

// Collects "kind left right" of a join of (k STRING, v BIGINT) rows, NULL shown as "null".
class JoinSink : public Output {
 public:
  absl::Status Emit(Batch b) override {
    auto cell = [&](size_t c, size_t i) {
      return b.columns[c].valid[i] ? std::to_string(b.columns[c].i64[i]) : std::string("null");
    };
    for (size_t i = 0; i < b.num_rows(); ++i) {
      rows.push_back(std::string(RowKindName(b.kinds[i])) + " " + cell(1, i) + " " + cell(3, i));
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t) override { return absl::OkStatus(); }
  std::vector<std::string> rows;
};

TEST(RegularJoin, StateTtlDropsStoredRowsByAgeWithoutRetractions) {
  int64_t now = 0;
  RegularJoinConfig c;
  c.name = "test";
  c.left_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.right_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.left_types = c.right_types = {DataType::String(), DataType::Bigint()};
  c.left_outer = true;  // LEFT JOIN: expiry retracts nothing, not even the NULL-padded row
  c.state_ttl_ms = 1000;
  c.clock_ms = [&now] { return now; };
  c.metrics = std::make_shared<OperatorMetrics>();
  OperatorHarness harness(MakeRegularJoin(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.two();
  JoinSink out;
  auto rows = [](std::vector<std::pair<std::string, int64_t>> kv) {
    Batch b;
    b.columns.emplace_back(DataType::String());
    b.columns.emplace_back(DataType::Bigint());
    Arena* arena = b.NewArena();
    for (const auto& [k, v] : kv) {
      b.columns[0].AppendString(arena->Add(k));
      b.columns[1].AppendInt(v);
      b.kinds.push_back(RowKind::kInsert);
    }
    return b;
  };
  // The processing time advances as the runtime advances it: due TTL timers fire first.
  auto at = [&](int64_t ms) {
    now = ms;
    ASSERT_TRUE(harness.AdvanceProcessingTime(ms, &out).ok());
  };
  Batch l1 = rows({{"a", 1}, {"b", 2}});
  ASSERT_TRUE(op->ProcessBatch1(l1, RowWatermarks{}, &out).ok());
  at(600);
  Batch l2 = rows({{"a", 3}});
  ASSERT_TRUE(op->ProcessBatch1(l2, RowWatermarks{}, &out).ok());
  Batch r1 = rows({{"a", 10}});  // joins both stored a rows
  ASSERT_TRUE(op->ProcessBatch2(r1, RowWatermarks{}, &out).ok());
  at(1300);  // left a=1, b=2 (1300 ms old) expire; left a=3 (700 ms) and right a=10 stay
  Batch r2 = rows({{"a", 20}, {"b", 30}});
  ASSERT_TRUE(op->ProcessBatch2(r2, RowWatermarks{}, &out).ok());
  at(2700);  // everything is older than 1 s now
  Batch l3 = rows({{"a", 4}});
  ASSERT_TRUE(op->ProcessBatch1(l3, RowWatermarks{}, &out).ok());
  std::vector<std::string> want = {
      "+I 1 null", "+I 2 null", "+I 3 null",             // left rows without partners
      "-D 1 null", "+I 1 10",   "-D 3 null", "+I 3 10",  // right a=10 joins a=1 and a=3
      "+I 3 20",                                         // a=1 expired: only a=3 joins a=20
      "+I 4 null"};                                      // a=3, a=10, a=20 expired
  EXPECT_EQ(out.rows, want);
  // Key b at 1300 ms (right b=30 then finds no partner), keys a and b (b=30) at 2700 ms.
  EXPECT_EQ(c.metrics->expired_keys.load(), 3);
  EXPECT_EQ(harness.timers().size(), 1u) << "one TTL timer: key a's (its row a=4)";
}

TEST(RegularJoin, RowsPastTheirTtlJoinNothingEvenBeforeTheirTimerFires) {
  int64_t now = 0;
  RegularJoinConfig c;
  c.name = "test";
  c.left_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.right_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.left_types = c.right_types = {DataType::String(), DataType::Bigint()};
  c.state_ttl_ms = 1000;  // the processing time is not advanced: no TTL timer fires
  c.clock_ms = [&now] { return now; };
  c.metrics = std::make_shared<OperatorMetrics>();
  OperatorHarness harness(MakeRegularJoin(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.two();
  JoinSink out;
  auto row = [](int64_t v, RowKind kind = RowKind::kInsert) {
    Batch b;
    b.columns.emplace_back(DataType::String());
    b.columns.emplace_back(DataType::Bigint());
    b.columns[0].AppendString("a");
    b.columns[1].AppendInt(v);
    b.kinds.push_back(kind);
    return b;
  };
  Batch r0 = row(0);  // at 0 ms
  ASSERT_TRUE(op->ProcessBatch2(r0, RowWatermarks{}, &out).ok());
  now = 100;
  Batch l1 = row(1);  // joins r0
  ASSERT_TRUE(op->ProcessBatch1(l1, RowWatermarks{}, &out).ok());
  now = 1050;  // r0 (1050 ms old) has expired, l1 (950 ms) has not
  Batch r2 = row(2);
  ASSERT_TRUE(op->ProcessBatch2(r2, RowWatermarks{}, &out).ok());
  now = 1200;  // l1 is 1100 ms old: expired
  Batch r3 = row(3);
  ASSERT_TRUE(op->ProcessBatch2(r3, RowWatermarks{}, &out).ok());
  // Retracting r2 retracts nothing either: its partner l1 has expired, as if already dropped.
  Batch r2_retract = row(2, RowKind::kDelete);
  ASSERT_TRUE(op->ProcessBatch2(r2_retract, RowWatermarks{}, &out).ok());
  std::vector<std::string> want = {"+I 1 0", "+I 1 2"};  // r3 joins nothing
  EXPECT_EQ(out.rows, want);
}

}  // namespace
}  // namespace eddy::runtime
