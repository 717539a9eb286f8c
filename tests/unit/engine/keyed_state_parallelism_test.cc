// Every keyed operator computes its rows' key groups as the exchange routed them: a row of a key
// group its subtask does not own fails the job (KeyGroupAssigner), so running each stateful
// operator at several parallelisms and max parallelisms, with results equal to parallelism 1,
// shows operators and exchanges agree and that keyed state is kept per key group correctly.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "eddy/engine.h"

namespace eddy {
namespace {

std::string Dir() {
  auto dir = std::filesystem::temp_directory_path() / "eddy_keyed_state_parallelism";
  std::filesystem::create_directories(dir);
  return dir.string();
}

// events: 3000 rows of 40 keys over 10 minutes, in time order; dims: a version per key and
// minute (temporal join) and rows to join with.
void WriteData() {
  std::mt19937 rng(11);
  std::ofstream ev(Dir() + "/events.csv");
  for (int i = 0; i < 3000; ++i) {
    int sec = i / 5;
    ev << "k" << rng() % 40 << "," << static_cast<int>(rng() % 100) - 20
       << ",2024-01-01 10:" << (sec / 60 < 10 ? "0" : "") << sec / 60 << ":"
       << (sec % 60 < 10 ? "0" : "") << sec % 60 << "\n";
  }
  std::ofstream dims(Dir() + "/dims.csv");
  for (int m = 0; m < 10; ++m) {
    for (int k = 0; k < 40; k += 3) {
      dims << "k" << k << "," << m * 100 + k << ",2024-01-01 10:0" << m << ":30\n";
    }
  }
}

// The rows a changelog leaves standing, as sorted lines.
std::multiset<std::string> Materialize(const QueryResult& r) {
  std::multiset<std::string> rows;
  for (size_t i = 0; i < r.rows.size(); ++i) {
    std::string line;
    for (const auto& c : r.rows[i]) line += c + "|";
    if (r.kinds[i] == "+I" || r.kinds[i] == "+U") {
      rows.insert(line);
    } else {
      auto it = rows.find(line);
      EXPECT_NE(it, rows.end()) << "retraction of a row not there: " << line;
      if (it != rows.end()) rows.erase(it);
    }
  }
  return rows;
}

absl::StatusOr<std::multiset<std::string>> RunQuery(const std::string& sql, int p, int maxp) {
  Engine e;
  EXPECT_TRUE(e.Set("parallelism.default", std::to_string(p)).ok());
  EXPECT_TRUE(e.Set("pipeline.max-parallelism", std::to_string(maxp)).ok());
  EXPECT_TRUE(e.Set("eddy.batch-size", "64").ok());
  std::string opts = "'connector'='filesystem','format'='csv','source.chunk-size'='4096','path'='";
  auto st = e.ExecuteScript(
      "CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' "
      "SECOND) WITH (" +
      opts + Dir() + "/events.csv')");
  if (!st.ok()) return st;
  st = e.ExecuteScript(
      "CREATE TABLE u (k STRING, w INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (k) "
      "NOT ENFORCED) WITH (" +
      opts + Dir() + "/dims.csv')");
  if (!st.ok()) return st;
  auto r = e.Query(sql);
  if (!r.ok()) return r.status();
  return Materialize(*r);
}

TEST(KeyedState, OperatorsAgreeWithTheExchangeAtEveryParallelism) {
  WriteData();
  const std::vector<std::pair<std::string, std::string>> queries = {
      {"group aggregation", "SELECT k, COUNT(*), SUM(v), MAX(v) FROM t GROUP BY k"},
      {"global aggregation", "SELECT COUNT(*), SUM(v) FROM t"},
      {"tumble",
       "SELECT k, window_start, COUNT(*), SUM(v) FROM TABLE(TUMBLE(TABLE t, "
       "DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY k, window_start, window_end"},
      {"session",
       "SELECT k, window_start, window_end, COUNT(*) FROM TABLE(SESSION(TABLE t "
       "PARTITION BY k, DESCRIPTOR(ts), INTERVAL '20' SECOND)) GROUP BY k, "
       "window_start, window_end"},
      {"top-n",
       "SELECT * FROM (SELECT k, v, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v "
       "DESC) AS rn FROM t) WHERE rn <= 2"},
      {"over",
       "SELECT k, v, ts, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 "
       "PRECEDING AND CURRENT ROW) FROM t"},
      {"match_recognize",
       "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES A.ts AS a_ts, "
       "B.ts AS b_ts, B.v - A.v AS up ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW PATTERN "
       "(A B) DEFINE B AS B.v > A.v + 50) MR"},
      {"regular join", "SELECT t.k, t.v, u.w FROM t JOIN u ON t.k = u.k WHERE t.v > 70"},
      {"regular join on expressions",
       "SELECT t.k, t.v, u.w FROM t JOIN u ON UPPER(t.k) = UPPER(u.k) WHERE t.v > 75"},
      {"interval join",
       "SELECT t.k, t.v, t.ts, u.w FROM t JOIN u ON t.k = u.k AND t.ts BETWEEN "
       "u.ts - INTERVAL '2' SECOND AND u.ts + INTERVAL '2' SECOND"},
      {"temporal join",
       "SELECT t.k, t.v, t.ts, u.w FROM t JOIN u FOR SYSTEM_TIME AS OF t.ts ON "
       "t.k = u.k WHERE t.v > 60"},
  };
  for (const auto& [name, sql] : queries) {
    auto want = RunQuery(sql, 1, 128);
    ASSERT_TRUE(want.ok()) << name << ": " << want.status();
    EXPECT_GT(want->size(), 0u) << name;

    for (auto [p, maxp] : {std::pair{2, 128}, std::pair{3, 7}, std::pair{4, 4}}) {
      auto got = RunQuery(sql, p, maxp);
      ASSERT_TRUE(got.ok()) << name << " at parallelism " << p << "/" << maxp << ": "
                            << got.status();
      EXPECT_EQ(*got, *want) << name << " at parallelism " << p << "/" << maxp;
    }
  }
}

}  // namespace
}  // namespace eddy
