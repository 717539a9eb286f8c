// Unwindowed GROUP BY produces a changelog whose materialization equals a batch GROUP BY, for
// every batch size and parallelism; binder errors point at line:column with hints.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "eddy/engine.h"

namespace eddy {
namespace {

std::string WriteData(std::map<std::string, std::vector<int>>* by_key) {
  auto dir = std::filesystem::temp_directory_path() / "eddy_group_agg";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "data.csv").string();
  std::ofstream out(path);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> k(0, 9), v(-20, 20);
  for (int i = 0; i < 3000; ++i) {
    std::string key = "k" + std::to_string(k(rng));
    int val = v(rng);
    (*by_key)[key].push_back(val);
    out << key << "," << val << "\n";
  }
  return path;
}

TEST(GroupAggregate, ChangelogMaterializesToBatchResult) {
  std::map<std::string, std::vector<int>> by_key;
  std::string path = WriteData(&by_key);
  std::map<std::string, std::string> want;
  for (const auto& [k, vals] : by_key) {
    int64_t sum = 0;
    int mx = vals[0];
    for (int v : vals) {
      sum += v;
      mx = std::max(mx, v);
    }
    want[k] = std::to_string(vals.size()) + "|" + std::to_string(sum) + "|" + std::to_string(mx);
  }
  for (int batch : {1, 2, 1024}) {
    for (int p : {1, 2}) {
      Engine e;
      EXPECT_TRUE(e.Set("eddy.batch-size", std::to_string(batch)).ok());
      EXPECT_TRUE(e.Set("parallelism.default", std::to_string(p)).ok());
      ASSERT_TRUE(e.ExecuteScript("CREATE TABLE t (k STRING, v INT) WITH ('connector'='filesystem',"
                                  "'format'='csv','source.chunk-size'='2048','path'='" +
                                  path + "')")
                      .ok());
      auto r = e.Query("SELECT k, COUNT(*), SUM(v), MAX(v) FROM t GROUP BY k");
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_TRUE(r->updating);
      std::map<std::string, std::string> table;
      std::map<std::string, int> inserts;
      for (size_t i = 0; i < r->rows.size(); ++i) {
        const auto& row = r->rows[i];
        std::string val = row[1] + "|" + row[2] + "|" + row[3];
        const std::string& kind = r->kinds[i];
        if (kind == "+I") {
          EXPECT_EQ(table.count(row[0]), 0u) << "+I for a key already present";
          table[row[0]] = val;
          inserts[row[0]]++;
        } else if (kind == "-U") {
          EXPECT_EQ(table[row[0]], val) << "-U must retract the current row";
          table.erase(row[0]);
        } else if (kind == "+U") {
          EXPECT_EQ(table.count(row[0]), 0u) << "+U must follow its -U";
          table[row[0]] = val;
        }
      }
      EXPECT_EQ(table, want) << "batch=" << batch << " parallelism=" << p;
      for (const auto& [k, n] : inserts) EXPECT_EQ(n, 1) << k;
    }
  }
}

TEST(Binder, ErrorsNamePositionAndSuggest) {
  Engine e;
  ASSERT_TRUE(e.ExecuteScript("CREATE TABLE flights (origin STRING, delay INT) WITH "
                              "('connector'='filesystem','format'='csv','path'='/nonexistent')")
                  .ok());
  auto r = e.Query("SELECT origin,\n  SUM(dleay) FROM flights GROUP BY origin");
  ASSERT_FALSE(r.ok());
  std::string m(r.status().message());
  EXPECT_NE(m.find("line 2, column 7"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'delay'?"), std::string::npos) << m;
  EXPECT_NE(m.find("      ^"), std::string::npos) << m;

  r = e.Query("SELECT orign FROM flightz");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("did you mean 'flights'?"), std::string::npos);

  r = e.Query("SELECT origin, delay FROM flights GROUP BY origin");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("must appear in the GROUP BY"),
            std::string::npos);

  r = e.Query("SELECT UPPERR(origin) FROM flights");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("did you mean 'UPPER'?"), std::string::npos);

  r = e.Query("SELECT origin FROM flights WHERE delay + 'x' > 1");
  ASSERT_FALSE(r.ok());
  r = e.Query(
      "SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(origin), "
      "INTERVAL '1' HOUR)) GROUP BY window_start, window_end");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("time attribute"), std::string::npos);

  r = e.Query("SELECT * FROM flights");  // the path does not exist
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("/nonexistent"), std::string::npos);
}

}  // namespace
}  // namespace eddy
