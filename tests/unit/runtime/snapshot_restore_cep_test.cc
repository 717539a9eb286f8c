// Snapshot and restore of the operators that buffer rows per key (issue: fault tolerance): OVER,
// MATCH_RECOGNIZE (partial matches, WITHIN, NOT and AFTER MATCH SKIP in flight at the cut, the
// output watermark hold), Top-N and window Top-N / deduplication. A run snapshotted part-way,
// restored into new instances at another parallelism (1→2→3, 3→1→2, 2→3→1, 4→1→2, 1→1→1) and
// continued must emit what one uninterrupted instance emits, as a multiset of rows. Inputs are
// random (seeded): keys, out-of-order event times, ties, watermarks between batches. Every run
// also checks the emission order the timers give at a watermark: OVER releases key by key, in
// the order of each key's earliest row, then key; window Top-N window by window, by window end,
// then key. Corrupt state is an error, never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "function/expr.h"
#include "runtime/cep/nfa.h"
#include "runtime/cep/pattern.h"
#include "runtime/match_recognize.h"
#include "runtime/operator_harness.h"
#include "runtime/over_aggregate.h"
#include "runtime/rank.h"
#include "runtime/window_rank.h"
#include "state/serializer.h"
#include "types/time_util.h"
#include "types/value.h"

namespace eddy::runtime {
namespace {

constexpr int kMaxParallelism = 16;
constexpr int64_t kSecond = 1'000'000;

// Every row emitted, formatted with its RowKind.
struct RowSink {
  std::vector<std::string> rows;
};

// What one subtask emits, checked as it goes: watermarks never go back; with `time_col`, no row
// is behind a watermark the subtask already emitted (the MATCH_RECOGNIZE hold); with
// `order_col`, the rows between two watermarks come in runs of one key (column 0) whose values
// of `order_col` do not decrease, and the runs in increasing (first value, key bytes) order: the
// timers' (time, key) order.
class SubtaskOutput : public Output {
 public:
  SubtaskOutput(RowSink* sink, int time_col, int order_col)
      : sink_(sink), time_col_(time_col), order_col_(order_col) {}
  absl::Status Emit(Batch b) override {
    for (size_t r = 0; r < b.num_rows(); ++r) {
      std::string row = RowKindName(b.kinds[r]);
      for (const auto& c : b.columns) row += "|" + FormatCell(c, r, "NULL", true);
      sink_->rows.push_back(row);
      if (time_col_ >= 0) {
        EXPECT_GT(b.columns[time_col_].i64[r], watermark_) << "a row behind the watermark: " << row;
      }
      if (order_col_ >= 0) {
        int64_t v = b.columns[order_col_].i64[r];
        std::string key;
        AppendKeyBytes(Value::FromColumn(b.columns[0], r), &key);
        if (!run_key_ || key != *run_key_) {  // a new run
          auto head = std::make_pair(v, key);
          if (run_key_) {
            EXPECT_LT(run_head_, head) << "a key out of (time, key) order: " << row;
          }
          run_head_ = head;
          run_key_ = key;
        } else {
          EXPECT_GE(v, last_order_) << "a key's rows out of order: " << row;
        }
        last_order_ = v;
      }
    }
    return absl::OkStatus();
  }
  absl::Status EmitWatermark(int64_t w) override {
    EXPECT_GE(w, watermark_) << "the watermark went back";
    watermark_ = w;
    run_key_.reset();
    return absl::OkStatus();
  }

 private:
  RowSink* sink_;
  int time_col_;
  int order_col_;
  int64_t watermark_ = INT64_MIN;
  std::optional<std::string> run_key_;  // key of the current run (since the last watermark)
  std::pair<int64_t, std::string> run_head_;
  int64_t last_order_ = INT64_MIN;
};

// One step of the input: a batch, or a watermark.
struct Step {
  bool watermark = false;
  int64_t wm = 0;
  Batch batch;
};

// Rows (k STRING, ts TIMESTAMP(3), v BIGINT) over `keys` keys: times advance ~0.5 s per row
// with up to 20 s of disorder (one row in eight repeats the previous time: peers and ties), a
// watermark (max − 20 s) after every batch of 1–30 rows, the maximum watermark at the end.
std::vector<Step> MakeInput(unsigned seed, int rows, int keys) {
  std::mt19937 rng(seed);
  std::vector<Step> steps;
  int64_t t = 1'700'000'000'000'000, max_ts = INT64_MIN, ts = 0;
  int made = 0;
  while (made < rows) {
    Step s;
    s.batch.columns.emplace_back(DataType::String());
    s.batch.columns.emplace_back(DataType::Timestamp(3));
    s.batch.columns.emplace_back(DataType::Bigint());
    s.batch.NewArena();
    int n = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n && made < rows; ++i, ++made) {
      t += static_cast<int64_t>(rng() % 1'000'000);
      if (made == 0 || rng() % 8 != 0) {
        ts = t - static_cast<int64_t>(rng() % 20'000'000);
        ts -= ts % 1000;
      }
      // A row behind the watermark already emitted is late (dropped or counted).
      max_ts = std::max(max_ts, ts);
      std::string k = "k" + std::to_string(rng() % static_cast<unsigned>(keys));
      s.batch.columns[0].AppendString(s.batch.arenas.back()->Add(k));
      s.batch.columns[1].AppendInt(ts);
      s.batch.columns[2].AppendInt(static_cast<int64_t>(rng() % 1000) - 300);
      s.batch.kinds.push_back(RowKind::kInsert);
    }
    steps.push_back(std::move(s));
    Step w;
    w.watermark = true;
    w.wm = max_ts - 20 * kSecond;
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

using Factory = std::function<std::unique_ptr<StreamOperator>(const SubtaskInfo&)>;

// What the outputs check (see SubtaskOutput).
struct Checks {
  int time_col = -1;
  int order_col = -1;
};

// Runs steps [from, to) on `p` subtasks, each opened from `restore` when given; appends the
// emitted rows to `sink`. Returns the subtasks' snapshots at `to`.
std::vector<state::OperatorSnapshot> RunSegment(const Factory& make, const std::vector<Step>& steps,
                                                size_t from, size_t to, int p,
                                                const std::vector<state::OperatorSnapshot>* restore,
                                                RowSink* sink, const Checks& checks) {
  std::vector<std::unique_ptr<OperatorHarness>> hs;
  std::vector<std::unique_ptr<SubtaskOutput>> outs;
  for (int i = 0; i < p; ++i) {
    SubtaskInfo info{i, p, kMaxParallelism};
    hs.push_back(std::make_unique<OperatorHarness>(make(info), info));
    outs.push_back(std::make_unique<SubtaskOutput>(sink, checks.time_col, checks.order_col));
    std::vector<const state::OperatorSnapshot*> olds;
    if (restore) {
      for (const auto& s : *restore) olds.push_back(&s);
    }
    absl::Status st = hs.back()->Open(olds);
    EXPECT_TRUE(st.ok()) << st;
  }
  int64_t wm = INT64_MIN;  // the last watermark before a batch: what its rows see
  for (size_t k = 0; k < from; ++k) {
    if (steps[k].watermark) wm = steps[k].wm;
  }
  for (size_t k = from; k < to; ++k) {
    const Step& s = steps[k];
    if (s.watermark) {
      wm = s.wm;
      for (int i = 0; i < p; ++i) {
        absl::Status st = hs[static_cast<size_t>(i)]->op()->ProcessWatermark(
            s.wm, outs[static_cast<size_t>(i)].get());
        EXPECT_TRUE(st.ok()) << st;
      }
      continue;
    }
    std::vector<Batch> parts = RouteByKeyGroup(s.batch, p, kMaxParallelism);
    for (int i = 0; i < p; ++i) {
      if (parts[static_cast<size_t>(i)].num_rows() == 0) continue;
      RowWatermarks rw;
      rw.base = wm;
      absl::Status st = hs[static_cast<size_t>(i)]->one()->ProcessBatch(
          parts[static_cast<size_t>(i)], rw, outs[static_cast<size_t>(i)].get());
      EXPECT_TRUE(st.ok()) << st;
    }
  }
  std::vector<state::OperatorSnapshot> snaps;
  for (auto& h : hs) {
    auto s = h->Snapshot(7);
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(s->uid.empty()) << "a stateful operator has a uid";
    snaps.push_back(std::move(*s));
  }
  return snaps;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Uninterrupted at parallelism 1 versus cut twice at random steps with parallelism p1 → p2 → p3.
// Returns the uninterrupted output.
std::vector<std::string> ExpectRestoreEquivalent(const Factory& make,
                                                 const std::vector<Step>& steps, unsigned seed,
                                                 const Checks& checks) {
  RowSink expected;
  RunSegment(make, steps, 0, steps.size(), 1, nullptr, &expected, checks);
  std::mt19937 rng(seed);
  for (auto [p1, p2, p3] : std::vector<std::tuple<int, int, int>>{
           {1, 2, 3}, {3, 1, 2}, {2, 3, 1}, {4, 1, 2}, {1, 1, 1}}) {
    size_t cut1 = 1 + rng() % (steps.size() / 2);
    size_t cut2 = cut1 + 1 + rng() % (steps.size() - cut1 - 1);
    RowSink got;
    auto s1 = RunSegment(make, steps, 0, cut1, p1, nullptr, &got, checks);
    auto s2 = RunSegment(make, steps, cut1, cut2, p2, &s1, &got, checks);
    RunSegment(make, steps, cut2, steps.size(), p3, &s2, &got, checks);
    EXPECT_EQ(Sorted(got.rows), Sorted(expected.rows))
        << "parallelism " << p1 << " -> " << p2 << " -> " << p3 << ", cuts at steps " << cut1
        << " and " << cut2 << " of " << steps.size();
  }
  return expected.rows;
}

// Truncated or flipped section-1 bytes of a snapshot taken half-way: restoring gives DataLoss or
// succeeds (a flipped byte inside a value; the checkpoint file's checksum catches those), never
// a crash; most truncations are detected (one cut to zero bytes is an empty section).
void ExpectCorruptStateDetected(const Factory& make, const std::vector<Step>& steps) {
  RowSink sink;
  auto snaps = RunSegment(make, steps, 0, steps.size() / 2, 1, nullptr, &sink, {});
  std::vector<int32_t> groups;
  for (const auto& [kg, secs] : snaps[0].key_groups) {
    if (secs.size() > static_cast<size_t>(kFirstOperatorSection) &&
        !secs[kFirstOperatorSection].empty()) {
      groups.push_back(kg);
    }
  }
  ASSERT_FALSE(groups.empty()) << "the snapshot holds keyed state";
  std::mt19937 rng(11);
  int truncations = 0, detected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    state::OperatorSnapshot bad = snaps[0];
    std::string& sec =
        bad.key_groups[groups[rng() % groups.size()]][static_cast<size_t>(kFirstOperatorSection)];
    bool truncated = trial % 2;
    if (truncated) {
      sec.resize(rng() % sec.size());
      ++truncations;
    } else {
      sec[rng() % sec.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    OperatorHarness h(make({0, 1, kMaxParallelism}));
    absl::Status st = h.Open({&bad});
    if (!st.ok()) {
      EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
    }
    if (truncated && !st.ok()) ++detected;
  }
  EXPECT_GT(detected, truncations * 3 / 4) << "a section cut inside an entry is detected";
}

// ---------------------------------------------------------------------------------------------
// OVER

OverAggregateConfig OverConfig(bool rows, int64_t preceding) {
  OverAggregateConfig c;
  c.name = rows ? "OverAggregate(rows)" : "OverAggregate(range)";
  c.key_columns = {0};
  c.time_column = 1;
  c.input_columns = 3;
  c.rows = rows;
  c.preceding = preceding;
  DataType big = DataType::Bigint();
  c.calls.push_back({"COUNT", -1, 1, Value(), big});
  c.calls.push_back({"SUM", 2, 1, Value(), big});
  c.calls.push_back({"MIN", 2, 1, Value(), big});
  c.calls.push_back({"MAX", 2, 1, Value(), big});
  c.calls.push_back({"AVG", 2, 1, Value(), big});
  c.calls.push_back({"LAG", 2, 2, Value::Int64(big, -1), big});
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

Factory OverFactory(bool rows, int64_t preceding) {
  return [rows, preceding](const SubtaskInfo& i) {
    auto c = OverConfig(rows, preceding);
    c.subtask = i;
    return MakeOverAggregate(c);
  };
}

TEST(SnapshotRestoreCep, OverRangeFrame) {
  auto steps = MakeInput(21, 1500, 12);
  auto rows = ExpectRestoreEquivalent(OverFactory(false, 30 * kSecond), steps, 21, {-1, 1});
  EXPECT_GT(rows.size(), 1000u);
}

TEST(SnapshotRestoreCep, OverRowsFrame) {
  auto steps = MakeInput(22, 1500, 12);
  ExpectRestoreEquivalent(OverFactory(true, 4), steps, 22, {-1, 1});
}

TEST(SnapshotRestoreCep, OverUnboundedFrame) {
  auto steps = MakeInput(23, 1500, 12);
  ExpectRestoreEquivalent(OverFactory(true, -1), steps, 23, {-1, 1});
}

TEST(SnapshotRestoreCep, OverCorruptState) {
  ExpectCorruptStateDetected(OverFactory(false, 30 * kSecond), MakeInput(24, 400, 12));
}

// ---------------------------------------------------------------------------------------------
// MATCH_RECOGNIZE

// `a op b` over two slot columns of type BIGINT, or `a op literal` when `rhs` is set.
BoundExprPtr Compare(const std::string& op, DataType t, std::optional<int64_t> rhs = {}) {
  auto f = ResolveScalarFunction(op, {t, t}, {nullptr, nullptr});
  EXPECT_TRUE(f.ok()) << f.status();
  BoundExprPtr right =
      rhs ? MakeLiteral(Value::Int64(t, *rhs)) : MakeColumnRef(1, t, std::string("$s1"));
  return MakeCall(op, f->kernel, f->result, {MakeColumnRef(0, t, "$s0"), right});
}

PatternSlot Slot(PatternSlot::Kind kind, cep::VarId var, int column, DataType type,
                 int64_t offset = 0) {
  PatternSlot s;
  s.kind = kind;
  s.var = var;
  s.column = column;
  s.type = type;
  s.offset = offset;
  return s;
}

// MEASURES slot i as measure i.
void SlotsAsMeasures(MatchRecognizeConfig* c) {
  for (size_t i = 0; i < c->measure_slots.size(); ++i) {
    c->measures.push_back(
        MakeColumnRef(static_cast<int>(i), c->measure_slots[i].type, "$s" + std::to_string(i)));
  }
}

std::shared_ptr<const cep::CompiledPattern> CompilePattern(const std::string& text,
                                                           cep::CompileOptions o) {
  auto p = cep::ParsePattern(text);
  EXPECT_TRUE(p.ok()) << p.status();
  auto c = cep::Compile(*p, o);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

// PARTITION BY k ORDER BY ts MEASURES MATCH_NUMBER(), FIRST(A.ts), LAST(C.ts), COUNT(B.*),
// SUM(B.v) ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW PATTERN (A B+? C) WITHIN 2 MINUTE
// DEFINE A AS v < 100, B AS v > PREV(v), C AS v < LAST(B.v).
MatchRecognizeConfig OneRowConfig() {
  DataType big = DataType::Bigint(), ts = DataType::Timestamp(3);
  MatchRecognizeConfig c;
  c.name = "Match(one row)";
  c.key_columns = {0};
  c.rowtime_column = 1;
  c.input_columns = 3;
  c.var_names = {"A", "B", "C"};
  cep::CompileOptions o;
  o.within_us = 120 * kSecond;
  o.conditions = {cep::ConditionKind::kRowOnly, cep::ConditionKind::kRowOnly,
                  cep::ConditionKind::kMatchDependent};
  c.pattern = CompilePattern("A B+? C", o);
  c.defines = {Compare("<", big, 100), Compare(">", big), Compare("<", big)};
  c.define_slots = {
      {Slot(PatternSlot::Kind::kColumn, -1, 2, big)},
      {Slot(PatternSlot::Kind::kColumn, -1, 2, big), Slot(PatternSlot::Kind::kPrev, -1, 2, big, 1)},
      {Slot(PatternSlot::Kind::kColumn, -1, 2, big), Slot(PatternSlot::Kind::kLast, 1, 2, big)}};
  PatternSlot sum = Slot(PatternSlot::Kind::kAggregate, 1, 2, big);
  sum.agg = "SUM";
  c.measure_slots = {Slot(PatternSlot::Kind::kMatchNumber, -1, -1, big),
                     Slot(PatternSlot::Kind::kFirst, 0, 1, ts),
                     Slot(PatternSlot::Kind::kLast, 2, 1, ts),
                     Slot(PatternSlot::Kind::kCountRows, 1, -1, big), sum};
  SlotsAsMeasures(&c);
  c.max_prev_rows = 1;
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

// PARTITION BY k ORDER BY ts MEASURES CLASSIFIER(), MATCH_NUMBER(), COUNT(*) (running),
// FINAL LAST(ts) ALL ROWS PER MATCH AFTER MATCH SKIP TO NEXT ROW PATTERN (A B{1,3} NOT C) WITHIN
// 40 SECOND DEFINE A AS v > 300, B AS v < LAST(A.v), C AS v > FIRST(A.v). The output has an
// event-time attribute (ts), so the operator holds its output watermark.
MatchRecognizeConfig AllRowsConfig() {
  DataType big = DataType::Bigint(), ts = DataType::Timestamp(3);
  MatchRecognizeConfig c;
  c.name = "Match(all rows)";
  c.key_columns = {0};
  c.rowtime_column = 1;
  c.input_columns = 3;
  c.all_rows = true;
  c.row_columns = {2};
  c.hold_watermark = true;
  c.var_names = {"A", "B", "C"};
  cep::CompileOptions o;
  o.within_us = 40 * kSecond;
  o.skip = cep::AfterMatchSkip::ToNextRow();
  o.conditions = {cep::ConditionKind::kRowOnly, cep::ConditionKind::kMatchDependent,
                  cep::ConditionKind::kMatchDependent};
  c.pattern = CompilePattern("A B{1,3} NOT C", o);
  c.defines = {Compare(">", big, 300), Compare("<", big), Compare(">", big)};
  c.define_slots = {
      {Slot(PatternSlot::Kind::kColumn, -1, 2, big)},
      {Slot(PatternSlot::Kind::kColumn, -1, 2, big), Slot(PatternSlot::Kind::kLast, 0, 2, big)},
      {Slot(PatternSlot::Kind::kColumn, -1, 2, big), Slot(PatternSlot::Kind::kFirst, 0, 2, big)}};
  PatternSlot last_ts = Slot(PatternSlot::Kind::kLast, cep::kAnyVariable, 1, ts);
  last_ts.final = true;
  c.measure_slots = {Slot(PatternSlot::Kind::kClassifier, -1, -1, DataType::String()),
                     Slot(PatternSlot::Kind::kMatchNumber, -1, -1, big),
                     Slot(PatternSlot::Kind::kCountRows, cep::kAnyVariable, -1, big), last_ts};
  SlotsAsMeasures(&c);
  c.max_prev_rows = 1;
  c.metrics = std::make_shared<OperatorMetrics>();
  return c;
}

Factory MatchFactory(MatchRecognizeConfig (*config)()) {
  return [config](const SubtaskInfo& i) {
    auto c = config();
    c.subtask = i;
    return MakeMatchRecognize(c);
  };
}

TEST(SnapshotRestoreCep, MatchRecognizeOneRowPerMatch) {
  auto steps = MakeInput(31, 2000, 6);
  auto rows = ExpectRestoreEquivalent(MatchFactory(OneRowConfig), steps, 31, {});
  EXPECT_GT(rows.size(), 50u) << "matches are found";
}

TEST(SnapshotRestoreCep, MatchRecognizeAllRowsWithAbsenceAndHeldWatermark) {
  auto steps = MakeInput(32, 2000, 6);
  // Column 1 of the output is ts: no row may come behind a watermark already emitted.
  auto rows = ExpectRestoreEquivalent(MatchFactory(AllRowsConfig), steps, 32, {1, -1});
  EXPECT_GT(rows.size(), 50u) << "matches are found";
}

// Timers with namespace `ns` in a snapshot (the runtime's section 0: varint count, then per
// timer byte kind, int64 time, string key, int64 ns).
int CountTimers(const state::OperatorSnapshot& snap, int64_t ns) {
  int n = 0;
  for (const auto& [kg, secs] : snap.key_groups) {
    if (secs.empty() || secs[kTimerSection].empty()) continue;
    state::StateReader r(secs[kTimerSection]);
    uint64_t count = 0;
    EXPECT_TRUE(r.GetVarint(&count).ok());
    for (uint64_t i = 0; i < count; ++i) {
      uint8_t kind = 0;
      int64_t time = 0, timer_ns = 0;
      std::string key;
      EXPECT_TRUE(r.GetByte(&kind).ok() && r.GetInt64(&time).ok() && r.GetString(&key).ok() &&
                  r.GetInt64(&timer_ns).ok());
      n += timer_ns == ns;
    }
  }
  return n;
}

TEST(SnapshotRestoreCep, MatchRecognizeSnapshotsHoldPartialMatches) {
  // The cuts of the tests above are random; this shows that a snapshot at almost any watermark
  // holds partial matches (a key with live runs has a timeout timer, namespace 1, at its WITHIN
  // deadline) and rows waiting for the watermark (namespace 0), so the restores carry them.
  auto steps = MakeInput(31, 2000, 6);
  OperatorHarness h(MatchFactory(OneRowConfig)({0, 1, kMaxParallelism}));
  ASSERT_TRUE(h.Open().ok());
  RowSink sink;
  SubtaskOutput out(&sink, -1, -1);
  int watermarks = 0, with_runs = 0, with_pending = 0;
  RowWatermarks rw;
  for (Step& s : steps) {
    if (!s.watermark) {
      ASSERT_TRUE(h.one()->ProcessBatch(s.batch, rw, &out).ok());
      continue;
    }
    if (s.wm == INT64_MAX) break;
    ASSERT_TRUE(h.op()->ProcessWatermark(s.wm, &out).ok());
    rw.base = s.wm;
    auto snap = h.Snapshot(1);
    ASSERT_TRUE(snap.ok());
    ++watermarks;
    with_runs += CountTimers(*snap, 1) > 0;
    with_pending += CountTimers(*snap, 0) > 0;
  }
  EXPECT_GT(with_runs, watermarks * 3 / 4);
  EXPECT_GT(with_pending, watermarks * 3 / 4);
  EXPECT_GT(sink.rows.size(), 50u);
}

TEST(SnapshotRestoreCep, MatchRecognizeCorruptState) {
  ExpectCorruptStateDetected(MatchFactory(OneRowConfig), MakeInput(33, 600, 6));
}

// ---------------------------------------------------------------------------------------------
// Cancellation

// OVER and MATCH_RECOGNIZE check the job's cancel flag while they release rows at a watermark and
// while they take in a batch: a cancelled call returns CancelledError without emitting, and
// leaves the state whole (cleared again, the same calls give what a run never cancelled gives).
void ExpectCancellable(const Factory& make, unsigned seed) {
  auto steps = MakeInput(seed, 1500, 12);
  auto run = [&](bool cancel) {
    OperatorHarness h(make({0, 1, kMaxParallelism}));
    EXPECT_TRUE(h.Open().ok());
    RowSink sink;
    SubtaskOutput out(&sink, -1, -1);
    RowWatermarks rw;
    for (Step& s : steps) {
      if (cancel) {
        h.SetCancelled(true);
        absl::Status st = s.watermark ? h.op()->ProcessWatermark(s.wm, &out)
                                      : h.one()->ProcessBatch(s.batch, rw, &out);
        EXPECT_TRUE(absl::IsCancelled(st)) << st;
        h.SetCancelled(false);
      }
      EXPECT_TRUE((s.watermark ? h.op()->ProcessWatermark(s.wm, &out)
                               : h.one()->ProcessBatch(s.batch, rw, &out))
                      .ok());
      if (s.watermark) rw.base = s.wm;
    }
    return sink.rows;
  };
  std::vector<std::string> plain = run(false);
  EXPECT_GT(plain.size(), 50u);
  EXPECT_EQ(run(true), plain);
}

TEST(SnapshotRestoreCep, OverStopsWhenTheJobIsCancelled) {
  ExpectCancellable(OverFactory(false, 30 * kSecond), 25);
}

TEST(SnapshotRestoreCep, MatchRecognizeStopsWhenTheJobIsCancelled) {
  ExpectCancellable(MatchFactory(OneRowConfig), 34);
}

// ---------------------------------------------------------------------------------------------
// Top-N

Factory RankFactory() {
  return [](const SubtaskInfo& i) {
    RankConfig c;
    c.name = "Rank(test)";
    c.key_columns = {0};
    c.order = {{2, true}};
    c.input_columns = 3;
    c.limit = 3;
    c.metrics = std::make_shared<OperatorMetrics>();
    c.subtask = i;
    return MakeRank(c);
  };
}

TEST(SnapshotRestoreCep, TopN) {
  auto steps = MakeInput(41, 1500, 40);
  auto rows = ExpectRestoreEquivalent(RankFactory(), steps, 41, {});
  EXPECT_GT(rows.size(), 200u);
}

TEST(SnapshotRestoreCep, TopNCorruptState) {
  ExpectCorruptStateDetected(RankFactory(), MakeInput(42, 400, 40));
}

// ---------------------------------------------------------------------------------------------
// Window Top-N and window deduplication (directly on a window TVF: windows assigned by the
// operator; output columns k, ts, v, window_start, window_end, window_time, rank).

Factory WindowRankFactory(WindowKind kind, bool dedup) {
  return [kind, dedup](const SubtaskInfo& i) {
    WindowRankConfig c;
    c.name = dedup ? "WindowDeduplicate(test)" : "WindowRank(test)";
    c.input_columns = 3;
    c.assign_windows = true;
    c.window.kind = kind;
    c.window.size = 60 * kSecond;
    c.window.slide = 20 * kSecond;
    c.time_column = 1;
    c.window_end_column = 4;
    c.key_columns = {0, 3, 4};
    if (dedup) {
      c.order = {{1, true}};  // the last row of each key and window
      c.ties_to_last = true;
      c.limit = 1;
    } else {
      c.order = {{2, true}};
      c.limit = 2;
    }
    c.input_fields = InputFields();
    c.metrics = std::make_shared<OperatorMetrics>();
    c.subtask = i;
    return MakeWindowRank(c);
  };
}

TEST(SnapshotRestoreCep, WindowTopNTumble) {
  auto steps = MakeInput(51, 1500, 40);
  // Column 4 is window_end: windows fire in (window end, key) order.
  auto rows =
      ExpectRestoreEquivalent(WindowRankFactory(WindowKind::kTumble, false), steps, 51, {-1, 4});
  EXPECT_GT(rows.size(), 200u);
}

TEST(SnapshotRestoreCep, WindowDeduplicationHop) {
  auto steps = MakeInput(52, 1500, 40);
  ExpectRestoreEquivalent(WindowRankFactory(WindowKind::kHop, true), steps, 52, {-1, 4});
}

TEST(SnapshotRestoreCep, WindowTopNCorruptState) {
  ExpectCorruptStateDetected(WindowRankFactory(WindowKind::kHop, false), MakeInput(53, 400, 40));
}

}  // namespace
}  // namespace eddy::runtime
