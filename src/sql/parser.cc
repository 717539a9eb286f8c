#include "sql/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/status.h"
#include "base/strings.h"
#include "sql/lexer.h"
#include "sql/sql_error.h"

namespace eddy::sql {
namespace {

constexpr int kMaxDepth = 256;        // nesting of parentheses, subqueries, unary operators
constexpr int kMaxExprHeight = 1000;  // height of one expression tree (e.g. a+a+…+a)
constexpr int kMaxJoins = 1000;       // joins in one statement (join trees are left-deep)

// Columns of one CREATE TABLE (MySQL's limit; docs/sql-reference.md "Limits").
constexpr size_t kMaxTableColumns = 4096;

// Binding strength of operators, loosest first. Flink SQL (Calcite): OR < AND < NOT < IS … <
// comparison < BETWEEN/IN/LIKE < + - || < * / % < unary sign.
enum Prec : int {
  kPrecOr = 1,
  kPrecAnd,
  kPrecNot,
  kPrecIs,
  kPrecCmp,
  kPrecLike,
  kPrecAdd,
  kPrecMul,
  kPrecUnary,
};

// Words that cannot be used unquoted as a column, table or alias name: they start or end clauses
// (so `FROM t WHERE …` does not read WHERE as an alias). A subset of Calcite's reserved words;
// other Flink keywords (DATE, VALUE, YEAR, …) stay usable as names.
bool IsReserved(std::string_view upper) {
  static const std::unordered_set<std::string_view> kReserved = {
      "ALL",
      "AND",
      "AS",
      "ASC",
      "BETWEEN",
      "BY",
      "CASE",
      "CAST",
      "CREATE",
      "CROSS",
      "CURRENT_DATE",
      "CURRENT_TIME",
      "CURRENT_TIMESTAMP",
      "DESC",
      "DISTINCT",
      "DROP",
      "ELSE",
      "END",
      "ESCAPE",
      "EXCEPT",
      "EXISTS",
      "FALSE",
      "FETCH",
      "FILTER",
      "FOR",
      "FROM",
      "FULL",
      "GROUP",
      "HAVING",
      "IN",
      "INNER",
      "INSERT",
      "INTERSECT",
      "INTERVAL",
      "INTO",
      "IS",
      "JOIN",
      "LATERAL",
      "LEFT",
      "LIKE",
      "LIMIT",
      "LOCALTIME",
      "LOCALTIMESTAMP",
      "MATCH_RECOGNIZE",
      "MINUS",
      "NATURAL",
      "NOT",
      "NULL",
      "OFFSET",
      "ON",
      "OR",
      "ORDER",
      "OUTER",
      "OVER",
      "PARTITION",
      "RIGHT",
      "SELECT",
      "SET",
      "SIMILAR",
      "TABLE",
      "TABLESAMPLE",
      "THEN",
      "TRUE",
      "UNION",
      "UNKNOWN",
      "UNNEST",
      "USING",
      "VALUES",
      "WHEN",
      "WHERE",
      "WINDOW",
      "WITH",
  };
  return kReserved.count(upper) > 0;
}

// Reserved words that are plainly clause syntax: no "quote it" hint when one appears where a
// name or expression is expected.
bool IsClauseKeyword(std::string_view upper) {
  static const std::unordered_set<std::string_view> kClause = {
      "SELECT", "FROM",   "WHERE", "GROUP",  "BY",    "HAVING", "ORDER", "LIMIT",  "UNION",
      "JOIN",   "ON",     "AS",    "AND",    "OR",    "THEN",   "WHEN",  "ELSE",   "WITH",
      "VALUES", "INSERT", "INTO",  "CREATE", "DROP",  "SET",    "FETCH", "OFFSET", "INTERSECT",
      "EXCEPT", "MINUS",  "INNER", "LEFT",   "RIGHT", "FULL",   "CROSS", "OUTER",  "NATURAL",
  };
  return kClause.count(upper) > 0;
}

// Functions written as bare keywords (no parentheses) in Flink SQL.
bool IsNiladicFunction(std::string_view upper) {
  return upper == "CURRENT_TIMESTAMP" || upper == "CURRENT_DATE" || upper == "CURRENT_TIME" ||
         upper == "LOCALTIMESTAMP" || upper == "LOCALTIME";
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// How a token is shown in "unexpected …" messages.
std::string DescribeToken(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kString:
      if (t.text.size() > 24) return fmt::format("string '{}…'", t.text.substr(0, 24));
      return fmt::format("string '{}'", t.text);
    case TokenKind::kQuotedIdent:
      return fmt::format("`{}`", t.text);
    default:
      return fmt::format("'{}'", t.text);
  }
}

// "did you mean KW?" when an unquoted identifier of 3+ characters is a near miss of one of `kws`.
std::string KeywordHint(const Token& t, const std::vector<std::string>& kws) {
  if (t.kind != TokenKind::kIdent || t.text.size() < 3) return "";
  std::string best = ClosestName(t.text, kws);
  if (best.empty() || best == t.upper) return "";
  return fmt::format("did you mean {}?", best);
}

const std::vector<std::string> kStatementKeywords = {"SELECT",  "INSERT", "CREATE", "DROP",
                                                     "SET",     "RESET",  "SHOW",   "DESCRIBE",
                                                     "EXPLAIN", "WITH",   "VALUES"};
const std::vector<std::string> kSelectListFollowers = {"FROM",  "WHERE", "GROUP", "HAVING",
                                                       "ORDER", "LIMIT", "UNION"};
const std::vector<std::string> kFromFollowers = {"JOIN",  "WHERE", "GROUP", "HAVING",
                                                 "ORDER", "LIMIT", "UNION", "INNER",
                                                 "LEFT",  "RIGHT", "FULL",  "CROSS"};
const std::vector<std::string> kIntervalUnits = {"YEAR", "MONTH",  "DAY",
                                                 "HOUR", "MINUTE", "SECOND"};
const std::vector<std::string> kExtractUnits = {"YEAR",        "QUARTER", "MONTH",  "WEEK",
                                                "DAY",         "HOUR",    "MINUTE", "SECOND",
                                                "MILLISECOND", "DOW",     "DOY",    "EPOCH"};
const std::vector<std::string> kFloorUnits = {"YEAR", "QUARTER", "MONTH",  "WEEK",       "DAY",
                                              "HOUR", "MINUTE",  "SECOND", "MILLISECOND"};
const std::vector<std::string> kTypeNames = {
    "BOOLEAN", "TINYINT",   "SMALLINT",      "INT",  "INTEGER", "BIGINT", "FLOAT",
    "REAL",    "DOUBLE",    "DECIMAL",       "DEC",  "NUMERIC", "STRING", "VARCHAR",
    "CHAR",    "TIMESTAMP", "TIMESTAMP_LTZ", "DATE", "INTERVAL"};

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src), lexer_(src) {}

  absl::StatusOr<std::vector<StatementPtr>> Script();
  absl::StatusOr<ExprPtr> WholeExpression();
  absl::StatusOr<DataType> WholeType();

 private:
  // Counts one level of recursion for the lifetime of the guard.
  class Nest {
   public:
    explicit Nest(int* depth) : depth_(depth) { ++*depth_; }
    ~Nest() { --*depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    bool too_deep() const { return *depth_ > kMaxDepth; }

   private:
    int* depth_;
  };

  // A bound of a window frame: UNBOUNDED PRECEDING, n PRECEDING, CURRENT ROW, n FOLLOWING, …
  struct FrameBound {
    enum Kind { kUnboundedPreceding, kPreceding, kCurrentRow, kFollowing, kUnboundedFollowing };
    Kind kind = kCurrentRow;
    ExprPtr expr;
    Token token;
  };

  // ---- tokens ----
  const Token& Peek(size_t k = 0) {
    while (la_.size() <= k) la_.push_back(lexer_.Next());
    return la_[k];
  }
  void Skip() {
    Peek();
    if (la_.front().kind != TokenKind::kEnd && la_.front().kind != TokenKind::kError) {
      prev_end_ = la_.front().end;
    }
    la_.pop_front();
  }
  Token Advance() {
    Peek();
    Token t = std::move(la_.front());
    la_.pop_front();
    if (t.kind != TokenKind::kEnd && t.kind != TokenKind::kError) prev_end_ = t.end;
    return t;
  }
  static bool IsKw(const Token& t, std::string_view kw) {
    return t.kind == TokenKind::kIdent && t.upper == kw;
  }
  static bool IsOp(const Token& t, std::string_view op) {
    return t.kind == TokenKind::kOp && t.text == op;
  }
  static bool IsName(const Token& t) {
    return t.kind == TokenKind::kIdent || t.kind == TokenKind::kQuotedIdent;
  }
  static bool IsAliasToken(const Token& t) {
    return t.kind == TokenKind::kQuotedIdent ||
           (t.kind == TokenKind::kIdent && !IsReserved(t.upper));
  }
  bool PeekKw(std::string_view kw, size_t k = 0) { return IsKw(Peek(k), kw); }
  bool PeekOp(std::string_view op, size_t k = 0) { return IsOp(Peek(k), op); }
  bool AcceptKw(std::string_view kw) {
    if (!PeekKw(kw)) return false;
    Skip();
    return true;
  }
  bool AcceptOp(std::string_view op) {
    if (!PeekOp(op)) return false;
    Skip();
    return true;
  }
  absl::Status ExpectKw(std::string_view kw) {
    if (AcceptKw(kw)) return absl::OkStatus();
    return Unexpected(kw);
  }
  absl::Status ExpectOp(std::string_view op, std::string_view expected = "") {
    if (AcceptOp(op)) return absl::OkStatus();
    return Unexpected(expected.empty() ? fmt::format("'{}'", op) : std::string(expected));
  }
  bool AtStatementEnd() { return Peek().kind == TokenKind::kEnd || PeekOp(";"); }
  bool StartsQueryKeyword(size_t k = 0) {
    return PeekKw("SELECT", k) || PeekKw("WITH", k) || PeekKw("VALUES", k);
  }
  bool StartsQuery(size_t k = 0) { return StartsQueryKeyword(k) || PeekOp("(", k); }

  // ---- errors ----
  absl::Status ErrorAt(const Token& t, std::string_view message, std::string_view hint = "") {
    if (t.kind == TokenKind::kError) return SqlError(src_, t.pos, t.text, t.hint);
    return SqlError(src_, t.pos, message, hint);
  }
  absl::Status Unexpected(std::string_view expected, std::string_view hint = "") {
    const Token& t = Peek();
    return ErrorAt(t, fmt::format("unexpected {}, expected {}", DescribeToken(t), expected), hint);
  }
  absl::Status TooDeep() {
    return ErrorAt(Peek(), fmt::format("query or expression is nested too deeply (more than {} "
                                       "levels)",
                                       kMaxDepth));
  }
  absl::Status FollowerError(const std::optional<Token>& implicit_alias, std::string_view expected,
                             const std::vector<std::string>& kws);
  static bool IsQueryFollower(const Token& t);

  // ---- names ----
  absl::Status Identifier(std::string_view what, bool quote_hint, std::string* name, Pos* pos);
  absl::Status ObjectName(std::string_view what, std::string* name, Pos* pos);
  absl::Status IdentifierList(std::vector<std::string>* out);
  absl::StatusOr<std::string> StringLiteral(std::string_view what);
  std::string RawText(bool stop_at_eq);

  // ---- statements ----
  absl::StatusOr<StatementPtr> ParseStatement();
  absl::StatusOr<StatementPtr> Insert();
  absl::StatusOr<StatementPtr> Create();
  absl::StatusOr<StatementPtr> CreateTable(bool temporary);
  absl::Status TableElement(Statement* st);
  absl::Status NotEnforced();
  absl::Status Options(Statement* st);
  absl::StatusOr<StatementPtr> CreateView(bool temporary);
  absl::StatusOr<StatementPtr> Drop();
  absl::StatusOr<StatementPtr> Set();
  absl::StatusOr<StatementPtr> Reset();
  absl::StatusOr<StatementPtr> Show();
  absl::StatusOr<StatementPtr> ParseDescribe();
  absl::StatusOr<StatementPtr> Explain();

  // ---- queries ----
  absl::StatusOr<QueryPtr> ParseQuery();
  absl::Status ParseWithList(std::vector<std::pair<std::string, QueryPtr>>* with);
  absl::StatusOr<QueryPtr> ParseQueryTail(QueryPtr body,
                                          std::vector<std::pair<std::string, QueryPtr>> with);
  absl::StatusOr<QueryPtr> ParseSelectList();
  absl::StatusOr<QueryPtr> ParseSelectClauses(QueryPtr q);
  bool StartsJoin();
  absl::StatusOr<TableRefPtr> ParseJoin(TableRefPtr left);
  absl::StatusOr<TableRefPtr> ParseParenTableRef();
  absl::StatusOr<TableRefPtr> ParseNamedTableRef();
  absl::StatusOr<QueryPtr> ParseSetExpr();
  absl::StatusOr<QueryPtr> ParseUnionRest(QueryPtr first);
  absl::StatusOr<QueryPtr> ParseQueryTerm();
  absl::StatusOr<QueryPtr> ParseSelect();
  absl::StatusOr<QueryPtr> ParseValues();
  absl::Status ParseSelectItem(SelectItem* item, std::optional<Token>* implicit_alias);
  absl::Status ParseOrderItems(std::vector<OrderItem>* out);
  absl::StatusOr<int64_t> ParseRowCount(std::string_view clause);
  absl::StatusOr<TableRefPtr> ParseFrom();
  absl::StatusOr<TableRefPtr> ParseMatchRecognize(TableRefPtr input);
  absl::StatusOr<TableRefPtr> ParseTablePrimary();
  absl::StatusOr<TableRefPtr> ParseWindowTvf();
  absl::Status ParseTableAlias(TableRef* ref);

  // ---- expressions ----
  absl::StatusOr<ExprPtr> ParseExpr(int min_prec = 0);
  absl::StatusOr<ExprPtr> ParsePrefix();
  absl::StatusOr<ExprPtr> ParseUnary(const char* op, int operand_prec);
  absl::StatusOr<ExprPtr> ParseInfix(ExprPtr lhs, int min_prec, bool* more);
  absl::StatusOr<ExprPtr> ParseBinaryRhs(ExprPtr lhs, int prec);
  absl::StatusOr<ExprPtr> ParseIsSuffix(ExprPtr lhs);
  absl::StatusOr<ExprPtr> ParseInSuffix(ExprPtr lhs, bool negated);
  absl::StatusOr<ExprPtr> ParseBetweenSuffix(ExprPtr lhs, bool negated);
  absl::StatusOr<ExprPtr> ParseLikeSuffix(ExprPtr lhs, bool negated);
  absl::StatusOr<ExprPtr> ParsePrimary();
  absl::StatusOr<ExprPtr> ParseLiteral();
  absl::StatusOr<ExprPtr> ParseKeywordOrName();
  absl::StatusOr<ExprPtr> ParseParenthesized();
  absl::StatusOr<ExprPtr> ParseName();
  absl::StatusOr<ExprPtr> ParseFunctionCall(std::string name, Pos pos);
  absl::StatusOr<ExprPtr> ParseCallSuffix(ExprPtr e);
  absl::StatusOr<std::shared_ptr<OverSpec>> ParseOver();
  absl::StatusOr<FrameBound> ParseFrameBound();
  absl::StatusOr<ExprPtr> ParseCase();
  absl::StatusOr<ExprPtr> ParseCast();
  absl::StatusOr<ExprPtr> ParseExtract();
  absl::StatusOr<ExprPtr> ParseFloorCeil();
  absl::StatusOr<ExprPtr> ParseSubstring();
  absl::StatusOr<ExprPtr> ParseTrim();
  absl::StatusOr<ExprPtr> ParsePosition();
  absl::StatusOr<ExprPtr> ParseOverlay();
  absl::StatusOr<ExprPtr> ParseInterval();
  absl::Status ParseIntervalQualifier(std::string* unit, std::string* unit2);
  absl::StatusOr<std::string> ParseUnit(const std::vector<std::string>& allowed,
                                        std::string_view what);
  absl::Status SkipUnitPrecision();
  absl::StatusOr<ExprPtr> Node(ExprPtr e);
  int HeightOf(const ExprPtr& e) const;

  // ---- types ----
  absl::StatusOr<DataType> ParseType();
  absl::StatusOr<int64_t> ParseTypeParam(std::string_view what, Token* token);

  static ExprPtr NewExpr(ExprKind kind, Pos pos) {
    auto e = std::make_shared<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }
  static StatementPtr NewStatement(StmtKind kind) {
    auto s = std::make_shared<sql::Statement>();
    s->kind = kind;
    return s;
  }

  std::string_view src_;
  Lexer lexer_;
  std::deque<Token> la_;  // look-ahead
  size_t prev_end_ = 0;   // end offset of the last consumed token
  int depth_ = 0;
  int joins_ = 0;
  std::optional<Token> last_table_alias_;  // implicit alias of the latest table reference
  std::unordered_map<const Expr*, int> heights_;
};

// ============================================================================================
// Errors and names
// ============================================================================================

bool Parser::IsQueryFollower(const Token& t) {
  if (t.kind == TokenKind::kEnd || t.kind == TokenKind::kError) return true;
  if (IsOp(t, ")") || IsOp(t, ";")) return true;
  static const std::unordered_set<std::string_view> kFollowers = {
      "FROM",  "WHERE",  "GROUP", "HAVING",    "ORDER",  "LIMIT",
      "FETCH", "OFFSET", "UNION", "INTERSECT", "EXCEPT", "MINUS"};
  return t.kind == TokenKind::kIdent && kFollowers.count(t.upper) > 0;
}

absl::Status Parser::FollowerError(const std::optional<Token>& implicit_alias,
                                   std::string_view expected, const std::vector<std::string>& kws) {
  const Token& t = Peek();
  std::string hint = KeywordHint(t, kws);
  // `SELECT a FORM t`: FORM was read as an alias of `a`; blame it rather than `t`.
  if (hint.empty() && t.kind != TokenKind::kError && implicit_alias &&
      implicit_alias->end == prev_end_) {
    std::string alias_hint = KeywordHint(*implicit_alias, kws);
    if (!alias_hint.empty()) {
      return ErrorAt(
          *implicit_alias,
          fmt::format("unexpected {}, expected {}", DescribeToken(*implicit_alias), expected),
          alias_hint);
    }
  }
  return Unexpected(expected, hint);
}

absl::Status Parser::Identifier(std::string_view what, bool quote_hint, std::string* name,
                                Pos* pos) {
  const Token& t = Peek();
  if (IsAliasToken(t)) {
    *name = t.text;
    if (pos != nullptr) *pos = t.pos;
    Skip();
    return absl::OkStatus();
  }
  std::string hint;
  if (quote_hint && t.kind == TokenKind::kIdent && !IsClauseKeyword(t.upper)) {
    hint = fmt::format("{} is a reserved keyword; to use it as a name, quote it: `{}`", t.upper,
                       t.text);
  }
  return Unexpected(what, hint);
}

absl::Status Parser::ObjectName(std::string_view what, std::string* name, Pos* pos) {
  EDDY_RETURN_IF_ERROR(Identifier(what, false, name, pos));
  while (PeekOp(".")) {
    Skip();
    if (!IsName(Peek())) return Unexpected("a name after '.'");
    *name += "." + Advance().text;
  }
  return absl::OkStatus();
}

absl::Status Parser::IdentifierList(std::vector<std::string>* out) {
  EDDY_RETURN_IF_ERROR(ExpectOp("("));
  do {
    std::string name;
    EDDY_RETURN_IF_ERROR(Identifier("a column name", true, &name, nullptr));
    out->push_back(std::move(name));
  } while (AcceptOp(","));
  return ExpectOp(")", "',' or ')'");
}

absl::StatusOr<std::string> Parser::StringLiteral(std::string_view what) {
  if (Peek().kind != TokenKind::kString) return Unexpected(what);
  return Advance().text;
}

// Raw source text from the next token up to ';', the end of the line, a comment or (when
// `stop_at_eq`) '=', trimmed; the lexer resumes after it. For SET/RESET keys and values.
std::string Parser::RawText(bool stop_at_eq) {
  const Token& first = Peek();
  if (first.kind == TokenKind::kEnd) return "";
  Pos start = first.pos;
  la_.clear();
  size_t i = start.offset;
  int col = start.col;
  while (i < src_.size()) {
    char c = src_[i];
    char next = i + 1 < src_.size() ? src_[i + 1] : '\0';
    if (c == ';' || c == '\n' || (stop_at_eq && c == '=')) break;
    if ((c == '-' && next == '-') || (c == '/' && next == '*')) break;
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++col;
    ++i;
  }
  std::string_view text = src_.substr(start.offset, i - start.offset);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  lexer_.ResetTo(Pos{start.line, col, i});
  if (!text.empty()) prev_end_ = start.offset + text.size();
  return std::string(text);
}

// ============================================================================================
// Statements
// ============================================================================================

absl::StatusOr<std::vector<StatementPtr>> Parser::Script() {
  std::vector<StatementPtr> out;
  while (true) {
    while (AcceptOp(";")) {
    }
    if (Peek().kind == TokenKind::kEnd) break;
    EDDY_ASSIGN_OR_RETURN(StatementPtr st, ParseStatement());
    if (!AtStatementEnd()) return Unexpected("';' or end of input");
    out.push_back(std::move(st));
  }
  return out;
}

absl::StatusOr<StatementPtr> Parser::ParseStatement() {
  Token first = Peek();
  absl::StatusOr<StatementPtr> st;
  if (StartsQuery()) {
    st = NewStatement(StmtKind::kQuery);
    absl::StatusOr<QueryPtr> q = ParseQuery();
    if (!q.ok()) return q.status();
    (*st)->query = *std::move(q);
  } else if (IsKw(first, "INSERT")) {
    st = Insert();
  } else if (IsKw(first, "CREATE")) {
    st = Create();
  } else if (IsKw(first, "DROP")) {
    st = Drop();
  } else if (IsKw(first, "SET")) {
    st = Set();
  } else if (IsKw(first, "RESET")) {
    st = Reset();
  } else if (IsKw(first, "SHOW")) {
    st = Show();
  } else if (IsKw(first, "DESCRIBE") || IsKw(first, "DESC")) {
    st = ParseDescribe();
  } else if (IsKw(first, "EXPLAIN")) {
    st = Explain();
  } else {
    return Unexpected(
        "a statement: SELECT, INSERT, CREATE, DROP, SET, RESET, SHOW, DESCRIBE or EXPLAIN",
        KeywordHint(first, kStatementKeywords));
  }
  if (!st.ok()) return st.status();
  (*st)->pos = first.pos;
  (*st)->text = std::string(src_.substr(first.pos.offset, prev_end_ - first.pos.offset));
  return st;
}

absl::StatusOr<StatementPtr> Parser::Insert() {
  Skip();  // INSERT
  if (PeekKw("OVERWRITE")) {
    return ErrorAt(Peek(), "INSERT OVERWRITE is not supported in streaming mode",
                   "use INSERT INTO");
  }
  EDDY_RETURN_IF_ERROR(ExpectKw("INTO"));
  StatementPtr st = NewStatement(StmtKind::kInsert);
  EDDY_RETURN_IF_ERROR(ObjectName("a table name", &st->name, &st->name_pos));
  if (PeekKw("PARTITION")) return ErrorAt(Peek(), "INSERT … PARTITION is not supported");
  if (PeekOp("(") && !StartsQuery(1)) EDDY_RETURN_IF_ERROR(IdentifierList(&st->insert_columns));
  if (!StartsQuery()) return Unexpected("a query (SELECT, VALUES or WITH)");
  EDDY_ASSIGN_OR_RETURN(st->query, ParseQuery());
  return st;
}

absl::StatusOr<StatementPtr> Parser::Create() {
  Skip();  // CREATE
  if (PeekKw("OR")) return ErrorAt(Peek(), "CREATE OR REPLACE is not supported");
  bool temporary = AcceptKw("TEMPORARY");
  if (PeekKw("TABLE")) return CreateTable(temporary);
  if (PeekKw("VIEW")) return CreateView(temporary);
  const Token& t = Peek();
  if (IsKw(t, "FUNCTION") || IsKw(t, "CATALOG") || IsKw(t, "DATABASE") || IsKw(t, "SYSTEM")) {
    return ErrorAt(t, fmt::format("CREATE {} is not supported; only CREATE TABLE and CREATE VIEW "
                                  "are",
                                  t.upper));
  }
  return Unexpected("TABLE or VIEW");
}

absl::StatusOr<StatementPtr> Parser::CreateTable(bool temporary) {
  Skip();  // TABLE
  StatementPtr st = NewStatement(StmtKind::kCreateTable);
  st->temporary = temporary;
  if (PeekKw("IF")) {
    Skip();
    EDDY_RETURN_IF_ERROR(ExpectKw("NOT"));
    EDDY_RETURN_IF_ERROR(ExpectKw("EXISTS"));
    st->if_not_exists = true;
  }
  EDDY_RETURN_IF_ERROR(ObjectName("a table name", &st->name, &st->name_pos));
  if (PeekKw("AS")) return ErrorAt(Peek(), "CREATE TABLE … AS SELECT is not supported");
  if (PeekKw("LIKE")) return ErrorAt(Peek(), "CREATE TABLE … LIKE is not supported");
  EDDY_RETURN_IF_ERROR(ExpectOp("("));
  do {
    EDDY_RETURN_IF_ERROR(TableElement(st.get()));
  } while (AcceptOp(","));
  EDDY_RETURN_IF_ERROR(ExpectOp(")", "',' or ')'"));
  if (AcceptKw("COMMENT")) {
    EDDY_ASSIGN_OR_RETURN(std::string ignored, StringLiteral("a string after COMMENT"));
    (void)ignored;
  }
  if (PeekKw("PARTITIONED")) return ErrorAt(Peek(), "PARTITIONED BY is not supported");
  if (AcceptKw("WITH")) EDDY_RETURN_IF_ERROR(Options(st.get()));
  if (PeekKw("LIKE")) return ErrorAt(Peek(), "CREATE TABLE … LIKE is not supported");
  return st;
}

absl::Status Parser::TableElement(Statement* st) {
  if (PeekKw("WATERMARK") && PeekKw("FOR", 1)) {
    Token wm = Advance();
    Skip();  // FOR
    if (st->watermark) return ErrorAt(wm, "only one WATERMARK definition is allowed");
    WatermarkDef w;
    w.pos = wm.pos;
    EDDY_RETURN_IF_ERROR(Identifier("the name of the time column", true, &w.column, nullptr));
    EDDY_RETURN_IF_ERROR(ExpectKw("AS"));
    EDDY_ASSIGN_OR_RETURN(w.expr, ParseExpr());
    st->watermark = std::move(w);
    return absl::OkStatus();
  }
  if (PeekKw("CONSTRAINT") || (PeekKw("PRIMARY") && PeekKw("KEY", 1))) {
    Token first = Peek();
    if (AcceptKw("CONSTRAINT")) {
      std::string ignored;
      EDDY_RETURN_IF_ERROR(Identifier("a constraint name", true, &ignored, nullptr));
      if (PeekKw("UNIQUE") || PeekKw("CHECK") || PeekKw("FOREIGN")) {
        return ErrorAt(Peek(), "only PRIMARY KEY constraints are supported");
      }
    }
    EDDY_RETURN_IF_ERROR(ExpectKw("PRIMARY"));
    EDDY_RETURN_IF_ERROR(ExpectKw("KEY"));
    if (!st->primary_key.empty()) return ErrorAt(first, "duplicate PRIMARY KEY definition");
    EDDY_RETURN_IF_ERROR(IdentifierList(&st->primary_key));
    return NotEnforced();
  }
  ColumnDef c;
  EDDY_RETURN_IF_ERROR(
      Identifier("a column name, WATERMARK or PRIMARY KEY", true, &c.name, &c.pos));
  if (st->columns.size() >= kMaxTableColumns) {
    return SqlError(
        src_, c.pos,
        fmt::format("too many columns in CREATE TABLE (more than {})", kMaxTableColumns));
  }
  if (AcceptKw("AS")) {
    EDDY_ASSIGN_OR_RETURN(c.computed, ParseExpr());
  } else {
    EDDY_ASSIGN_OR_RETURN(c.type, ParseType());
    if (AcceptKw("METADATA")) {
      c.is_metadata = true;
      if (AcceptKw("FROM")) {
        EDDY_ASSIGN_OR_RETURN(c.metadata_key, StringLiteral("a metadata key such as 'timestamp'"));
      }
      if (AcceptKw("VIRTUAL")) c.is_virtual = true;
    }
    if (PeekKw("PRIMARY")) {
      Token pk = Advance();
      EDDY_RETURN_IF_ERROR(ExpectKw("KEY"));
      if (!st->primary_key.empty()) return ErrorAt(pk, "duplicate PRIMARY KEY definition");
      EDDY_RETURN_IF_ERROR(NotEnforced());
      st->primary_key.push_back(c.name);
    }
  }
  if (AcceptKw("COMMENT")) {
    EDDY_ASSIGN_OR_RETURN(std::string ignored, StringLiteral("a string after COMMENT"));
    (void)ignored;
  }
  st->columns.push_back(std::move(c));
  return absl::OkStatus();
}

absl::Status Parser::NotEnforced() {
  static constexpr std::string_view kHint =
      "Flink does not own the data, so it cannot enforce keys: write PRIMARY KEY (…) NOT "
      "ENFORCED";
  if (PeekKw("NOT") && PeekKw("ENFORCED", 1)) {
    Skip();
    Skip();
    return absl::OkStatus();
  }
  if (PeekKw("ENFORCED")) {
    return ErrorAt(Peek(), "only NOT ENFORCED primary keys are supported", kHint);
  }
  return Unexpected("NOT ENFORCED", kHint);
}

absl::Status Parser::Options(Statement* st) {
  EDDY_RETURN_IF_ERROR(ExpectOp("(", "'(' to start the table options"));
  do {
    std::string key;
    const Token& k = Peek();
    if (k.kind == TokenKind::kString) {
      key = Advance().text;
    } else if (IsName(k)) {
      key = Advance().text;
      while (PeekOp(".") && IsName(Peek(1))) {
        Skip();
        key += "." + Advance().text;
      }
    } else {
      return Unexpected("an option key such as 'connector'");
    }
    EDDY_RETURN_IF_ERROR(ExpectOp("="));
    const Token& v = Peek();
    if (v.kind == TokenKind::kString || v.kind == TokenKind::kInteger ||
        v.kind == TokenKind::kDecimal || v.kind == TokenKind::kDouble) {
      st->options.emplace_back(std::move(key), Advance().text);
    } else if (IsKw(v, "TRUE") || IsKw(v, "FALSE")) {
      st->options.emplace_back(std::move(key), ToLower(Advance().text));
    } else {
      return Unexpected("an option value such as 'kafka'");
    }
  } while (AcceptOp(","));
  return ExpectOp(")", "',' or ')'");
}

absl::StatusOr<StatementPtr> Parser::CreateView(bool temporary) {
  Skip();  // VIEW
  StatementPtr st = NewStatement(StmtKind::kCreateView);
  st->temporary = temporary;
  if (PeekKw("IF")) {
    Skip();
    EDDY_RETURN_IF_ERROR(ExpectKw("NOT"));
    EDDY_RETURN_IF_ERROR(ExpectKw("EXISTS"));
    st->if_not_exists = true;
  }
  EDDY_RETURN_IF_ERROR(ObjectName("a view name", &st->name, &st->name_pos));
  if (PeekOp("(")) EDDY_RETURN_IF_ERROR(IdentifierList(&st->view_columns));
  if (AcceptKw("COMMENT")) {
    EDDY_ASSIGN_OR_RETURN(std::string ignored, StringLiteral("a string after COMMENT"));
    (void)ignored;
  }
  EDDY_RETURN_IF_ERROR(ExpectKw("AS"));
  if (!StartsQuery()) return Unexpected("a query (SELECT, VALUES or WITH)");
  EDDY_ASSIGN_OR_RETURN(st->query, ParseQuery());
  return st;
}

absl::StatusOr<StatementPtr> Parser::Drop() {
  Skip();  // DROP
  bool temporary = AcceptKw("TEMPORARY");
  StatementPtr st;
  if (AcceptKw("TABLE")) {
    st = NewStatement(StmtKind::kDropTable);
  } else if (AcceptKw("VIEW")) {
    st = NewStatement(StmtKind::kDropView);
  } else {
    return Unexpected("TABLE or VIEW");
  }
  st->temporary = temporary;
  if (PeekKw("IF") && PeekKw("EXISTS", 1)) {
    Skip();
    Skip();
    st->if_exists = true;
  }
  EDDY_RETURN_IF_ERROR(ObjectName(st->kind == StmtKind::kDropTable ? "a table name" : "a view name",
                                  &st->name, &st->name_pos));
  return st;
}

absl::StatusOr<StatementPtr> Parser::Set() {
  Skip();  // SET
  StatementPtr st = NewStatement(StmtKind::kSet);
  if (AtStatementEnd()) return st;
  if (Peek().kind == TokenKind::kString) {
    st->key = Advance().text;
  } else {
    st->key = RawText(/*stop_at_eq=*/true);
    if (st->key.empty()) return Unexpected("a configuration key");
  }
  EDDY_RETURN_IF_ERROR(ExpectOp("=", "'=' and a value"));
  if (Peek().kind == TokenKind::kString) {
    st->value = Advance().text;
  } else {
    st->value = RawText(/*stop_at_eq=*/false);
    if (st->value.empty()) return Unexpected("a value");
  }
  return st;
}

absl::StatusOr<StatementPtr> Parser::Reset() {
  Skip();  // RESET
  StatementPtr st = NewStatement(StmtKind::kReset);
  if (AtStatementEnd()) return st;
  if (Peek().kind == TokenKind::kString) {
    st->key = Advance().text;
  } else {
    st->key = RawText(/*stop_at_eq=*/false);
    if (st->key.empty()) return Unexpected("a configuration key");
  }
  return st;
}

absl::StatusOr<StatementPtr> Parser::Show() {
  Skip();  // SHOW
  if (AcceptKw("TABLES")) return NewStatement(StmtKind::kShowTables);
  if (AcceptKw("VIEWS")) return NewStatement(StmtKind::kShowViews);
  if (AcceptKw("FUNCTIONS")) return NewStatement(StmtKind::kShowFunctions);
  if (AcceptKw("CONNECTORS")) return NewStatement(StmtKind::kShowConnectors);
  return Unexpected("TABLES, VIEWS, FUNCTIONS or CONNECTORS",
                    KeywordHint(Peek(), {"TABLES", "VIEWS", "FUNCTIONS", "CONNECTORS"}));
}

absl::StatusOr<StatementPtr> Parser::ParseDescribe() {
  Skip();  // DESCRIBE / DESC
  StatementPtr st = NewStatement(StmtKind::kDescribe);
  EDDY_RETURN_IF_ERROR(ObjectName("a table or view name", &st->name, &st->name_pos));
  return st;
}

absl::StatusOr<StatementPtr> Parser::Explain() {
  Skip();  // EXPLAIN
  if (AcceptKw("PLAN")) EDDY_RETURN_IF_ERROR(ExpectKw("FOR"));
  if (!StartsQuery() && !PeekKw("INSERT")) return Unexpected("a query or an INSERT statement");
  StatementPtr st = NewStatement(StmtKind::kExplain);
  EDDY_ASSIGN_OR_RETURN(st->explained, ParseStatement());
  return st;
}

// ============================================================================================
// Queries
// ============================================================================================

// The nesting path ParseQuery → ParseSetExpr → ParseQueryTerm → ParseSelect → ParseSelectClauses
// → ParseFrom → ParseTablePrimary → ParseParenTableRef → ParseQuery keeps frames small; the
// clause-specific work happens in helpers that return before recursing.
absl::StatusOr<QueryPtr> Parser::ParseQuery() {
  Nest nest(&depth_);
  if (nest.too_deep()) return TooDeep();
  std::vector<std::pair<std::string, QueryPtr>> with;
  if (PeekKw("WITH")) EDDY_RETURN_IF_ERROR(ParseWithList(&with));
  absl::StatusOr<QueryPtr> body = ParseSetExpr();
  if (!body.ok()) return body;
  return ParseQueryTail(*std::move(body), std::move(with));
}

absl::Status Parser::ParseWithList(std::vector<std::pair<std::string, QueryPtr>>* with) {
  Skip();  // WITH
  if (PeekKw("RECURSIVE")) return ErrorAt(Peek(), "WITH RECURSIVE is not supported");
  do {
    std::string name;
    EDDY_RETURN_IF_ERROR(Identifier("a name for the WITH query", true, &name, nullptr));
    if (PeekOp("(")) {
      return ErrorAt(Peek(), "column lists in WITH are not supported",
                     "name the columns with aliases inside the query");
    }
    EDDY_RETURN_IF_ERROR(ExpectKw("AS"));
    EDDY_RETURN_IF_ERROR(ExpectOp("("));
    if (!StartsQuery()) return Unexpected("a query (SELECT, VALUES or WITH)");
    EDDY_ASSIGN_OR_RETURN(QueryPtr q, ParseQuery());
    EDDY_RETURN_IF_ERROR(ExpectOp(")"));
    with->emplace_back(std::move(name), std::move(q));
  } while (AcceptOp(","));
  return absl::OkStatus();
}

// ORDER BY / LIMIT / FETCH after a query body, and attaching them (and WITH) to it.
absl::StatusOr<QueryPtr> Parser::ParseQueryTail(
    QueryPtr body, std::vector<std::pair<std::string, QueryPtr>> with) {
  std::vector<OrderItem> order;
  std::optional<int64_t> limit;
  if (PeekKw("ORDER")) {
    Skip();
    EDDY_RETURN_IF_ERROR(ExpectKw("BY"));
    EDDY_RETURN_IF_ERROR(ParseOrderItems(&order));
  }
  if (AcceptKw("LIMIT")) {
    EDDY_ASSIGN_OR_RETURN(limit, ParseRowCount("LIMIT"));
  } else if (AcceptKw("FETCH")) {
    if (!AcceptKw("FIRST") && !AcceptKw("NEXT")) return Unexpected("FIRST or NEXT");
    EDDY_ASSIGN_OR_RETURN(limit, ParseRowCount("FETCH"));
    if (!AcceptKw("ROWS") && !AcceptKw("ROW")) return Unexpected("ROWS");
    EDDY_RETURN_IF_ERROR(ExpectKw("ONLY"));
  }
  if (PeekKw("OFFSET")) return ErrorAt(Peek(), "OFFSET is not supported");

  bool conflict = (!with.empty() && !body->with.empty()) ||
                  ((!order.empty() || limit) && (!body->order_by.empty() || body->limit));
  if (conflict) {
    auto wrap = std::make_shared<Query>();
    wrap->pos = body->pos;
    wrap->union_all.push_back(std::move(body));
    body = std::move(wrap);
  }
  if (!with.empty()) body->with = std::move(with);
  if (!order.empty()) body->order_by = std::move(order);
  if (limit) body->limit = limit;
  return body;
}

absl::StatusOr<QueryPtr> Parser::ParseSetExpr() {
  absl::StatusOr<QueryPtr> first = ParseQueryTerm();
  if (!first.ok()) return first;
  if (!PeekKw("UNION") && !PeekKw("INTERSECT") && !PeekKw("EXCEPT") && !PeekKw("MINUS")) {
    return first;
  }
  return ParseUnionRest(*std::move(first));
}

// `first` UNION ALL term UNION ALL … (flattened into one union node).
absl::StatusOr<QueryPtr> Parser::ParseUnionRest(QueryPtr first) {
  std::vector<QueryPtr> terms;
  terms.push_back(first);
  while (true) {
    const Token& t = Peek();
    if (IsKw(t, "UNION")) {
      if (!PeekKw("ALL", 1)) {
        return ErrorAt(t, "only UNION ALL is supported",
                       "UNION without ALL (UNION DISTINCT) is not supported; use UNION ALL");
      }
      Skip();
      Skip();
      EDDY_ASSIGN_OR_RETURN(QueryPtr term, ParseQueryTerm());
      terms.push_back(std::move(term));
      continue;
    }
    if (IsKw(t, "INTERSECT") || IsKw(t, "EXCEPT") || IsKw(t, "MINUS")) {
      return ErrorAt(t, fmt::format("{} is not supported: only UNION ALL is supported", t.upper));
    }
    break;
  }
  if (terms.size() == 1) return first;
  auto u = std::make_shared<Query>();
  u->pos = first->pos;
  u->union_all = std::move(terms);
  return u;
}

absl::StatusOr<QueryPtr> Parser::ParseQueryTerm() {
  if (PeekKw("SELECT")) return ParseSelect();
  if (PeekKw("VALUES")) return ParseValues();
  if (PeekOp("(")) {
    Skip();
    if (!StartsQuery()) return Unexpected("a query (SELECT, VALUES or WITH)");
    EDDY_ASSIGN_OR_RETURN(QueryPtr q, ParseQuery());
    EDDY_RETURN_IF_ERROR(ExpectOp(")"));
    return q;
  }
  return Unexpected("SELECT, VALUES or '('");
}

absl::StatusOr<QueryPtr> Parser::ParseValues() {
  Token values = Advance();
  std::vector<QueryPtr> rows;
  do {
    Token open = Peek();
    EDDY_RETURN_IF_ERROR(ExpectOp("(", "'(' to start a row"));
    auto row = std::make_shared<Query>();
    row->pos = rows.empty() ? values.pos : open.pos;
    do {
      EDDY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
      SelectItem item;
      item.pos = e->pos;
      item.expr = std::move(e);
      row->items.push_back(std::move(item));
    } while (AcceptOp(","));
    EDDY_RETURN_IF_ERROR(ExpectOp(")", "',' or ')'"));
    rows.push_back(std::move(row));
  } while (AcceptOp(","));
  if (rows.size() == 1) return rows[0];
  auto u = std::make_shared<Query>();
  u->pos = values.pos;
  u->union_all = std::move(rows);
  return u;
}

absl::StatusOr<QueryPtr> Parser::ParseSelect() {
  absl::StatusOr<QueryPtr> q = ParseSelectList();
  if (!q.ok()) return q;
  return ParseSelectClauses(*std::move(q));
}

// SELECT [DISTINCT|ALL] item, …
absl::StatusOr<QueryPtr> Parser::ParseSelectList() {
  auto q = std::make_shared<Query>();
  q->pos = Peek().pos;
  Skip();  // SELECT
  if (AcceptKw("DISTINCT")) {
    q->distinct = true;
  } else {
    AcceptKw("ALL");
  }
  std::optional<Token> implicit_alias;
  do {
    SelectItem item;
    implicit_alias.reset();
    EDDY_RETURN_IF_ERROR(ParseSelectItem(&item, &implicit_alias));
    q->items.push_back(std::move(item));
  } while (AcceptOp(","));
  if (!IsQueryFollower(Peek())) {
    return FollowerError(implicit_alias, "',' or FROM", kSelectListFollowers);
  }
  return q;
}

// [FROM …] [WHERE …] [GROUP BY …] [HAVING …]
absl::StatusOr<QueryPtr> Parser::ParseSelectClauses(QueryPtr q) {
  if (AcceptKw("FROM")) {
    EDDY_ASSIGN_OR_RETURN(q->from, ParseFrom());
    if (!IsQueryFollower(Peek()) || PeekKw("FROM")) {
      return FollowerError(last_table_alias_,
                           "a JOIN, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT or end of query",
                           kFromFollowers);
    }
  }
  if (AcceptKw("WHERE")) {
    EDDY_ASSIGN_OR_RETURN(q->where, ParseExpr());
  }
  if (PeekKw("GROUP")) {
    Skip();
    EDDY_RETURN_IF_ERROR(ExpectKw("BY"));
    do {
      EDDY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
      q->group_by.push_back(std::move(e));
    } while (AcceptOp(","));
  }
  if (AcceptKw("HAVING")) {
    EDDY_ASSIGN_OR_RETURN(q->having, ParseExpr());
  }
  return q;
}

absl::Status Parser::ParseSelectItem(SelectItem* item, std::optional<Token>* implicit_alias) {
  item->pos = Peek().pos;
  // `*` and `t.*` / `db.t.*`
  size_t k = 0;
  while (IsName(Peek(k)) && PeekOp(".", k + 1)) k += 2;
  if (PeekOp("*", k)) {
    auto star = NewExpr(ExprKind::kStar, item->pos);
    std::vector<std::string> parts;
    for (size_t i = 0; i < k; i += 2) {
      parts.push_back(Advance().text);
      Skip();  // .
    }
    Skip();  // *
    star->qualifier = Join(parts, ".");
    item->expr = std::move(star);
    if (PeekKw("AS")) return ErrorAt(Peek(), "'*' cannot have an alias");
    return absl::OkStatus();
  }
  EDDY_ASSIGN_OR_RETURN(item->expr, ParseExpr());
  if (AcceptKw("AS")) {
    return Identifier("an alias", true, &item->alias, nullptr);
  }
  if (IsAliasToken(Peek())) {
    *implicit_alias = Peek();
    item->alias = Advance().text;
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseOrderItems(std::vector<OrderItem>* out) {
  do {
    OrderItem item;
    EDDY_ASSIGN_OR_RETURN(item.expr, ParseExpr());
    if (AcceptKw("DESC")) {
      item.desc = true;
    } else {
      AcceptKw("ASC");
    }
    if (PeekKw("NULLS")) return ErrorAt(Peek(), "NULLS FIRST / NULLS LAST is not supported");
    out->push_back(std::move(item));
  } while (AcceptOp(","));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Parser::ParseRowCount(std::string_view clause) {
  const Token& t = Peek();
  if (t.kind != TokenKind::kInteger) {
    return Unexpected(fmt::format("a row count (an integer) after {}", clause));
  }
  int64_t n = 0;
  auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), n);
  if (ec != std::errc() || end != t.text.data() + t.text.size()) {
    return ErrorAt(t, fmt::format("{} row count {} is too large", clause, t.text));
  }
  Skip();
  return n;
}

absl::StatusOr<TableRefPtr> Parser::ParseFrom() {
  absl::StatusOr<TableRefPtr> left = ParseTablePrimary();
  while (left.ok() && StartsJoin()) left = ParseJoin(*std::move(left));
  return left;
}

bool Parser::StartsJoin() {
  const Token& t = Peek();
  return IsOp(t, ",") || IsKw(t, "JOIN") || IsKw(t, "INNER") || IsKw(t, "LEFT") ||
         IsKw(t, "RIGHT") || IsKw(t, "FULL") || IsKw(t, "CROSS") || IsKw(t, "NATURAL");
}

// `left` followed by one join: [INNER|LEFT [OUTER]|RIGHT [OUTER]|FULL [OUTER]] JOIN r ON c,
// CROSS JOIN r, or `, r`. Joins are left-associative.
absl::StatusOr<TableRefPtr> Parser::ParseJoin(TableRefPtr left) {
  Pos join_pos = Peek().pos;
  JoinType type;
  if (AcceptOp(",")) {
    type = JoinType::kCross;
  } else if (AcceptKw("JOIN")) {
    type = JoinType::kInner;
  } else if (AcceptKw("INNER")) {
    type = JoinType::kInner;
    EDDY_RETURN_IF_ERROR(ExpectKw("JOIN"));
  } else if (PeekKw("LEFT") || PeekKw("RIGHT") || PeekKw("FULL")) {
    type =
        PeekKw("LEFT") ? JoinType::kLeft : (PeekKw("RIGHT") ? JoinType::kRight : JoinType::kFull);
    Skip();
    AcceptKw("OUTER");
    EDDY_RETURN_IF_ERROR(ExpectKw("JOIN"));
  } else if (AcceptKw("CROSS")) {
    type = JoinType::kCross;
    EDDY_RETURN_IF_ERROR(ExpectKw("JOIN"));
  } else {
    return ErrorAt(Peek(), "NATURAL JOIN is not supported", "use JOIN … ON");
  }
  if (++joins_ > kMaxJoins) {
    return SqlError(src_, join_pos,
                    fmt::format("too many joins in one statement (more than {})", kMaxJoins));
  }
  EDDY_ASSIGN_OR_RETURN(TableRefPtr right, ParseTablePrimary());
  auto join = std::make_shared<TableRef>();
  join->kind = TableRefKind::kJoin;
  join->pos = left->pos;
  join->join_type = type;
  join->left = std::move(left);
  join->right = std::move(right);
  if (type != JoinType::kCross) {
    if (PeekKw("USING")) return ErrorAt(Peek(), "JOIN … USING is not supported", "use ON");
    if (!AcceptKw("ON")) return Unexpected("ON and a join condition");
    EDDY_ASSIGN_OR_RETURN(join->on, ParseExpr());
  } else if (PeekKw("ON")) {
    return ErrorAt(Peek(), "a CROSS JOIN or comma join cannot have an ON condition",
                   "use JOIN … ON");
  }
  return join;
}

absl::StatusOr<TableRefPtr> Parser::ParseTablePrimary() {
  Nest nest(&depth_);
  if (nest.too_deep()) return TooDeep();
  TableRefPtr ref;
  if (PeekOp("(")) {
    EDDY_ASSIGN_OR_RETURN(ref, ParseParenTableRef());
  } else if (PeekKw("TABLE") && PeekOp("(", 1)) {
    EDDY_ASSIGN_OR_RETURN(ref, ParseWindowTvf());
  } else {
    EDDY_ASSIGN_OR_RETURN(ref, ParseNamedTableRef());
  }
  if (PeekKw("MATCH_RECOGNIZE")) return ParseMatchRecognize(std::move(ref));
  return ref;
}

// input MATCH_RECOGNIZE ( [PARTITION BY …] ORDER BY … [MEASURES …] [ONE ROW PER MATCH | ALL ROWS
// PER MATCH] [AFTER MATCH SKIP …] PATTERN ( … ) [WITHIN INTERVAL …] DEFINE v AS cond, … )
// [AS] alias (Flink SQL: "Pattern Recognition").
absl::StatusOr<TableRefPtr> Parser::ParseMatchRecognize(TableRefPtr input) {
  if (!input->alias.empty()) {
    return ErrorAt(Peek(), "the alias goes after MATCH_RECOGNIZE ( … ), not before it");
  }
  auto ref = std::make_shared<TableRef>();
  ref->kind = TableRefKind::kMatchRecognize;
  ref->pos = Advance().pos;  // MATCH_RECOGNIZE
  ref->tvf_input = std::move(input);
  auto mr = std::make_shared<MatchRecognize>();
  ref->match = mr;
  EDDY_RETURN_IF_ERROR(ExpectOp("("));
  if (AcceptKw("PARTITION")) {
    EDDY_RETURN_IF_ERROR(ExpectKw("BY"));
    do {
      EDDY_ASSIGN_OR_RETURN(auto e, ParseExpr());
      mr->partition_by.push_back(std::move(e));
    } while (AcceptOp(","));
  }
  if (!PeekKw("ORDER")) {
    return Unexpected("ORDER BY <time attribute> (MATCH_RECOGNIZE orders each partition by time)");
  }
  Skip();
  EDDY_RETURN_IF_ERROR(ExpectKw("BY"));
  do {
    OrderItem o;
    EDDY_ASSIGN_OR_RETURN(o.expr, ParseExpr());
    if (AcceptKw("DESC")) {
      o.desc = true;
    } else {
      AcceptKw("ASC");
    }
    mr->order_by.push_back(std::move(o));
  } while (AcceptOp(","));
  if (AcceptKw("MEASURES")) {
    do {
      SelectItem it;
      it.pos = Peek().pos;
      EDDY_ASSIGN_OR_RETURN(it.expr, ParseExpr());
      if (!AcceptKw("AS")) return Unexpected("AS and a name for the measure");
      EDDY_RETURN_IF_ERROR(Identifier("a measure name", true, &it.alias, nullptr));
      mr->measures.push_back(std::move(it));
    } while (AcceptOp(","));
  }
  mr->rows_pos = Peek().pos;
  if (AcceptKw("ONE")) {
    EDDY_RETURN_IF_ERROR(ExpectKw("ROW"));
    EDDY_RETURN_IF_ERROR(ExpectKw("PER"));
    EDDY_RETURN_IF_ERROR(ExpectKw("MATCH"));
  } else if (AcceptKw("ALL")) {
    EDDY_RETURN_IF_ERROR(ExpectKw("ROWS"));
    EDDY_RETURN_IF_ERROR(ExpectKw("PER"));
    EDDY_RETURN_IF_ERROR(ExpectKw("MATCH"));
    mr->all_rows = true;
    // SHOW / OMIT EMPTY MATCHES change nothing: patterns that can match no rows are rejected.
    if (AcceptKw("SHOW") || AcceptKw("OMIT")) {
      EDDY_RETURN_IF_ERROR(ExpectKw("EMPTY"));
      EDDY_RETURN_IF_ERROR(ExpectKw("MATCHES"));
    } else if (PeekKw("WITH")) {
      return ErrorAt(Peek(), "ALL ROWS PER MATCH WITH UNMATCHED ROWS is not supported");
    }
  }
  if (AcceptKw("AFTER")) {
    EDDY_RETURN_IF_ERROR(ExpectKw("MATCH"));
    EDDY_RETURN_IF_ERROR(ExpectKw("SKIP"));
    if (AcceptKw("PAST")) {
      EDDY_RETURN_IF_ERROR(ExpectKw("LAST"));
      EDDY_RETURN_IF_ERROR(ExpectKw("ROW"));
      mr->skip = MatchRecognize::Skip::kPastLastRow;
    } else {
      EDDY_RETURN_IF_ERROR(ExpectKw("TO"));
      if (AcceptKw("NEXT")) {
        EDDY_RETURN_IF_ERROR(ExpectKw("ROW"));
        mr->skip = MatchRecognize::Skip::kToNextRow;
      } else {
        mr->skip = MatchRecognize::Skip::kToLast;  // TO v means TO LAST v
        if (AcceptKw("FIRST")) {
          mr->skip = MatchRecognize::Skip::kToFirst;
        } else {
          AcceptKw("LAST");
        }
        mr->skip_pos = Peek().pos;
        EDDY_RETURN_IF_ERROR(Identifier("a pattern variable", true, &mr->skip_var, nullptr));
      }
    }
  }
  if (!PeekKw("PATTERN")) return Unexpected("PATTERN ( … )");
  Skip();
  if (!PeekOp("(")) return Unexpected("'(' and the row pattern");
  // The pattern has its own syntax (quantifiers like {2,3} and +?): take its raw text up to the
  // matching ')' and let the binder parse it (runtime/cep/pattern.h).
  {
    Pos open = Peek().pos;
    la_.clear();
    size_t i = open.offset + 1;
    int depth = 1;
    int line = open.line, col = open.col + 1;
    while (i < src_.size()) {
      char c = src_[i];
      if (c == '(') ++depth;
      if (c == ')' && --depth == 0) break;
      if (c == '\n') {
        ++line;
        col = 0;
      }
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++col;
      ++i;
    }
    if (i >= src_.size()) {
      return SqlError(src_, open, "PATTERN ( has no closing ')'");
    }
    mr->pattern_pos = Pos{open.line, open.col + 1, open.offset + 1};
    mr->pattern = std::string(src_.substr(open.offset + 1, i - open.offset - 1));
    lexer_.ResetTo(Pos{line, col + 1, i + 1});
    prev_end_ = i + 1;
  }
  if (AcceptKw("WITHIN")) {
    EDDY_ASSIGN_OR_RETURN(mr->within, ParseExpr());
  }
  if (!AcceptKw("DEFINE")) {
    return Unexpected("DEFINE and the conditions of the pattern variables");
  }
  do {
    MatchRecognize::Define d;
    d.pos = Peek().pos;
    EDDY_RETURN_IF_ERROR(Identifier("a pattern variable", true, &d.var, nullptr));
    EDDY_RETURN_IF_ERROR(ExpectKw("AS"));
    EDDY_ASSIGN_OR_RETURN(d.cond, ParseExpr());
    mr->define.push_back(std::move(d));
  } while (AcceptOp(","));
  EDDY_RETURN_IF_ERROR(ExpectOp(")", "',' or ')' to end MATCH_RECOGNIZE"));
  EDDY_RETURN_IF_ERROR(ParseTableAlias(ref.get()));
  return ref;
}

// (query) [AS] alias, or a parenthesized join.
absl::StatusOr<TableRefPtr> Parser::ParseParenTableRef() {
  size_t k = 1;
  while (PeekOp("(", k)) ++k;
  if (StartsQueryKeyword(k)) {
    auto ref = std::make_shared<TableRef>();
    ref->kind = TableRefKind::kSubquery;
    ref->pos = Peek().pos;
    Skip();
    EDDY_ASSIGN_OR_RETURN(ref->subquery, ParseQuery());
    EDDY_RETURN_IF_ERROR(ExpectOp(")"));
    EDDY_RETURN_IF_ERROR(ParseTableAlias(ref.get()));
    return ref;
  }
  Skip();
  EDDY_ASSIGN_OR_RETURN(TableRefPtr inner, ParseFrom());
  EDDY_RETURN_IF_ERROR(ExpectOp(")", "a JOIN or ')'"));
  return inner;
}

// name [FOR SYSTEM_TIME AS OF expr] [[AS] alias]
absl::StatusOr<TableRefPtr> Parser::ParseNamedTableRef() {
  if (PeekKw("LATERAL") || PeekKw("UNNEST")) {
    return ErrorAt(Peek(), fmt::format("{} is not supported", Peek().upper));
  }
  auto ref = std::make_shared<TableRef>();
  ref->kind = TableRefKind::kNamed;
  EDDY_RETURN_IF_ERROR(ObjectName("a table name", &ref->name, &ref->pos));
  if (PeekKw("FOR")) {
    Skip();
    EDDY_RETURN_IF_ERROR(ExpectKw("SYSTEM_TIME"));
    EDDY_RETURN_IF_ERROR(ExpectKw("AS"));
    EDDY_RETURN_IF_ERROR(ExpectKw("OF"));
    EDDY_ASSIGN_OR_RETURN(ref->system_time, ParseExpr());
  }
  EDDY_RETURN_IF_ERROR(ParseTableAlias(ref.get()));
  return ref;
}

absl::Status Parser::ParseTableAlias(TableRef* ref) {
  last_table_alias_.reset();
  if (AcceptKw("AS")) {
    EDDY_RETURN_IF_ERROR(Identifier("an alias", true, &ref->alias, nullptr));
  } else if (IsAliasToken(Peek())) {
    last_table_alias_ = Peek();
    ref->alias = Advance().text;
  } else {
    return absl::OkStatus();
  }
  if (PeekOp("(")) {
    ref->column_aliases_pos = Peek().pos;
    EDDY_RETURN_IF_ERROR(IdentifierList(&ref->column_aliases));
  }
  return absl::OkStatus();
}

absl::StatusOr<TableRefPtr> Parser::ParseWindowTvf() {
  auto ref = std::make_shared<TableRef>();
  ref->kind = TableRefKind::kWindowTvf;
  ref->pos = Advance().pos;  // TABLE
  Skip();                    // (
  static const std::vector<std::string> kWindows = {"TUMBLE", "HOP", "CUMULATE", "SESSION"};
  const Token& fn = Peek();
  if (fn.kind != TokenKind::kIdent || !Contains(kWindows, fn.upper)) {
    std::string hint = KeywordHint(fn, kWindows);
    if (hint.empty()) hint = "other table functions are not supported in TABLE(…)";
    return Unexpected("a window function: TUMBLE, HOP, CUMULATE or SESSION", hint);
  }
  ref->tvf = Advance().upper;
  std::vector<std::string> params;
  size_t required = 0;
  std::string signature;
  if (ref->tvf == "TUMBLE") {
    params = {"DATA", "TIMECOL", "SIZE", "OFFSET"};
    required = 3;
    signature = "TUMBLE(TABLE t, DESCRIPTOR(time_col), size [, offset])";
  } else if (ref->tvf == "HOP") {
    params = {"DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"};
    required = 4;
    signature = "HOP(TABLE t, DESCRIPTOR(time_col), slide, size [, offset])";
  } else if (ref->tvf == "CUMULATE") {
    params = {"DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"};
    required = 4;
    signature = "CUMULATE(TABLE t, DESCRIPTOR(time_col), step, size [, offset])";
  } else {
    params = {"DATA", "TIMECOL", "GAP"};
    required = 3;
    signature = "SESSION(TABLE t [PARTITION BY k, …], DESCRIPTOR(time_col), gap)";
  }
  EDDY_RETURN_IF_ERROR(ExpectOp("("));
  std::vector<ExprPtr> slots(params.size());
  std::vector<bool> given(params.size(), false);
  int mode = 0;  // 1 positional, 2 named
  size_t next = 0;
  do {
    Token at = Peek();
    size_t slot = 0;
    if (IsName(at) && PeekOp("=>", 1)) {
      if (mode == 1) return ErrorAt(at, "cannot mix named and positional arguments");
      mode = 2;
      std::string upper = ToUpper(at.text);
      auto it = std::find(params.begin(), params.end(), upper);
      if (it == params.end()) {
        std::string best = ClosestName(at.text, params);
        return ErrorAt(at,
                       fmt::format("unknown parameter '{}' of {}; its parameters are {}", at.text,
                                   ref->tvf, Join(params, ", ")),
                       best.empty() ? "" : fmt::format("did you mean {}?", best));
      }
      slot = static_cast<size_t>(it - params.begin());
      if (given[slot]) return ErrorAt(at, fmt::format("parameter {} is given twice", upper));
      Skip();
      Skip();  // =>
    } else {
      if (mode == 2) return ErrorAt(at, "cannot mix named and positional arguments");
      mode = 1;
      if (next >= params.size()) {
        return ErrorAt(at,
                       fmt::format("too many arguments for {}; expected {}", ref->tvf, signature));
      }
      slot = next++;
    }
    given[slot] = true;
    if (slot == 0) {
      if (!AcceptKw("TABLE")) return Unexpected("TABLE and a table name", signature);
      auto input = std::make_shared<TableRef>();
      input->kind = TableRefKind::kNamed;
      EDDY_RETURN_IF_ERROR(ObjectName("a table name", &input->name, &input->pos));
      ref->tvf_input = std::move(input);
      if (PeekKw("PARTITION")) {
        if (ref->tvf != "SESSION") {
          return ErrorAt(Peek(), "PARTITION BY is only allowed in SESSION windows");
        }
        Skip();
        EDDY_RETURN_IF_ERROR(ExpectKw("BY"));
        bool parenthesized = AcceptOp("(");
        while (true) {
          EDDY_ASSIGN_OR_RETURN(ExprPtr key, ParseExpr());
          ref->partition_by.push_back(std::move(key));
          // In `PARTITION BY a, b, DESCRIPTOR(ts)` the list ends before the next argument.
          bool next_is_arg =
              (PeekKw("DESCRIPTOR", 1) && PeekOp("(", 2)) || (IsName(Peek(1)) && PeekOp("=>", 2));
          if (PeekOp(",") && (parenthesized || !next_is_arg)) {
            Skip();
            continue;
          }
          break;
        }
        if (parenthesized) EDDY_RETURN_IF_ERROR(ExpectOp(")", "',' or ')'"));
      }
    } else if (slot == 1) {
      if (!AcceptKw("DESCRIPTOR")) return Unexpected("DESCRIPTOR(time_column)", signature);
      EDDY_RETURN_IF_ERROR(ExpectOp("("));
      EDDY_RETURN_IF_ERROR(
          Identifier("the name of a time column", true, &ref->descriptor, &ref->descriptor_pos));
      if (PeekOp(",")) return ErrorAt(Peek(), "DESCRIPTOR takes exactly one time column");
      EDDY_RETURN_IF_ERROR(ExpectOp(")"));
    } else {
      EDDY_ASSIGN_OR_RETURN(slots[slot], ParseExpr());
    }
  } while (AcceptOp(","));
  Token close = Peek();
  EDDY_RETURN_IF_ERROR(ExpectOp(")", "',' or ')'"));
  for (size_t i = 0; i < required; ++i) {
    if (!given[i]) {
      return ErrorAt(close, fmt::format("{} is missing its {} argument", ref->tvf, params[i]),
                     fmt::format("usage: {}", signature));
    }
  }
  for (size_t i = 2; i < params.size(); ++i) {
    if (given[i]) ref->tvf_args.push_back(slots[i]);
  }
  EDDY_RETURN_IF_ERROR(ExpectOp(")", "')' to close TABLE("));
  EDDY_RETURN_IF_ERROR(ParseTableAlias(ref.get()));
  return ref;
}

// ============================================================================================
// Expressions
// ============================================================================================

int Parser::HeightOf(const ExprPtr& e) const {
  auto it = heights_.find(e.get());
  return it == heights_.end() ? 1 : it->second;
}

// Records the height of a node with children; rejects trees too high to walk recursively.
absl::StatusOr<ExprPtr> Parser::Node(ExprPtr e) {
  int h = 0;
  auto visit = [&](const ExprPtr& c) {
    if (c) h = std::max(h, HeightOf(c));
  };
  for (const ExprPtr& a : e->args) visit(a);
  visit(e->filter);
  if (e->over) {
    for (const ExprPtr& p : e->over->partition_by) visit(p);
    for (const auto& o : e->over->order_by) visit(o.first);
    visit(e->over->preceding);
  }
  ++h;
  if (h > kMaxExprHeight) {
    return SqlError(src_, e->pos,
                    fmt::format("expression is too complex (more than {} levels)", kMaxExprHeight));
  }
  if (h > 1) heights_[e.get()] = h;
  return e;
}

// The recursion runs through ParseExpr → ParsePrefix/ParseInfix → … → ParseExpr, so these
// functions keep small frames (no Token copies, one job each): 256 levels fit in well under 1 MB.
absl::StatusOr<ExprPtr> Parser::ParseExpr(int min_prec) {
  Nest nest(&depth_);
  if (nest.too_deep()) return TooDeep();
  absl::StatusOr<ExprPtr> lhs = ParsePrefix();
  bool more = true;
  while (lhs.ok() && more) lhs = ParseInfix(*std::move(lhs), min_prec, &more);
  return lhs;
}

// NOT x, -x, +x or a primary.
absl::StatusOr<ExprPtr> Parser::ParsePrefix() {
  const Token& t = Peek();
  if (IsKw(t, "NOT")) return ParseUnary("NOT", kPrecNot);
  if (IsOp(t, "-")) return ParseUnary("-", kPrecUnary);
  if (IsOp(t, "+")) return ParseUnary("+", kPrecUnary);
  return ParsePrimary();
}

absl::StatusOr<ExprPtr> Parser::ParseUnary(const char* op, int operand_prec) {
  Pos pos = Peek().pos;
  Skip();
  absl::StatusOr<ExprPtr> operand = ParseExpr(operand_prec);
  if (!operand.ok()) return operand;
  auto e = NewExpr(ExprKind::kUnary, pos);
  e->op = op;
  e->args.push_back(*std::move(operand));
  return Node(std::move(e));
}

// Applies the infix or postfix operator at the current token to `lhs` when it binds at least as
// tightly as `min_prec`; otherwise returns `lhs` unchanged and sets *more = false.
absl::StatusOr<ExprPtr> Parser::ParseInfix(ExprPtr lhs, int min_prec, bool* more) {
  *more = true;
  const Token& t = Peek();
  if (t.kind == TokenKind::kIdent) {
    if (t.upper == "OR" && kPrecOr >= min_prec) return ParseBinaryRhs(std::move(lhs), kPrecOr);
    if (t.upper == "AND" && kPrecAnd >= min_prec) return ParseBinaryRhs(std::move(lhs), kPrecAnd);
    if (t.upper == "IS" && kPrecIs >= min_prec) return ParseIsSuffix(std::move(lhs));
    if (kPrecLike >= min_prec) {
      bool negated = t.upper == "NOT";
      const Token& op = Peek(negated ? 1 : 0);
      if (IsKw(op, "IN")) return ParseInSuffix(std::move(lhs), negated);
      if (IsKw(op, "BETWEEN")) return ParseBetweenSuffix(std::move(lhs), negated);
      if (IsKw(op, "LIKE")) return ParseLikeSuffix(std::move(lhs), negated);
    }
  } else if (t.kind == TokenKind::kOp) {
    const std::string& s = t.text;
    int prec = 0;
    if (s == "=" || s == "<>" || s == "!=" || s == "<" || s == "<=" || s == ">" || s == ">=") {
      prec = kPrecCmp;
    } else if (s == "+" || s == "-" || s == "||") {
      prec = kPrecAdd;
    } else if (s == "*" || s == "/" || s == "%") {
      prec = kPrecMul;
    }
    if (prec != 0 && prec >= min_prec) return ParseBinaryRhs(std::move(lhs), prec);
  }
  *more = false;
  return lhs;
}

// lhs OP rhs for a left-associative binary operator at the current token.
absl::StatusOr<ExprPtr> Parser::ParseBinaryRhs(ExprPtr lhs, int prec) {
  auto e = NewExpr(ExprKind::kBinary, lhs->pos);
  const Token& t = Peek();
  e->op = t.kind == TokenKind::kIdent ? t.upper : (t.text == "!=" ? "<>" : t.text);
  Skip();
  absl::StatusOr<ExprPtr> rhs = ParseExpr(prec + 1);
  if (!rhs.ok()) return rhs;
  e->args.push_back(std::move(lhs));
  e->args.push_back(*std::move(rhs));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseIsSuffix(ExprPtr lhs) {
  Skip();  // IS
  bool negated = AcceptKw("NOT");
  ExprPtr e;
  if (AcceptKw("NULL") || AcceptKw("UNKNOWN")) {
    e = NewExpr(ExprKind::kIsNull, lhs->pos);
  } else if (PeekKw("TRUE") || PeekKw("FALSE")) {
    e = NewExpr(ExprKind::kIsBool, lhs->pos);
    e->bool_value = PeekKw("TRUE");
    Skip();
  } else if (PeekKw("DISTINCT")) {
    return ErrorAt(Peek(), "IS [NOT] DISTINCT FROM is not supported");
  } else {
    return Unexpected(negated ? "NULL, TRUE or FALSE after IS NOT"
                              : "NOT, NULL, TRUE or FALSE after IS");
  }
  e->negated = negated;
  e->args.push_back(std::move(lhs));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseInSuffix(ExprPtr lhs, bool negated) {
  if (negated) Skip();
  Skip();  // IN
  auto e = NewExpr(ExprKind::kIn, lhs->pos);
  e->negated = negated;
  e->args.push_back(std::move(lhs));
  EDDY_RETURN_IF_ERROR(ExpectOp("(", "'(' and a list of values after IN"));
  if (StartsQueryKeyword()) {
    return ErrorAt(Peek(), "subqueries in expressions (IN (SELECT …)) are not supported");
  }
  do {
    absl::StatusOr<ExprPtr> v = ParseExpr();
    if (!v.ok()) return v;
    e->args.push_back(*std::move(v));
  } while (AcceptOp(","));
  EDDY_RETURN_IF_ERROR(ExpectOp(")", "',' or ')'"));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseBetweenSuffix(ExprPtr lhs, bool negated) {
  if (negated) Skip();
  Skip();  // BETWEEN
  if (PeekKw("SYMMETRIC")) return ErrorAt(Peek(), "BETWEEN SYMMETRIC is not supported");
  AcceptKw("ASYMMETRIC");
  auto e = NewExpr(ExprKind::kBetween, lhs->pos);
  e->negated = negated;
  e->args.push_back(std::move(lhs));
  absl::StatusOr<ExprPtr> low = ParseExpr(kPrecLike + 1);
  if (!low.ok()) return low;
  e->args.push_back(*std::move(low));
  EDDY_RETURN_IF_ERROR(ExpectKw("AND"));
  absl::StatusOr<ExprPtr> high = ParseExpr(kPrecLike + 1);
  if (!high.ok()) return high;
  e->args.push_back(*std::move(high));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseLikeSuffix(ExprPtr lhs, bool negated) {
  if (negated) Skip();
  Skip();  // LIKE
  auto e = NewExpr(ExprKind::kLike, lhs->pos);
  e->negated = negated;
  e->args.push_back(std::move(lhs));
  absl::StatusOr<ExprPtr> pattern = ParseExpr(kPrecLike + 1);
  if (!pattern.ok()) return pattern;
  e->args.push_back(*std::move(pattern));
  if (AcceptKw("ESCAPE")) {
    absl::StatusOr<ExprPtr> esc = ParseExpr(kPrecLike + 1);
    if (!esc.ok()) return esc;
    e->args.push_back(*std::move(esc));
  }
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParsePrimary() {
  const Token& t = Peek();
  switch (t.kind) {
    case TokenKind::kInteger:
    case TokenKind::kDecimal:
    case TokenKind::kDouble:
    case TokenKind::kString:
      return ParseLiteral();
    case TokenKind::kQuotedIdent:
      return ParseName();
    case TokenKind::kIdent:
      return ParseKeywordOrName();
    case TokenKind::kOp:
      if (t.text == "(") return ParseParenthesized();
      return Unexpected("an expression");
    default:
      return Unexpected("an expression");
  }
}

// Number, string, NULL/TRUE/FALSE/UNKNOWN, or DATE/TIME/TIMESTAMP 'text'.
absl::StatusOr<ExprPtr> Parser::ParseLiteral() {
  const Token& t = Peek();
  auto e = NewExpr(ExprKind::kLiteral, t.pos);
  switch (t.kind) {
    case TokenKind::kInteger:
      e->lit_type = LiteralType::kInteger;
      break;
    case TokenKind::kDecimal:
      e->lit_type = LiteralType::kDecimal;
      break;
    case TokenKind::kDouble:
      e->lit_type = LiteralType::kDouble;
      break;
    case TokenKind::kString:
      e->lit_type = LiteralType::kString;
      break;
    default: {
      const std::string& u = t.upper;
      if (u == "NULL" || u == "UNKNOWN") {
        e->lit_type = LiteralType::kNull;
      } else if (u == "TRUE") {
        e->lit_type = LiteralType::kTrue;
      } else if (u == "FALSE") {
        e->lit_type = LiteralType::kFalse;
      } else {  // DATE / TIME / TIMESTAMP followed by a string
        e->lit_type = u == "DATE"   ? LiteralType::kDate
                      : u == "TIME" ? LiteralType::kTime
                                    : LiteralType::kTimestamp;
        Skip();
      }
    }
  }
  e->text = Peek().text;
  Skip();
  return e;
}

// An expression starting with an unquoted word: keyword literal or syntax, function call, or
// column reference.
absl::StatusOr<ExprPtr> Parser::ParseKeywordOrName() {
  const Token& t = Peek();
  const std::string& upper = t.upper;
  if (upper == "NULL" || upper == "UNKNOWN" || upper == "TRUE" || upper == "FALSE") {
    return ParseLiteral();
  }
  if ((upper == "DATE" || upper == "TIME" || upper == "TIMESTAMP") &&
      Peek(1).kind == TokenKind::kString) {
    return ParseLiteral();
  }
  if (upper == "INTERVAL") return ParseInterval();
  if (upper == "CASE") return ParseCase();
  // SQL:2016 row pattern navigation semantics, `RUNNING LAST(A.x)` / `FINAL SUM(A.x)`: the call
  // wrapped in a function RUNNING(…) / FINAL(…) that the MATCH_RECOGNIZE binder resolves. Only
  // before these calls, so `final IN (…)` stays a column.
  static const std::set<std::string> kNavigation = {"LAST", "FIRST", "SUM",  "AVG",
                                                    "MIN",  "MAX",   "COUNT"};
  if ((upper == "RUNNING" || upper == "FINAL") && Peek(1).kind == TokenKind::kIdent &&
      kNavigation.contains(Peek(1).upper) && PeekOp("(", 2)) {
    auto e = NewExpr(ExprKind::kFunction, t.pos);
    e->name = upper;
    Skip();
    EDDY_ASSIGN_OR_RETURN(auto arg, ParseKeywordOrName());
    e->args.push_back(std::move(arg));
    return e;
  }
  bool call = PeekOp("(", 1);
  if (IsNiladicFunction(upper) && !call) {
    auto e = NewExpr(ExprKind::kFunction, t.pos);
    e->name = t.text;
    Skip();
    return e;
  }
  if (call) {
    if (upper == "CAST" || upper == "TRY_CAST") return ParseCast();
    if (upper == "EXTRACT") return ParseExtract();
    if (upper == "FLOOR" || upper == "CEIL" || upper == "CEILING") return ParseFloorCeil();
    if (upper == "SUBSTRING") return ParseSubstring();
    if (upper == "TRIM") return ParseTrim();
    if (upper == "POSITION") return ParsePosition();
    if (upper == "OVERLAY") return ParseOverlay();
    if (upper == "EXISTS") return ErrorAt(t, "EXISTS subqueries are not supported");
    if (!IsReserved(upper) || upper == "LEFT" || upper == "RIGHT" || IsNiladicFunction(upper)) {
      return ParseName();
    }
  }
  if (!IsReserved(upper)) return ParseName();
  std::string hint;
  if (!IsClauseKeyword(upper)) {
    hint = fmt::format("{} is a reserved keyword; if it is a column name, quote it: `{}`", upper,
                       t.text);
  }
  return Unexpected("an expression", hint);
}

absl::StatusOr<ExprPtr> Parser::ParseParenthesized() {
  Skip();  // (
  if (StartsQueryKeyword()) {
    return ErrorAt(Peek(), "subqueries in expressions are not supported");
  }
  EDDY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  return e;
}

// a, t.a, db.t.a (column) or name(…) / db.name(…) (function call).
absl::StatusOr<ExprPtr> Parser::ParseName() {
  Pos pos = Peek().pos;
  std::string name = Peek().text;
  std::string qualifier;
  Skip();
  while (PeekOp(".")) {
    if (IsName(Peek(1))) {
      Skip();
      if (!qualifier.empty()) qualifier += '.';
      qualifier += name;
      name = Peek().text;
      Skip();
      continue;
    }
    if (PeekOp("*", 1)) return ErrorAt(Peek(1), "'t.*' is only allowed as a SELECT item");
    Skip();
    return Unexpected("a column name after '.'");
  }
  if (PeekOp("(")) {
    if (!qualifier.empty()) name = qualifier + "." + name;
    return ParseFunctionCall(std::move(name), pos);
  }
  auto e = NewExpr(ExprKind::kColumn, pos);
  e->name = std::move(name);
  e->qualifier = std::move(qualifier);
  return e;
}

absl::StatusOr<ExprPtr> Parser::ParseFunctionCall(std::string name, Pos pos) {
  Skip();  // (
  auto e = NewExpr(ExprKind::kFunction, pos);
  e->name = std::move(name);
  if (!AcceptOp(")")) {
    if (AcceptKw("DISTINCT")) {
      e->distinct = true;
    } else {
      AcceptKw("ALL");
    }
    if (PeekOp("*") && PeekOp(")", 1)) {
      Skip();
      e->star_arg = true;
    } else if ((Peek().kind == TokenKind::kIdent || Peek().kind == TokenKind::kQuotedIdent) &&
               PeekOp(".", 1) && PeekOp("*", 2) && PeekOp(")", 3)) {
      // COUNT(A.*) (MATCH_RECOGNIZE: the rows mapped to pattern variable A).
      auto star = NewExpr(ExprKind::kStar, Peek().pos);
      star->qualifier = Advance().text;
      Skip();  // .
      Skip();  // *
      e->args.push_back(std::move(star));
    } else {
      if (StartsQueryKeyword()) {
        return ErrorAt(Peek(), "subqueries in expressions are not supported");
      }
      do {
        absl::StatusOr<ExprPtr> a = ParseExpr();
        if (!a.ok()) return a;
        e->args.push_back(*std::move(a));
      } while (AcceptOp(","));
    }
    EDDY_RETURN_IF_ERROR(ExpectOp(")", "',' or ')'"));
  }
  if (PeekKw("FILTER") || PeekKw("OVER")) return ParseCallSuffix(std::move(e));
  return Node(std::move(e));
}

// agg(…) FILTER (WHERE cond) and f(…) OVER (…).
absl::StatusOr<ExprPtr> Parser::ParseCallSuffix(ExprPtr e) {
  if (AcceptKw("FILTER")) {
    EDDY_RETURN_IF_ERROR(ExpectOp("(", "'(' after FILTER"));
    EDDY_RETURN_IF_ERROR(ExpectKw("WHERE"));
    EDDY_ASSIGN_OR_RETURN(e->filter, ParseExpr());
    EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  }
  if (AcceptKw("OVER")) {
    if (IsName(Peek())) {
      return ErrorAt(Peek(), "named windows (OVER w) are not supported", "write OVER (…)");
    }
    EDDY_ASSIGN_OR_RETURN(e->over, ParseOver());
  }
  return Node(std::move(e));
}

absl::StatusOr<std::shared_ptr<OverSpec>> Parser::ParseOver() {
  EDDY_RETURN_IF_ERROR(ExpectOp("(", "'(' after OVER"));
  auto over = std::make_shared<OverSpec>();
  if (PeekKw("PARTITION")) {
    Skip();
    EDDY_RETURN_IF_ERROR(ExpectKw("BY"));
    do {
      EDDY_ASSIGN_OR_RETURN(ExprPtr p, ParseExpr());
      over->partition_by.push_back(std::move(p));
    } while (AcceptOp(","));
  }
  if (PeekKw("ORDER")) {
    Skip();
    EDDY_RETURN_IF_ERROR(ExpectKw("BY"));
    std::vector<OrderItem> items;
    EDDY_RETURN_IF_ERROR(ParseOrderItems(&items));
    for (OrderItem& i : items) over->order_by.emplace_back(std::move(i.expr), i.desc);
  }
  if (PeekKw("ROWS") || PeekKw("RANGE")) {
    over->has_frame = true;
    over->rows = Advance().upper == "ROWS";
    FrameBound start, end;
    end.kind = FrameBound::kCurrentRow;
    if (AcceptKw("BETWEEN")) {
      EDDY_ASSIGN_OR_RETURN(start, ParseFrameBound());
      EDDY_RETURN_IF_ERROR(ExpectKw("AND"));
      EDDY_ASSIGN_OR_RETURN(end, ParseFrameBound());
    } else {
      EDDY_ASSIGN_OR_RETURN(start, ParseFrameBound());
    }
    switch (start.kind) {
      case FrameBound::kUnboundedPreceding:
        over->preceding = nullptr;
        break;
      case FrameBound::kPreceding:
        over->preceding = start.expr;
        break;
      case FrameBound::kCurrentRow: {
        auto zero = NewExpr(ExprKind::kLiteral, start.token.pos);
        zero->lit_type = LiteralType::kInteger;
        zero->text = "0";
        over->preceding = std::move(zero);
        break;
      }
      default:
        return ErrorAt(start.token, "a window frame cannot start with FOLLOWING");
    }
    if (end.kind == FrameBound::kUnboundedPreceding) {
      return ErrorAt(end.token, "a window frame cannot end with UNBOUNDED PRECEDING");
    }
    over->current_row_end = end.kind == FrameBound::kCurrentRow;
  }
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  return over;
}

absl::StatusOr<Parser::FrameBound> Parser::ParseFrameBound() {
  FrameBound b;
  b.token = Peek();
  if (AcceptKw("UNBOUNDED")) {
    if (AcceptKw("PRECEDING")) {
      b.kind = FrameBound::kUnboundedPreceding;
    } else if (AcceptKw("FOLLOWING")) {
      b.kind = FrameBound::kUnboundedFollowing;
    } else {
      return Unexpected("PRECEDING or FOLLOWING");
    }
    return b;
  }
  if (AcceptKw("CURRENT")) {
    EDDY_RETURN_IF_ERROR(ExpectKw("ROW"));
    b.kind = FrameBound::kCurrentRow;
    return b;
  }
  EDDY_ASSIGN_OR_RETURN(b.expr, ParseExpr());
  if (AcceptKw("PRECEDING")) {
    b.kind = FrameBound::kPreceding;
  } else if (AcceptKw("FOLLOWING")) {
    b.kind = FrameBound::kFollowing;
  } else {
    return Unexpected("PRECEDING or FOLLOWING");
  }
  return b;
}

absl::StatusOr<ExprPtr> Parser::ParseCase() {
  auto e = NewExpr(ExprKind::kCase, Advance().pos);
  if (!PeekKw("WHEN")) {
    EDDY_ASSIGN_OR_RETURN(ExprPtr operand, ParseExpr());
    e->args.push_back(std::move(operand));
    e->case_has_operand = true;
  }
  if (!PeekKw("WHEN")) return Unexpected("WHEN");
  while (AcceptKw("WHEN")) {
    EDDY_ASSIGN_OR_RETURN(ExprPtr when, ParseExpr());
    EDDY_RETURN_IF_ERROR(ExpectKw("THEN"));
    EDDY_ASSIGN_OR_RETURN(ExprPtr then, ParseExpr());
    e->args.push_back(std::move(when));
    e->args.push_back(std::move(then));
  }
  if (AcceptKw("ELSE")) {
    EDDY_ASSIGN_OR_RETURN(ExprPtr other, ParseExpr());
    e->args.push_back(std::move(other));
    e->case_has_else = true;
  }
  if (!AcceptKw("END")) return Unexpected(e->case_has_else ? "END" : "WHEN, ELSE or END");
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseCast() {
  Token kw = Advance();
  Skip();  // (
  auto e = NewExpr(ExprKind::kCast, kw.pos);
  e->try_cast = kw.upper == "TRY_CAST";
  EDDY_ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
  e->args.push_back(std::move(arg));
  EDDY_RETURN_IF_ERROR(ExpectKw("AS"));
  EDDY_ASSIGN_OR_RETURN(e->cast_type, ParseType());
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseExtract() {
  Token kw = Advance();
  Skip();  // (
  auto e = NewExpr(ExprKind::kExtract, kw.pos);
  EDDY_ASSIGN_OR_RETURN(e->unit, ParseUnit(kExtractUnits, "a time unit such as YEAR or HOUR"));
  EDDY_RETURN_IF_ERROR(ExpectKw("FROM"));
  EDDY_ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
  e->args.push_back(std::move(arg));
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseFloorCeil() {
  Token kw = Advance();
  Skip();  // (
  EDDY_ASSIGN_OR_RETURN(ExprPtr arg, ParseExpr());
  ExprPtr e;
  if (AcceptKw("TO")) {
    e = NewExpr(ExprKind::kFloorCeilTo, kw.pos);
    e->name = kw.upper == "FLOOR" ? "FLOOR" : "CEIL";
    EDDY_ASSIGN_OR_RETURN(e->unit, ParseUnit(kFloorUnits, "a time unit such as DAY or HOUR"));
    e->args.push_back(std::move(arg));
  } else {
    e = NewExpr(ExprKind::kFunction, kw.pos);
    e->name = kw.text;
    e->args.push_back(std::move(arg));
    while (AcceptOp(",")) {
      EDDY_ASSIGN_OR_RETURN(ExprPtr more, ParseExpr());
      e->args.push_back(std::move(more));
    }
  }
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseSubstring() {
  Token kw = Advance();
  Skip();  // (
  auto e = NewExpr(ExprKind::kFunction, kw.pos);
  EDDY_ASSIGN_OR_RETURN(ExprPtr s, ParseExpr());
  e->args.push_back(std::move(s));
  if (AcceptKw("FROM")) {
    e->name = "SUBSTRING";
    EDDY_ASSIGN_OR_RETURN(ExprPtr from, ParseExpr());
    e->args.push_back(std::move(from));
    if (AcceptKw("FOR")) {
      EDDY_ASSIGN_OR_RETURN(ExprPtr len, ParseExpr());
      e->args.push_back(std::move(len));
    }
  } else {
    e->name = kw.text;
    while (AcceptOp(",")) {
      EDDY_ASSIGN_OR_RETURN(ExprPtr more, ParseExpr());
      e->args.push_back(std::move(more));
    }
  }
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseTrim() {
  Token kw = Advance();
  Skip();  // (
  auto e = NewExpr(ExprKind::kFunction, kw.pos);
  e->name = "TRIM";
  e->unit = "BOTH";
  ExprPtr chars, s;
  if (PeekKw("BOTH") || PeekKw("LEADING") || PeekKw("TRAILING")) {
    e->unit = Advance().upper;
    if (!AcceptKw("FROM")) {
      EDDY_ASSIGN_OR_RETURN(chars, ParseExpr());
      EDDY_RETURN_IF_ERROR(ExpectKw("FROM"));
    }
    EDDY_ASSIGN_OR_RETURN(s, ParseExpr());
  } else {
    EDDY_ASSIGN_OR_RETURN(ExprPtr first, ParseExpr());
    if (AcceptKw("FROM")) {
      chars = std::move(first);
      EDDY_ASSIGN_OR_RETURN(s, ParseExpr());
    } else {
      s = std::move(first);
    }
  }
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  e->args.push_back(std::move(s));
  if (chars) e->args.push_back(std::move(chars));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParsePosition() {
  Token kw = Advance();
  Skip();  // (
  auto e = NewExpr(ExprKind::kFunction, kw.pos);
  e->name = "POSITION";
  EDDY_ASSIGN_OR_RETURN(ExprPtr needle, ParseExpr(kPrecLike + 1));
  EDDY_RETURN_IF_ERROR(ExpectKw("IN"));
  EDDY_ASSIGN_OR_RETURN(ExprPtr haystack, ParseExpr());
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  e->args = {std::move(needle), std::move(haystack)};
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseOverlay() {
  Token kw = Advance();
  Skip();  // (
  auto e = NewExpr(ExprKind::kFunction, kw.pos);
  e->name = "OVERLAY";
  EDDY_ASSIGN_OR_RETURN(ExprPtr s, ParseExpr());
  EDDY_RETURN_IF_ERROR(ExpectKw("PLACING"));
  EDDY_ASSIGN_OR_RETURN(ExprPtr r, ParseExpr());
  EDDY_RETURN_IF_ERROR(ExpectKw("FROM"));
  EDDY_ASSIGN_OR_RETURN(ExprPtr from, ParseExpr());
  e->args = {std::move(s), std::move(r), std::move(from)};
  if (AcceptKw("FOR")) {
    EDDY_ASSIGN_OR_RETURN(ExprPtr len, ParseExpr());
    e->args.push_back(std::move(len));
  }
  EDDY_RETURN_IF_ERROR(ExpectOp(")"));
  return Node(std::move(e));
}

absl::StatusOr<ExprPtr> Parser::ParseInterval() {
  auto e = NewExpr(ExprKind::kInterval, Advance().pos);
  std::string sign;
  if (PeekOp("-") || PeekOp("+")) sign = Advance().text == "-" ? "-" : "";
  const Token& v = Peek();
  if (v.kind != TokenKind::kString && v.kind != TokenKind::kInteger &&
      v.kind != TokenKind::kDecimal) {
    return Unexpected("a quoted interval value such as '5' after INTERVAL");
  }
  e->text = sign + Advance().text;
  EDDY_RETURN_IF_ERROR(ParseIntervalQualifier(&e->unit, &e->unit2));
  return e;
}

absl::Status Parser::ParseIntervalQualifier(std::string* unit, std::string* unit2) {
  static constexpr std::string_view kWhat =
      "an interval unit: YEAR, MONTH, DAY, HOUR, MINUTE or SECOND";
  EDDY_ASSIGN_OR_RETURN(*unit, ParseUnit(kIntervalUnits, kWhat));
  EDDY_RETURN_IF_ERROR(SkipUnitPrecision());
  if (!PeekKw("TO")) return absl::OkStatus();
  Skip();
  Token to = Peek();
  EDDY_ASSIGN_OR_RETURN(*unit2, ParseUnit(kIntervalUnits, kWhat));
  EDDY_RETURN_IF_ERROR(SkipUnitPrecision());
  const std::string& a = *unit;
  const std::string& b = *unit2;
  bool ok = (a == "YEAR" && b == "MONTH") ||
            (a == "DAY" && (b == "HOUR" || b == "MINUTE" || b == "SECOND")) ||
            (a == "HOUR" && (b == "MINUTE" || b == "SECOND")) || (a == "MINUTE" && b == "SECOND");
  if (!ok) {
    return ErrorAt(to, fmt::format("invalid interval qualifier {} TO {}", a, b),
                   "valid ranges are YEAR TO MONTH, DAY TO HOUR|MINUTE|SECOND, HOUR TO "
                   "MINUTE|SECOND and MINUTE TO SECOND");
  }
  return absl::OkStatus();
}

// Optional `(p)` or `(p, s)` after an interval unit: accepted and ignored.
absl::Status Parser::SkipUnitPrecision() {
  if (!PeekOp("(") || Peek(1).kind != TokenKind::kInteger) return absl::OkStatus();
  Skip();
  Skip();
  if (AcceptOp(",")) {
    if (Peek().kind != TokenKind::kInteger) return Unexpected("an integer");
    Skip();
  }
  return ExpectOp(")");
}

absl::StatusOr<std::string> Parser::ParseUnit(const std::vector<std::string>& allowed,
                                              std::string_view what) {
  const Token& t = Peek();
  std::string hint;
  if (t.kind == TokenKind::kIdent) {
    std::string u = t.upper;
    if (Contains(allowed, u)) {
      Skip();
      return u;
    }
    if (u.size() > 1 && u.back() == 'S' && Contains(allowed, u.substr(0, u.size() - 1))) {
      Skip();
      return u.substr(0, u.size() - 1);
    }
    std::string best = ClosestName(t.text, allowed);
    if (!best.empty()) hint = fmt::format("did you mean {}?", best);
  }
  return Unexpected(what, hint);
}

// ============================================================================================
// Types
// ============================================================================================

absl::StatusOr<int64_t> Parser::ParseTypeParam(std::string_view what, Token* token) {
  const Token& t = Peek();
  if (t.kind != TokenKind::kInteger) return Unexpected(what);
  *token = Advance();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(token->text.data(), token->text.data() + token->text.size(), n);
  if (ec != std::errc() || end != token->text.data() + token->text.size()) {
    n = std::numeric_limits<int64_t>::max();
  }
  return n;
}

absl::StatusOr<DataType> Parser::ParseType() {
  Token t = Peek();
  if (t.kind != TokenKind::kIdent) return Unexpected("a data type");
  Skip();
  const std::string& u = t.upper;
  DataType type;
  if (u == "BOOLEAN") {
    type = DataType::Boolean();
  } else if (u == "TINYINT" || u == "SMALLINT" || u == "INT" || u == "INTEGER") {
    type = DataType::Int();
  } else if (u == "BIGINT") {
    type = DataType::Bigint();
  } else if (u == "FLOAT" || u == "REAL") {
    type = DataType::Double();
  } else if (u == "DOUBLE") {
    AcceptKw("PRECISION");
    type = DataType::Double();
  } else if (u == "DECIMAL" || u == "DEC" || u == "NUMERIC") {
    int64_t p = 10, s = 0;
    if (AcceptOp("(")) {
      Token pt, st;
      EDDY_ASSIGN_OR_RETURN(p, ParseTypeParam("a precision", &pt));
      if (p > 18) return ErrorAt(pt, "DECIMAL precision up to 18 is supported");
      if (p < 1) return ErrorAt(pt, "DECIMAL precision must be between 1 and 18");
      if (AcceptOp(",")) {
        EDDY_ASSIGN_OR_RETURN(s, ParseTypeParam("a scale", &st));
        if (s > p) {
          return ErrorAt(st,
                         fmt::format("DECIMAL scale must be between 0 and the precision ({})", p));
        }
      }
      EDDY_RETURN_IF_ERROR(ExpectOp(")"));
    }
    type = DataType::Decimal(static_cast<int>(p), static_cast<int>(s));
  } else if (u == "STRING") {
    type = DataType::String();
  } else if (u == "VARCHAR" || u == "CHAR" || u == "CHARACTER") {
    bool varying = u == "VARCHAR";
    if (!varying && AcceptKw("VARYING")) varying = true;
    int64_t n = varying ? -1 : 1;  // Flink: VARCHAR = STRING, CHAR = CHAR(1)
    if (AcceptOp("(")) {
      Token nt;
      EDDY_ASSIGN_OR_RETURN(n, ParseTypeParam("a length", &nt));
      if (n < 1 || n > std::numeric_limits<int32_t>::max()) {
        return ErrorAt(nt, fmt::format("{} length must be between 1 and 2147483647", u));
      }
      if (n == std::numeric_limits<int32_t>::max()) n = -1;
      EDDY_RETURN_IF_ERROR(ExpectOp(")"));
    }
    type = DataType::String();
    type.length = static_cast<int>(n);
  } else if (u == "BYTES" || u == "BINARY" || u == "VARBINARY") {
    return ErrorAt(t, fmt::format("type {} is not supported", u));
  } else if (u == "TIMESTAMP" || u == "TIMESTAMP_LTZ") {
    int64_t p = 6;
    if (AcceptOp("(")) {
      Token pt;
      EDDY_ASSIGN_OR_RETURN(p, ParseTypeParam("a precision", &pt));
      if (p > 9) return ErrorAt(pt, fmt::format("{} precision must be between 0 and 9", u));
      EDDY_RETURN_IF_ERROR(ExpectOp(")"));
    }
    bool ltz = u == "TIMESTAMP_LTZ";
    if (!ltz && PeekKw("WITHOUT")) {
      Skip();
      EDDY_RETURN_IF_ERROR(ExpectKw("TIME"));
      EDDY_RETURN_IF_ERROR(ExpectKw("ZONE"));
    } else if (!ltz && PeekKw("WITH") && (PeekKw("LOCAL", 1) || PeekKw("TIME", 1))) {
      Token with = Advance();
      if (!AcceptKw("LOCAL")) {
        return ErrorAt(with, "TIMESTAMP WITH TIME ZONE is not supported",
                       "use TIMESTAMP_LTZ (TIMESTAMP WITH LOCAL TIME ZONE)");
      }
      EDDY_RETURN_IF_ERROR(ExpectKw("TIME"));
      EDDY_RETURN_IF_ERROR(ExpectKw("ZONE"));
      ltz = true;
    }
    type = ltz ? DataType::TimestampLtz(static_cast<int>(p))
               : DataType::Timestamp(static_cast<int>(p));
  } else if (u == "DATE") {
    type = DataType::Date();
  } else if (u == "TIME") {
    return ErrorAt(t, "type TIME is not supported yet", "use TIMESTAMP or STRING");
  } else if (u == "INTERVAL") {
    std::string unit, unit2;
    EDDY_RETURN_IF_ERROR(ParseIntervalQualifier(&unit, &unit2));
    type = (unit == "YEAR" || unit == "MONTH") ? DataType::IntervalYearMonth()
                                               : DataType::IntervalDayTime();
  } else if (u == "ARRAY" || u == "MAP" || u == "ROW" || u == "MULTISET" || u == "RAW") {
    return ErrorAt(t, fmt::format("type {} is not supported", u));
  } else {
    std::string best = ClosestName(t.text, kTypeNames);
    return ErrorAt(t, fmt::format("unknown data type '{}'", t.text),
                   best.empty() ? "" : fmt::format("did you mean {}?", best));
  }
  if (PeekKw("NOT") && PeekKw("NULL", 1)) {
    Skip();
    Skip();
    type.nullable = false;
  } else {
    AcceptKw("NULL");
  }
  return type;
}

// ============================================================================================
// Entry points
// ============================================================================================

absl::StatusOr<ExprPtr> Parser::WholeExpression() {
  EDDY_ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
  if (Peek().kind != TokenKind::kEnd) return Unexpected("end of the expression");
  return e;
}

absl::StatusOr<DataType> Parser::WholeType() {
  EDDY_ASSIGN_OR_RETURN(DataType t, ParseType());
  if (Peek().kind != TokenKind::kEnd) return Unexpected("end of the data type");
  return t;
}

}  // namespace

absl::StatusOr<std::vector<StatementPtr>> ParseScript(std::string_view script) {
  Parser p(script);
  return p.Script();
}

absl::StatusOr<ExprPtr> ParseExpression(std::string_view text) {
  Parser p(text);
  return p.WholeExpression();
}

absl::StatusOr<DataType> ParseDataType(std::string_view text) {
  Parser p(text);
  return p.WholeType();
}

}  // namespace eddy::sql
