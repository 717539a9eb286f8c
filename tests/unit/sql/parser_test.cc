// Parser tests: every statement form, expression precedence, and the AST fields they produce.
#include "sql/parser.h"

#include <gtest/gtest.h>

#include <string>

#include "fmt/format.h"
#include "sql/lexer.h"

namespace eddy::sql {
namespace {

// Compact S-expression rendering of an expression, for precedence and shape assertions.
std::string Show(const ExprPtr& e) {
  if (!e) return "<null>";
  auto join = [](const std::vector<ExprPtr>& v, size_t from = 0) {
    std::string s;
    for (size_t i = from; i < v.size(); ++i) s += " " + Show(v[i]);
    return s;
  };
  switch (e->kind) {
    case ExprKind::kLiteral:
      switch (e->lit_type) {
        case LiteralType::kNull:
          return "NULL";
        case LiteralType::kTrue:
          return "TRUE";
        case LiteralType::kFalse:
          return "FALSE";
        case LiteralType::kString:
          return "'" + e->text + "'";
        case LiteralType::kDate:
          return "DATE'" + e->text + "'";
        case LiteralType::kTime:
          return "TIME'" + e->text + "'";
        case LiteralType::kTimestamp:
          return "TIMESTAMP'" + e->text + "'";
        case LiteralType::kInteger:
          return e->text;
        case LiteralType::kDecimal:
          return e->text + "d";
        case LiteralType::kDouble:
          return e->text + "f";
      }
      return "?";
    case ExprKind::kColumn:
      return e->qualifier.empty() ? e->name : e->qualifier + "." + e->name;
    case ExprKind::kStar:
      return e->qualifier.empty() ? "*" : e->qualifier + ".*";
    case ExprKind::kUnary:
    case ExprKind::kBinary:
      return "(" + e->op + join(e->args) + ")";
    case ExprKind::kFunction: {
      std::string s = e->name + "(";
      if (e->distinct) s += "DISTINCT";
      if (e->star_arg) s += "*";
      s += join(e->args) + ")";
      if (!e->unit.empty()) s += "[" + e->unit + "]";
      if (e->filter) s += " FILTER " + Show(e->filter);
      if (e->over) {
        s += " OVER(";
        for (auto& p : e->over->partition_by) s += "P " + Show(p) + " ";
        for (auto& o : e->over->order_by) s += "O " + Show(o.first) + (o.second ? " DESC " : " ");
        if (e->over->has_frame) {
          s += e->over->rows ? "ROWS " : "RANGE ";
          s += e->over->preceding ? Show(e->over->preceding) : "UNBOUNDED";
          s += e->over->current_row_end ? " CURRENT" : " OTHER";
        }
        s += ")";
      }
      return s;
    }
    case ExprKind::kCase:
      return fmt::format("(CASE{}{}{})", e->case_has_operand ? " op" : "",
                         e->case_has_else ? " else" : "", join(e->args));
    case ExprKind::kCast:
      return fmt::format("({} {} {})", e->try_cast ? "TRY_CAST" : "CAST", Show(e->args[0]),
                         e->cast_type.ToString(true));
    case ExprKind::kIsNull:
      return fmt::format("(IS {}NULL {})", e->negated ? "NOT " : "", Show(e->args[0]));
    case ExprKind::kIsBool:
      return fmt::format("(IS {}{} {})", e->negated ? "NOT " : "", e->bool_value ? "TRUE" : "FALSE",
                         Show(e->args[0]));
    case ExprKind::kIn:
      return fmt::format("({}IN{})", e->negated ? "NOT " : "", join(e->args));
    case ExprKind::kBetween:
      return fmt::format("({}BETWEEN{})", e->negated ? "NOT " : "", join(e->args));
    case ExprKind::kLike:
      return fmt::format("({}LIKE{})", e->negated ? "NOT " : "", join(e->args));
    case ExprKind::kExtract:
      return fmt::format("(EXTRACT {} {})", e->unit, Show(e->args[0]));
    case ExprKind::kFloorCeilTo:
      return fmt::format("({} {} TO {})", e->name, Show(e->args[0]), e->unit);
    case ExprKind::kInterval:
      return fmt::format("INTERVAL'{}' {}{}", e->text, e->unit,
                         e->unit2.empty() ? "" : " TO " + e->unit2);
  }
  return "?";
}

std::string ShowExpr(std::string_view text) {
  auto r = ParseExpression(text);
  if (!r.ok()) return "ERROR: " + std::string(r.status().message());
  return Show(*r);
}

StatementPtr ParseOne(std::string_view sql) {
  auto r = ParseScript(sql);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return nullptr;
  EXPECT_EQ(r->size(), 1u);
  if (r->size() != 1) return nullptr;
  return (*r)[0];
}

QueryPtr ParseQ(std::string_view sql) {
  StatementPtr st = ParseOne(sql);
  if (!st) return nullptr;
  EXPECT_EQ(st->kind, StmtKind::kQuery);
  return st->query;
}

// ------------------------------------------------------------------------------------------
// Lexer
// ------------------------------------------------------------------------------------------

TEST(LexerTest, TokensAndPositions) {
  auto r = Tokenize("SELECT a1,`da``te`, 'it''s' -- c\n /* x */ 12 1.5 .5 1e3 2.5E-2 <> != => ||;");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& t = *r;
  ASSERT_EQ(t.size(), 17u);
  EXPECT_EQ(t[0].kind, TokenKind::kIdent);
  EXPECT_EQ(t[0].upper, "SELECT");
  EXPECT_EQ(t[1].text, "a1");
  EXPECT_EQ(t[1].pos.col, 8);
  EXPECT_EQ(t[3].kind, TokenKind::kQuotedIdent);
  EXPECT_EQ(t[3].text, "da`te");
  EXPECT_EQ(t[5].kind, TokenKind::kString);
  EXPECT_EQ(t[5].text, "it's");
  EXPECT_EQ(t[6].kind, TokenKind::kInteger);
  EXPECT_EQ(t[6].pos.line, 2);
  EXPECT_EQ(t[6].pos.col, 10);
  EXPECT_EQ(t[7].kind, TokenKind::kDecimal);
  EXPECT_EQ(t[8].kind, TokenKind::kDecimal);
  EXPECT_EQ(t[9].kind, TokenKind::kDouble);
  EXPECT_EQ(t[10].kind, TokenKind::kDouble);
  EXPECT_EQ(t[11].text, "<>");
  EXPECT_EQ(t[12].text, "!=");
  EXPECT_EQ(t[13].text, "=>");
  EXPECT_EQ(t[14].text, "||");
  EXPECT_EQ(t[15].text, ";");
  EXPECT_EQ(t[16].kind, TokenKind::kEnd);
}

TEST(LexerTest, Utf8ColumnsCountCodePoints) {
  auto r = Tokenize("'héllo' x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[1].pos.col, 9);
  EXPECT_EQ((*r)[1].pos.offset, 9u);
}

// ------------------------------------------------------------------------------------------
// Scripts
// ------------------------------------------------------------------------------------------

TEST(ParserTest, EmptyScripts) {
  for (std::string_view s : {"", "   \n\t", ";", ";;  ;", "-- only a comment", "/* c */ ; -- x"}) {
    auto r = ParseScript(s);
    ASSERT_TRUE(r.ok()) << s << ": " << r.status().message();
    EXPECT_TRUE(r->empty()) << s;
  }
}

TEST(ParserTest, MultiStatementTextAndPositions) {
  std::string_view script =
      "  SELECT 1 ;\n"
      "-- comment\n"
      "INSERT INTO out SELECT a FROM t  ;;\n"
      "  SHOW TABLES";
  auto r = ParseScript(script);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0]->text, "SELECT 1");
  EXPECT_EQ((*r)[0]->pos.line, 1);
  EXPECT_EQ((*r)[0]->pos.col, 3);
  EXPECT_EQ((*r)[1]->kind, StmtKind::kInsert);
  EXPECT_EQ((*r)[1]->text, "INSERT INTO out SELECT a FROM t");
  EXPECT_EQ((*r)[1]->pos.line, 3);
  EXPECT_EQ((*r)[1]->pos.col, 1);
  EXPECT_EQ((*r)[1]->name_pos.col, 13);
  EXPECT_EQ((*r)[2]->kind, StmtKind::kShowTables);
  EXPECT_EQ((*r)[2]->text, "SHOW TABLES");
  EXPECT_EQ((*r)[2]->pos.line, 4);
  EXPECT_EQ(script.substr((*r)[2]->pos.offset, 4), "SHOW");
}

TEST(ParserTest, CommentsAnywhere) {
  QueryPtr q = ParseQ("SELECT /* hint */ a, -- first\n b /*+ OPTIONS('x'='y') */ FROM t");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->items.size(), 2u);
  EXPECT_EQ(Show(q->items[1].expr), "b");
  EXPECT_EQ(q->from->name, "t");
}

// ------------------------------------------------------------------------------------------
// Expressions
// ------------------------------------------------------------------------------------------

// SQL:2016 RUNNING / FINAL before a navigation or aggregate (MATCH_RECOGNIZE MEASURES) wrap the
// call; elsewhere the words stay ordinary names.
TEST(ExprTest, RunningAndFinal) {
  EXPECT_EQ(ShowExpr("FINAL LAST(A.price, 1) - running sum(price)"),
            "(- FINAL( LAST( A.price 1)) RUNNING( sum( price)))");
  EXPECT_EQ(ShowExpr("final COUNT(*)"), "FINAL( COUNT(*))");
  EXPECT_EQ(ShowExpr("running + final"), "(+ running final)");
  EXPECT_EQ(ShowExpr("final(x)"), "final( x)");
  EXPECT_EQ(ShowExpr("final IN (1, 2)"), "(IN final 1 2)");
}

TEST(ExprTest, Precedence) {
  EXPECT_EQ(ShowExpr("a + b * c"), "(+ a (* b c))");
  EXPECT_EQ(ShowExpr("(a + b) * c"), "(* (+ a b) c)");
  EXPECT_EQ(ShowExpr("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(ShowExpr("a / b % c"), "(% (/ a b) c)");
  EXPECT_EQ(ShowExpr("NOT a = b AND c"), "(AND (NOT (= a b)) c)");
  EXPECT_EQ(ShowExpr("a OR b AND c"), "(OR a (AND b c))");
  EXPECT_EQ(ShowExpr("a AND b OR c AND d"), "(OR (AND a b) (AND c d))");
  EXPECT_EQ(ShowExpr("-a * b"), "(* (- a) b)");
  EXPECT_EQ(ShowExpr("- - a"), "(- (- a))");
  EXPECT_EQ(ShowExpr("+a"), "(+ a)");
  EXPECT_EQ(ShowExpr("a || b = c"), "(= (|| a b) c)");
  EXPECT_EQ(ShowExpr("a || b + c"), "(+ (|| a b) c)");
  EXPECT_EQ(ShowExpr("a = b IS NULL"), "(IS NULL (= a b))");
  EXPECT_EQ(ShowExpr("NOT a IS NOT NULL"), "(NOT (IS NOT NULL a))");
  EXPECT_EQ(ShowExpr("a + 1 BETWEEN 1 AND 2 AND c"), "(AND (BETWEEN (+ a 1) 1 2) c)");
  EXPECT_EQ(ShowExpr("a = b BETWEEN 1 AND 2"), "(= a (BETWEEN b 1 2))");
  EXPECT_EQ(ShowExpr("a NOT BETWEEN x - 1 AND x + 1"), "(NOT BETWEEN a (- x 1) (+ x 1))");
  EXPECT_EQ(ShowExpr("a NOT IN (1, 2, 3)"), "(NOT IN a 1 2 3)");
  EXPECT_EQ(ShowExpr("a IN ('x')"), "(IN a 'x')");
  EXPECT_EQ(ShowExpr("a LIKE 'x%' ESCAPE '!'"), "(LIKE a 'x%' '!')");
  EXPECT_EQ(ShowExpr("NOT a NOT LIKE b || '%'"), "(NOT (NOT LIKE a (|| b '%')))");
  EXPECT_EQ(ShowExpr("x IS NOT TRUE"), "(IS NOT TRUE x)");
  EXPECT_EQ(ShowExpr("x IS FALSE OR y IS UNKNOWN"), "(OR (IS FALSE x) (IS NULL y))");
  EXPECT_EQ(ShowExpr("a != b"), "(<> a b)");
  EXPECT_EQ(ShowExpr("a <> b AND c <= d AND e >= f AND g < h AND i > j"),
            "(AND (AND (AND (AND (<> a b) (<= c d)) (>= e f)) (< g h)) (> i j))");
}

TEST(ExprTest, Literals) {
  EXPECT_EQ(ShowExpr("NULL"), "NULL");
  EXPECT_EQ(ShowExpr("true"), "TRUE");
  EXPECT_EQ(ShowExpr("FALSE"), "FALSE");
  EXPECT_EQ(ShowExpr("42"), "42");
  EXPECT_EQ(ShowExpr("4.20"), "4.20d");
  EXPECT_EQ(ShowExpr("4.2e1"), "4.2e1f");
  EXPECT_EQ(ShowExpr("'it''s'"), "'it's'");
  EXPECT_EQ(ShowExpr("TIMESTAMP '2001-01-01 00:00:00'"), "TIMESTAMP'2001-01-01 00:00:00'");
  EXPECT_EQ(ShowExpr("DATE '2001-01-01'"), "DATE'2001-01-01'");
  EXPECT_EQ(ShowExpr("TIME '10:00:00'"), "TIME'10:00:00'");
  auto e = ParseExpression("-5");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->kind, ExprKind::kUnary);
  EXPECT_EQ((*e)->args[0]->lit_type, LiteralType::kInteger);
}

TEST(ExprTest, Intervals) {
  EXPECT_EQ(ShowExpr("INTERVAL '5' SECOND"), "INTERVAL'5' SECOND");
  EXPECT_EQ(ShowExpr("INTERVAL '1' HOUR"), "INTERVAL'1' HOUR");
  EXPECT_EQ(ShowExpr("INTERVAL '10' MINUTES"), "INTERVAL'10' MINUTE");
  EXPECT_EQ(ShowExpr("interval '10' minute(3)"), "INTERVAL'10' MINUTE");
  EXPECT_EQ(ShowExpr("INTERVAL '1 02:03' DAY TO MINUTE"), "INTERVAL'1 02:03' DAY TO MINUTE");
  EXPECT_EQ(ShowExpr("INTERVAL '2-3' YEAR TO MONTH"), "INTERVAL'2-3' YEAR TO MONTH");
  EXPECT_EQ(ShowExpr("INTERVAL '1 00:00:00.004' DAY(2) TO SECOND(3)"),
            "INTERVAL'1 00:00:00.004' DAY TO SECOND");
  EXPECT_EQ(ShowExpr("INTERVAL -'1' DAYS"), "INTERVAL'-1' DAY");
  EXPECT_EQ(ShowExpr("ts - INTERVAL '5' SECOND"), "(- ts INTERVAL'5' SECOND)");
}

TEST(ExprTest, ColumnsAndQuotedIdentifiers) {
  EXPECT_EQ(ShowExpr("t.a"), "t.a");
  EXPECT_EQ(ShowExpr("db.t.a"), "db.t.a");
  auto e = ParseExpression("t.`date`");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->kind, ExprKind::kColumn);
  EXPECT_EQ((*e)->qualifier, "t");
  EXPECT_EQ((*e)->name, "date");
  e = ParseExpression("`select`");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->name, "select");
  e = ParseExpression("`a``b`");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->name, "a`b");
  // Non-reserved keywords stay usable as names.
  EXPECT_EQ(ShowExpr("value + year"), "(+ value year)");
  EXPECT_EQ(ShowExpr("date"), "date");
}

TEST(ExprTest, FunctionCalls) {
  EXPECT_EQ(ShowExpr("COUNT(*)"), "COUNT(*)");
  EXPECT_EQ(ShowExpr("count(DISTINCT user_id)"), "count(DISTINCT user_id)");
  EXPECT_EQ(ShowExpr("lower(s)"), "lower( s)");
  EXPECT_EQ(ShowExpr("f()"), "f()");
  EXPECT_EQ(ShowExpr("COALESCE(a, b, 0)"), "COALESCE( a b 0)");
  EXPECT_EQ(ShowExpr("SUM(x) FILTER (WHERE y > 0)"), "SUM( x) FILTER (> y 0)");
  EXPECT_EQ(ShowExpr("CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP()");
  EXPECT_EQ(ShowExpr("LOCALTIMESTAMP"), "LOCALTIMESTAMP()");
  EXPECT_EQ(ShowExpr("current_date"), "current_date()");
  EXPECT_EQ(ShowExpr("PROCTIME()"), "PROCTIME()");
  EXPECT_EQ(ShowExpr("LEFT(s, 2)"), "LEFT( s 2)");
  EXPECT_EQ(ShowExpr("SUBSTRING(s FROM 2 FOR 3)"), "SUBSTRING( s 2 3)");
  EXPECT_EQ(ShowExpr("SUBSTRING(s FROM 2)"), "SUBSTRING( s 2)");
  EXPECT_EQ(ShowExpr("substring(s, 2, 3)"), "substring( s 2 3)");
  EXPECT_EQ(ShowExpr("TRIM(s)"), "TRIM( s)[BOTH]");
  EXPECT_EQ(ShowExpr("TRIM(LEADING 'x' FROM s)"), "TRIM( s 'x')[LEADING]");
  EXPECT_EQ(ShowExpr("TRIM(TRAILING FROM s)"), "TRIM( s)[TRAILING]");
  EXPECT_EQ(ShowExpr("TRIM('x' FROM s)"), "TRIM( s 'x')[BOTH]");
  EXPECT_EQ(ShowExpr("POSITION('a' IN s)"), "POSITION( 'a' s)");
  EXPECT_EQ(ShowExpr("OVERLAY(s PLACING 'x' FROM 2 FOR 1)"), "OVERLAY( s 'x' 2 1)");
  EXPECT_EQ(ShowExpr("FLOOR(ts TO HOUR)"), "(FLOOR ts TO HOUR)");
  EXPECT_EQ(ShowExpr("ceiling(ts TO day)"), "(CEIL ts TO DAY)");
  EXPECT_EQ(ShowExpr("FLOOR(x)"), "FLOOR( x)");
  EXPECT_EQ(ShowExpr("CEIL(x / 2)"), "CEIL( (/ x 2))");
  EXPECT_EQ(ShowExpr("EXTRACT(YEAR FROM ts)"), "(EXTRACT YEAR ts)");
  EXPECT_EQ(ShowExpr("EXTRACT(doy FROM ts)"), "(EXTRACT DOY ts)");
  EXPECT_EQ(ShowExpr("mydb.f(x)"), "mydb.f( x)");
  auto e = ParseExpression("  Upper(s)");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->name, "Upper");
  EXPECT_EQ((*e)->pos.col, 3);
}

TEST(ExprTest, Over) {
  EXPECT_EQ(ShowExpr("ROW_NUMBER() OVER (PARTITION BY a ORDER BY ts DESC)"),
            "ROW_NUMBER() OVER(P a O ts DESC )");
  EXPECT_EQ(ShowExpr("SUM(x) OVER (PARTITION BY a, b ORDER BY ts ROWS BETWEEN 10 PRECEDING AND "
                     "CURRENT ROW)"),
            "SUM( x) OVER(P a P b O ts ROWS 10 CURRENT)");
  EXPECT_EQ(ShowExpr("SUM(x) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND "
                     "CURRENT ROW)"),
            "SUM( x) OVER(O ts RANGE INTERVAL'1' HOUR CURRENT)");
  EXPECT_EQ(ShowExpr("SUM(x) OVER (ORDER BY ts RANGE UNBOUNDED PRECEDING)"),
            "SUM( x) OVER(O ts RANGE UNBOUNDED CURRENT)");
  EXPECT_EQ(ShowExpr("SUM(x) OVER (ORDER BY ts ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING)"),
            "SUM( x) OVER(O ts ROWS 0 OTHER)");
  EXPECT_EQ(ShowExpr("COUNT(*) FILTER (WHERE b) OVER ()"), "COUNT(*) FILTER b OVER()");
  auto e = ParseExpression("SUM(x) OVER (ORDER BY ts)");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->over);
  EXPECT_FALSE((*e)->over->has_frame);
}

TEST(ExprTest, CaseAndCast) {
  EXPECT_EQ(ShowExpr("CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END"),
            "(CASE else (> a 1) 'x' (> a 0) 'y' 'z')");
  EXPECT_EQ(ShowExpr("CASE a WHEN 1 THEN 'one' END"), "(CASE op a 1 'one')");
  EXPECT_EQ(ShowExpr("CAST(a AS BIGINT)"), "(CAST a BIGINT)");
  EXPECT_EQ(ShowExpr("TRY_CAST(s AS DECIMAL(10, 2))"), "(TRY_CAST s DECIMAL(10, 2))");
  EXPECT_EQ(ShowExpr("CAST(s AS TIMESTAMP(3))"), "(CAST s TIMESTAMP(3))");
  EXPECT_EQ(ShowExpr("CAST(s AS VARCHAR(20) NOT NULL)"), "(CAST s VARCHAR(20) NOT NULL)");
  EXPECT_EQ(ShowExpr("CAST(x AS INTERVAL DAY TO SECOND)"), "(CAST x INTERVAL DAY TO SECOND)");
}

TEST(ExprTest, Positions) {
  auto e = ParseExpression("a +\n  f(b)");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->pos.line, 1);
  EXPECT_EQ((*e)->pos.col, 1);
  EXPECT_EQ((*e)->args[1]->pos.line, 2);
  EXPECT_EQ((*e)->args[1]->pos.col, 3);
  EXPECT_EQ((*e)->args[1]->args[0]->pos.col, 5);
}

// ------------------------------------------------------------------------------------------
// Queries
// ------------------------------------------------------------------------------------------

TEST(QueryTest, SelectClauses) {
  QueryPtr q = ParseQ(
      "SELECT DISTINCT a, b AS x, c y, t.*, *, COUNT(*) cnt FROM t WHERE a > 1 GROUP BY a, b "
      "HAVING COUNT(*) > 2 ORDER BY a DESC, b ASC, c LIMIT 10");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->distinct);
  ASSERT_EQ(q->items.size(), 6u);
  EXPECT_EQ(q->items[0].alias, "");
  EXPECT_EQ(q->items[1].alias, "x");
  EXPECT_EQ(q->items[2].alias, "y");
  EXPECT_EQ(q->items[3].expr->kind, ExprKind::kStar);
  EXPECT_EQ(q->items[3].expr->qualifier, "t");
  EXPECT_EQ(q->items[4].expr->kind, ExprKind::kStar);
  EXPECT_EQ(q->items[4].expr->qualifier, "");
  EXPECT_EQ(q->items[5].alias, "cnt");
  EXPECT_TRUE(q->items[5].expr->star_arg);
  EXPECT_EQ(q->items[1].pos.col, 20);
  ASSERT_TRUE(q->from);
  EXPECT_EQ(q->from->kind, TableRefKind::kNamed);
  EXPECT_EQ(Show(q->where), "(> a 1)");
  ASSERT_EQ(q->group_by.size(), 2u);
  EXPECT_EQ(Show(q->having), "(> COUNT(*) 2)");
  ASSERT_EQ(q->order_by.size(), 3u);
  EXPECT_TRUE(q->order_by[0].desc);
  EXPECT_FALSE(q->order_by[1].desc);
  EXPECT_FALSE(q->order_by[2].desc);
  EXPECT_EQ(q->limit, 10);
}

TEST(QueryTest, SelectWithoutFromAndFetch) {
  QueryPtr q = ParseQ("SELECT 1, 'a' FETCH FIRST 3 ROWS ONLY");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->from, nullptr);
  EXPECT_EQ(q->limit, 3);
  EXPECT_EQ(q->items.size(), 2u);
}

TEST(QueryTest, FromAliasesAndSubqueries) {
  QueryPtr q = ParseQ("SELECT * FROM cat.db.orders AS o");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->from->name, "cat.db.orders");
  EXPECT_EQ(q->from->alias, "o");
  q = ParseQ("SELECT * FROM `my table` x");
  EXPECT_EQ(q->from->name, "my table");
  EXPECT_EQ(q->from->alias, "x");
  q = ParseQ("SELECT s.a FROM (SELECT a FROM t) AS s");
  ASSERT_EQ(q->from->kind, TableRefKind::kSubquery);
  EXPECT_EQ(q->from->alias, "s");
  EXPECT_EQ(q->from->subquery->items.size(), 1u);
  q = ParseQ("SELECT * FROM ((SELECT a FROM t) UNION ALL (SELECT a FROM u)) v");
  ASSERT_EQ(q->from->kind, TableRefKind::kSubquery);
  EXPECT_EQ(q->from->subquery->union_all.size(), 2u);
  EXPECT_EQ(q->from->alias, "v");
}

TEST(QueryTest, JoinsAreLeftAssociative) {
  QueryPtr q = ParseQ(
      "SELECT * FROM a JOIN b ON a.k = b.k LEFT OUTER JOIN c ON b.k = c.k RIGHT JOIN d ON "
      "TRUE FULL JOIN e ON TRUE CROSS JOIN f, g INNER JOIN h ON x");
  ASSERT_TRUE(q);
  // ((((((a ⋈ b) ⟕ c) ⟖ d) ⟗ e) × f) × g) ⋈ h
  std::vector<JoinType> expected = {JoinType::kInner, JoinType::kCross, JoinType::kCross,
                                    JoinType::kFull,  JoinType::kRight, JoinType::kLeft,
                                    JoinType::kInner};
  std::vector<std::string> rights = {"h", "g", "f", "e", "d", "c", "b"};
  TableRefPtr r = q->from;
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(r->kind, TableRefKind::kJoin) << i;
    EXPECT_EQ(r->join_type, expected[i]) << i;
    EXPECT_EQ(r->right->name, rights[i]) << i;
    EXPECT_EQ(r->on == nullptr, expected[i] == JoinType::kCross) << i;
    r = r->left;
  }
  EXPECT_EQ(r->name, "a");
  EXPECT_EQ(Show(q->from->left->left->left->left->left->left->on), "(= a.k b.k)");
}

TEST(QueryTest, TemporalJoin) {
  QueryPtr q = ParseQ(
      "SELECT * FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.order_time AS r ON o.cur = "
      "r.cur");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->from->kind, TableRefKind::kJoin);
  TableRefPtr right = q->from->right;
  EXPECT_EQ(right->name, "rates");
  EXPECT_EQ(right->alias, "r");
  EXPECT_EQ(Show(right->system_time), "o.order_time");
  q = ParseQ("SELECT * FROM o LEFT JOIN dim FOR SYSTEM_TIME AS OF o.proc_time d ON o.k = d.k");
  EXPECT_EQ(q->from->right->alias, "d");
  EXPECT_EQ(q->from->join_type, JoinType::kLeft);
}

TEST(QueryTest, WindowTvfs) {
  QueryPtr q = ParseQ(
      "SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(bidtime), "
      "INTERVAL '10' MINUTES)) GROUP BY window_start, window_end");
  ASSERT_TRUE(q);
  TableRefPtr w = q->from;
  ASSERT_EQ(w->kind, TableRefKind::kWindowTvf);
  EXPECT_EQ(w->tvf, "TUMBLE");
  EXPECT_EQ(w->tvf_input->kind, TableRefKind::kNamed);
  EXPECT_EQ(w->tvf_input->name, "bids");
  EXPECT_EQ(w->descriptor, "bidtime");
  EXPECT_EQ(w->descriptor_pos.col, 72);
  ASSERT_EQ(w->tvf_args.size(), 1u);
  EXPECT_EQ(Show(w->tvf_args[0]), "INTERVAL'10' MINUTE");
  EXPECT_EQ(w->pos.col, 36);

  q = ParseQ(
      "SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' HOUR, INTERVAL '5' "
      "MINUTE)) AS w");
  EXPECT_EQ(q->from->alias, "w");
  ASSERT_EQ(q->from->tvf_args.size(), 2u);
  EXPECT_EQ(Show(q->from->tvf_args[1]), "INTERVAL'5' MINUTE");

  q = ParseQ(
      "SELECT * FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '5' MINUTE, INTERVAL '1' HOUR))");
  EXPECT_EQ(q->from->tvf, "HOP");
  ASSERT_EQ(q->from->tvf_args.size(), 2u);
  EXPECT_EQ(Show(q->from->tvf_args[0]), "INTERVAL'5' MINUTE");  // slide
  EXPECT_EQ(Show(q->from->tvf_args[1]), "INTERVAL'1' HOUR");    // size

  q = ParseQ(
      "SELECT * FROM TABLE(CUMULATE(TABLE db.t, DESCRIPTOR(ts), INTERVAL '2' MINUTE, INTERVAL "
      "'10' MINUTE)) w");
  EXPECT_EQ(q->from->tvf, "CUMULATE");
  EXPECT_EQ(q->from->tvf_input->name, "db.t");
  EXPECT_EQ(q->from->alias, "w");
  EXPECT_EQ(q->from->tvf_args.size(), 2u);

  q = ParseQ(
      "SELECT * FROM TABLE(SESSION(TABLE bids PARTITION BY item, supplier, DESCRIPTOR(bidtime), "
      "INTERVAL '5' MINUTES))");
  EXPECT_EQ(q->from->tvf, "SESSION");
  ASSERT_EQ(q->from->partition_by.size(), 2u);
  EXPECT_EQ(Show(q->from->partition_by[1]), "supplier");
  EXPECT_EQ(q->from->descriptor, "bidtime");
  ASSERT_EQ(q->from->tvf_args.size(), 1u);

  q = ParseQ(
      "SELECT * FROM TABLE(SESSION(TABLE bids PARTITION BY (item, supplier), DESCRIPTOR(bidtime), "
      "INTERVAL '5' MINUTE))");
  EXPECT_EQ(q->from->partition_by.size(), 2u);

  q = ParseQ("SELECT * FROM TABLE(SESSION(TABLE bids, DESCRIPTOR(bidtime), INTERVAL '5' MINUTE))");
  EXPECT_TRUE(q->from->partition_by.empty());
}

TEST(QueryTest, WindowTvfNamedArguments) {
  QueryPtr q = ParseQ(
      "SELECT * FROM TABLE(HOP(SIZE => INTERVAL '1' HOUR, DATA => TABLE t, slide => INTERVAL '5' "
      "MINUTE, TIMECOL => DESCRIPTOR(ts)))");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->from->tvf_input->name, "t");
  EXPECT_EQ(q->from->descriptor, "ts");
  ASSERT_EQ(q->from->tvf_args.size(), 2u);
  EXPECT_EQ(Show(q->from->tvf_args[0]), "INTERVAL'5' MINUTE");
  EXPECT_EQ(Show(q->from->tvf_args[1]), "INTERVAL'1' HOUR");

  q = ParseQ(
      "SELECT * FROM TABLE(TUMBLE(DATA => TABLE t, TIMECOL => DESCRIPTOR(ts), SIZE => INTERVAL "
      "'1' HOUR, OFFSET => INTERVAL '1' MINUTE))");
  ASSERT_EQ(q->from->tvf_args.size(), 2u);
  EXPECT_EQ(Show(q->from->tvf_args[1]), "INTERVAL'1' MINUTE");
}

TEST(QueryTest, WindowTvfJoinedAndAliased) {
  QueryPtr q = ParseQ(
      "SELECT * FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) l JOIN "
      "TABLE(TUMBLE(TABLE b, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) r ON l.window_start = "
      "r.window_start");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->from->kind, TableRefKind::kJoin);
  EXPECT_EQ(q->from->left->alias, "l");
  EXPECT_EQ(q->from->right->alias, "r");
  EXPECT_EQ(q->from->right->kind, TableRefKind::kWindowTvf);
}

TEST(QueryTest, UnionAllOrderLimit) {
  QueryPtr q = ParseQ(
      "SELECT a FROM t UNION ALL SELECT b FROM u UNION ALL SELECT c FROM v "
      "ORDER BY a LIMIT 5");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->union_all.size(), 3u);
  EXPECT_EQ(q->order_by.size(), 1u);
  EXPECT_EQ(q->limit, 5);
  EXPECT_TRUE(q->union_all[0]->order_by.empty());
  EXPECT_EQ(q->union_all[1]->from->name, "u");

  q = ParseQ("(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT a FROM u)");
  ASSERT_EQ(q->union_all.size(), 2u);
  EXPECT_EQ(q->union_all[0]->limit, 1);

  q = ParseQ("(SELECT a FROM t)");
  EXPECT_EQ(q->from->name, "t");

  // ORDER BY / LIMIT over a parenthesized query that has its own: a one-input union node.
  q = ParseQ("(SELECT a FROM t LIMIT 3) LIMIT 1");
  ASSERT_EQ(q->union_all.size(), 1u);
  EXPECT_EQ(q->limit, 1);
  EXPECT_EQ(q->union_all[0]->limit, 3);
}

TEST(QueryTest, With) {
  QueryPtr q =
      ParseQ("WITH a AS (SELECT x FROM t), b AS (SELECT x FROM a WHERE x > 1) SELECT * FROM b");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->with.size(), 2u);
  EXPECT_EQ(q->with[0].first, "a");
  EXPECT_EQ(q->with[1].first, "b");
  EXPECT_EQ(Show(q->with[1].second->where), "(> x 1)");
  EXPECT_EQ(q->from->name, "b");

  q = ParseQ("WITH a AS (SELECT 1) SELECT * FROM a UNION ALL SELECT * FROM a");
  ASSERT_EQ(q->union_all.size(), 2u);
  EXPECT_EQ(q->with.size(), 1u);
}

TEST(QueryTest, Values) {
  QueryPtr q = ParseQ("VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->union_all.size(), 3u);
  EXPECT_EQ(q->union_all[2]->items.size(), 2u);
  EXPECT_EQ(Show(q->union_all[2]->items[1].expr), "'c'");
  EXPECT_EQ(q->union_all[0]->from, nullptr);
  q = ParseQ("VALUES (1)");
  EXPECT_TRUE(q->union_all.empty());
  EXPECT_EQ(q->items.size(), 1u);
}

// ------------------------------------------------------------------------------------------
// DDL, DML and utility statements
// ------------------------------------------------------------------------------------------

TEST(StatementTest, CreateTable) {
  StatementPtr st = ParseOne(R"sql(
    CREATE TABLE IF NOT EXISTS cat.db.orders (
      order_id BIGINT NOT NULL,
      `date` STRING,
      price DECIMAL(10, 2),
      amount INT COMMENT 'how many',
      ts TIMESTAMP(3),
      cost AS price * amount,
      proc AS PROCTIME(),
      kafka_ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
      part INT METADATA,
      WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
      CONSTRAINT pk PRIMARY KEY (order_id, `date`) NOT ENFORCED
    ) COMMENT 'orders table' WITH (
      'connector' = 'filesystem',
      'path' = '/tmp/o.csv',
      'format' = 'csv'
    ))sql");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->kind, StmtKind::kCreateTable);
  EXPECT_TRUE(st->if_not_exists);
  EXPECT_FALSE(st->temporary);
  EXPECT_EQ(st->name, "cat.db.orders");
  EXPECT_EQ(st->name_pos.line, 2);
  EXPECT_EQ(st->name_pos.col, 32);
  ASSERT_EQ(st->columns.size(), 9u);
  EXPECT_EQ(st->columns[0].name, "order_id");
  EXPECT_EQ(st->columns[0].type.id, TypeId::kBigint);
  EXPECT_FALSE(st->columns[0].type.nullable);
  EXPECT_EQ(st->columns[0].pos.line, 3);
  EXPECT_EQ(st->columns[0].pos.col, 7);
  EXPECT_EQ(st->columns[1].name, "date");
  EXPECT_EQ(st->columns[1].type.id, TypeId::kString);
  EXPECT_TRUE(st->columns[1].type.nullable);
  EXPECT_EQ(st->columns[2].type.ToString(), "DECIMAL(10, 2)");
  EXPECT_EQ(st->columns[4].type.ToString(), "TIMESTAMP(3)");
  EXPECT_EQ(Show(st->columns[5].computed), "(* price amount)");
  EXPECT_EQ(st->columns[5].type.id, TypeId::kNull);
  EXPECT_EQ(Show(st->columns[6].computed), "PROCTIME()");
  EXPECT_TRUE(st->columns[7].is_metadata);
  EXPECT_TRUE(st->columns[7].is_virtual);
  EXPECT_EQ(st->columns[7].metadata_key, "timestamp");
  EXPECT_EQ(st->columns[7].type.ToString(), "TIMESTAMP_LTZ(3)");
  EXPECT_TRUE(st->columns[8].is_metadata);
  EXPECT_FALSE(st->columns[8].is_virtual);
  EXPECT_EQ(st->columns[8].metadata_key, "");
  ASSERT_TRUE(st->watermark);
  EXPECT_EQ(st->watermark->column, "ts");
  EXPECT_EQ(st->watermark->pos.line, 12);
  EXPECT_EQ(Show(st->watermark->expr), "(- ts INTERVAL'5' SECOND)");
  EXPECT_EQ(st->primary_key, (std::vector<std::string>{"order_id", "date"}));
  ASSERT_EQ(st->options.size(), 3u);
  EXPECT_EQ(st->options[0], (std::pair<std::string, std::string>{"connector", "filesystem"}));
  EXPECT_EQ(st->options[2].second, "csv");
  EXPECT_EQ(st->text.substr(0, 26), "CREATE TABLE IF NOT EXISTS");
  EXPECT_EQ(st->text.back(), ')');
}

TEST(StatementTest, CreateTableVariants) {
  StatementPtr st = ParseOne(
      "CREATE TEMPORARY TABLE t (id INT PRIMARY KEY NOT ENFORCED, v STRING) WITH "
      "('connector' = 'datagen', 'rows-per-second' = '5')");
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->temporary);
  EXPECT_EQ(st->primary_key, (std::vector<std::string>{"id"}));
  EXPECT_EQ(st->options[1].first, "rows-per-second");
  st = ParseOne("CREATE TABLE t (a INT)");
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->options.empty());
  st = ParseOne("CREATE TABLE t (PRIMARY KEY (a) NOT ENFORCED, a INT, watermark INT)");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->columns.size(), 2u);
  EXPECT_EQ(st->columns[1].name, "watermark");
}

TEST(StatementTest, CreateViewAndDrop) {
  StatementPtr st = ParseOne("CREATE TEMPORARY VIEW IF NOT EXISTS v (a, b) AS SELECT x, y FROM t");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->kind, StmtKind::kCreateView);
  EXPECT_TRUE(st->temporary);
  EXPECT_TRUE(st->if_not_exists);
  EXPECT_EQ(st->name, "v");
  EXPECT_EQ(st->view_columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(st->query->items.size(), 2u);

  st = ParseOne("CREATE VIEW v AS (SELECT 1)");
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->temporary);

  st = ParseOne("DROP TABLE IF EXISTS db.t");
  EXPECT_EQ(st->kind, StmtKind::kDropTable);
  EXPECT_TRUE(st->if_exists);
  EXPECT_EQ(st->name, "db.t");
  st = ParseOne("DROP TEMPORARY VIEW v");
  EXPECT_EQ(st->kind, StmtKind::kDropView);
  EXPECT_TRUE(st->temporary);
  EXPECT_FALSE(st->if_exists);
}

TEST(StatementTest, Insert) {
  StatementPtr st = ParseOne("INSERT INTO sink SELECT a, b FROM src");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->kind, StmtKind::kInsert);
  EXPECT_EQ(st->name, "sink");
  EXPECT_TRUE(st->insert_columns.empty());
  EXPECT_EQ(st->query->items.size(), 2u);
  st = ParseOne("insert into db.sink (x, `y`) select a, b from src");
  EXPECT_EQ(st->name, "db.sink");
  EXPECT_EQ(st->insert_columns, (std::vector<std::string>{"x", "y"}));
  st = ParseOne("INSERT INTO sink (SELECT 1)");
  EXPECT_TRUE(st->insert_columns.empty());
  ASSERT_TRUE(st->query);
  st = ParseOne("INSERT INTO sink VALUES (1, 'a'), (2, 'b')");
  EXPECT_EQ(st->query->union_all.size(), 2u);
  st = ParseOne("INSERT INTO sink WITH w AS (SELECT 1 AS x) SELECT x FROM w");
  EXPECT_EQ(st->query->with.size(), 1u);
}

TEST(StatementTest, SetResetShowDescribe) {
  auto r = ParseScript(
      "SET; SET 'table.local-time-zone' = 'UTC'; SET table.exec.mini-batch.enabled = true;\n"
      "SET 'pipeline.name'='my job' ; RESET; RESET 'a.b'; RESET x.y -- c\n;"
      "SHOW TABLES; SHOW VIEWS; show functions; DESCRIBE t; DESC db.t;"
      "SET execution.checkpointing.interval = 10 s");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& s = *r;
  ASSERT_EQ(s.size(), 13u);
  EXPECT_EQ(s[0]->kind, StmtKind::kSet);
  EXPECT_EQ(s[0]->key, "");
  EXPECT_EQ(s[1]->key, "table.local-time-zone");
  EXPECT_EQ(s[1]->value, "UTC");
  EXPECT_EQ(s[2]->key, "table.exec.mini-batch.enabled");
  EXPECT_EQ(s[2]->value, "true");
  EXPECT_EQ(s[2]->text, "SET table.exec.mini-batch.enabled = true");
  EXPECT_EQ(s[3]->value, "my job");
  EXPECT_EQ(s[4]->kind, StmtKind::kReset);
  EXPECT_EQ(s[4]->key, "");
  EXPECT_EQ(s[5]->key, "a.b");
  EXPECT_EQ(s[6]->key, "x.y");
  EXPECT_EQ(s[7]->kind, StmtKind::kShowTables);
  EXPECT_EQ(s[8]->kind, StmtKind::kShowViews);
  EXPECT_EQ(s[9]->kind, StmtKind::kShowFunctions);
  EXPECT_EQ(s[10]->kind, StmtKind::kDescribe);
  EXPECT_EQ(s[10]->name, "t");
  EXPECT_EQ(s[11]->name, "db.t");
  EXPECT_EQ(s[12]->key, "execution.checkpointing.interval");
  EXPECT_EQ(s[12]->value, "10 s");
}

TEST(StatementTest, Explain) {
  StatementPtr st = ParseOne("EXPLAIN PLAN FOR SELECT a FROM t");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->kind, StmtKind::kExplain);
  ASSERT_TRUE(st->explained);
  EXPECT_EQ(st->explained->kind, StmtKind::kQuery);
  EXPECT_EQ(st->explained->text, "SELECT a FROM t");
  EXPECT_EQ(st->explained->pos.col, 18);
  st = ParseOne("EXPLAIN INSERT INTO s SELECT * FROM t");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->explained->kind, StmtKind::kInsert);
  EXPECT_EQ(st->explained->name, "s");
  EXPECT_EQ(st->text, "EXPLAIN INSERT INTO s SELECT * FROM t");
}

// ------------------------------------------------------------------------------------------
// Data types
// ------------------------------------------------------------------------------------------

TEST(DataTypeTest, FlinkTypeNames) {
  struct Case {
    const char* text;
    const char* expected;  // DataType::ToString(true)
  };
  const Case cases[] = {
      {"BOOLEAN", "BOOLEAN"},
      {"TINYINT", "INT"},
      {"smallint", "INT"},
      {"INT", "INT"},
      {"INTEGER NOT NULL", "INT NOT NULL"},
      {"BIGINT NULL", "BIGINT"},
      {"FLOAT", "DOUBLE"},
      {"REAL", "DOUBLE"},
      {"DOUBLE", "DOUBLE"},
      {"DOUBLE PRECISION", "DOUBLE"},
      {"DECIMAL", "DECIMAL(10, 0)"},
      {"DECIMAL(18)", "DECIMAL(18, 0)"},
      {"DEC(5, 2)", "DECIMAL(5, 2)"},
      {"NUMERIC(12,4)", "DECIMAL(12, 4)"},
      {"STRING", "STRING"},
      {"VARCHAR", "STRING"},
      {"VARCHAR(20)", "VARCHAR(20)"},
      {"VARCHAR(2147483647)", "STRING"},
      {"CHAR(3)", "VARCHAR(3)"},
      {"TIMESTAMP", "TIMESTAMP(6)"},
      {"TIMESTAMP(3)", "TIMESTAMP(3)"},
      {"TIMESTAMP(3) WITHOUT TIME ZONE", "TIMESTAMP(3)"},
      {"TIMESTAMP_LTZ", "TIMESTAMP_LTZ(6)"},
      {"TIMESTAMP_LTZ(3)", "TIMESTAMP_LTZ(3)"},
      {"TIMESTAMP(3) WITH LOCAL TIME ZONE", "TIMESTAMP_LTZ(3)"},
      {"DATE NOT NULL", "DATE NOT NULL"},
      {"INTERVAL DAY TO SECOND(3)", "INTERVAL DAY TO SECOND"},
      {"INTERVAL HOUR", "INTERVAL DAY TO SECOND"},
      {"INTERVAL YEAR TO MONTH", "INTERVAL YEAR TO MONTH"},
      {"INTERVAL MONTH", "INTERVAL YEAR TO MONTH"},
  };
  for (const Case& c : cases) {
    auto t = ParseDataType(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().message();
    EXPECT_EQ(t->ToString(true), c.expected) << c.text;
  }
  auto t = ParseDataType("VARCHAR(20)");
  EXPECT_EQ(t->length, 20);
  t = ParseDataType("CHAR");
  EXPECT_EQ(t->length, 1);
}

TEST(DataTypeTest, Errors) {
  for (const char* bad : {"BYTES", "TIME", "DECIMAL(19, 2)", "DECIMAL(0)", "DECIMAL(5, 6)",
                          "TIMESTAMP(10)", "VARCHAR(0)", "ARRAY<INT>", "FOO", "INT NOT",
                          "INT extra", "TIMESTAMP WITH TIME ZONE", "", "INTERVAL SECOND TO DAY"}) {
    auto t = ParseDataType(bad);
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  auto t = ParseDataType("DECIMAL(40, 2)");
  EXPECT_NE(t.status().message().find("DECIMAL precision up to 18 is supported"),
            std::string::npos);
  t = ParseDataType("BIGINTT");
  EXPECT_NE(t.status().message().find("did you mean BIGINT?"), std::string::npos);
}

}  // namespace
}  // namespace eddy::sql
