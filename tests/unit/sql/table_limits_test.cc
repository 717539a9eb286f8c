// Size limits of CREATE TABLE: more columns than the limit is a SQL error at the first column
// too many, never a slow or huge plan.
#include <gtest/gtest.h>

#include <string>

#include "fmt/format.h"
#include "sql/parser.h"

namespace eddy::sql {
namespace {

// CREATE TABLE t (c0 INT, c1 INT, …) with `n` columns, one per line after the first.
std::string CreateTable(int n) {
  std::string sql = "CREATE TABLE t (";
  for (int i = 0; i < n; ++i) sql += fmt::format("{}\n  c{} INT", i ? "," : "", i);
  return sql + ") WITH ('connector' = 'blackhole')";
}

TEST(TableLimitsTest, UpTo4096ColumnsParse) {
  auto r = ParseScript(CreateTable(4096));
  ASSERT_TRUE(r.ok()) << r.status().message().substr(0, 300);
}

TEST(TableLimitsTest, MoreThan4096ColumnsIsAnErrorAtTheFirstColumnTooMany) {
  for (int n : {4097, 100000}) {
    auto r = ParseScript(CreateTable(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    std::string msg(r.status().message());
    // Column c4096 is on line 4098 (c0 is on line 2), after two spaces.
    EXPECT_NE(msg.find("line 4098, column 3:"), std::string::npos) << msg.substr(0, 300);
    EXPECT_NE(msg.find("too many columns in CREATE TABLE (more than 4096)"), std::string::npos)
        << msg.substr(0, 300);
  }
}

}  // namespace
}  // namespace eddy::sql
