// Snapshot and restore of stateful operators (issue: fault tolerance): a run that is snapshotted
// part-way, restored into new instances — at the same or another parallelism — and continued must
// emit exactly what one uninterrupted instance emits (as a multiset of rows). Inputs are random
// (seeded): keys, out-of-order event times, watermarks between batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "function/aggregate.h"
#include "runtime/aggregate_ops.h"
#include "runtime/operator_harness.h"
#include "types/time_util.h"
#include "types/value.h"

namespace eddy::runtime {
namespace {

constexpr int kMaxParallelism = 16;

using RowSink = FormattedRowSink;

// One step of the input: a batch, or a watermark.
struct Step {
  bool watermark = false;
  int64_t wm = 0;
  Batch batch;
};

// Rows (k STRING, ts TIMESTAMP(3), v BIGINT): 40 keys, times advancing ~1 s per row with up to
// 20 s of disorder, a watermark (max − 20 s) after every batch of 1–30 rows.
std::vector<Step> MakeInput(unsigned seed, int rows) {
  std::mt19937 rng(seed);
  std::vector<Step> steps;
  int64_t t = 1'700'000'000'000'000, max_ts = INT64_MIN;
  int made = 0;
  while (made < rows) {
    Step s;
    s.batch.columns.emplace_back(DataType::String());
    s.batch.columns.emplace_back(DataType::Timestamp(3));
    s.batch.columns.emplace_back(DataType::Bigint());
    s.batch.NewArena();
    int n = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n && made < rows; ++i, ++made) {
      t += static_cast<int64_t>(rng() % 2'000'000);
      int64_t ts = t - static_cast<int64_t>(rng() % 20'000'000);
      ts -= ts % 1000;
      max_ts = std::max(max_ts, ts);
      std::string k = "k" + std::to_string(rng() % 40);
      s.batch.columns[0].AppendString(s.batch.arenas.back()->Add(k));
      s.batch.columns[1].AppendInt(ts);
      s.batch.columns[2].AppendInt(static_cast<int64_t>(rng() % 1000) - 300);
      s.batch.kinds.push_back(RowKind::kInsert);
    }
    steps.push_back(std::move(s));
    Step w;
    w.watermark = true;
    w.wm = max_ts - 20'000'000;
    steps.push_back(std::move(w));
  }
  Step end;
  end.watermark = true;
  end.wm = INT64_MAX;
  steps.push_back(std::move(end));
  return steps;
}

std::vector<Field> InputFields() {
  return {{"k", DataType::String()}, {"ts", DataType::Timestamp(3)}, {"v", DataType::Bigint()}};
}

AggregateConfig WindowConfig(WindowKind kind) {
  AggregateConfig c;
  c.name = "WindowAggregate(test)";
  c.key_columns = {0};
  c.time_column = 1;
  c.window.kind = kind;
  c.window.size = 60'000'000;
  c.window.slide = 20'000'000;
  c.window.step = 15'000'000;
  c.window.gap = 30'000'000;
  c.input_fields = InputFields();
  c.aggs.push_back({*ResolveAggregate("COUNT", {}, false), -1, -1});
  c.aggs.push_back({*ResolveAggregate("SUM", {DataType::Bigint()}, false), 2, -1});
  c.aggs.push_back({*ResolveAggregate("MAX", {DataType::Bigint()}, false), 2, -1});
  c.aggs.push_back({*ResolveAggregate("COUNT", {DataType::Bigint()}, true), 2, -1});
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

AggregateConfig GroupConfig() {
  AggregateConfig c = WindowConfig(WindowKind::kTumble);
  c.name = "GroupAggregate(test)";
  return c;
}

using Factory = std::function<std::unique_ptr<StreamOperator>(const SubtaskInfo&)>;

// Runs `steps` on `p` subtasks from `from` to `to` (exclusive), each opened from `restore` when
// given; appends the emitted rows to `sink`. Returns the subtasks' snapshots at `to`.
std::vector<state::OperatorSnapshot> RunSegment(const Factory& make, const std::vector<Step>& steps,
                                                size_t from, size_t to, int p,
                                                const std::vector<state::OperatorSnapshot>* restore,
                                                RowSink* sink) {
  std::vector<std::unique_ptr<OperatorHarness>> hs;
  for (int i = 0; i < p; ++i) {
    SubtaskInfo info{i, p, kMaxParallelism};
    hs.push_back(std::make_unique<OperatorHarness>(make(info), info));
    std::vector<const state::OperatorSnapshot*> olds;
    if (restore) {
      for (const auto& s : *restore) olds.push_back(&s);
    }
    EXPECT_TRUE(hs.back()->Open(olds).ok());
  }
  for (size_t k = from; k < to; ++k) {
    const Step& s = steps[k];
    if (s.watermark) {
      for (auto& h : hs) EXPECT_TRUE(h->op()->ProcessWatermark(s.wm, sink).ok());
      continue;
    }
    std::vector<Batch> parts = RouteByKeyGroup(s.batch, p, kMaxParallelism);
    for (int i = 0; i < p; ++i) {
      if (parts[static_cast<size_t>(i)].num_rows() == 0) continue;
      RowWatermarks wm;
      wm.base = k > 0 && steps[k - 1].watermark ? steps[k - 1].wm : INT64_MIN;
      // The watermark a row sees is the last one before its batch.
      for (size_t j = k; j-- > 0;) {
        if (steps[j].watermark) {
          wm.base = steps[j].wm;
          break;
        }
      }
      EXPECT_TRUE(hs[static_cast<size_t>(i)]
                      ->one()
                      ->ProcessBatch(parts[static_cast<size_t>(i)], wm, sink)
                      .ok());
    }
  }
  std::vector<state::OperatorSnapshot> snaps;
  for (auto& h : hs) {
    auto s = h->Snapshot(7);
    EXPECT_TRUE(s.ok());
    snaps.push_back(std::move(*s));
  }
  return snaps;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Uninterrupted at parallelism 1 versus snapshot at step `cut` with parallelism p1, restored and
// continued at p2 (and once more at p3 from a second cut).
void ExpectRestoreEquivalent(const Factory& make, unsigned seed) {
  std::vector<Step> steps = MakeInput(seed, 1500);
  RowSink expected;
  RunSegment(make, steps, 0, steps.size(), 1, nullptr, &expected);
  ASSERT_GT(expected.rows.size(), 20u);
  std::mt19937 rng(seed);
  for (auto [p1, p2, p3] :
       std::vector<std::tuple<int, int, int>>{{1, 1, 1}, {2, 3, 1}, {3, 2, 4}, {4, 1, 2}}) {
    size_t cut1 = 1 + rng() % (steps.size() / 2);
    size_t cut2 = cut1 + 1 + rng() % (steps.size() - cut1 - 1);
    RowSink got;
    auto s1 = RunSegment(make, steps, 0, cut1, p1, nullptr, &got);
    auto s2 = RunSegment(make, steps, cut1, cut2, p2, &s1, &got);
    RunSegment(make, steps, cut2, steps.size(), p3, &s2, &got);
    EXPECT_EQ(Sorted(got.rows), Sorted(expected.rows))
        << "parallelism " << p1 << " -> " << p2 << " -> " << p3 << ", cuts at steps " << cut1
        << " and " << cut2 << " of " << steps.size();
  }
}

TEST(SnapshotRestore, TumbleWindowAggregate) {
  ExpectRestoreEquivalent(
      [](const SubtaskInfo& i) {
        auto c = WindowConfig(WindowKind::kTumble);
        c.subtask = i;
        return MakeWindowAggregate(c);
      },
      1);
}

TEST(SnapshotRestore, HopWindowAggregate) {
  ExpectRestoreEquivalent(
      [](const SubtaskInfo& i) {
        auto c = WindowConfig(WindowKind::kHop);
        c.subtask = i;
        return MakeWindowAggregate(c);
      },
      2);
}

TEST(SnapshotRestore, CumulateWindowAggregate) {
  ExpectRestoreEquivalent(
      [](const SubtaskInfo& i) {
        auto c = WindowConfig(WindowKind::kCumulate);
        c.subtask = i;
        return MakeWindowAggregate(c);
      },
      3);
}

TEST(SnapshotRestore, SessionWindowAggregate) {
  ExpectRestoreEquivalent(
      [](const SubtaskInfo& i) {
        auto c = WindowConfig(WindowKind::kSession);
        c.subtask = i;
        return MakeWindowAggregate(c);
      },
      4);
}

TEST(SnapshotRestore, GroupAggregate) {
  ExpectRestoreEquivalent(
      [](const SubtaskInfo& i) {
        auto c = GroupConfig();
        c.subtask = i;
        return MakeGroupAggregate(c);
      },
      5);
}

// An updating input for the group aggregation: MakeInput's rows with v folded to 8 values (so
// DISTINCT states hold values several rows share), and about one row in four later retracted
// (-D of the same key, time and v) in the same or a later batch.
std::vector<Step> MakeRetractingInput(unsigned seed, int rows) {
  std::vector<Step> steps = MakeInput(seed, rows);
  std::mt19937 rng(seed + 100);
  std::vector<std::tuple<std::string, int64_t, int64_t>> pending;  // rows to retract later
  for (Step& s : steps) {
    if (s.watermark) continue;
    Batch& b = s.batch;
    size_t n = b.num_rows();
    for (size_t i = 0; i < n; ++i) {
      b.columns[2].i64[i] = ((b.columns[2].i64[i] % 8) + 8) % 8;
      if (rng() % 4 == 0) {
        pending.emplace_back(std::string(b.columns[0].str[i]), b.columns[1].i64[i],
                             b.columns[2].i64[i]);
      }
    }
    // Retract about half of what is pending, at the end of this batch.
    std::vector<std::tuple<std::string, int64_t, int64_t>> keep;
    for (auto& [k, ts, v] : pending) {
      if (rng() % 2 == 0) {
        keep.emplace_back(k, ts, v);
        continue;
      }
      b.columns[0].AppendString(b.arenas.back()->Add(k));
      b.columns[1].AppendInt(ts);
      b.columns[2].AppendInt(v);
      b.kinds.push_back(RowKind::kDelete);
    }
    pending = std::move(keep);
  }
  return steps;
}

// DISTINCT aggregates (incremental COUNT/SUM/AVG and recomputing MIN) over an updating input,
// snapshotted and restored part-way at other parallelisms.
TEST(SnapshotRestore, GroupAggregateDistinctWithRetractions) {
  Factory make = [](const SubtaskInfo& i) {
    AggregateConfig c;
    c.name = "GroupAggregate(distinct)";
    c.key_columns = {0};
    c.input_fields = InputFields();
    c.aggs.push_back({*ResolveAggregate("COUNT", {}, false), -1, -1});
    for (const char* f : {"COUNT", "SUM", "AVG", "MIN"}) {
      c.aggs.push_back({*ResolveAggregate(f, {DataType::Bigint()}, true), 2, -1});
    }
    c.metrics = std::make_shared<OperatorMetrics>();
    c.subtask = i;
    return MakeGroupAggregate(c);
  };
  std::vector<Step> steps = MakeRetractingInput(6, 1500);
  RowSink expected;
  RunSegment(make, steps, 0, steps.size(), 1, nullptr, &expected);
  ASSERT_GT(expected.rows.size(), 100u);
  std::mt19937 rng(6);
  for (auto [p1, p2] : std::vector<std::pair<int, int>>{{1, 1}, {2, 3}, {3, 1}}) {
    size_t cut1 = 1 + rng() % (steps.size() / 2);
    size_t cut2 = cut1 + 1 + rng() % (steps.size() - cut1 - 1);
    RowSink got;
    auto s1 = RunSegment(make, steps, 0, cut1, p1, nullptr, &got);
    auto s2 = RunSegment(make, steps, cut1, cut2, p2, &s1, &got);
    RunSegment(make, steps, cut2, steps.size(), 1, &s2, &got);
    EXPECT_EQ(Sorted(got.rows), Sorted(expected.rows))
        << "parallelism " << p1 << " -> " << p2 << " -> 1, cuts at " << cut1 << ", " << cut2;
  }
}

TEST(SnapshotRestore, CorruptStateIsAnErrorNotACrash) {
  auto make = [](const SubtaskInfo& i) {
    auto c = WindowConfig(WindowKind::kTumble);
    c.subtask = i;
    return MakeWindowAggregate(c);
  };
  std::vector<Step> steps = MakeInput(9, 300);
  RowSink sink;
  auto snaps = RunSegment(make, steps, 0, steps.size() / 2, 1, nullptr, &sink);
  ASSERT_FALSE(snaps[0].key_groups.empty());
  std::mt19937 rng(11);
  int truncations = 0, detected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    state::OperatorSnapshot bad = snaps[0];
    auto it = bad.key_groups.begin();
    std::advance(it, static_cast<long>(rng() % bad.key_groups.size()));
    std::string& sec = it->second[static_cast<size_t>(kFirstOperatorSection)];
    if (sec.empty()) continue;
    bool truncated = trial % 2;
    if (truncated) {
      sec.resize(rng() % sec.size());
      ++truncations;
    } else {
      sec[rng() % sec.size()] ^= static_cast<char>(1 + rng() % 255);  // a flipped byte
    }
    OperatorHarness h(make({0, 1, kMaxParallelism}));
    // Never a crash (ASan/UBSan builds run this too); a detected problem is DataLoss. A flipped
    // byte inside a value cannot be seen here: the checkpoint file's checksum catches those.
    absl::Status st = h.Open({&bad});
    if (!st.ok()) {
      EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
    }
    if (truncated && !st.ok()) ++detected;
  }
  EXPECT_GT(detected, truncations * 3 / 4) << "a section cut inside an entry is detected";
}

}  // namespace
}  // namespace eddy::runtime
