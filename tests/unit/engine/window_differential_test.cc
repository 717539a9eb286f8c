// Differential tests: eddy's incremental window aggregation over rows with bounded disorder equals
// a naive evaluation written here from the definitions (Flink's window TVF semantics and the
// per-row watermark rule), at batch sizes 1, 2, 1024 and parallelism 1, 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "eddy/engine.h"
#include "types/time_util.h"

namespace eddy {
namespace {

struct Row {
  int64_t ts;  // µs
  std::string key;
  int64_t v;
};

constexpr int64_t kSec = 1'000'000;

std::vector<Row> MakeRows(unsigned seed, int n, int64_t step, int64_t jitter) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> j(0, jitter), v(-50, 100), k(0, 4);
  std::vector<Row> rows;
  int64_t base = DaysFromCivil(2024, 3, 1) * kMicrosPerDay;
  for (int i = 0; i < n; ++i) {
    // Whole seconds so that equal timestamps occur often.
    int64_t ts = base + (i * step + j(rng)) / kSec * kSec;
    rows.push_back({ts, std::string(1, static_cast<char>('a' + k(rng))), v(rng)});
  }
  return rows;
}

std::string WriteCsv(const std::vector<Row>& rows, const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "eddy_window_diff";
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream out(path);
  for (const auto& r : rows) out << FormatTimestamp(r.ts, 0) << "," << r.key << "," << r.v << "\n";
  return path;
}

using Multiset = std::map<std::string, int>;

// Watermark a row sees: max event time of the rows before it - delay - 1 µs.
std::vector<int64_t> RowWatermarks(const std::vector<Row>& rows, int64_t delay) {
  std::vector<int64_t> wm(rows.size());
  int64_t mx = INT64_MIN;
  for (size_t i = 0; i < rows.size(); ++i) {
    wm[i] = mx == INT64_MIN ? INT64_MIN : mx - delay - 1;
    mx = std::max(mx, rows[i].ts);
  }
  return wm;
}

std::string Key(const std::string& k, int64_t start, int64_t end, int64_t cnt, int64_t sum) {
  return k + "|" + FormatTimestamp(start, 3) + "|" + FormatTimestamp(end, 3) + "|" +
         std::to_string(cnt) + "|" + std::to_string(sum);
}

// Naive evaluation of fixed windows given each row's candidate windows.
template <class Windows>
Multiset NaiveFixed(const std::vector<Row>& rows, int64_t delay, Windows windows, int64_t* late) {
  auto wm = RowWatermarks(rows, delay);
  std::map<std::tuple<std::string, int64_t, int64_t>, std::pair<int64_t, int64_t>> acc;
  *late = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    bool any = false;
    for (auto [s, e] : windows(rows[i].ts)) {
      if (e - 1 <= wm[i]) continue;
      any = true;
      auto& a = acc[{rows[i].key, s, e}];
      a.first++;
      a.second += rows[i].v;
    }
    if (!any) ++*late;
  }
  Multiset m;
  for (const auto& [k, a] : acc) {
    m[Key(std::get<0>(k), std::get<1>(k), std::get<2>(k), a.first, a.second)]++;
  }
  return m;
}

Multiset NaiveSession(const std::vector<Row>& rows, int64_t delay, int64_t gap, int64_t* late) {
  struct S {
    int64_t s, e, cnt, sum;
  };
  auto wm = RowWatermarks(rows, delay);
  std::map<std::string, std::vector<S>> open;
  Multiset out;
  *late = 0;
  auto emit = [&](const std::string& k, const S& x) { out[Key(k, x.s, x.e, x.cnt, x.sum)]++; };
  for (size_t i = 0; i < rows.size(); ++i) {
    for (auto& [k, list] : open) {
      for (size_t j = 0; j < list.size();) {
        if (list[j].e - 1 <= wm[i]) {
          emit(k, list[j]);
          list.erase(list.begin() + j);
        } else {
          ++j;
        }
      }
    }
    auto& list = open[rows[i].key];
    S cur{rows[i].ts, rows[i].ts + gap, 1, rows[i].v};
    std::vector<size_t> hits;
    for (size_t j = 0; j < list.size(); ++j) {
      if (list[j].s <= cur.e && list[j].e >= cur.s) hits.push_back(j);
    }
    S merged = cur;
    for (size_t h : hits) {
      merged.s = std::min(merged.s, list[h].s);
      merged.e = std::max(merged.e, list[h].e);
      merged.cnt += list[h].cnt;
      merged.sum += list[h].sum;
    }
    if (merged.e - 1 <= wm[i]) {
      ++*late;
      continue;
    }
    for (size_t h = hits.size(); h-- > 0;) list.erase(list.begin() + hits[h]);
    list.push_back(merged);
  }
  for (auto& [k, list] : open) {
    for (auto& x : list) emit(k, x);
  }
  return out;
}

Multiset RunEddy(const std::string& path, int64_t delay_s, const std::string& tvf, int batch,
                 int parallelism, int64_t* late) {
  Engine e;
  EXPECT_TRUE(e.Set("eddy.batch-size", std::to_string(batch)).ok());
  EXPECT_TRUE(e.Set("parallelism.default", std::to_string(parallelism)).ok());
  std::string ddl =
      "CREATE TABLE t (ts TIMESTAMP(3), k STRING, v INT, WATERMARK FOR ts AS ts - INTERVAL '" +
      std::to_string(delay_s) +
      "' SECOND) WITH ('connector'='filesystem','format'='csv','source.chunk-size'='4096',"
      "'path'='" +
      path + "')";
  EXPECT_TRUE(e.ExecuteScript(ddl).ok());
  std::string q = "SELECT k, window_start, window_end, COUNT(*), SUM(v) FROM TABLE(" + tvf +
                  ") GROUP BY k, window_start, window_end";
  auto r = e.Query(q);
  EXPECT_TRUE(r.ok()) << r.status().message();
  Multiset m;
  if (!r.ok()) return m;
  for (const auto& row : r->rows)
    m[row[0] + "|" + row[1] + "|" + row[2] + "|" + row[3] + "|" + row[4]]++;
  *late = 0;
  for (const auto& l : e.last_summary().late) *late += l.rows;
  return m;
}

// Rows only in `got` or only in `want` (at most 5 of each).
std::string Diff(const Multiset& got, const Multiset& want) {
  std::string out;
  int n = 0;
  for (const auto& [k, c] : got) {
    auto it = want.find(k);
    if ((it == want.end() || it->second != c) && n++ < 5) out += "  unexpected: " + k + "\n";
  }
  n = 0;
  for (const auto& [k, c] : want) {
    auto it = got.find(k);
    if ((it == got.end() || it->second != c) && n++ < 5) out += "  missing:    " + k + "\n";
  }
  return out;
}

struct Case {
  const char* name;
  int64_t delay_s;
};

class WindowDifferential : public ::testing::TestWithParam<Case> {};

TEST_P(WindowDifferential, MatchesNaiveEvaluation) {
  const Case& c = GetParam();
  // ~2000 rows, one every 7 s on average, disorder up to 90 s.
  std::vector<Row> rows =
      MakeRows(42 + static_cast<unsigned>(c.delay_s), 2000, 7 * kSec, 90 * kSec);
  std::string path = WriteCsv(rows, std::string(c.name) + ".csv");
  int64_t delay = c.delay_s * kSec;
  const int64_t size = 5 * kMicrosPerMinute, slide = kMicrosPerMinute, step = kMicrosPerMinute,
                gap = 40 * kSec;
  struct Tvf {
    std::string sql;
    Multiset expected;
    int64_t late;
  };
  std::vector<Tvf> tvfs(4);
  tvfs[0].sql = "TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' MINUTE)";
  tvfs[0].expected = NaiveFixed(
      rows, delay,
      [&](int64_t ts) {
        int64_t s = ts - FloorMod(ts, size);
        return std::vector<std::pair<int64_t, int64_t>>{{s, s + size}};
      },
      &tvfs[0].late);
  tvfs[1].sql = "HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)";
  tvfs[1].expected = NaiveFixed(
      rows, delay,
      [&](int64_t ts) {
        std::vector<std::pair<int64_t, int64_t>> w;
        for (int64_t s = ts - FloorMod(ts, slide); s > ts - size; s -= slide)
          w.push_back({s, s + size});
        return w;
      },
      &tvfs[1].late);
  tvfs[2].sql = "CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)";
  tvfs[2].expected = NaiveFixed(
      rows, delay,
      [&](int64_t ts) {
        std::vector<std::pair<int64_t, int64_t>> w;
        int64_t s = ts - FloorMod(ts, size);
        for (int64_t e = s + step; e <= s + size; e += step) {
          if (e > ts) w.push_back({s, e});
        }
        return w;
      },
      &tvfs[2].late);
  tvfs[3].sql = "SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '40' SECOND)";
  tvfs[3].expected = NaiveSession(rows, delay, gap, &tvfs[3].late);
  for (const auto& tvf : tvfs) {
    for (int batch : {1, 2, 1024}) {
      for (int p : {1, 2}) {
        int64_t late = -1;
        Multiset got = RunEddy(path, c.delay_s, tvf.sql, batch, p, &late);
        EXPECT_TRUE(got == tvf.expected)
            << tvf.sql << " batch=" << batch << " parallelism=" << p << "\n"
            << Diff(got, tvf.expected);
        EXPECT_EQ(late, tvf.late) << tvf.sql << " batch=" << batch << " parallelism=" << p;
      }
    }
  }
  if (c.delay_s >= 90) {
    for (const auto& tvf : tvfs) EXPECT_EQ(tvf.late, 0) << "delay covers the disorder";
  } else {
    EXPECT_GT(tvfs[0].late, 0) << "a small delay must produce late rows in this data";
  }
}

INSTANTIATE_TEST_SUITE_P(Delays, WindowDifferential,
                         ::testing::Values(Case{"small_delay", 5}, Case{"no_delay", 0},
                                           Case{"covering_delay", 120}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace eddy
