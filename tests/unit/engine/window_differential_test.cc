// Differential tests: eddy's incremental window aggregation over rows with bounded disorder equals
// a naive evaluation written here from the definitions alone, at batch sizes 1, 2, 1024 and
// parallelism 1, 2. The reference shares no code with eddy (only the public Engine API runs the
// query): it formats timestamps with the C library, lists every window of the data's time range
// from the window's definition (TUMBLE [k·size, (k+1)·size), HOP [k·slide, k·slide + size),
// CUMULATE [k·size, k·size + j·step)) and finds a row's windows by testing membership, and it
// applies Flink SQL's watermark and lateness rules as specified:
//   - the watermark before a row is the largest event time of the rows before it minus the delay
//     (`WATERMARK FOR ts AS ts - INTERVAL …`: the maximum of the expression, no − 1);
//   - a window [s, e) fires when the watermark reaches e − 1 ms (Flink: isWindowFired, in
//     milliseconds) for a TIMESTAMP(3) time attribute, and e − 1 µs, its last microsecond, for a
//     TIMESTAMP(6) one (eddy's extension to microseconds);
//   - a row counts in the windows that had not fired before it; it is late when all had.
// Times are random microseconds (TIMESTAMP(6)) or milliseconds (TIMESTAMP(3)), with rows placed
// on window boundaries, on the last instant before one, and where the watermark lands exactly on
// a window's firing point.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "eddy/engine.h"

namespace eddy {
namespace {

constexpr int64_t kSec = 1'000'000;  // µs
constexpr int64_t kMin = 60 * kSec;

struct Row {
  int64_t ts;  // µs since the epoch
  std::string key;
  int64_t v;
};

// "YYYY-MM-DD hh:mm:ss" plus `digits` fractional digits of the time `us` (µs since the epoch,
// non-negative), through the C library's gmtime_r.
std::string Format(int64_t us, int digits) {
  std::time_t secs = static_cast<std::time_t>(us / kSec);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::string s = buf;
  if (digits > 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us % kSec));
    s += std::string(frac).substr(0, 1 + digits);
  }
  return s;
}

// 2024-03-01 00:00:00 UTC in µs, through the C library's timegm.
int64_t Base() {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 2;
  tm.tm_mday = 1;
  return static_cast<int64_t>(timegm(&tm)) * kSec;
}

// `n` rows about `step` apart, each up to `jitter` early, at the precision `unit` (1 µs or
// 1000 µs). Some rows are moved onto a minute boundary or the last instant before one (every
// window edge here is on a minute), and, when `exact_fire`, some to a time whose watermark
// (ts − delay) is exactly a window's firing point (edge − lead), followed by a row at that
// window's last instant.
std::vector<Row> MakeRows(unsigned seed, int n, int64_t step, int64_t jitter, int64_t unit,
                          int64_t delay, int64_t lead, bool exact_fire) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> j(0, jitter / unit), v(-50, 100), k(0, 4), pick(0, 19);
  std::vector<Row> rows;
  int64_t base = Base();
  for (int i = 0; i < static_cast<int>(n); ++i) {
    int64_t ts = base + i * step - j(rng) * unit;
    ts -= (ts - base) % unit;
    int64_t edge = ts - (ts - base) % kMin;  // the minute boundary at or before ts
    std::string key(1, static_cast<char>('a' + k(rng)));
    switch (pick(rng)) {
      case 0:
        ts = edge;
        break;
      case 1:
        ts = edge - unit;  // last instant of the window ending at `edge`
        break;
      case 2:
        if (!exact_fire) break;
        // The watermark after this row is edge + 1 min − lead: the window ending at edge + 1 min
        // fires exactly now; the next row is at that window's last instant.
        rows.push_back({edge + kMin - lead + delay, key, v(rng)});
        ts = edge + kMin - unit;
        break;
      default:
        break;
    }
    rows.push_back({ts, key, v(rng)});
  }
  return rows;
}

std::string WriteCsv(const std::vector<Row>& rows, const std::string& name, int digits) {
  auto dir = std::filesystem::temp_directory_path() / "eddy_window_diff";
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream out(path);
  for (const auto& r : rows) out << Format(r.ts, digits) << "," << r.key << "," << r.v << "\n";
  return path;
}

using Multiset = std::map<std::string, int>;

// The watermark before each row: the largest event time of the rows before it minus the delay
// (none, INT64_MIN, before the first row).
std::vector<int64_t> WatermarkBefore(const std::vector<Row>& rows, int64_t delay) {
  std::vector<int64_t> wm(rows.size());
  int64_t mx = INT64_MIN;
  for (size_t i = 0; i < rows.size(); ++i) {
    wm[i] = mx == INT64_MIN ? INT64_MIN : mx - delay;
    mx = std::max(mx, rows[i].ts);
  }
  return wm;
}

std::string Key(const std::string& k, int64_t start, int64_t end, int64_t cnt, int64_t sum) {
  return k + "|" + Format(start, 3) + "|" + Format(end, 3) + "|" + std::to_string(cnt) + "|" +
         std::to_string(sum);
}

struct Window {
  int64_t start, end;
};

// Naive evaluation of fixed windows: `all` lists every window of the data's range. `*missed`:
// how many (row, window) pairs were left out because the window had fired.
Multiset NaiveFixed(const std::vector<Row>& rows, int64_t delay, int64_t lead,
                    const std::vector<Window>& all, int64_t* late, int64_t* missed) {
  auto wm = WatermarkBefore(rows, delay);
  std::map<std::tuple<std::string, int64_t, int64_t>, std::pair<int64_t, int64_t>> acc;
  *late = 0;
  *missed = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    bool any = false;
    for (const Window& w : all) {
      if (rows[i].ts < w.start || rows[i].ts >= w.end) continue;  // not a window of the row
      if (wm[i] != INT64_MIN && wm[i] >= w.end - lead) {          // fired before the row
        ++*missed;
        continue;
      }
      any = true;
      auto& a = acc[{rows[i].key, w.start, w.end}];
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

// Naive session windows (Flink: a row opens [ts, ts + gap); windows that intersect or touch
// merge; a session fires when the watermark reaches its end − lead and takes no rows after).
Multiset NaiveSession(const std::vector<Row>& rows, int64_t delay, int64_t gap, int64_t lead,
                      int64_t* late) {
  struct S {
    int64_t s, e, cnt, sum;
  };
  auto wm = WatermarkBefore(rows, delay);
  auto fired = [&](const S& x, int64_t w) { return w != INT64_MIN && w >= x.e - lead; };
  std::map<std::string, std::vector<S>> open;
  Multiset out;
  *late = 0;
  auto emit = [&](const std::string& k, const S& x) { out[Key(k, x.s, x.e, x.cnt, x.sum)]++; };
  for (size_t i = 0; i < rows.size(); ++i) {
    for (auto& [k, list] : open) {
      for (size_t j = 0; j < list.size();) {
        if (fired(list[j], wm[i])) {
          emit(k, list[j]);
          list.erase(list.begin() + static_cast<long>(j));
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
    if (fired(merged, wm[i])) {
      ++*late;
      continue;
    }
    for (size_t h = hits.size(); h-- > 0;) list.erase(list.begin() + static_cast<long>(hits[h]));
    list.push_back(merged);
  }
  for (auto& [k, list] : open) {
    for (auto& x : list) emit(k, x);
  }
  return out;
}

Multiset RunEddy(const std::string& path, int precision, int64_t delay_ms, const std::string& tvf,
                 int batch, int parallelism, int64_t* late) {
  Engine e;
  EXPECT_TRUE(e.Set("eddy.batch-size", std::to_string(batch)).ok());
  EXPECT_TRUE(e.Set("parallelism.default", std::to_string(parallelism)).ok());
  char delay[32];
  std::snprintf(delay, sizeof delay, "%lld.%03lld", static_cast<long long>(delay_ms / 1000),
                static_cast<long long>(delay_ms % 1000));
  std::string ddl = "CREATE TABLE t (ts TIMESTAMP(" + std::to_string(precision) +
                    "), k STRING, v INT, WATERMARK FOR ts AS ts - INTERVAL '" + delay +
                    "' SECOND) WITH ('connector'='filesystem','format'='csv',"
                    "'source.chunk-size'='4096','path'='" +
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
  int64_t delay_ms;
  int precision;  // of the time attribute: 3 (milliseconds) or 6 (microseconds)
};

class WindowDifferential : public ::testing::TestWithParam<Case> {};

TEST_P(WindowDifferential, MatchesNaiveEvaluation) {
  const Case& c = GetParam();
  const int64_t unit = c.precision == 3 ? 1000 : 1;
  const int64_t lead = c.precision == 3 ? 1000 : 1;  // a window fires at end − lead
  const int64_t delay = c.delay_ms * 1000;
  // ~2000 rows, one every 7 s on average, disorder up to 90 s, plus up to 60 s for the rows moved
  // to a minute boundary (covered by a delay of 200 s); the rows placed to make the watermark
  // reach a firing point exactly run ahead by the delay, so a covering delay goes without them.
  const bool covering = c.delay_ms >= 200'000;
  std::vector<Row> rows = MakeRows(42 + static_cast<unsigned>(c.delay_ms) + c.precision, 2000,
                                   7 * kSec, 90 * kSec, unit, delay, lead, !covering);
  std::string path = WriteCsv(rows, std::string(c.name) + ".csv", c.precision);
  const int64_t size = 5 * kMin, slide = kMin, step = kMin, gap = 40 * kSec;
  int64_t lo = rows[0].ts, hi = rows[0].ts;
  for (const Row& r : rows) {
    lo = std::min(lo, r.ts);
    hi = std::max(hi, r.ts);
  }
  // Every window whose range meets [lo, hi] (all times are positive: division floors).
  std::vector<Window> tumble, hop, cumulate;
  for (int64_t k = lo / size - 1; k * size <= hi; ++k) {
    tumble.push_back({k * size, (k + 1) * size});
    for (int64_t e = k * size + step; e <= (k + 1) * size; e += step) {
      cumulate.push_back({k * size, e});
    }
  }
  for (int64_t k = (lo - size) / slide - 1; k * slide <= hi; ++k) {
    hop.push_back({k * slide, k * slide + size});
  }
  struct Tvf {
    std::string sql;
    Multiset expected;
    int64_t late;
    int64_t missed;  // (row, window) pairs left out (fixed windows), else the late rows
  };
  std::vector<Tvf> tvfs(4);
  tvfs[0].sql = "TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' MINUTE)";
  tvfs[0].expected = NaiveFixed(rows, delay, lead, tumble, &tvfs[0].late, &tvfs[0].missed);
  tvfs[1].sql = "HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)";
  tvfs[1].expected = NaiveFixed(rows, delay, lead, hop, &tvfs[1].late, &tvfs[1].missed);
  tvfs[2].sql = "CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)";
  tvfs[2].expected = NaiveFixed(rows, delay, lead, cumulate, &tvfs[2].late, &tvfs[2].missed);
  tvfs[3].sql = "SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '40' SECOND)";
  tvfs[3].expected = NaiveSession(rows, delay, gap, lead, &tvfs[3].late);
  tvfs[3].missed = tvfs[3].late;
  for (const auto& tvf : tvfs) {
    for (int batch : {1, 2, 1024}) {
      for (int p : {1, 2}) {
        int64_t late = -1;
        Multiset got = RunEddy(path, c.precision, c.delay_ms, tvf.sql, batch, p, &late);
        EXPECT_TRUE(got == tvf.expected)
            << tvf.sql << " batch=" << batch << " parallelism=" << p << "\n"
            << Diff(got, tvf.expected);
        EXPECT_EQ(late, tvf.late) << tvf.sql << " batch=" << batch << " parallelism=" << p;
      }
    }
  }
  // The boundary rows make rows miss windows in every case but the covering delay (the row at a
  // window's last instant after the watermark reached that window's firing point), and rows late
  // for TUMBLE and SESSION (with HOP a row is late only after all its 5 windows fired, which the
  // 90 s disorder never reaches).
  if (covering) {
    for (const auto& tvf : tvfs) EXPECT_EQ(tvf.missed, 0) << "the delay covers the disorder";
  } else {
    for (const auto& tvf : tvfs) EXPECT_GT(tvf.missed, 0) << tvf.sql << ": rows miss windows";
    EXPECT_GT(tvfs[0].late, 0) << "TUMBLE: this data has late rows";
    EXPECT_GT(tvfs[3].late, 0) << "SESSION: this data has late rows";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Delays, WindowDifferential,
    ::testing::Values(Case{"small_delay_us", 5'000, 6}, Case{"no_delay_us", 0, 6},
                      Case{"small_delay_ms", 5'000, 3}, Case{"no_delay_ms", 0, 3},
                      Case{"sub_second_delay_us", 1'500, 6}, Case{"covering_delay_ms", 200'000, 3}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace eddy
