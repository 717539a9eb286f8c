// Broken SQL: every error is an InvalidArgument SqlError at the right line and column, with a
// readable message and a caret line. The parser never crashes or hangs, whatever the input.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "sql/parser.h"

namespace eddy::sql {
namespace {

struct ErrorCase {
  std::string sql;
  int line;
  int col;
  std::string message;  // substring of the status message
};

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<ErrorCase> Cases() {
  return {
      // misspelled / missing keywords
      {"SELECT * FORM t", 1, 10, "unexpected 'FORM', expected ',' or FROM"},
      {"SELECT a FORM t", 1, 10, "did you mean FROM?"},
      {"SELECT * FROM t WHRE a = 1", 1, 17, "did you mean WHERE?"},
      {"SELEC a FROM t", 1, 1, "expected a statement: SELECT, INSERT, CREATE"},
      {"SELECT a FROM t GROUP a", 1, 23, "unexpected 'a', expected BY"},
      {"SELECT a FROM t1 JOIN t2", 1, 25, "expected ON"},
      {"SELECT * FROM t1 LEFT t2 ON a = b", 1, 23, "unexpected 't2', expected JOIN"},
      {"SELECT a FROM t x y", 1, 19, "unexpected 'y'"},
      {"SELECT 1 SELECT 2", 1, 10, "unexpected 'SELECT'"},
      {"SELECT a FROM t;\nSELECT b FORM u", 2, 10, "unexpected 'FORM'"},
      {"SELECT a FROM t; garbage", 1, 18, "expected a statement"},
      {"SELECT a\nFROM t\nWHERE a = = 1", 3, 11, "unexpected '=', expected an expression"},
      {"SELECT a AS FROM t", 1, 13, "expected an alias"},
      {"SELECT CASE WHEN a THEN 1 FROM t", 1, 27, "expected WHEN, ELSE or END"},
      {"SHOW TABLE", 1, 6, "expected TABLES, VIEWS, FUNCTIONS or CONNECTORS"},
      {"DROP DATABASE d", 1, 6, "expected TABLE or VIEW"},
      {"EXPLAIN CREATE TABLE t (a INT)", 1, 9, "expected a query or an INSERT statement"},
      // missing pieces, end of input
      {"SELECT a,, b FROM t", 1, 10, "unexpected ',', expected an expression"},
      {"CREATE TABLE t (a INT", 1, 22, "unexpected end of input, expected ',' or ')'"},
      {"CREATE TABLE t (a INT\n\n", 1, 22, "unexpected end of input"},
      {"SELECT (1 + 2", 1, 14, "expected ')'"},
      {"SELECT a FROM t WHERE", 1, 22, "expected an expression"},
      {"SELECT a FROM t WHERE a = 1 AND", 1, 32, "expected an expression"},
      {"INSERT INTO SELECT 1", 1, 13, "unexpected 'SELECT', expected a table name"},
      {"CREATE VIEW v AS", 1, 17, "expected a query"},
      {"SET 'a' = ", 1, 10, "expected a value"},
      {"SELECT COUNT(* FROM t", 1, 14, "expected an expression"},
      {"CREATE TABLE t (a INT) WITH ('connector' 'x')", 1, 42, "expected '='"},
      {"CREATE TABLE t ()", 1, 17, "expected a column name"},
      {"CREATE TABLE t (a INT, PRIMARY KEY (a))", 1, 39, "expected NOT ENFORCED"},
      {"SELECT a FROM t LIMIT x", 1, 23, "expected a row count"},
      {"SELECT a FROM t WHERE a IS 5", 1, 28, "after IS"},
      // lexical errors
      {"SELECT 'abc FROM t", 1, 8, "unterminated string literal"},
      {"SELECT `abc FROM t", 1, 8, "unterminated back-quoted identifier"},
      {"SELECT 1 /* comment", 1, 10, "unterminated comment"},
      {"SELECT a FROM t\n/* never\nclosed", 2, 1, "unterminated comment"},
      {"SELECT 1e FROM t", 1, 8, "invalid number '1e'"},
      {"SELECT 123abc", 1, 8, "invalid number '123abc'"},
      {"SELECT \"a\" FROM t", 1, 8, "double-quoted strings are not supported"},
      {"SELECT a | b FROM t", 1, 10, "unexpected character '|'"},
      {"SELECT a ? b", 1, 10, "unexpected character '?'"},
      {"SELECT ``", 1, 8, "empty back-quoted identifier"},
      {"\x01\x02\x03", 1, 1, "unexpected character '\\x01'"},
      // unsupported syntax
      {"INSERT OVERWRITE t SELECT 1", 1, 8, "INSERT OVERWRITE is not supported in streaming mode"},
      {"SELECT a FROM t UNION SELECT b FROM u", 1, 17, "only UNION ALL is supported"},
      {"SELECT a FROM t EXCEPT SELECT b FROM u", 1, 17, "only UNION ALL is supported"},
      {"SELECT a FROM t WHERE a IN (SELECT b FROM u)", 1, 29, "subqueries"},
      {"SELECT (SELECT 1)", 1, 9, "subqueries in expressions are not supported"},
      {"SELECT a FROM t ORDER BY a NULLS FIRST", 1, 28, "NULLS FIRST / NULLS LAST"},
      {"SELECT a FROM t1 NATURAL JOIN t2", 1, 18, "NATURAL JOIN is not supported"},
      {"SELECT a FROM t1 JOIN t2 USING (k)", 1, 26, "USING is not supported"},
      {"SELECT a FROM t1 CROSS JOIN t2 ON x", 1, 32, "cannot have an ON condition"},
      {"SELECT SUM(a) OVER w FROM t", 1, 20, "named windows"},
      // types
      {"CREATE TABLE t (a DECIMAL(40, 2))", 1, 27, "DECIMAL precision up to 18 is supported"},
      {"SELECT CAST(a AS BYTES) FROM t", 1, 18, "type BYTES is not supported"},
      {"SELECT CAST(a AS TIME) FROM t", 1, 18, "type TIME is not supported"},
      {"SELECT CAST(a AS STRNG) FROM t", 1, 18, "unknown data type 'STRNG'"},
      {"CREATE TABLE t (a VARCHAR(0))", 1, 27, "length must be between"},
      {"CREATE TABLE t (a TIMESTAMP(12))", 1, 29, "precision must be between 0 and 9"},
      // intervals and time units
      {"SELECT INTERVAL '5' SECS", 1, 21, "expected an interval unit"},
      {"SELECT ts + INTERVAL '1' FORTNIGHT FROM t", 1, 26, "expected an interval unit"},
      {"SELECT INTERVAL '1' HOUR TO YEAR", 1, 29, "invalid interval qualifier HOUR TO YEAR"},
      {"SELECT INTERVAL 5", 1, 18, "expected an interval unit"},
      {"SELECT INTERVAL ts", 1, 17, "a quoted interval value"},
      {"SELECT EXTRACT(FOO FROM ts) FROM t", 1, 16, "expected a time unit"},
      {"SELECT FLOOR(ts TO DECADE) FROM t", 1, 20, "expected a time unit"},
      // window TVFs
      {"SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts)))", 1, 51,
       "TUMBLE is missing its SIZE argument"},
      {"SELECT * FROM TABLE(TUMBEL(TABLE t, DESCRIPTOR(ts), INTERVAL '1' HOUR))", 1, 21,
       "expected a window function: TUMBLE, HOP, CUMULATE or SESSION"},
      {"SELECT * FROM TABLE(HOP(DATA => TABLE t, TIMECOL => DESCRIPTOR(ts), SIZ => INTERVAL '1' "
       "HOUR))",
       1, 69, "unknown parameter 'SIZ' of HOP"},
      {"SELECT * FROM TABLE(TUMBLE(TABLE t, TIMECOL => DESCRIPTOR(ts), INTERVAL '1' HOUR))", 1, 37,
       "cannot mix named and positional arguments"},
      {"SELECT * FROM TABLE(TUMBLE(t, DESCRIPTOR(ts), INTERVAL '1' HOUR))", 1, 28,
       "expected TABLE and a table name"},
      {"SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(a, b), INTERVAL '1' HOUR))", 1, 49,
       "DESCRIPTOR takes exactly one time column"},
      {"SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' HOUR, INTERVAL '1' "
       "MINUTE, 1))",
       1, 93, "too many arguments for TUMBLE"},
      // DDL details
      {"CREATE TABLE t (a INT, WATERMARK FOR a AS a, WATERMARK FOR a AS a)", 1, 46,
       "only one WATERMARK"},
      {"CREATE TABLE t (a INT PRIMARY KEY, b INT)", 1, 34, "expected NOT ENFORCED"},
      {"CREATE TABLE t (a INT) PARTITIONED BY (a)", 1, 24, "PARTITIONED BY is not supported"},
      {"CREATE TABLE t AS SELECT 1", 1, 16, "AS SELECT is not supported"},
      {"CREATE FUNCTION f AS 'x'", 1, 8, "CREATE FUNCTION is not supported"},
      {"CREATE TABLE t (select INT)", 1, 17, "expected a column name"},
      // nesting and size limits
      {"SELECT " + Repeat("(", 10000) + "1" + Repeat(")", 10000), 1, 263, "nested too deeply"},
      {"SELECT " + Repeat("NOT ", 10000) + "TRUE", 1, 1028, "nested too deeply"},
      {"SELECT " + Repeat("- ", 10000) + "1", 1, 518, "nested too deeply"},
      {"SELECT " + Repeat("f(", 5000) + "1" + Repeat(")", 5000), 1, 518, "nested too deeply"},
      {"SELECT * FROM " + Repeat("(SELECT * FROM ", 5000) + "t" + Repeat(")", 5000), 1, 1921,
       "nested too deeply"},
      {"SELECT 1" + Repeat(" + 1", 5000), 1, 8, "expression is too complex"},
  };
}

TEST(SyntaxErrorsTest, Table) {
  std::vector<ErrorCase> cases = Cases();
  EXPECT_GE(cases.size(), 35u);
  for (const ErrorCase& c : cases) {
    std::string label = c.sql.size() > 80 ? c.sql.substr(0, 80) + "…" : c.sql;
    auto r = ParseScript(c.sql);
    ASSERT_FALSE(r.ok()) << label;
    const absl::Status& st = r.status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << label;
    std::string msg(st.message());
    EXPECT_NE(msg.find(fmt::format("line {}, column {}:", c.line, c.col)), std::string::npos)
        << label << "\n"
        << msg.substr(0, 300);
    EXPECT_NE(msg.find(c.message), std::string::npos) << label << "\n" << msg.substr(0, 300);
    // Second line: the source line; third line: the caret under column C.
    size_t nl1 = msg.find('\n');
    ASSERT_NE(nl1, std::string::npos) << label;
    size_t nl2 = msg.find('\n', nl1 + 1);
    ASSERT_NE(nl2, std::string::npos) << label;
    size_t nl3 = msg.find('\n', nl2 + 1);
    std::string caret = msg.substr(nl2 + 1, nl3 == std::string::npos ? nl3 : nl3 - nl2 - 1);
    EXPECT_EQ(caret, std::string(2 + c.col - 1, ' ') + "^") << label << "\n" << msg.substr(0, 300);
  }
}

TEST(SyntaxErrorsTest, ExpressionAndTypeEntryPoints) {
  auto e = ParseExpression("a +");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("line 1, column 4"), std::string::npos);
  e = ParseExpression("a b");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("expected end of the expression"), std::string::npos);
  e = ParseExpression("");
  ASSERT_FALSE(e.ok());
  e = ParseExpression("t.*");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("only allowed as a SELECT item"), std::string::npos);
  auto t = ParseDataType("DECIMAL(40,2)");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 1, column 9"), std::string::npos);
}

TEST(SyntaxErrorsTest, HintsAreAttached) {
  auto r = ParseScript("SELECT * FORM t");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("did you mean FROM?"), std::string::npos);
  r = ParseScript("SELECT end FROM t");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("`end`"), std::string::npos);
  r = ParseScript("SELECT \"x\" FROM t");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'single quotes'"), std::string::npos);
}

TEST(SyntaxErrorsTest, EmptyInputIsNotAnError) {
  auto r = ParseScript("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

// Every prefix of valid statements either parses or fails cleanly.
TEST(SyntaxErrorsTest, PrefixesNeverCrash) {
  const std::string script =
      "CREATE TABLE t (a INT NOT NULL, b AS a + 1, ts TIMESTAMP(3) METADATA FROM 'x' VIRTUAL, "
      "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND, PRIMARY KEY (a) NOT ENFORCED) WITH ('k' = "
      "'v'); SELECT a, COUNT(DISTINCT b) FILTER (WHERE b > 0) OVER (PARTITION BY a ORDER BY ts "
      "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM TABLE(SESSION(TABLE t PARTITION BY a, "
      "DESCRIPTOR(ts), INTERVAL '1' MINUTE)) w LEFT JOIN u FOR SYSTEM_TIME AS "
      "OF w.ts AS x ON w.a = x.a WHERE CASE WHEN a IN (1, 2) THEN TRIM(LEADING 'x' FROM s) END "
      "LIKE 'a%' GROUP BY a HAVING SUM(a) BETWEEN 1 AND 2 UNION ALL VALUES (1, 2) ORDER BY a "
      "LIMIT 3; SET a.b = c; EXPLAIN INSERT INTO s (a) SELECT CAST(a AS DECIMAL(5, 2)) FROM t;";
  ASSERT_TRUE(ParseScript(script).ok()) << ParseScript(script).status().message();
  for (size_t n = 0; n < script.size(); ++n) {
    auto r = ParseScript(std::string_view(script).substr(0, n));
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

// Random bytes and random token soup never crash or hang.
TEST(SyntaxErrorsTest, RandomInputNeverCrashes) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    auto r = ParseScript(s);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  const char* words[] = {
      "SELECT", "FROM", "WHERE",    "(",      ")",          ",",    "a",     "1",   "'s'",   "+",
      "*",      "AND",  "NOT",      "IN",     "BETWEEN",    "CASE", "WHEN",  "END", "TABLE", "JOIN",
      "ON",     "OVER", "INTERVAL", "CAST",   "AS",         ";",    "UNION", "ALL", "=",     "SET",
      "CREATE", "WITH", "VALUES",   "TUMBLE", "DESCRIPTOR", "=>",   ".",     "`x`"};
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    int n = static_cast<int>(rng() % 30);
    for (int j = 0; j < n; ++j) {
      s += words[rng() % (sizeof(words) / sizeof(words[0]))];
      s += ' ';
    }
    auto r = ParseScript(s);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << s;
    }
  }
}

}  // namespace
}  // namespace eddy::sql
