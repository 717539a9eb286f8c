// The 'datagen' connector's options and generator (connectors/datagen/generator.h): option checks
// with errors naming the option, the split of rows over subtasks (each row exactly once at any
// parallelism, also after a restore at another parallelism), and generated values (ranges, null
// rate, string lengths, sequences). Expected values come from the options' definitions, not from
// the generator. Whole jobs: tests/sql/connectors/datagen.test and
// tests/integration/datagen.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "catalog/options.h"
#include "connectors/connector.h"
#include "connectors/datagen/generator.h"

namespace eddy::connectors::datagen {
namespace {

TableDef Table(std::vector<Field> fields, std::map<std::string, std::string> options) {
  TableDef t;
  t.name = "t";
  t.physical.fields = fields;
  t.columns = fields;
  t.computed.assign(fields.size(), false);
  options["connector"] = "datagen";
  t.options = std::move(options);
  return t;
}

// The error of parsing the options of a table with columns `fields` ("ok" when none).
std::string Error(std::vector<Field> fields, std::map<std::string, std::string> options) {
  TableDef t = Table(std::move(fields), options);
  // As CREATE TABLE does: the options' types first, then the connector's checks.
  std::string hint;
  absl::Status st =
      catalog::ValidateTableOptions(OptionRules(*FindConnector("datagen")), t.options, &hint);
  if (!st.ok()) return std::string(st.message()) + (hint.empty() ? "" : " / " + hint);
  auto o = ParseDatagenOptions(t);
  return o.ok() ? "ok" : std::string(o.status().message());
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(DatagenOptions, DefaultsAndBounds) {
  auto o = ParseDatagenOptions(Table({{"id", DataType::Bigint()}}, {}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rows_per_second, 10000);
  EXPECT_FALSE(o->total_rows.has_value());  // unbounded
  EXPECT_EQ(o->fields[0].min, INT64_MIN);
  EXPECT_EQ(o->fields[0].max, INT64_MAX);

  o = ParseDatagenOptions(Table({{"id", DataType::Int()}}, {{"number-of-rows", "42"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->total_rows, 42);
  EXPECT_EQ(o->fields[0].min, INT32_MIN);
  EXPECT_EQ(o->fields[0].max, INT32_MAX);

  // The shortest sequence bounds the scan, and so does 'number-of-rows' when smaller.
  std::vector<Field> two = {{"a", DataType::Bigint()}, {"b", DataType::Int()}};
  std::map<std::string, std::string> seq = {
      {"fields.a.kind", "sequence"}, {"fields.a.start", "1"},   {"fields.a.end", "100"},
      {"fields.b.kind", "sequence"}, {"fields.b.start", "-10"}, {"fields.b.end", "9"}};
  o = ParseDatagenOptions(Table(two, seq));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->total_rows, 20);
  seq["number-of-rows"] = "5";
  o = ParseDatagenOptions(Table(two, seq));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->total_rows, 5);

  // A string column's default length is 100, or its declared length when smaller.
  DataType v10 = DataType::String();
  v10.length = 10;
  o = ParseDatagenOptions(Table({{"s", DataType::String()}, {"v", v10}}, {}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->fields[0].length, 100);
  EXPECT_EQ(o->fields[1].length, 10);

  // DECIMAL bounds are scaled; INTERVAL DAY TO SECOND bounds are milliseconds.
  o = ParseDatagenOptions(
      Table({{"d", DataType::Decimal(5, 2)}, {"i", DataType::IntervalDayTime()}},
            {{"fields.d.min", "1.5"},
             {"fields.d.max", "2.25"},
             {"fields.i.min", "1000"},
             {"fields.i.max", "2000"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->fields[0].min, 150);
  EXPECT_EQ(o->fields[0].max, 225);
  EXPECT_EQ(o->fields[1].min, 1'000'000);
  EXPECT_EQ(o->fields[1].max, 2'000'000);
}

TEST(DatagenOptions, Refused) {
  std::vector<Field> f = {{"id", DataType::Int()},
                          {"name", DataType::String()},
                          {"ts", DataType::Timestamp(3)},
                          {"ok", DataType::Boolean()}};
  EXPECT_TRUE(Contains(Error(f, {{"fields.idd.kind", "random"}}),
                       "'fields.idd.kind' names no "
                       "column"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.idd.kind", "random"}}), "did you mean 'id'"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.kind", "counter"}}), "'fields.id.kind' must be"));
  EXPECT_TRUE(
      Contains(Error(f, {{"fields.id.colour", "red"}}), "unsupported option 'fields.id.colour'"));
  EXPECT_TRUE(Contains(Error(f, {{"rows-per-second", "0"}}), "'rows-per-second'"));
  EXPECT_TRUE(Contains(Error(f, {{"number-of-rows", "-1"}}), "'number-of-rows'"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.kind", "sequence"}, {"fields.id.start", "1"}}),
                       "needs 'fields.id.start' and 'fields.id.end'"));
  EXPECT_TRUE(Contains(
      Error(f, {{"fields.id.kind", "sequence"}, {"fields.id.start", "5"}, {"fields.id.end", "4"}}),
      "'fields.id.start' (5) must not be greater"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.kind", "sequence"},
                                 {"fields.id.start", "0"},
                                 {"fields.id.end", "3000000000"}}),
                       "'fields.id.end' (3000000000) is outside"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.kind", "sequence"},
                                 {"fields.id.start", "0"},
                                 {"fields.id.end", "3"},
                                 {"fields.id.min", "1"}}),
                       "'fields.id.min' applies to random columns"));
  EXPECT_TRUE(Contains(
      Error(f, {{"fields.ok.kind", "sequence"}, {"fields.ok.start", "0"}, {"fields.ok.end", "1"}}),
      "cannot be"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.start", "1"}}),
                       "'fields.id.start' applies to "
                       "sequences"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.name.min", "1"}}),
                       "'fields.name.min' applies to "
                       "numeric"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.min", "5"}, {"fields.id.max", "4"}}),
                       "must not be greater than the maximum"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.max", "x"}}), "'fields.id.max' must be an integer"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.max", "2147483648"}}),
                       "from -2147483648 to "
                       "2147483647"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.max-past", "1 s"}}), "'fields.id.max-past' applies"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.ts.max-past", "soon"}}), "'fields.ts.max-past' must be"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.length", "3"}}),
                       "'fields.id.length' applies to "
                       "string"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.var-len", "true"}}), "'fields.id.var-len' applies"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.name.length", "0"}}), "'fields.name.length' must be"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.null-rate", "1.5"}}),
                       "'fields.id.null-rate' must be a number from 0 to 1"));
  EXPECT_TRUE(Contains(Error(f, {{"fields.id.null-rate", "abc"}}), "'fields.id.null-rate'"));
  DataType v5 = DataType::String();
  v5.length = 5;
  EXPECT_TRUE(Contains(Error({{"v", v5}}, {{"fields.v.length", "6"}}),
                       "'fields.v.length' (6) is longer than column 'v'"));
  EXPECT_TRUE(Contains(Error({{"d", DataType::Decimal(4, 2)}}, {{"fields.d.max", "100"}}),
                       "fits DECIMAL(4, 2)"));
  EXPECT_EQ(Error(f, {{"fields.id.kind", "sequence"},
                      {"fields.id.start", "1"},
                      {"fields.id.end", "10"},
                      {"fields.name.length", "5"},
                      {"fields.name.var-len", "true"},
                      {"fields.ts.max-past", "5 s"},
                      {"fields.ok.null-rate", "0.5"}}),
            "ok");
}

// Every row of `ranges`, expanded (bounded ranges only).
std::vector<int64_t> Rows(const std::vector<RowRange>& ranges) {
  std::vector<int64_t> out;
  for (const RowRange& r : ranges) {
    for (int64_t k = 0; k < r.count; ++k) out.push_back(r.first + k * r.step);
  }
  return out;
}

TEST(DatagenSplit, EveryRowOnceAtAnyParallelism) {
  // Flink's SequenceGenerator: subtask i of P takes i, i + P, …
  EXPECT_EQ(SplitRows({{0, 1, 10}}, 0, 2), (std::vector<RowRange>{{0, 2, 5}}));
  EXPECT_EQ(SplitRows({{0, 1, 10}}, 1, 2), (std::vector<RowRange>{{1, 2, 5}}));
  EXPECT_EQ(Rows(SplitRows({{0, 1, 10}}, 0, 3)), (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(Rows(SplitRows({{0, 1, 10}}, 2, 3)), (std::vector<int64_t>{2, 5, 8}));
  EXPECT_TRUE(SplitRows({{0, 1, 2}}, 2, 3).empty());  // more subtasks than rows
  EXPECT_EQ(SplitRows({{0, 1, RowRange::kUnbounded}}, 1, 4),
            (std::vector<RowRange>{{1, 4, RowRange::kUnbounded}}));
  for (int64_t total : {0, 1, 7, 100, 1001}) {
    for (int p = 1; p <= 5; ++p) {
      std::vector<int64_t> all;
      for (int i = 0; i < p; ++i) {
        auto rows = Rows(SplitRows({{0, 1, total}}, i, p));
        all.insert(all.end(), rows.begin(), rows.end());
      }
      std::sort(all.begin(), all.end());
      std::vector<int64_t> want(static_cast<size_t>(total));
      for (int64_t g = 0; g < total; ++g) want[static_cast<size_t>(g)] = g;
      EXPECT_EQ(all, want) << "total " << total << ", parallelism " << p;
    }
  }
}

TEST(DatagenSplit, RestoreAtAnotherParallelism) {
  // Three subtasks have generated some of 100 rows; what is left goes to 2 subtasks.
  std::vector<RowRange> left;
  std::set<int64_t> want;
  for (int i = 0; i < 3; ++i) {
    RowRange r = SplitRows({{0, 1, 100}}, i, 3)[0];
    int64_t done = 5 + i;  // rows this subtask generated before the checkpoint
    r.first += done * r.step;
    r.count -= done;
    left.push_back(r);
    for (int64_t g : Rows({r})) want.insert(g);
  }
  std::vector<int64_t> got;
  for (int i = 0; i < 2; ++i) {
    auto rows = Rows(SplitRows(left, i, 2));
    got.insert(got.end(), rows.begin(), rows.end());
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, std::vector<int64_t>(want.begin(), want.end()));
  EXPECT_EQ(got.size(), 100u - 5 - 6 - 7);
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

// Generates `n` rows of `table` with a fixed seed and time.
Batch Generate(const TableDef& table, int64_t n, int64_t now_us = 0, int64_t first_row = 0) {
  auto o = ParseDatagenOptions(table);
  EXPECT_TRUE(o.ok()) << o.status();
  static DatagenOptions opts;
  opts = *o;
  RowGenerator gen(&opts, 12345);
  Batch b = Batch::Empty(table.physical);
  std::vector<int64_t> rows = Iota(n);
  for (auto& r : rows) r += first_row;
  gen.Generate(rows, now_us, b.NewArena(), &b);
  b.kinds.assign(static_cast<size_t>(n), RowKind::kInsert);
  return b;
}

TEST(DatagenGenerator, RandomNumbersWithinBounds) {
  TableDef t = Table({{"i", DataType::Int()},
                      {"b", DataType::Bigint()},
                      {"d", DataType::Double()},
                      {"m", DataType::Decimal(6, 2)},
                      {"flag", DataType::Boolean()}},
                     {{"fields.i.min", "5"},
                      {"fields.i.max", "10"},
                      {"fields.b.min", "-3"},
                      {"fields.b.max", "3"},
                      {"fields.d.min", "-1.5"},
                      {"fields.d.max", "2.5"},
                      {"fields.m.min", "0.5"},
                      {"fields.m.max", "0.75"}});
  const int64_t n = 20000;
  Batch b = Generate(t, n);
  std::set<int64_t> ints, bigs, decs, flags;
  double dmin = 1e300, dmax = -1e300;
  for (int64_t r = 0; r < n; ++r) {
    size_t i = static_cast<size_t>(r);
    ASSERT_TRUE(b.columns[0].valid[i] && b.columns[2].valid[i]);
    ints.insert(b.columns[0].i64[i]);
    bigs.insert(b.columns[1].i64[i]);
    decs.insert(b.columns[3].i64[i]);
    flags.insert(b.columns[4].i64[i]);
    dmin = std::min(dmin, b.columns[2].f64[i]);
    dmax = std::max(dmax, b.columns[2].f64[i]);
  }
  // Every value of each small range appears (20000 draws of 6, 7, 26 values), none outside.
  EXPECT_EQ(ints, (std::set<int64_t>{5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(bigs, (std::set<int64_t>{-3, -2, -1, 0, 1, 2, 3}));
  EXPECT_EQ(decs.size(), 26u);
  EXPECT_EQ(*decs.begin(), 50);
  EXPECT_EQ(*decs.rbegin(), 75);
  EXPECT_EQ(flags, (std::set<int64_t>{0, 1}));
  EXPECT_GE(dmin, -1.5);
  EXPECT_LE(dmax, 2.5);
  // Uniform over [-1.5, 2.5]: the extremes of 20000 draws are within 0.01 of the bounds.
  EXPECT_LT(dmin, -1.49);
  EXPECT_GT(dmax, 2.49);
}

TEST(DatagenGenerator, WholeRangesAndUniformity) {
  RowGenerator gen(nullptr, 7);
  // The whole int64 range: both signs appear.
  int neg = 0;
  for (int i = 0; i < 1000; ++i) neg += gen.Uniform(INT64_MIN, INT64_MAX) < 0;
  EXPECT_GT(neg, 400);
  EXPECT_LT(neg, 600);
  // Uniform over [0, 9]: each value's count of 100000 draws is within 5 sd of 10000 (sd = 95).
  std::vector<int> counts(10);
  for (int i = 0; i < 100000; ++i) counts[static_cast<size_t>(gen.Uniform(0, 9))]++;
  for (int c : counts) EXPECT_NEAR(c, 10000, 475);
  // A huge double range does not overflow.
  double v = gen.UniformDouble(-1.7e308, 1.7e308);
  EXPECT_TRUE(std::isfinite(v));
}

TEST(DatagenGenerator, NullRate) {
  TableDef t = Table(
      {{"a", DataType::Int()}, {"b", DataType::String()}, {"c", DataType::Int()}},
      {{"fields.a.null-rate", "0.3"}, {"fields.b.null-rate", "1"}, {"fields.c.null-rate", "0"}});
  const int64_t n = 100000;
  Batch b = Generate(t, n);
  int64_t nulls[3] = {0, 0, 0};
  for (size_t c = 0; c < 3; ++c) {
    for (int64_t r = 0; r < n; ++r) nulls[c] += b.columns[c].valid[static_cast<size_t>(r)] ? 0 : 1;
  }
  // Binomial(100000, 0.3): sd = sqrt(100000 · 0.3 · 0.7) ≈ 145; allow 7 sd.
  EXPECT_NEAR(static_cast<double>(nulls[0]), 30000.0, 1000.0);
  EXPECT_EQ(nulls[1], n);
  EXPECT_EQ(nulls[2], 0);
}

TEST(DatagenGenerator, StringLengths) {
  DataType v8 = DataType::String();
  v8.length = 8;
  TableDef t = Table(
      {{"fixed", DataType::String()}, {"var", DataType::String()}, {"v8", v8}},
      {{"fields.fixed.length", "37"}, {"fields.var.length", "5"}, {"fields.var.var-len", "true"}});
  Batch b = Generate(t, 5000);
  std::set<size_t> var_lengths;
  for (size_t r = 0; r < 5000; ++r) {
    std::string_view s = b.columns[0].str[r];
    ASSERT_EQ(s.size(), 37u);
    EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string_view::npos) << s;
    var_lengths.insert(b.columns[1].str[r].size());
    EXPECT_EQ(b.columns[2].str[r].size(), 8u);  // min(100, VARCHAR(8))
  }
  EXPECT_EQ(var_lengths, (std::set<size_t>{1, 2, 3, 4, 5}));
}

TEST(DatagenGenerator, Sequences) {
  TableDef t = Table({{"id", DataType::Bigint()},
                      {"s", DataType::String()},
                      {"d", DataType::Double()},
                      {"m", DataType::Decimal(8, 3)}},
                     {{"fields.id.kind", "sequence"},
                      {"fields.id.start", "-2"},
                      {"fields.id.end", "1000"},
                      {"fields.s.kind", "sequence"},
                      {"fields.s.start", "10"},
                      {"fields.s.end", "2000"},
                      {"fields.d.kind", "sequence"},
                      {"fields.d.start", "0"},
                      {"fields.d.end", "5000"},
                      {"fields.m.kind", "sequence"},
                      {"fields.m.start", "7"},
                      {"fields.m.end", "9000"}});
  // Rows 100..104: each column's start + row number.
  Batch b = Generate(t, 5, 0, 100);
  for (size_t r = 0; r < 5; ++r) {
    int64_t g = 100 + static_cast<int64_t>(r);
    EXPECT_EQ(b.columns[0].i64[r], -2 + g);
    EXPECT_EQ(b.columns[1].str[r], std::to_string(10 + g));
    EXPECT_EQ(b.columns[2].f64[r], static_cast<double>(g));
    EXPECT_EQ(b.columns[3].i64[r], (7 + g) * 1000);  // DECIMAL(8, 3): unscaled
  }
}

TEST(DatagenGenerator, TimesInThePast) {
  TableDef t = Table({{"ts", DataType::Timestamp(3)},
                      {"ltz", DataType::TimestampLtz(0)},
                      {"now", DataType::Timestamp(6)},
                      {"day", DataType::Date()}},
                     {{"fields.ts.max-past", "10 s"},
                      {"fields.ltz.max-past", "1 min"},
                      {"fields.day.max-past", "3 d"}});
  const int64_t now = 1'700'000'000'123'456;  // µs
  Batch b = Generate(t, 5000, now);
  std::set<int64_t> days;
  for (size_t r = 0; r < 5000; ++r) {
    int64_t ts = b.columns[0].i64[r], ltz = b.columns[1].i64[r];
    EXPECT_LE(ts, now);
    EXPECT_GE(ts, now - 10'000'000 - 1000);
    EXPECT_EQ(ts % 1000, 0);  // milliseconds, as Flink
    EXPECT_LE(ltz, now);
    EXPECT_GE(ltz, now - 60'000'000 - 1'000'000);
    EXPECT_EQ(ltz % 1'000'000, 0);  // TIMESTAMP_LTZ(0): whole seconds
    EXPECT_EQ(b.columns[2].i64[r], now / 1000 * 1000);
    days.insert(b.columns[3].i64[r]);
  }
  int64_t today = now / 86'400'000'000;
  EXPECT_EQ(days, (std::set<int64_t>{today - 3, today - 2, today - 1, today}));
}

}  // namespace
}  // namespace eddy::connectors::datagen
