// Snapshot and restore of the join operators (issue 11, fault tolerance): regular, interval and
// temporal joins are run over random two-input streams (keys with NULLs, out-of-order times, late
// rows, retractions, watermarks, a processing-time clock for the state TTL), snapshotted at
// random cuts, restored into new instances at the same or another parallelism and continued. The
// result must be what one uninterrupted instance emits: the same rows (as a multiset), the rows
// of each key in the same order, and at parallelism 1 the same sequence (emission at a
// watermark is ordered by time and key, never by address or hash order).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "function/expr.h"
#include "runtime/interval_join.h"
#include "runtime/operator_harness.h"
#include "runtime/regular_join.h"
#include "runtime/temporal_join.h"
#include "types/value.h"

namespace eddy::runtime {
namespace {

constexpr int kMaxParallelism = 16;

using RowSink = FormattedRowSink;

// One step of the input: a batch of the left (input 1) or right (input 2) side, or a watermark.
// Every step happens at processing time `now_ms`.
struct Step {
  int input = 0;  // 1 or 2; 0 = a watermark
  int64_t wm = 0;
  int64_t now_ms = 0;
  Batch batch;
};

struct InputOptions {
  bool null_keys = false;    // about 1 row in 12 has a NULL key
  bool retractions = false;  // -D and -U/+U of earlier rows of the same side, and unknown ones
  bool late_rows = false;    // about 1 row in 10 is up to 40 s behind (often behind the watermark)
  int keys = 12;             // distinct non-NULL keys
};

// Rows (k STRING, ts TIMESTAMP(3), v BIGINT) on both sides: `o.keys` keys, times advancing ~1 s per
// row with up to 20 s of disorder, batches of 1–20 rows of a random side, a watermark
// (max − 20 s) after each batch, 37 ms of processing time per step.
std::vector<Step> MakeInput(unsigned seed, int rows, InputOptions o) {
  std::mt19937 rng(seed);
  std::vector<Step> steps;
  int64_t t = 1'700'000'000'000'000, max_ts = INT64_MIN, now = 1'000'000;
  struct Live {
    bool null_key;
    std::string k;
    int64_t ts, v;
  };
  std::vector<Live> live[2];
  int made = 0;
  while (made < rows) {
    Step s;
    s.input = 1 + static_cast<int>(rng() % 2);
    s.now_ms = now += 37;
    Batch& b = s.batch;
    b.columns.emplace_back(DataType::String());
    b.columns.emplace_back(DataType::Timestamp(3));
    b.columns.emplace_back(DataType::Bigint());
    Arena* arena = b.NewArena();
    auto append = [&](const Live& x, RowKind kind) {
      if (x.null_key) {
        b.columns[0].AppendNull();
      } else {
        b.columns[0].AppendString(arena->Add(x.k));
      }
      b.columns[1].AppendInt(x.ts);
      b.columns[2].AppendInt(x.v);
      b.kinds.push_back(kind);
    };
    auto& mine = live[s.input - 1];
    int n = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n && made < rows; ++i, ++made) {
      unsigned dice = rng() % 100;
      if (o.retractions && dice < 15 && !mine.empty()) {
        // Retract a live row of this side: -D, or -U followed by +U of a new value.
        size_t victim = rng() % mine.size();
        Live x = mine[victim];
        mine.erase(mine.begin() + static_cast<long>(victim));
        bool update = rng() % 2;
        append(x, update ? RowKind::kUpdateBefore : RowKind::kDelete);
        if (update) {
          x.v = static_cast<int64_t>(rng() % 1000) - 300;
          append(x, RowKind::kUpdateAfter);
          mine.push_back(x);
        }
        continue;
      }
      if (o.retractions && dice < 18) {  // a retraction of a row never seen
        append(Live{false, "k" + std::to_string(rng() % o.keys), t, 99999}, RowKind::kDelete);
        continue;
      }
      t += static_cast<int64_t>(rng() % 2'000'000);
      int64_t behind = o.late_rows && rng() % 10 == 0 ? 40'000'000 : 20'000'000;
      int64_t ts = t - static_cast<int64_t>(rng() % static_cast<uint64_t>(behind));
      ts -= ts % 1000;
      max_ts = std::max(max_ts, ts);
      Live x{o.null_keys && rng() % 12 == 0, "k" + std::to_string(rng() % o.keys), ts,
             static_cast<int64_t>(rng() % 1000) - 300};
      append(x, RowKind::kInsert);
      mine.push_back(x);
    }
    steps.push_back(std::move(s));
    Step w;
    w.wm = max_ts - 20'000'000;
    w.now_ms = now += 37;
    steps.push_back(std::move(w));
  }
  Step end;
  end.wm = INT64_MAX;
  end.now_ms = now + 37;
  steps.push_back(std::move(end));
  return steps;
}

std::vector<DataType> SideTypes() {
  return {DataType::String(), DataType::Timestamp(3), DataType::Bigint()};
}

// The extra ON condition `(l.v + r.v) % 3 <> 0` over the output row (l.v is column 2, r.v 5).
BoundExprPtr Residual() {
  ScalarKernel kernel = [](const std::vector<const Column*>& args, size_t n, EvalContext*,
                           Column* out) {
    for (size_t i = 0; i < n; ++i) {
      if (args[0]->IsNull(i) || args[1]->IsNull(i)) {
        out->AppendNull();
      } else {
        out->AppendInt((args[0]->i64[i] + args[1]->i64[i]) % 3 != 0);
      }
    }
    return absl::OkStatus();
  };
  return MakeCall(
      "residual", kernel, DataType::Boolean(),
      {MakeColumnRef(2, DataType::Bigint(), "l.v"), MakeColumnRef(5, DataType::Bigint(), "r.v")});
}

struct JoinOptions {
  bool left_outer = false;
  bool right_outer = false;
  bool residual = false;
  int64_t ttl_ms = 0;  // regular joins
};

std::unique_ptr<StreamOperator> RegularJoinOf(const SubtaskInfo& info, JoinOptions o,
                                              std::shared_ptr<OperatorMetrics> m) {
  RegularJoinConfig c;
  c.name = "Join(joinType=[test], on=[k = k])";
  c.left_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.right_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.left_types = c.right_types = SideTypes();
  c.left_outer = o.left_outer;
  c.right_outer = o.right_outer;
  if (o.residual) c.residual = Residual();
  c.state_ttl_ms = o.ttl_ms;
  c.metrics = std::move(m);
  c.subtask = info;
  return MakeRegularJoin(c);
}

std::unique_ptr<StreamOperator> IntervalJoinOf(const SubtaskInfo& info, JoinOptions o,
                                               std::shared_ptr<OperatorMetrics> m) {
  IntervalJoinConfig c;
  c.name = "IntervalJoin(test)";
  c.left_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.right_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.left_time = c.right_time = 1;
  c.left_columns = c.right_columns = 3;
  c.left_types = c.right_types = SideTypes();
  c.left_outer = o.left_outer;
  c.right_outer = o.right_outer;
  c.lower = -10'000'000;  // l.ts BETWEEN r.ts - 10 s AND r.ts + 5 s
  c.upper = 5'000'000;
  c.watermark_delay = 10'000'000;
  if (o.residual) c.residual = Residual();
  c.metrics = std::move(m);
  c.subtask = info;
  return MakeIntervalJoin(c);
}

std::unique_ptr<StreamOperator> TemporalJoinOf(const SubtaskInfo& info, JoinOptions o,
                                               std::shared_ptr<OperatorMetrics> m) {
  TemporalJoinConfig c;
  c.name = "TemporalJoin(test)";
  c.left_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.right_keys = {MakeColumnRef(0, DataType::String(), "k")};
  c.left_time = c.right_time = 1;
  c.left_types = c.right_types = SideTypes();
  c.left_outer = o.left_outer;
  if (o.residual) c.residual = Residual();
  c.metrics = std::move(m);
  c.subtask = info;
  return MakeTemporalJoin(c);
}

// Makes the operator of a subtask, counting into `metrics`.
using Factory = std::function<std::unique_ptr<StreamOperator>(
    const SubtaskInfo& info, std::shared_ptr<OperatorMetrics> metrics)>;

// What a run emitted, and its counters summed over subtasks and segments.
struct RunResult {
  RowSink sink;
  int64_t late_rows = 0;
  int64_t expired_keys = 0;
  size_t timers_left = 0;  // timers held when the last segment ended
};

// Runs `steps` [from, to) on `p` subtasks, each opened from `restore` when given; adds what they
// emit to `result`. Returns the subtasks' snapshots at `to`.
std::vector<state::OperatorSnapshot> RunSegment(const Factory& make, const std::vector<Step>& steps,
                                                size_t from, size_t to, int p,
                                                const std::vector<state::OperatorSnapshot>* restore,
                                                RunResult* result) {
  std::vector<std::unique_ptr<OperatorHarness>> hs;
  std::vector<std::shared_ptr<OperatorMetrics>> metrics;
  for (int i = 0; i < p; ++i) {
    SubtaskInfo info{i, p, kMaxParallelism};
    metrics.push_back(std::make_shared<OperatorMetrics>());
    hs.push_back(std::make_unique<OperatorHarness>(make(info, metrics.back()), info));
    std::vector<const state::OperatorSnapshot*> olds;
    if (restore) {
      for (const auto& s : *restore) olds.push_back(&s);
    }
    absl::Status st = hs.back()->Open(olds);
    EXPECT_TRUE(st.ok()) << st;
  }
  int64_t wm = INT64_MIN;  // the watermark before step `from`
  for (size_t j = from; j-- > 0;) {
    if (steps[j].input == 0) {
      wm = steps[j].wm;
      break;
    }
  }
  RowSink* sink = &result->sink;
  for (size_t k = from; k < to; ++k) {
    const Step& s = steps[k];
    for (auto& h : hs) EXPECT_TRUE(h->AdvanceProcessingTime(s.now_ms, sink).ok());
    if (s.input == 0) {
      for (auto& h : hs) EXPECT_TRUE(h->op()->ProcessWatermark(s.wm, sink).ok());
      wm = s.wm;
      continue;
    }
    std::vector<Batch> parts = RouteByKeyGroup(s.batch, p, kMaxParallelism);
    for (int i = 0; i < p; ++i) {
      Batch& part = parts[static_cast<size_t>(i)];
      if (part.num_rows() == 0) continue;
      RowWatermarks rw;
      rw.base = wm;
      TwoInputOperator* op = hs[static_cast<size_t>(i)]->two();
      absl::Status st =
          s.input == 1 ? op->ProcessBatch1(part, rw, sink) : op->ProcessBatch2(part, rw, sink);
      EXPECT_TRUE(st.ok()) << st;
    }
  }
  std::vector<state::OperatorSnapshot> snaps;
  for (const auto& m : metrics) {
    result->late_rows += m->late_rows;
    result->expired_keys += m->expired_keys;
  }
  for (auto& h : hs) {
    auto s = h->Snapshot(7);
    EXPECT_TRUE(s.ok());
    EXPECT_FALSE(s->uid.empty()) << "a stateful operator has a uid";
    snaps.push_back(std::move(*s));
  }
  if (to == steps.size()) {
    for (auto& h : hs) result->timers_left += h->timers().size();
  }
  return snaps;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The cells of a collected row: kind, l.k, l.ts, l.v, r.k, r.ts, r.v.
std::vector<std::string> Cells(const std::string& row) {
  std::vector<std::string> cells;
  size_t pos = 0;
  for (size_t bar; (bar = row.find('|', pos)) != std::string::npos; pos = bar + 1) {
    cells.push_back(row.substr(pos, bar - pos));
  }
  cells.push_back(row.substr(pos));
  return cells;
}

// The rows of each join key in emission order (the key is l.k, else r.k; "NULL" for NULL keys).
std::map<std::string, std::vector<std::string>> PerKey(const std::vector<std::string>& rows) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& row : rows) {
    std::vector<std::string> c = Cells(row);
    out[c[1] == "NULL" ? c[4] : c[1]].push_back(row);
  }
  return out;
}

// Uninterrupted at parallelism 1 versus snapshots at two random cuts with parallelism p1, then
// p2, then p3. Returns the uninterrupted run for more checks.
RunResult ExpectRestoreEquivalent(const Factory& make, const std::vector<Step>& steps,
                                  unsigned seed) {
  RunResult expected;
  RunSegment(make, steps, 0, steps.size(), 1, nullptr, &expected);
  EXPECT_GT(expected.sink.rows.size(), 50u);
  std::mt19937 rng(seed);
  for (auto [p1, p2, p3] : std::vector<std::tuple<int, int, int>>{
           {1, 1, 1}, {1, 2, 3}, {3, 1, 2}, {2, 3, 1}, {4, 2, 1}}) {
    size_t cut1 = 1 + rng() % (steps.size() / 2);
    size_t cut2 = cut1 + 1 + rng() % (steps.size() - cut1 - 1);
    std::string where = "parallelism " + std::to_string(p1) + " -> " + std::to_string(p2) + " -> " +
                        std::to_string(p3) + ", cuts at steps " + std::to_string(cut1) + " and " +
                        std::to_string(cut2) + " of " + std::to_string(steps.size());
    RunResult got;
    auto s1 = RunSegment(make, steps, 0, cut1, p1, nullptr, &got);
    auto s2 = RunSegment(make, steps, cut1, cut2, p2, &s1, &got);
    RunSegment(make, steps, cut2, steps.size(), p3, &s2, &got);
    EXPECT_EQ(Sorted(got.sink.rows), Sorted(expected.sink.rows)) << where;
    EXPECT_EQ(PerKey(got.sink.rows), PerKey(expected.sink.rows))
        << where << ": the rows of a key come out in the same order";
    if (p1 == 1 && p2 == 1 && p3 == 1) {
      EXPECT_EQ(got.sink.rows, expected.sink.rows) << where << ": the same sequence";
    }
    EXPECT_EQ(got.late_rows, expected.late_rows) << where;
    EXPECT_EQ(got.expired_keys, expected.expired_keys) << where;
  }
  return expected;
}

// Rows with a left row whose key is NULL / a right row padded with NULLs / a left row padded.
size_t NullKeyLeftRows(const std::vector<std::string>& rows) {
  return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [](const std::string& r) {
    auto c = Cells(r);
    return c[1] == "NULL" && c[2] != "NULL";
  }));
}
size_t RightPadded(const std::vector<std::string>& rows) {
  return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [](const std::string& r) {
    auto c = Cells(r);
    return c[4] == "NULL" && c[5] == "NULL" && c[6] == "NULL";
  }));
}
size_t LeftPadded(const std::vector<std::string>& rows) {
  return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [](const std::string& r) {
    auto c = Cells(r);
    return c[1] == "NULL" && c[2] == "NULL" && c[3] == "NULL";
  }));
}
size_t Retracted(const std::vector<std::string>& rows) {
  return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [](const std::string& r) {
    auto c = Cells(r);
    return c[0] == "-D" && c[1] != "NULL" && c[4] != "NULL";
  }));
}

TEST(JoinSnapshotRestore, RegularFullOuterJoinWithRetractionsAndNullKeys) {
  auto steps = MakeInput(21, 1200, {.null_keys = true, .retractions = true});
  RunResult r = ExpectRestoreEquivalent(
      [](const SubtaskInfo& i, auto m) {
        return RegularJoinOf(i, {.left_outer = true, .right_outer = true, .residual = true}, m);
      },
      steps, 21);
  // Not vacuous: NULL-key rows came out padded, rows of both sides were padded, and joined
  // pairs were retracted.
  EXPECT_GT(NullKeyLeftRows(r.sink.rows), 0u);
  EXPECT_GT(RightPadded(r.sink.rows), 0u);
  EXPECT_GT(LeftPadded(r.sink.rows), 0u);
  EXPECT_GT(Retracted(r.sink.rows), 0u);
}

TEST(JoinSnapshotRestore, RegularLeftJoinWithStateTtl) {
  // 60 keys: a key's rows often all expire (600 ms = 16 steps) before its next row.
  auto steps = MakeInput(22, 1200, {.null_keys = true, .retractions = true, .keys = 60});
  RunResult r = ExpectRestoreEquivalent(
      [](const SubtaskInfo& i, auto m) {
        return RegularJoinOf(i, {.left_outer = true, .ttl_ms = 600}, m);
      },
      steps, 22);
  EXPECT_GT(r.expired_keys, 10) << "keys expired by their TTL timers";
}

TEST(JoinSnapshotRestore, RegularInnerJoin) {
  auto steps = MakeInput(23, 1000, {.retractions = true});
  ExpectRestoreEquivalent(
      [](const SubtaskInfo& i, auto m) { return RegularJoinOf(i, {.residual = true}, m); }, steps,
      23);
}

TEST(JoinSnapshotRestore, IntervalInnerJoinWithLateRows) {
  auto steps = MakeInput(31, 1500, {.late_rows = true});
  RunResult r = ExpectRestoreEquivalent(
      [](const SubtaskInfo& i, auto m) { return IntervalJoinOf(i, {.residual = true}, m); }, steps,
      31);
  EXPECT_GT(r.late_rows, 10);
  EXPECT_EQ(r.timers_left, 0u) << "every row expired at the end of input";
}

TEST(JoinSnapshotRestore, IntervalFullOuterJoinWithNullKeys) {
  auto steps = MakeInput(32, 1500, {.null_keys = true, .late_rows = true});
  RunResult r = ExpectRestoreEquivalent(
      [](const SubtaskInfo& i, auto m) {
        return IntervalJoinOf(i, {.left_outer = true, .right_outer = true}, m);
      },
      steps, 32);
  EXPECT_GT(NullKeyLeftRows(r.sink.rows), 0u);
  EXPECT_GT(RightPadded(r.sink.rows), 0u) << "unmatched left rows";
  EXPECT_GT(LeftPadded(r.sink.rows), 0u) << "unmatched right rows";
  EXPECT_EQ(r.timers_left, 0u);
}

TEST(JoinSnapshotRestore, TemporalInnerJoin) {
  auto steps = MakeInput(41, 1500, {.late_rows = true});
  RunResult r = ExpectRestoreEquivalent(
      [](const SubtaskInfo& i, auto m) { return TemporalJoinOf(i, {.residual = true}, m); }, steps,
      41);
  EXPECT_GT(r.late_rows, 10);
}

TEST(JoinSnapshotRestore, TemporalLeftJoinWithNullKeys) {
  auto steps = MakeInput(42, 1500, {.null_keys = true, .late_rows = true});
  RunResult r = ExpectRestoreEquivalent(
      [](const SubtaskInfo& i, auto m) { return TemporalJoinOf(i, {.left_outer = true}, m); },
      steps, 42);
  EXPECT_GT(NullKeyLeftRows(r.sink.rows), 0u) << "NULL-key left rows padded";
  EXPECT_GT(RightPadded(r.sink.rows), NullKeyLeftRows(r.sink.rows)) << "rows before any version";
}

// One batch of (k, ts in seconds, v) rows.
Batch Rows(const std::vector<std::tuple<std::string, int64_t, int64_t>>& rows) {
  Batch b;
  b.columns.emplace_back(DataType::String());
  b.columns.emplace_back(DataType::Timestamp(3));
  b.columns.emplace_back(DataType::Bigint());
  Arena* arena = b.NewArena();
  for (const auto& [k, sec, v] : rows) {
    b.columns[0].AppendString(arena->Add(k));
    b.columns[1].AppendInt(sec * 1'000'000);
    b.columns[2].AppendInt(v);
    b.kinds.push_back(RowKind::kInsert);
  }
  return b;
}

// The rows one watermark releases come out by time, then key (then arrival), whatever order
// the keys arrived in.
TEST(JoinSnapshotRestore, RowsOfOneWatermarkComeOutByTimeThenKey) {
  auto keys_of = [](const std::vector<std::string>& rows) {
    std::string ks;
    for (const auto& r : rows) ks += Cells(r)[1] + Cells(r)[3] + " ";
    return ks;
  };
  {
    // LEFT interval join, nothing on the right: left rows expire at l.ts + 10 s.
    OperatorHarness h(
        IntervalJoinOf({}, {.left_outer = true}, std::make_shared<OperatorMetrics>()));
    ASSERT_TRUE(h.Open().ok());
    RowSink out;
    Batch b = Rows({{"b", 5, 1}, {"d", 5, 2}, {"a", 5, 3}, {"c", 3, 4}, {"a", 4, 5}, {"b", 5, 6}});
    ASSERT_TRUE(h.two()->ProcessBatch1(b, RowWatermarks{}, &out).ok());
    ASSERT_TRUE(h.op()->ProcessWatermark(100'000'000, &out).ok());
    EXPECT_EQ(keys_of(out.rows), "c4 a5 a3 b1 b6 d2 ");
  }
  {
    // Temporal join: every key has a version at 1 s.
    OperatorHarness h(TemporalJoinOf({}, {}, std::make_shared<OperatorMetrics>()));
    ASSERT_TRUE(h.Open().ok());
    RowSink out;
    Batch versions = Rows({{"a", 1, 0}, {"b", 1, 0}, {"c", 1, 0}, {"d", 1, 0}});
    ASSERT_TRUE(h.two()->ProcessBatch2(versions, RowWatermarks{}, &out).ok());
    Batch b = Rows({{"b", 5, 1}, {"d", 5, 2}, {"a", 5, 3}, {"c", 3, 4}, {"a", 4, 5}, {"b", 5, 6}});
    ASSERT_TRUE(h.two()->ProcessBatch1(b, RowWatermarks{}, &out).ok());
    ASSERT_TRUE(h.op()->ProcessWatermark(100'000'000, &out).ok());
    EXPECT_EQ(keys_of(out.rows), "c4 a5 a3 b1 b6 d2 ");
  }
}

// StateBytes ('table.exec.state.max-bytes') counts the stored rows, and drops back when they go:
// retracted (regular join), expired (interval join) or joined at the watermark (temporal join).
TEST(JoinStateBytes, CountsStoredRowsUntilTheyGo) {
  constexpr int kRows = 2000;
  std::vector<std::tuple<std::string, int64_t, int64_t>> rows;
  for (int i = 0; i < kRows; ++i) rows.push_back({"k" + std::to_string(i % 7), 10 + i, i});
  Batch in = Rows(rows);
  size_t at_least = kRows * 3 * sizeof(Value);  // three values a row
  auto m = [] { return std::make_shared<OperatorMetrics>(); };
  {
    OperatorHarness h(RegularJoinOf({}, {}, m()));
    ASSERT_TRUE(h.Open().ok());
    RowSink out;
    size_t empty = h.op()->StateBytes();
    ASSERT_TRUE(h.two()->ProcessBatch1(in, RowWatermarks{}, &out).ok());
    size_t full = h.op()->StateBytes();
    EXPECT_GE(full - empty, at_least) << "regular join";
    Batch retract = in;
    for (auto& k : retract.kinds) k = RowKind::kDelete;
    ASSERT_TRUE(h.two()->ProcessBatch1(retract, RowWatermarks{}, &out).ok());
    EXPECT_LT(h.op()->StateBytes(), empty + (full - empty) / 10) << "regular join, retracted";
  }
  {
    OperatorHarness h(IntervalJoinOf({}, {}, m()));
    ASSERT_TRUE(h.Open().ok());
    RowSink out;
    size_t empty = h.op()->StateBytes();
    ASSERT_TRUE(h.two()->ProcessBatch2(in, RowWatermarks{}, &out).ok());
    size_t full = h.op()->StateBytes();
    EXPECT_GE(full - empty, at_least) << "interval join";
    ASSERT_TRUE(h.op()->ProcessWatermark(INT64_MAX, &out).ok());
    EXPECT_LT(h.op()->StateBytes(), empty + (full - empty) / 10) << "interval join, expired";
  }
  {
    OperatorHarness h(TemporalJoinOf({}, {}, m()));
    ASSERT_TRUE(h.Open().ok());
    RowSink out;
    size_t empty = h.op()->StateBytes();
    ASSERT_TRUE(h.two()->ProcessBatch1(in, RowWatermarks{}, &out).ok());
    size_t full = h.op()->StateBytes();
    EXPECT_GE(full - empty, at_least) << "temporal join";
    ASSERT_TRUE(h.op()->ProcessWatermark(INT64_MAX, &out).ok());
    EXPECT_LT(h.op()->StateBytes(), empty + (full - empty) / 10) << "temporal join, joined";
  }
}

// Corrupt keyed or operator state fails the restore with DataLoss, never a crash (ASan/UBSan
// builds run this too).
void ExpectCorruptStateDetected(const Factory& make, const std::vector<Step>& steps) {
  RunResult run;
  auto snaps = RunSegment(make, steps, 0, steps.size() / 2, 1, nullptr, &run);
  ASSERT_FALSE(snaps[0].key_groups.empty());
  std::mt19937 rng(11);
  int truncations = 0, detected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    state::OperatorSnapshot bad = snaps[0];
    auto it = bad.key_groups.begin();
    std::advance(it, static_cast<long>(rng() % bad.key_groups.size()));
    if (it->second.size() <= static_cast<size_t>(kFirstOperatorSection)) continue;
    std::string& sec = it->second[static_cast<size_t>(kFirstOperatorSection)];
    if (sec.empty()) continue;
    bool truncated = trial % 2;
    if (truncated) {
      sec.resize(rng() % sec.size());
      ++truncations;
    } else {
      sec[rng() % sec.size()] ^= static_cast<char>(1 + rng() % 255);  // a flipped byte
    }
    OperatorHarness h(make({0, 1, kMaxParallelism}, std::make_shared<OperatorMetrics>()));
    // A flipped byte inside a value cannot always be seen here: the checkpoint file's checksum
    // catches those.
    absl::Status st = h.Open({&bad});
    if (!st.ok()) {
      EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
    }
    if (truncated && !st.ok()) ++detected;
  }
  EXPECT_GT(truncations, 100);
  EXPECT_GT(detected, truncations * 3 / 4) << "a section cut inside an entry is detected";
}

TEST(JoinSnapshotRestore, CorruptRegularJoinStateIsAnErrorNotACrash) {
  ExpectCorruptStateDetected(
      [](const SubtaskInfo& i, auto m) {
        return RegularJoinOf(i, {.left_outer = true, .ttl_ms = 900}, m);
      },
      MakeInput(51, 400, {.null_keys = true, .retractions = true}));
}

TEST(JoinSnapshotRestore, CorruptIntervalJoinStateIsAnErrorNotACrash) {
  auto make = [](const SubtaskInfo& i, auto m) {
    return IntervalJoinOf(i, {.left_outer = true}, m);
  };
  auto steps = MakeInput(52, 400, {.null_keys = true});
  ExpectCorruptStateDetected(make, steps);
  // The operator state (the last output watermark): truncated or with trailing bytes.
  RunResult run;
  auto snaps = RunSegment(make, steps, 0, steps.size() / 2, 1, nullptr, &run);
  ASSERT_FALSE(snaps[0].operator_state.empty());
  for (bool longer : {false, true}) {
    state::OperatorSnapshot bad = snaps[0];
    if (longer) {
      bad.operator_state += '\x01';
    } else {
      bad.operator_state.pop_back();
    }
    OperatorHarness h(make({0, 1, kMaxParallelism}, std::make_shared<OperatorMetrics>()));
    EXPECT_EQ(h.Open({&bad}).code(), absl::StatusCode::kDataLoss);
  }
}

TEST(JoinSnapshotRestore, CorruptTemporalJoinStateIsAnErrorNotACrash) {
  ExpectCorruptStateDetected(
      [](const SubtaskInfo& i, auto m) { return TemporalJoinOf(i, {.left_outer = true}, m); },
      MakeInput(53, 400, {.null_keys = true}));
}

}  // namespace
}  // namespace eddy::runtime
