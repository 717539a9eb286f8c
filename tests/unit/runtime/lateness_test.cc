// Which rows are late, operator by operator, at the exact boundaries, with the watermark driven by
// hand (Flink SQL's rules, as described in each operator's header):
// - OVER with UNBOUNDED PRECEDING drops a row at or behind the watermark; with a bounded frame it
//   drops a row at or before the latest time it has processed for the row's key (Flink's
//   lastTriggeringTs), a row being processed when a watermark at or past its time arrives after it;
// - interval joins drop nothing: a row joins the other side's rows still kept and is kept itself
//   while the watermark is below the last time it can match (Flink's TimeIntervalJoin);
// - temporal joins buffer late left rows too and join them with the versions still kept.
// (Windows: runtime_test.cc; MATCH_RECOGNIZE: tests/sql/cep/match_recognize.test.)
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "function/expr.h"
#include "runtime/interval_join.h"
#include "runtime/operator.h"
#include "runtime/operator_harness.h"
#include "runtime/over_aggregate.h"
#include "runtime/temporal_join.h"

namespace eddy::runtime {
namespace {

// Records every row as its integer columns ("NULL" for a NULL), joined by spaces, and watermarks.
class Rows : public Output {
 public:
  absl::Status Emit(Batch b) override {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      std::string s;
      for (const auto& c : b.columns) {
        if (!s.empty()) s += ' ';
        s += c.IsNull(r) ? "NULL" : std::to_string(c.i64[r]);
      }
      rows.push_back(s);
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t w) override {
    watermarks.push_back(w);
    return absl::OkStatus();
  }
  std::vector<std::string> rows;
  std::vector<int64_t> watermarks;
};

// Rows (k, ts, v) of BIGINT, TIMESTAMP(3), BIGINT.
Batch KTV(const std::vector<std::vector<int64_t>>& rows) {
  Batch b;
  b.columns.emplace_back(DataType::Bigint());
  b.columns.emplace_back(DataType::Timestamp(3));
  b.columns.emplace_back(DataType::Bigint());
  for (const auto& r : rows) {
    for (size_t c = 0; c < 3; ++c) b.columns[c].AppendInt(r[c]);
    b.kinds.push_back(RowKind::kInsert);
  }
  return b;
}

RowWatermarks At(int64_t w) {
  RowWatermarks wm;
  wm.base = w;
  return wm;
}

// COUNT(*) and SUM(v) OVER (PARTITION BY k ORDER BY ts <frame>): `preceding` -1 = UNBOUNDED.
OverAggregateConfig OverConfig(int64_t preceding, bool rows = false) {
  OverAggregateConfig c;
  c.name = "over";
  c.key_columns = {0};
  c.time_column = 1;
  c.input_columns = 3;
  c.rows = rows;
  c.preceding = preceding;
  c.calls.push_back({"COUNT", -1, 1, Value(), DataType::Bigint()});
  c.calls.push_back({"SUM", 2, 1, Value(), DataType::Bigint()});
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

TEST(OverLateness, UnboundedDropsRowsAtOrBehindTheWatermark) {
  OverAggregateConfig c = OverConfig(-1);
  OperatorHarness harness(MakeOverAggregate(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  Rows out;
  Batch b1 = KTV({{1, 100, 1}});
  ASSERT_TRUE(op->ProcessBatch(b1, At(50), &out).ok());
  Batch b2 = KTV({{1, 50, 2}, {1, 51, 4}});  // at the watermark: late; one µs after: kept
  ASSERT_TRUE(op->ProcessBatch(b2, At(50), &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 1);
  ASSERT_TRUE(op->ProcessWatermark(INT64_MAX, &out).ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1 51 4 1 4", "1 100 1 2 5"}));
}

TEST(OverLateness, BoundedKeepsALateRowThatIsAfterItsKeysProcessedRows) {
  OverAggregateConfig c = OverConfig(1000);  // RANGE 1 ms PRECEDING
  OperatorHarness harness(MakeOverAggregate(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  Rows out;
  Batch a = KTV({{1, 100, 1}});
  ASSERT_TRUE(op->ProcessBatch(a, At(0), &out).ok());
  ASSERT_TRUE(op->ProcessWatermark(100, &out).ok());  // processes key 1 up to 100
  ASSERT_EQ(out.rows, (std::vector<std::string>{"1 100 1 1 1"}));
  // At the time processed last: late, though the same time as a processed row.
  Batch b = KTV({{1, 100, 2}});
  ASSERT_TRUE(op->ProcessBatch(b, At(100), &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 1);
  // Behind the watermark 200 but after 100: kept. So is 120, although it comes after 150: 150
  // arrived behind this same watermark and is processed only at the next one (Flink: its timer,
  // set behind the watermark, fires at the next watermark). A new key has processed nothing.
  Batch c1 = KTV({{1, 150, 4}, {1, 120, 8}, {2, 50, 16}});
  ASSERT_TRUE(op->ProcessBatch(c1, At(200), &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 1);
  ASSERT_TRUE(op->ProcessWatermark(201, &out).ok());
  // Processed in time order per key: 120 sees 100 and itself, 150 sees 100, 120, 150 (keys in
  // any order).
  std::sort(out.rows.begin(), out.rows.end());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1 100 1 1 1", "1 120 8 2 9", "1 150 4 3 13",
                                                "2 50 16 1 16"}));
  // Now 150 is processed: 140 is late.
  Batch d = KTV({{1, 140, 32}});
  ASSERT_TRUE(op->ProcessBatch(d, At(201), &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 2);
}

TEST(OverLateness, BoundedRowsFrameUsesTheSameRule) {
  OverAggregateConfig c = OverConfig(1, /*rows=*/true);  // ROWS 1 PRECEDING
  OperatorHarness harness(MakeOverAggregate(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  Rows out;
  Batch a = KTV({{1, 100, 1}, {1, 300, 2}});
  ASSERT_TRUE(op->ProcessBatch(a, At(0), &out).ok());
  ASSERT_TRUE(op->ProcessWatermark(250, &out).ok());
  Batch b = KTV({{1, 100, 4}, {1, 200, 8}});  // 100: processed, late; 200: behind 250, kept
  ASSERT_TRUE(op->ProcessBatch(b, At(250), &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 1);
  ASSERT_TRUE(op->ProcessWatermark(INT64_MAX, &out).ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1 100 1 1 1", "1 200 8 2 9", "1 300 2 2 10"}));
}

TEST(OverLateness, BoundedFrameWithRowWatermarksOfAFileSource) {
  // Rows of a file source carry the watermark of the rows before them (RowWatermarks::local),
  // ahead of the last watermark the operator processed.
  OverAggregateConfig c = OverConfig(1000);
  OperatorHarness harness(MakeOverAggregate(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.one();
  Rows out;
  Batch b = KTV({{1, 100, 1}, {1, 300, 2}, {1, 100, 4}, {1, 200, 8}, {1, 150, 16}, {1, 190, 32}});
  // Watermarks met: none, none, 250 (100 processed: the second 100 is late), 250 (200 kept),
  // 250 (150: 200 arrived behind 250 itself, so only 100 is processed: kept), 260 (200 and 150
  // are processed now: 190 is late).
  std::vector<int64_t> local = {INT64_MIN, INT64_MIN, 250, 250, 250, 260};
  RowWatermarks wm;
  wm.local = local.data();
  ASSERT_TRUE(op->ProcessBatch(b, wm, &out).ok());
  EXPECT_EQ(c.metrics->late_rows.load(), 2);
  ASSERT_TRUE(op->ProcessWatermark(INT64_MAX, &out).ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1 100 1 1 1", "1 150 16 2 17", "1 200 8 3 25",
                                                "1 300 2 4 27"}));
}

// l JOIN r ON l.k = r.k AND l.ts BETWEEN r.ts - 10 AND r.ts + 10 (µs): a left row at t matches
// right rows in [t - 10, t + 10], so it is kept while the watermark is below t + 10; likewise a
// right row.
IntervalJoinConfig JoinConfig(bool left_outer) {
  IntervalJoinConfig c;
  c.name = "join";
  c.left_keys.push_back(MakeColumnRef(0, DataType::Bigint(), "k"));
  c.right_keys.push_back(MakeColumnRef(0, DataType::Bigint(), "k"));
  c.left_time = c.right_time = 1;
  c.left_columns = c.right_columns = 3;
  c.left_types = c.right_types = {DataType::Bigint(), DataType::Timestamp(3), DataType::Bigint()};
  c.left_outer = left_outer;
  c.lower = -10;
  c.upper = 10;
  c.watermark_delay = 10;
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

TEST(IntervalJoinLateness, ALateRowJoinsTheKeptRowsAndIsNotKeptPastItsReach) {
  IntervalJoinConfig c = JoinConfig(false);
  OperatorHarness harness(MakeIntervalJoin(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.two();
  Rows out;
  Batch r1 = KTV({{1, 100, 1}});
  ASSERT_TRUE(op->ProcessBatch2(r1, At(0), &out).ok());
  ASSERT_TRUE(op->ProcessWatermark(105, &out).ok());  // r1 can still match left rows up to 110
  // Late (95 <= 105), not dropped: joins r1. Its reach is 105, not above the watermark: it is not
  // kept, so the late right row 104 (in its range) does not find it.
  Batch l1 = KTV({{1, 95, 2}});
  ASSERT_TRUE(op->ProcessBatch1(l1, At(105), &out).ok());
  Batch r2 = KTV({{1, 104, 4}});
  ASSERT_TRUE(op->ProcessBatch2(r2, At(105), &out).ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1 95 2 1 100 1"}));
  EXPECT_EQ(c.metrics->late_rows.load(), 2);
  // A left row at 106, after the watermark, finds r1 and r2.
  Batch l2 = KTV({{1, 106, 8}});
  ASSERT_TRUE(op->ProcessBatch1(l2, At(105), &out).ok());
  EXPECT_EQ(out.rows,
            (std::vector<std::string>{"1 95 2 1 100 1", "1 106 8 1 100 1", "1 106 8 1 104 4"}));
}

TEST(IntervalJoinLateness, AKeptRowStaysUntilTheWatermarkPassesItsReach) {
  IntervalJoinConfig c = JoinConfig(false);
  OperatorHarness harness(MakeIntervalJoin(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.two();
  Rows out;
  Batch l = KTV({{1, 100, 1}});
  ASSERT_TRUE(op->ProcessBatch1(l, At(0), &out).ok());
  // Watermark 110 = the left row's reach: it stays (Flink removes a cached row when its time is
  // <= watermark - 10 - 1), and a right row at 110, exactly at the watermark, joins it.
  ASSERT_TRUE(op->ProcessWatermark(110, &out).ok());
  Batch r = KTV({{1, 110, 2}});
  ASSERT_TRUE(op->ProcessBatch2(r, At(110), &out).ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1 100 1 1 110 2"}));
  // One past it: gone.
  ASSERT_TRUE(op->ProcessWatermark(111, &out).ok());
  Batch r2 = KTV({{1, 105, 4}});
  ASSERT_TRUE(op->ProcessBatch2(r2, At(111), &out).ok());
  EXPECT_EQ(out.rows.size(), 1u);
}

TEST(IntervalJoinLateness, LeftOuterPadsALateRowAtOnceWhenItIsNotKept) {
  IntervalJoinConfig c = JoinConfig(true);
  OperatorHarness harness(MakeIntervalJoin(c));
  ASSERT_TRUE(harness.Open().ok());
  auto* op = harness.two();
  Rows out;
  ASSERT_TRUE(op->ProcessWatermark(200, &out).ok());
  // 100 can match nothing any more (reach 110 <= 200): out at once with NULLs. 195 (reach 205) is
  // kept: padded only when the watermark passes 205.
  Batch l = KTV({{1, 100, 1}, {1, 195, 2}});
  ASSERT_TRUE(op->ProcessBatch1(l, At(200), &out).ok());
  EXPECT_EQ(out.rows, (std::vector<std::string>{"1 100 1 NULL NULL NULL"}));
  ASSERT_TRUE(op->ProcessWatermark(205, &out).ok());
  EXPECT_EQ(out.rows.size(), 1u);
  ASSERT_TRUE(op->ProcessWatermark(206, &out).ok());
  EXPECT_EQ(out.rows,
            (std::vector<std::string>{"1 100 1 NULL NULL NULL", "1 195 2 NULL NULL NULL"}));
}

// l JOIN v FOR SYSTEM_TIME AS OF l.ts ON l.k = v.k: rows (k, ts, v) on both sides.
TemporalJoinConfig TemporalConfig(bool left_outer) {
  TemporalJoinConfig c;
  c.name = "temporal";
  c.left_keys.push_back(MakeColumnRef(0, DataType::Bigint(), "k"));
  c.right_keys.push_back(MakeColumnRef(0, DataType::Bigint(), "k"));
  c.left_time = c.right_time = 1;
  c.left_types = c.right_types = {DataType::Bigint(), DataType::Timestamp(3), DataType::Bigint()};
  c.left_outer = left_outer;
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

TEST(TemporalJoinLateness, ALateLeftRowJoinsTheVersionStillKept) {
  for (bool outer : {false, true}) {
    TemporalJoinConfig c = TemporalConfig(outer);
    OperatorHarness harness(MakeTemporalJoin(c));
    ASSERT_TRUE(harness.Open().ok());
    auto* op = harness.two();
    Rows out;
    Batch v = KTV({{1, 100, 1}, {1, 200, 2}});
    ASSERT_TRUE(op->ProcessBatch2(v, At(0), &out).ok());
    // Watermark 150: the version of 100 is the newest at or before it, so it is kept.
    ASSERT_TRUE(op->ProcessWatermark(150, &out).ok());
    Batch l1 = KTV({{1, 120, 4}});
    ASSERT_TRUE(op->ProcessBatch1(l1, At(150), &out).ok());
    EXPECT_EQ(c.metrics->late_rows.load(), 1);
    EXPECT_TRUE(out.rows.empty()) << "joined at the next watermark";
    ASSERT_TRUE(op->ProcessWatermark(160, &out).ok());
    EXPECT_EQ(out.rows, (std::vector<std::string>{"1 120 4 1 100 1"}));
    // Watermark 250: the version of 200 supersedes that of 100, which goes. A left row at 150
    // then finds no version: no output, or NULLs in a LEFT join.
    ASSERT_TRUE(op->ProcessWatermark(250, &out).ok());
    Batch l2 = KTV({{1, 150, 8}, {1, 240, 16}});
    ASSERT_TRUE(op->ProcessBatch1(l2, At(250), &out).ok());
    ASSERT_TRUE(op->ProcessWatermark(260, &out).ok());
    std::vector<std::string> want = {"1 120 4 1 100 1"};
    if (outer) want.push_back("1 150 8 NULL NULL NULL");
    want.push_back("1 240 16 1 200 2");
    EXPECT_EQ(out.rows, want) << (outer ? "LEFT" : "inner");
    EXPECT_EQ(c.metrics->late_rows.load(), 3);
  }
}

}  // namespace
}  // namespace eddy::runtime
