// `eddy test-sql FILE…`: a sqllogictest-style runner for the golden SQL files under tests/sql/.
// The file format is documented in tests/sql/README.md; in short, records separated by blank lines:
//
//   statement ok | statement error        SQL, then for errors `----` and expected substrings
//   query <types> [rowsort|nosort|changelog|final]   SQL, `----`, expected rows (TAB-separated)
//   explain                               a query, `----`, its optimized logical plan (EXPLAIN)
//
// plus the directives `matrix`, `mode skip`/`mode unskip`, `halt` and `#` comments. Each file runs
// once per combination of its matrix with a fresh Engine; a failure prints file:line, the SQL, the
// expected and actual results and the combination. The last line printed is "N passed, M failed".
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "eddy/engine.h"

namespace eddy::cli {

namespace {

// Relative tolerance for columns typed R.
constexpr double kRealTolerance = 1e-9;

enum class RecordKind { kStatementOk, kStatementError, kQuery, kExplain, kHalt, kSkip, kUnskip };
enum class SortMode { kRowSort, kNoSort, kChangelog, kFinal };

// One record of a test file.
struct Record {
  RecordKind kind = RecordKind::kStatementOk;
  int line = 0;  // 1-based line of the record's first line (its header)
  std::string header;
  std::string sql;
  // statement error: required substrings of the message (may be empty: any error).
  std::vector<std::string> error_substrings;
  // query
  std::string types;
  SortMode sort = SortMode::kRowSort;
  std::vector<std::string> expected;        // expected result lines, as written
  std::vector<std::string> expected_final;  // changelog: optional final table after a 2nd `----`
  bool has_final = false;
  std::string skip_reason;  // kSkip: why
};

// One matrix dimension: a setting and the values to run it with.
struct MatrixAxis {
  std::string name;     // as written in the file (batch_size)
  std::string setting;  // Engine::Set key (eddy.batch-size)
  std::vector<std::string> values;
};

struct TestFile {
  std::string path;
  std::vector<Record> records;
  std::vector<MatrixAxis> matrix;
};

// A result row: RowKind (changelog mode only, else empty) and the cells as written in files.
struct Row {
  std::string kind;
  std::vector<std::string> cells;
};

struct Tally {
  int passed = 0, failed = 0, skipped = 0;
};

std::string TrimRight(std::string s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.pop_back();
  }
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  return TrimRight(s.substr(b));
}

std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

std::string Indent(const std::string& text, const std::string& pad = "    ") {
  std::string out;
  for (const auto& l : Split(text, '\n')) out += pad + l + "\n";
  return out;
}

// The engine's formatting of a cell mapped to the file's spelling: NULL for NULL, (empty) for the
// empty string (an empty line would end the record).
std::string CellText(const std::string& v) {
  if (v == "<NULL>") return "NULL";
  if (v.empty()) return "(empty)";
  return v;
}

std::optional<double> ParseReal(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE) return std::nullopt;
  return d;
}

bool RealEqual(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto x = ParseReal(a), y = ParseReal(b);
  if (!x || !y) return false;
  if (std::isnan(*x) || std::isnan(*y)) return std::isnan(*x) && std::isnan(*y);
  if (std::isinf(*x) || std::isinf(*y)) return *x == *y;
  double scale = std::max(std::fabs(*x), std::fabs(*y));
  return std::fabs(*x - *y) <= kRealTolerance * scale;
}

// Cells of column `c` typed R compare numerically (with tolerance); all others byte-wise.
bool IsReal(const std::string& types, size_t c) { return c < types.size() && types[c] == 'R'; }

int CompareCells(const std::string& types, size_t c, const std::string& a, const std::string& b) {
  if (IsReal(types, c)) {
    if (RealEqual(a, b)) return 0;
    auto x = ParseReal(a), y = ParseReal(b);
    if (x && y) return *x < *y ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

int CompareRows(const std::string& types, const Row& a, const Row& b) {
  if (a.kind != b.kind) return a.kind < b.kind ? -1 : 1;
  size_t n = std::min(a.cells.size(), b.cells.size());
  for (size_t c = 0; c < n; ++c) {
    int r = CompareCells(types, c, a.cells[c], b.cells[c]);
    if (r != 0) return r;
  }
  return a.cells.size() < b.cells.size() ? -1 : a.cells.size() > b.cells.size() ? 1 : 0;
}

void SortRows(const std::string& types, std::vector<Row>* rows) {
  std::stable_sort(rows->begin(), rows->end(),
                   [&](const Row& a, const Row& b) { return CompareRows(types, a, b) < 0; });
}

bool SameRows(const std::string& types, const std::vector<Row>& a, const std::vector<Row>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind || a[i].cells.size() != b[i].cells.size()) return false;
    for (size_t c = 0; c < a[i].cells.size(); ++c) {
      if (CompareCells(types, c, a[i].cells[c], b[i].cells[c]) != 0) return false;
    }
  }
  return true;
}

std::string RowLine(const Row& r) {
  std::string s = r.kind;
  for (size_t c = 0; c < r.cells.size(); ++c) {
    if (!s.empty() || c > 0) s += '\t';
    s += r.cells[c];
  }
  return s;
}

std::string RowsText(const std::vector<Row>& rows) {
  std::string s;
  for (const auto& r : rows) s += "    " + RowLine(r) + "\n";
  if (rows.empty()) s = "    (no rows)\n";
  return s;
}

bool IsRowKind(const std::string& k) { return k == "+I" || k == "-U" || k == "+U" || k == "-D"; }
bool IsAccumulate(const std::string& k) { return k == "+I" || k == "+U"; }

// Applies a changelog to a multiset table. With `strict`, a retraction of a row that is not in the
// table is an error (reported in *error); otherwise counts may go negative (order-free).
std::map<std::vector<std::string>, int64_t> Materialize(const std::vector<Row>& log, bool strict,
                                                        std::string* error) {
  std::map<std::vector<std::string>, int64_t> table;
  for (size_t i = 0; i < log.size(); ++i) {
    const Row& r = log[i];
    int64_t& n = table[r.cells];
    if (IsAccumulate(r.kind)) {
      ++n;
    } else {
      if (strict && n <= 0 && error->empty()) {
        *error = fmt::format("changelog row {} ({}) retracts a row that is not in the table", i + 1,
                             RowLine(r));
      }
      --n;
    }
  }
  return table;
}

std::vector<Row> TableRows(const std::map<std::vector<std::string>, int64_t>& table,
                           std::string* error) {
  std::vector<Row> rows;
  for (const auto& [cells, n] : table) {
    if (n < 0 && error->empty()) {
      *error = fmt::format("the changelog removes more copies of ({}) than it adds",
                           RowLine(Row{"", cells}));
    }
    for (int64_t k = 0; k < n; ++k) rows.push_back(Row{"", cells});
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Parsing

struct ParseError {
  int line;
  std::string message;
};

std::optional<ParseError> ParseFile(const std::string& path, TestFile* out) {
  std::ifstream in(path);
  if (!in) return ParseError{0, fmt::format("cannot read {}", path)};
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  out->path = path;
  size_t i = 0;
  std::vector<std::string> comments;  // comment lines just before the current position
  auto blank = [&](size_t k) { return k >= lines.size() || Trim(lines[k]).empty(); };
  auto separator_at = [&](size_t k) { return k < lines.size() && Trim(lines[k]) == "----"; };
  while (i < lines.size()) {
    const std::string& line = lines[i];
    std::string t = Trim(line);
    if (t.empty()) {
      comments.clear();
      ++i;
      continue;
    }
    if (t[0] == '#') {
      comments.push_back(Trim(t.substr(1)));
      ++i;
      continue;
    }
    int lineno = static_cast<int>(i) + 1;
    std::vector<std::string> words = SplitWords(t);
    Record r;
    r.line = lineno;
    r.header = t;
    if (words[0] == "matrix") {
      if (!out->records.empty()) {
        return ParseError{lineno, "'matrix' must come before the first record"};
      }
      for (size_t w = 1; w < words.size(); ++w) {
        size_t eq = words[w].find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == words[w].size()) {
          return ParseError{lineno, fmt::format("matrix takes name=v1,v2,…; got '{}'", words[w])};
        }
        MatrixAxis a;
        a.name = words[w].substr(0, eq);
        a.setting = a.name == "batch_size"    ? "eddy.batch-size"
                    : a.name == "parallelism" ? "parallelism.default"
                                              : a.name;
        if (a.setting.find('.') == std::string::npos) {
          return ParseError{lineno, fmt::format("unknown matrix axis '{}' (use batch_size, "
                                                "parallelism or a dotted configuration key)",
                                                a.name)};
        }
        a.values = Split(words[w].substr(eq + 1), ',');
        out->matrix.push_back(a);
      }
      comments.clear();
      ++i;
      continue;
    }
    if (words[0] == "halt") {
      r.kind = RecordKind::kHalt;
      out->records.push_back(r);
      comments.clear();
      ++i;
      continue;
    }
    if (words[0] == "mode") {
      if (words.size() < 2 || (words[1] != "skip" && words[1] != "unskip")) {
        return ParseError{lineno, "expected 'mode skip' or 'mode unskip'"};
      }
      r.kind = words[1] == "skip" ? RecordKind::kSkip : RecordKind::kUnskip;
      std::string reason = Trim(t.substr(t.find(words[1]) + words[1].size()));
      // The reason: the text after `mode skip`, else the comment block above it (from its first
      // line mentioning "BUG", when there is one).
      size_t from = 0;
      for (size_t k = 0; k < comments.size(); ++k) {
        if (comments[k].find("BUG") != std::string::npos) {
          from = k;
          break;
        }
      }
      if (reason.empty()) {
        for (size_t k = from; k < comments.size(); ++k) {
          reason += (k > from ? " " : "") + comments[k];
        }
      }
      r.skip_reason = reason.empty() ? "(no reason given)" : reason;
      out->records.push_back(r);
      comments.clear();
      ++i;
      continue;
    }
    if (words[0] == "statement") {
      if (words.size() != 2 || (words[1] != "ok" && words[1] != "error")) {
        return ParseError{lineno, "expected 'statement ok' or 'statement error'"};
      }
      r.kind = words[1] == "ok" ? RecordKind::kStatementOk : RecordKind::kStatementError;
    } else if (words[0] == "query") {
      r.kind = RecordKind::kQuery;
      if (words.size() < 2 || words.size() > 3) {
        return ParseError{lineno, "expected 'query <types> [rowsort|nosort|changelog|final]'"};
      }
      r.types = words[1];
      for (char c : r.types) {
        if (c != 'I' && c != 'R' && c != 'T') {
          return ParseError{lineno,
                            fmt::format("unknown column type letter '{}' (use I, R, T)", c)};
        }
      }
      if (words.size() == 3) {
        if (words[2] == "rowsort")
          r.sort = SortMode::kRowSort;
        else if (words[2] == "nosort")
          r.sort = SortMode::kNoSort;
        else if (words[2] == "changelog")
          r.sort = SortMode::kChangelog;
        else if (words[2] == "final")
          r.sort = SortMode::kFinal;
        else
          return ParseError{lineno, fmt::format("unknown sort mode '{}'", words[2])};
      }
    } else if (words[0] == "explain" && words.size() == 1) {
      r.kind = RecordKind::kExplain;
    } else {
      return ParseError{lineno, fmt::format("unknown record '{}'", words[0])};
    }
    comments.clear();
    ++i;
    // SQL lines up to `----` or a blank line (comment lines starting with '#' are dropped).
    std::string sql;
    while (!blank(i) && !separator_at(i)) {
      if (Trim(lines[i])[0] != '#') sql += lines[i] + "\n";
      ++i;
    }
    if (sql.empty()) return ParseError{lineno, "the record has no SQL"};
    r.sql = sql;
    bool separator = separator_at(i);
    if (separator) ++i;
    if (r.kind == RecordKind::kStatementOk && separator) {
      return ParseError{lineno, "'statement ok' takes no '----' section"};
    }
    if (r.kind == RecordKind::kQuery && !separator) {
      return ParseError{lineno, "a query needs '----' and its expected rows"};
    }
    if (r.kind == RecordKind::kExplain && !separator) {
      return ParseError{lineno, "an explain record needs '----' and the expected plan"};
    }
    std::vector<std::string>* dest =
        r.kind == RecordKind::kStatementError ? &r.error_substrings : &r.expected;
    while (separator && !blank(i)) {
      if (separator_at(i)) {
        if (r.sort != SortMode::kChangelog || r.has_final) {
          return ParseError{static_cast<int>(i) + 1,
                            "a second '----' (the final table) is only allowed in changelog mode"};
        }
        r.has_final = true;
        dest = &r.expected_final;
      } else {
        dest->push_back(lines[i]);
      }
      ++i;
    }
    out->records.push_back(std::move(r));
  }
  if (out->matrix.empty()) {
    out->matrix.push_back({"batch_size", "eddy.batch-size", {"1024"}});
    out->matrix.push_back({"parallelism", "parallelism.default", {"1"}});
  }
  return std::nullopt;
}

// Parses expected lines into rows; `with_kind` takes a leading RowKind column.
std::optional<std::string> ExpectedRows(const std::vector<std::string>& lines, size_t ncols,
                                        bool with_kind, std::vector<Row>* out) {
  for (const auto& l : lines) {
    Row r;
    r.cells = Split(l, '\t');
    if (with_kind) {
      r.kind = r.cells.front();
      r.cells.erase(r.cells.begin());
      if (!IsRowKind(r.kind)) {
        return fmt::format("expected row '{}' does not start with +I, -U, +U or -D and a TAB", l);
      }
    }
    if (r.cells.size() != ncols) {
      return fmt::format(
          "expected row '{}' has {} TAB-separated columns, the query type string "
          "says {}",
          l, r.cells.size(), ncols);
    }
    out->push_back(std::move(r));
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Running

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  size_t p = 0;
  while ((p = s.find(from, p)) != std::string::npos) {
    s.replace(p, from.size(), to);
    p += to.size();
  }
  return s;
}

class FileRunner {
 public:
  FileRunner(const TestFile& file, Tally* tally) : file_(file), tally_(tally) {}

  void RunAll() {
    std::vector<size_t> idx(file_.matrix.size(), 0);
    bool first = true;
    while (true) {
      std::vector<std::pair<std::string, std::string>> combo;
      for (size_t a = 0; a < idx.size(); ++a) {
        combo.push_back({file_.matrix[a].name, file_.matrix[a].values[idx[a]]});
      }
      RunCombination(combo, first);
      first = false;
      size_t a = 0;
      for (; a < idx.size(); ++a) {
        if (++idx[a] < file_.matrix[a].values.size()) break;
        idx[a] = 0;
      }
      if (a == idx.size()) break;
    }
  }

 private:
  void RunCombination(const std::vector<std::pair<std::string, std::string>>& combo, bool first) {
    combo_text_.clear();
    for (const auto& [k, v] : combo)
      combo_text_ += fmt::format("{}{}={}", combo_text_.empty() ? "" : " ", k, v);
    char tmpl[] = "/tmp/eddy-sqltest-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    test_dir_ = dir ? dir : "/tmp";
    Engine engine;
    for (size_t a = 0; a < combo.size(); ++a) {
      absl::Status st = engine.Set(file_.matrix[a].setting, combo[a].second);
      if (!st.ok()) {
        // A bad matrix axis fails every record of the combination.
        tally_->failed += static_cast<int>(file_.records.size());
        std::printf("FAIL %s [%s]: matrix: %s\n", file_.path.c_str(), combo_text_.c_str(),
                    std::string(st.message()).c_str());
        return;
      }
    }
    bool skipping = false;
    std::string skip_reason;
    for (const Record& r : file_.records) {
      if (r.kind == RecordKind::kHalt) break;
      if (r.kind == RecordKind::kSkip || r.kind == RecordKind::kUnskip) {
        skipping = r.kind == RecordKind::kSkip;
        skip_reason = r.skip_reason;
        continue;
      }
      if (skipping) {
        tally_->skipped++;
        if (first) {
          std::printf("SKIP %s:%d: %s\n", file_.path.c_str(), r.line, skip_reason.c_str());
        }
        continue;
      }
      std::string failure = RunRecord(&engine, r);
      if (failure.empty()) {
        tally_->passed++;
      } else {
        tally_->failed++;
        std::string& seen = reported_[r.line];
        if (seen == failure) {
          std::printf("FAIL %s:%d [%s]: same failure as above\n", file_.path.c_str(), r.line,
                      combo_text_.c_str());
          continue;
        }
        seen = failure;
        std::string sql = ReplaceAll(r.sql, "__TEST_DIR__", test_dir_);
        std::printf("FAIL %s:%d [%s]\n  %s\n%s%s\n", file_.path.c_str(), r.line,
                    combo_text_.c_str(), r.header.c_str(), Indent(TrimRight(sql)).c_str(),
                    failure.c_str());
        std::fflush(stdout);
      }
    }
    if (dir) {
      std::error_code ec;
      std::filesystem::remove_all(test_dir_, ec);
    }
  }

  // Runs one record; returns "" on success, else what went wrong.
  std::string RunRecord(Engine* engine, const Record& r) {
    std::string sql = ReplaceAll(r.sql, "__TEST_DIR__", test_dir_);
    switch (r.kind) {
      case RecordKind::kStatementOk: {
        absl::Status st = Execute(engine, sql);
        if (st.ok()) return "";
        return fmt::format("  expected success, got the error:\n{}",
                           Indent(std::string(st.message())));
      }
      case RecordKind::kStatementError: {
        absl::Status st = Execute(engine, sql);
        if (st.ok()) return "  expected an error, but the statement succeeded\n";
        std::string msg(st.message());
        for (const auto& want : r.error_substrings) {
          if (msg.find(want) == std::string::npos) {
            return fmt::format("  expected the error message to contain:\n{}  actual message:\n{}",
                               Indent(want), Indent(msg));
          }
        }
        return "";
      }
      case RecordKind::kQuery:
        return RunQuery(engine, r, sql);
      case RecordKind::kExplain:
        return RunExplain(engine, r, sql);
      default:
        return "";
    }
  }

  absl::Status Execute(Engine* engine, const std::string& sql) {
    FILE* devnull = std::fopen("/dev/null", "w");
    OutputOptions out;
    if (devnull) out.out = devnull;
    absl::Status st = engine->ExecuteScript(sql, out);
    if (devnull) std::fclose(devnull);
    return st;
  }

  // EXPLAIN of the record's query: its optimized logical plan (the lines between EXPLAIN's first
  // header and the blank line before the job graph) must equal the expected lines exactly
  // (trailing spaces ignored).
  std::string RunExplain(Engine* engine, const Record& r, const std::string& sql) {
    char* buf = nullptr;
    size_t len = 0;
    FILE* mem = open_memstream(&buf, &len);
    if (!mem) return "  open_memstream failed\n";
    OutputOptions out;
    out.out = mem;
    absl::Status st = engine->ExecuteScript("EXPLAIN " + sql, out);
    std::fclose(mem);
    std::string text(buf ? buf : "", len);
    std::free(buf);
    if (!st.ok()) {
      return fmt::format("  expected a plan, got the error:\n{}",
                         Indent(std::string(st.message())));
    }
    std::vector<std::string> plan;
    bool in_plan = false;
    for (const auto& l : Split(text, '\n')) {
      if (l.rfind("== ", 0) == 0) {
        in_plan = plan.empty() && !in_plan;
        continue;
      }
      if (in_plan && TrimRight(l).empty()) break;
      if (in_plan) plan.push_back(TrimRight(l));
    }
    std::vector<std::string> want;
    for (const auto& l : r.expected) want.push_back(TrimRight(l));
    if (plan == want) return "";
    std::string e, a;
    for (const auto& l : want) e += l + "\n";
    for (const auto& l : plan) a += l + "\n";
    return fmt::format("  plans differ\n  expected:\n{}  actual:\n{}", Indent(e), Indent(a));
  }

  std::string RunQuery(Engine* engine, const Record& r, const std::string& sql) {
    auto res = engine->Query(sql);
    if (!res.ok()) {
      return fmt::format("  expected rows, got the error:\n{}",
                         Indent(std::string(res.status().message())));
    }
    const QueryResult& q = *res;
    size_t ncols = r.types.size();
    if (q.column_names.size() != ncols) {
      return fmt::format("  the query returns {} columns ({}), the type string '{}' says {}\n",
                         q.column_names.size(), fmt::join(q.column_names, ", "), r.types, ncols);
    }
    bool changelog = r.sort == SortMode::kChangelog;
    bool final_only = r.sort == SortMode::kFinal;
    std::vector<Row> actual;
    bool only_inserts = true;
    for (size_t i = 0; i < q.rows.size(); ++i) {
      Row row;
      row.kind = i < q.kinds.size() ? q.kinds[i] : "+I";
      only_inserts &= row.kind == "+I";
      for (const auto& v : q.rows[i]) row.cells.push_back(CellText(v));
      if (!changelog && !final_only) row.kind.clear();
      actual.push_back(std::move(row));
    }
    std::vector<Row> expected;
    if (auto e = ExpectedRows(r.expected, ncols, changelog, &expected)) return "  " + *e + "\n";
    auto mismatch = [&](const std::string& what, const std::vector<Row>& exp,
                        const std::vector<Row>& act, const char* exp_label = "expected",
                        const char* act_label = "actual") {
      return fmt::format("  {}\n  {} ({} rows):\n{}  {} ({} rows):\n{}", what, exp_label,
                         exp.size(), RowsText(exp), act_label, act.size(), RowsText(act));
    };
    if (final_only) {
      // Final: the actual changelog must apply cleanly; only the table it leaves is compared.
      std::string err;
      auto table = Materialize(actual, true, &err);
      if (!err.empty()) return mismatch(err, expected, actual);
      std::vector<Row> act_final = TableRows(table, &err);
      SortRows(r.types, &expected);
      SortRows(r.types, &act_final);
      if (SameRows(r.types, expected, act_final)) return "";
      return mismatch("final materialized tables differ", expected, act_final,
                      "expected final table", "final table of the actual changelog");
    }
    if (!changelog) {
      if (!only_inserts) {
        return mismatch("the result is a changelog with retractions: use 'query … changelog'",
                        expected, [&] {
                          std::vector<Row> a = actual;
                          for (size_t i = 0; i < a.size(); ++i) a[i].kind = q.kinds[i];
                          return a;
                        }());
      }
      if (r.sort == SortMode::kRowSort) {
        SortRows(r.types, &expected);
        SortRows(r.types, &actual);
      }
      if (SameRows(r.types, expected, actual)) return "";
      return mismatch(r.sort == SortMode::kRowSort ? "rows differ (compared sorted)"
                                                   : "rows differ (compared in order)",
                      expected, actual);
    }
    // Changelog: (1) the actual changelog applied in order never retracts a missing row; (2) the
    // multisets of changelog rows are equal; (3) the final tables are equal.
    std::string err;
    auto act_table = Materialize(actual, true, &err);
    if (!err.empty()) return mismatch(err, expected, actual);
    std::vector<Row> act_final = TableRows(act_table, &err);
    std::vector<Row> exp_log = expected, act_log = actual;
    SortRows(r.types, &exp_log);
    SortRows(r.types, &act_log);
    if (!SameRows(r.types, exp_log, act_log)) {
      return mismatch("changelog rows differ (compared as multisets, sorted)", exp_log, act_log);
    }
    std::string exp_err;
    std::vector<Row> exp_final = TableRows(Materialize(expected, false, &exp_err), &exp_err);
    if (!exp_err.empty()) return "  the expected changelog is inconsistent: " + exp_err + "\n";
    if (r.has_final) {
      std::vector<Row> stated;
      if (auto e = ExpectedRows(r.expected_final, ncols, false, &stated)) return "  " + *e + "\n";
      SortRows(r.types, &stated);
      SortRows(r.types, &exp_final);
      if (!SameRows(r.types, stated, exp_final)) {
        return mismatch("the test's final table does not follow from its expected changelog",
                        stated, exp_final, "stated final table",
                        "final table of the expected changelog");
      }
    }
    SortRows(r.types, &exp_final);
    SortRows(r.types, &act_final);
    if (!SameRows(r.types, exp_final, act_final)) {
      return mismatch("final materialized tables differ", exp_final, act_final);
    }
    return "";
  }

  const TestFile& file_;
  Tally* tally_;
  std::string combo_text_;
  std::string test_dir_;
  std::map<int, std::string> reported_;  // record line → last failure printed in full
};

}  // namespace

int RunSqlTests(const std::vector<std::string>& files) {
  Tally total;
  for (const auto& path : files) {
    TestFile file;
    if (auto err = ParseFile(path, &file)) {
      std::printf("FAIL %s:%d: %s\n", path.c_str(), err->line, err->message.c_str());
      total.failed++;
      continue;
    }
    Tally t;
    FileRunner(file, &t).RunAll();
    std::printf("%s: %d passed, %d failed, %d skipped\n", path.c_str(), t.passed, t.failed,
                t.skipped);
    total.passed += t.passed;
    total.failed += t.failed;
    total.skipped += t.skipped;
  }
  if (total.skipped) std::printf("%d skipped\n", total.skipped);
  std::printf("%d passed, %d failed\n", total.passed, total.failed);
  std::fflush(stdout);
  return total.failed > 0 ? 1 : 0;
}

}  // namespace eddy::cli
