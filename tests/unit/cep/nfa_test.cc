// Hand-written MATCH_RECOGNIZE cases. Expected matches are derived from Flink's MATCH_RECOGNIZE
// documentation (several cases are its examples, with its rows and results) and SQL:2016's
// rules, by reasoning, not by running the matcher. A match is written "A1 A2 C4": the variable
// and the 1-based row number of each row, in row order.
#include "runtime/cep/nfa.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace eddy::runtime::cep {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;

struct TestRow {
  int64_t time = 0;
  int64_t price = 0;
  std::string tag;
};

// What a DEFINE condition sees: the rows and the partial match.
struct Ctx {
  const std::vector<TestRow>& rows;  // row index i is rows[i - 1]
  const Pattern& pattern;
  const MatchView& view;

  const TestRow& Row(int64_t index) const { return rows.at(index - 1); }
  const TestRow& cur() const { return Row(view.row()); }
  int64_t price() const { return cur().price; }
  const std::string& tag() const { return cur().tag; }
  VarId Var(const std::string& name) const {
    if (name == "*") return kAnyVariable;
    VarId v = pattern.FindVariable(name);
    EXPECT_GE(v, 0) << name;
    return v;
  }
  std::optional<int64_t> Last(const std::string& var, int64_t n = 0) const {
    auto r = view.Last(Var(var), n);
    if (!r) return std::nullopt;
    return Row(*r).price;
  }
  std::optional<int64_t> First(const std::string& var, int64_t n = 0) const {
    auto r = view.First(Var(var), n);
    if (!r) return std::nullopt;
    return Row(*r).price;
  }
  int64_t Count(const std::string& var) const { return view.Count(Var(var)); }
  int64_t Sum(const std::string& var) const {
    int64_t s = 0;
    for (int64_t r : view.Rows(Var(var))) s += Row(r).price;
    return s;
  }
  double Avg(const std::string& var) const {
    return static_cast<double>(Sum(var)) / static_cast<double>(Count(var));
  }
  std::optional<int64_t> Prev(int64_t n = 1) const {
    auto r = view.Prev(view.row(), n);
    if (!r) return std::nullopt;
    return Row(*r).price;
  }
};

using Define = std::function<bool(const Ctx&)>;

// Feeds rows one at a time and reports the matches each call emits.
class Driver {
 public:
  Driver(const std::string& pattern_text, std::map<std::string, Define> defines,
         CompileOptions options = {}, MatcherOptions matcher_options = {}) {
    auto p = ParsePattern(pattern_text);
    EXPECT_TRUE(p.ok()) << p.status();
    pattern_ = *p;
    options.conditions.assign(pattern_.variables.size(), ConditionKind::kNone);
    for (auto& [name, fn] : defines) {
      VarId v = pattern_.FindVariable(name);
      EXPECT_GE(v, 0) << name;
      options.conditions[v] = ConditionKind::kMatchDependent;
      defines_[v] = fn;
    }
    auto c = Compile(pattern_, options);
    EXPECT_TRUE(c.ok()) << c.status();
    matcher_ = std::make_unique<Matcher>(
        *c,
        [this](VarId var, int64_t row, const MatchView& view) {
          EXPECT_EQ(view.row(), row);
          EXPECT_EQ(view.var(), var);
          return defines_.at(var)(Ctx{rows_, pattern_, view});
        },
        matcher_options);
  }

  // Adds a row (its 1-based index is its position) and returns the matches it completed.
  std::vector<std::string> Row(int64_t time, int64_t price, std::string tag = "") {
    rows_.push_back(TestRow{time, price, std::move(tag)});
    std::vector<Match> out;
    status_ = matcher_->ProcessRow(static_cast<int64_t>(rows_.size()), time, &out);
    return Format(out);
  }
  // Rows at 1 s, 2 s, ... with the given prices (and tags, when given).
  std::vector<std::string> Prices(const std::vector<int64_t>& prices,
                                  const std::vector<std::string>& tags = {}) {
    std::vector<std::string> all;
    for (size_t i = 0; i < prices.size(); ++i) {
      int64_t t = static_cast<int64_t>(rows_.size() + 1) * kSecond;
      for (auto& m : Row(t, prices[i], i < tags.size() ? tags[i] : "")) all.push_back(m);
    }
    return all;
  }
  std::vector<std::string> Tags(const std::string& tags) {
    std::vector<std::string> all;
    for (char c : tags) {
      int64_t t = static_cast<int64_t>(rows_.size() + 1) * kSecond;
      for (auto& m : Row(t, 0, std::string(1, c))) all.push_back(m);
    }
    return all;
  }
  std::vector<std::string> Watermark(int64_t w) {
    std::vector<Match> out;
    status_ = matcher_->AdvanceTime(w, &out);
    return Format(out);
  }
  std::vector<std::string> Finish() { return Watermark(INT64_MAX); }

  const absl::Status& status() const { return status_; }
  Matcher& matcher() { return *matcher_; }
  int64_t last_match_number() const { return last_number_; }

 private:
  std::vector<std::string> Format(const std::vector<Match>& ms) {
    std::vector<std::string> out;
    for (const Match& m : ms) {
      EXPECT_EQ(m.number, last_number_ + 1) << "match numbers count 1, 2, ...";
      last_number_ = m.number;
      std::vector<std::string> parts;
      for (const MatchedRow& r : m.rows) {
        parts.push_back(absl::StrCat(pattern_.variables[r.var], r.row));
      }
      out.push_back(absl::StrJoin(parts, " "));
    }
    return out;
  }

  Pattern pattern_;
  std::map<VarId, Define> defines_;
  std::vector<TestRow> rows_;
  std::unique_ptr<Matcher> matcher_;
  absl::Status status_;
  int64_t last_number_ = 0;
};

using Strings = std::vector<std::string>;

CompileOptions Skip(AfterMatchSkip skip) {
  CompileOptions o;
  o.skip = skip;
  return o;
}

CompileOptions Within(int64_t us, AfterMatchSkip skip = {}) {
  CompileOptions o;
  o.within_us = us;
  o.skip = skip;
  return o;
}

Define TagIs(std::string t) {
  return [t](const Ctx& c) { return c.tag() == t; };
}
Define TagIn(std::string ts) {
  return [ts](const Ctx& c) { return ts.find(c.tag()) != std::string::npos; };
}

// ---------------------------------------------------------------------------------------------
// Flink's documented examples.

// Flink docs, "Greedy & Reluctant Quantifiers": A AS price > 10, B AS price < 15, C AS price > 12
// over prices 10 11 12 13 14 16. Greedy B* swallows 12, 13, 14 (lastPrice 16); reluctant B*?
// stops at the first C (lastPrice 13), then 14 starts the next match (lastPrice 16).
TEST(CepMatcher, FlinkGreedyVersusReluctant) {
  std::map<std::string, Define> defines = {
      {"A", [](const Ctx& c) { return c.price() > 10; }},
      {"B", [](const Ctx& c) { return c.price() < 15; }},
      {"C", [](const Ctx& c) { return c.price() > 12; }},
  };
  Driver greedy("A B* C", defines);
  EXPECT_EQ(greedy.Prices({10, 11, 12, 13, 14}), Strings{}) << "a longer B* is still possible";
  EXPECT_EQ(greedy.Prices({16}), Strings{"A2 B3 B4 B5 C6"});
  EXPECT_EQ(greedy.Finish(), Strings{});

  Driver reluctant("A B*? C", defines);
  EXPECT_EQ(reluctant.Prices({10, 11, 12}), Strings{});
  EXPECT_EQ(reluctant.Prices({13}), Strings{"A2 B3 C4"}) << "emitted as soon as C matches";
  EXPECT_EQ(reluctant.Prices({14, 16}), Strings{"A5 C6"});
}

// Flink docs, "After Match Strategy": PATTERN (A+ C), A AS SUM(A.price) < 30, C undefined (every
// row), prices 7 9 10 5 10 7 14. Flink lists the matches below for each strategy.
std::map<std::string, Define> SumBelow30() {
  return {{"A", [](const Ctx& c) { return c.Sum("A") < 30; }}};
}

TEST(CepMatcher, FlinkSkipPastLastRow) {
  Driver d("A+ C", SumBelow30(), Skip(AfterMatchSkip::PastLastRow()));
  EXPECT_EQ(d.Prices({7, 9, 10}), Strings{});
  EXPECT_EQ(d.Prices({5}), Strings{"A1 A2 A3 C4"}) << "sum 26; 26 + 5 >= 30 ends A+";
  EXPECT_EQ(d.Prices({10, 7, 14}), Strings{"A5 A6 C7"}) << "sum 17";
  EXPECT_EQ(d.Finish(), Strings{});
}

TEST(CepMatcher, FlinkSkipToNextRow) {
  Driver d("A+ C", SumBelow30(), Skip(AfterMatchSkip::ToNextRow()));
  EXPECT_EQ(d.Prices({7, 9, 10, 5}), Strings{"A1 A2 A3 C4"});
  EXPECT_EQ(d.Prices({10}), Strings{"A2 A3 A4 C5"});
  EXPECT_EQ(d.Prices({7}), Strings{"A3 A4 A5 C6"});
  EXPECT_EQ(d.Prices({14}), (Strings{"A4 A5 A6 C7", "A5 A6 C7"}));
  // Flink stops here: from row 6, A6 A7 (sum 21) may still grow, so "A6 C7" waits. At the end of
  // input nothing can grow any more and it is the match from row 6 (SQL:2016 on a finite
  // partition). Row 7 alone has no C after it.
  EXPECT_EQ(d.Finish(), Strings{"A6 C7"});
  EXPECT_TRUE(d.status().ok());
}

TEST(CepMatcher, FlinkSkipToLastA) {
  Driver d("A+ C", SumBelow30(), Skip(AfterMatchSkip::ToLast(0)));
  EXPECT_EQ(d.Prices({7, 9, 10, 5}), Strings{"A1 A2 A3 C4"});
  EXPECT_EQ(d.Prices({10, 7}), Strings{"A3 A4 A5 C6"}) << "restarts at the last A, row 3";
  EXPECT_EQ(d.Prices({14}), Strings{"A5 A6 C7"});
  EXPECT_TRUE(d.status().ok());
  // At the end, "A6 C7" (from row 6, the last A of the previous match) is emitted; its last A is
  // its first row, so skipping to it would loop: SQL:2016 makes that an error.
  EXPECT_EQ(d.Finish(), Strings{"A6 C7"});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("own first row"), std::string::npos) << d.status();
}

TEST(CepMatcher, FlinkSkipToFirstAIsARuntimeError) {
  Driver d("A+ C", SumBelow30(), Skip(AfterMatchSkip::ToFirst(0)));
  EXPECT_EQ(d.Prices({7, 9, 10}), Strings{});
  EXPECT_EQ(d.Prices({5}), Strings{"A1 A2 A3 C4"});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("SKIP TO FIRST A: match 1 (rows 1..4)"), std::string::npos)
      << d.status();
  EXPECT_EQ(d.Prices({1}), Strings{});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << "the error sticks";
}

// Flink docs, "Time constraint": PATTERN (A B* C) WITHIN INTERVAL '1' HOUR, B AS B.price >
// A.price - 10, C AS C.price < A.price - 10. Only the drop from 15 (12:00) to 1 (13:00) is a
// match: exactly one hour apart, so WITHIN is inclusive. Drops that take longer are not.
TEST(CepMatcher, FlinkWithinOneHour) {
  std::map<std::string, Define> defines = {
      {"B", [](const Ctx& c) { return c.price() > *c.Last("A") - 10; }},
      {"C", [](const Ctx& c) { return c.price() < *c.Last("A") - 10; }},
  };
  std::vector<int64_t> prices = {20, 17, 18, 11, 14, 9, 15, 14, 24, 1, 19};
  auto run = [&](int64_t within, Strings* at_row10) {
    Driver d("A B* C", defines, Within(within));
    Strings all;
    for (size_t i = 0; i < prices.size(); ++i) {
      Strings got = d.Row(static_cast<int64_t>(i) * 20 * kMinute, prices[i]);
      if (i == 9) *at_row10 = got;
      all.insert(all.end(), got.begin(), got.end());
    }
    Strings rest = d.Finish();
    all.insert(all.end(), rest.begin(), rest.end());
    return all;
  };
  Strings at_row10;
  EXPECT_EQ(run(60 * kMinute, &at_row10), Strings{"A7 B8 B9 C10"});
  EXPECT_EQ(at_row10, Strings{"A7 B8 B9 C10"}) << "emitted by the row that completes it";
  // One µs less and 12:00 -> 13:00 is too long; then row 8 (14 at 12:20) may start a match, and
  // drops by more than 10 to 1 forty minutes later.
  EXPECT_EQ(run(60 * kMinute - 1, &at_row10), Strings{"A8 B9 C10"});
}

// Flink docs, "Aggregations": PATTERN (A+ B), A AS AVG(A.price) < 15.
TEST(CepMatcher, FlinkAverageInCondition) {
  Driver d("A+ B", {{"A", [](const Ctx& c) { return c.Avg("A") < 15; }}});
  EXPECT_EQ(d.Prices({12, 17, 13, 16}), Strings{});
  EXPECT_EQ(d.Prices({25}), Strings{"A1 A2 A3 A4 B5"}) << "avg 14.5; with 25 it is 16.6";
  EXPECT_EQ(d.Prices({2, 4, 10, 15, 25, 25}), Strings{});
  EXPECT_EQ(d.Prices({30}), Strings{"A6 A7 A8 A9 A10 A11 B12"}) << "avg 13.5";
}

// Flink docs, "Output Mode": A AS LAST(A.price, 1) IS NULL OR A.price > LAST(A.price, 1),
// B AS B.price < LAST(A.price): startPrice 10, topPrice 13, lastPrice 11.
TEST(CepMatcher, FlinkLastWithOffset) {
  Driver d("A+ B", {{"A",
                     [](const Ctx& c) {
                       auto prev = c.Last("A", 1);
                       EXPECT_EQ(c.Last("A", 0), c.price()) << "the candidate is included";
                       return !prev || c.price() > *prev;
                     }},
                    {"B", [](const Ctx& c) { return c.price() < *c.Last("A"); }}});
  EXPECT_EQ(d.Prices({10, 12, 13}), Strings{});
  EXPECT_EQ(d.Prices({11}), Strings{"A1 A2 A3 B4"});
}

// Flink docs, "Logical Offsets": PATTERN (A B? C), B AS B.price < 20, C AS LAST(price, 1) <
// C.price. LAST(price, 1) is the row before the candidate in the match, whichever variable.
TEST(CepMatcher, FlinkLastOverAllVariables) {
  std::map<std::string, Define> defines = {
      {"B", [](const Ctx& c) { return c.price() < 20; }},
      {"C", [](const Ctx& c) { return *c.Last("*", 1) < c.price(); }},
  };
  Driver with_b("A B? C", defines);
  EXPECT_EQ(with_b.Prices({10, 15}), Strings{}) << "A1 C2 is complete but B? prefers B2";
  EXPECT_EQ(with_b.Prices({20}), Strings{"A1 B2 C3"});
  Driver without_b("A B? C", defines);
  EXPECT_EQ(without_b.Prices({10, 20}), Strings{"A1 C2"}) << "20 is no B: C compares with A";
}

// ---------------------------------------------------------------------------------------------
// Preferment.

TEST(CepMatcher, AlternationPrefersTheLeftBranch) {
  Driver ab("(A | B) C", {{"A", TagIs("x")}, {"B", TagIs("x")}});
  EXPECT_EQ(ab.Tags("xy"), Strings{"A1 C2"});
  Driver ba("(B | A) C", {{"A", TagIs("x")}, {"B", TagIs("x")}});
  EXPECT_EQ(ba.Tags("xy"), Strings{"B1 C2"});
}

// A complete match waits while a preferred alternative is alive, and comes out once that dies.
TEST(CepMatcher, LessPreferredMatchWaitsForThePreferredOne) {
  std::map<std::string, Define> defines = {
      {"A", TagIs("a")}, {"B", TagIs("b")}, {"C", TagIn("bc")}};
  Driver left_wins("(A B | A) C", defines);
  EXPECT_EQ(left_wins.Tags("ab"), Strings{}) << "A1 C2 is complete, A1 B2 C? is preferred";
  EXPECT_EQ(left_wins.Tags("c"), Strings{"A1 B2 C3"});
  Driver left_dies("(A B | A) C", defines);
  EXPECT_EQ(left_dies.Tags("ab"), Strings{});
  EXPECT_EQ(left_dies.Tags("d"), Strings{"A1 C2"}) << "row 3 ends the preferred branch";
  Driver right_first("(A | A B) C", defines);
  EXPECT_EQ(right_first.Tags("ab"), Strings{"A1 C2"}) << "the preferred branch is complete";
}

TEST(CepMatcher, OptionalGreedyVersusReluctant) {
  std::map<std::string, Define> defines = {
      {"A", TagIs("a")}, {"B", TagIs("x")}, {"C", TagIn("xc")}};
  Driver greedy("A B? C", defines);
  EXPECT_EQ(greedy.Tags("axc"), Strings{"A1 B2 C3"});
  Driver greedy_no_b("A B? C", defines);
  EXPECT_EQ(greedy_no_b.Tags("ax"), Strings{}) << "A1 C2 waits: B2 C? is preferred";
  EXPECT_EQ(greedy_no_b.Tags("a"), Strings{"A1 C2"});
  Driver reluctant("A B?? C", defines);
  EXPECT_EQ(reluctant.Tags("ax"), Strings{"A1 C2"}) << "?? prefers no B";
  EXPECT_EQ(reluctant.Tags("c"), Strings{}) << "row 3 starts no match";
}

TEST(CepMatcher, BoundedQuantifiers) {
  std::map<std::string, Define> a_then_any = {{"A", TagIs("a")}};
  Driver greedy("A{2,3} B", a_then_any);
  EXPECT_EQ(greedy.Tags("aaaab"), Strings{"A1 A2 A3 B4"}) << "at most 3 A, B takes any row";
  EXPECT_EQ(greedy.Finish(), Strings{}) << "row 5 is no A";
  Driver reluctant("A{2,3}? B", a_then_any);
  EXPECT_EQ(reluctant.Tags("aaaab"), Strings{"A1 A2 B3"}) << "then A4 alone is too few";
  Driver exact("A{2} B", a_then_any);
  EXPECT_EQ(exact.Tags("aaaaab"), (Strings{"A1 A2 B3", "A4 A5 B6"}));

  std::map<std::string, Define> a_then_b = {{"A", TagIs("a")}, {"B", TagIs("b")}};
  Driver at_least("A{2,} B", a_then_b);
  EXPECT_EQ(at_least.Tags("abaaab"), Strings{"A3 A4 A5 B6"});
  Driver at_most("A{,2} B", a_then_b);
  EXPECT_EQ(at_most.Tags("aaab"), Strings{"A2 A3 B4"}) << "from row 1, three A are too many";
  Driver zero_allowed("X A{,2} B", {{"X", TagIs("x")}, {"A", TagIs("a")}, {"B", TagIs("b")}});
  EXPECT_EQ(zero_allowed.Tags("xbxab"), (Strings{"X1 B2", "X3 A4 B5"}));
  Driver nested("(A B){2,3} C", {{"A", TagIs("a")}, {"B", TagIs("b")}, {"C", TagIs("c")}});
  EXPECT_EQ(nested.Tags("ababababcababc"), (Strings{"A3 B4 A5 B6 A7 B8 C9", "A10 B11 A12 B13 C14"}))
      << "from row 1 a fourth A B leaves no C; row 3 starts three repetitions";
}

// ---------------------------------------------------------------------------------------------
// AFTER MATCH SKIP on overlapping matches.

TEST(CepMatcher, SkipModesOnOverlappingMatches) {
  std::map<std::string, Define> defines = {{"A", TagIs("a")}, {"B", TagIs("b")}};
  Driver past("A+ B", defines, Skip(AfterMatchSkip::PastLastRow()));
  EXPECT_EQ(past.Tags("aaab"), Strings{"A1 A2 A3 B4"});
  Driver next("A+ B", defines, Skip(AfterMatchSkip::ToNextRow()));
  EXPECT_EQ(next.Tags("aaab"), (Strings{"A1 A2 A3 B4", "A2 A3 B4", "A3 B4"}));
  Driver to_last("A+ B", defines, Skip(AfterMatchSkip::ToLast(0)));
  EXPECT_EQ(to_last.Tags("aaab"), (Strings{"A1 A2 A3 B4", "A3 B4"}));
  EXPECT_EQ(to_last.status().code(), absl::StatusCode::kInvalidArgument)
      << "A3 B4's last A is its first row";

  Driver first_b("A B C", {}, Skip(AfterMatchSkip::ToFirst(1)));
  EXPECT_EQ(first_b.Tags("xxxxx"), (Strings{"A1 B2 C3", "A2 B3 C4", "A3 B4 C5"}));
  Driver last_c("A B C", {}, Skip(AfterMatchSkip::ToLast(2)));
  EXPECT_EQ(last_c.Tags("xxxxxxx"), (Strings{"A1 B2 C3", "A3 B4 C5", "A5 B6 C7"}));

  // SKIP TO LAST B when the match has no B: SQL:2016 requires a row (ORA-62514).
  Driver no_b("A B? C", {{"A", TagIs("a")}, {"B", TagIs("b")}, {"C", TagIs("c")}},
              Skip(AfterMatchSkip::ToLast(1)));
  EXPECT_EQ(no_b.Tags("abc"), Strings{"A1 B2 C3"});
  EXPECT_TRUE(no_b.status().ok());
  EXPECT_EQ(no_b.Tags("ac"), Strings{"A4 C5"});
  EXPECT_EQ(no_b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_b.status().message().find("no row mapped to B"), std::string::npos) << no_b.status();
}

// A later start row that completes first waits for the earlier start row to be decided.
TEST(CepMatcher, MatchesComeOutInOrderOfTheirStartRows) {
  std::map<std::string, Define> defines = {
      {"A", TagIs("a")}, {"B", TagIn("ab")}, {"C", TagIs("c")}, {"D", TagIn("cd")}};
  // Row 1 runs A1 B2 C3 C?; row 2 completes B2 D3 at row 3 but must wait for row 1.
  Driver both("A B C C | B D", defines, Skip(AfterMatchSkip::ToNextRow()));
  EXPECT_EQ(both.Tags("aac"), Strings{});
  EXPECT_EQ(both.Tags("c"), (Strings{"A1 B2 C3 C4", "B2 D3"}));
  Driver first_fails("A B C C | B D", defines, Skip(AfterMatchSkip::ToNextRow()));
  EXPECT_EQ(first_fails.Tags("abc"), Strings{});
  EXPECT_EQ(first_fails.Tags("x"), Strings{"B2 D3"}) << "row 4 ends A1 B2 C3 C?";
  Driver skipped("A B C C | B D", defines, Skip(AfterMatchSkip::PastLastRow()));
  EXPECT_EQ(skipped.Tags("aacc"), Strings{"A1 B2 C3 C4"}) << "B2 D3 overlaps it";
  Driver decided("A B C C | B D", defines);
  EXPECT_EQ(decided.Tags("aad"), Strings{"B2 D3"}) << "row 3 ends row 1's only run";
}

// ---------------------------------------------------------------------------------------------
// Time: WITHIN, watermarks, absence.

TEST(CepMatcher, WatermarkExpiresThePreferredPartialMatch) {
  std::map<std::string, Define> defines = {{"A", TagIs("a")}, {"B", TagIs("b")}, {"C", TagIs("c")}};
  Driver d("A B C | A B", defines, Within(10 * kSecond));
  EXPECT_EQ(d.Row(0, 0, "a"), Strings{});
  EXPECT_EQ(d.Row(1 * kSecond, 0, "b"), Strings{}) << "A1 B2 waits for A1 B2 C?";
  EXPECT_EQ(d.Watermark(9 * kSecond), Strings{});
  EXPECT_EQ(d.Watermark(10 * kSecond - 1), Strings{}) << "a C at 10 s would still count";
  EXPECT_EQ(d.Watermark(10 * kSecond), Strings{"A1 B2"});
  EXPECT_EQ(d.matcher().partial_matches(), 0u);

  Driver by_row("A B C | A B", defines, Within(10 * kSecond));
  by_row.Row(0, 0, "a");
  by_row.Row(1 * kSecond, 0, "b");
  EXPECT_EQ(by_row.Row(11 * kSecond, 0, "c"), Strings{"A1 B2"}) << "too late for A1 B2 C3";

  Driver boundary("A B C | A B", defines, Within(10 * kSecond));
  boundary.Row(0, 0, "a");
  boundary.Row(1 * kSecond, 0, "b");
  EXPECT_EQ(boundary.Row(10 * kSecond, 0, "c"), Strings{"A1 B2 C3"}) << "WITHIN is inclusive";
}

TEST(CepMatcher, WithinDropsPartialMatchesWithoutWatermarks) {
  // A+? B over rows that are all A: every row starts a run that never completes. WITHIN bounds
  // how many stay alive, by row times alone.
  Driver d("A+? B", {{"B", TagIs("b")}}, Within(2 * kSecond));
  for (int i = 0; i < 50; ++i) d.Row(i * kSecond, 0, "a");
  EXPECT_TRUE(d.status().ok());
  EXPECT_EQ(d.matcher().partial_matches(), 6u) << "runs from the last 3 rows, 2 each";
  // Row 51 at 50 s: runs from rows at 48 s (row 49) and later may still take it.
  EXPECT_EQ(d.Row(50 * kSecond, 0, "b"), Strings{"A49 A50 B51"});
}

TEST(CepMatcher, AbsenceFiresWhenTheWatermarkPassesItsWindow) {
  std::map<std::string, Define> defines = {{"A", TagIs("a")}, {"C", TagIs("c")}};
  Driver d("A NOT C", defines, Within(10 * kSecond));
  EXPECT_EQ(d.Row(0, 0, "a"), Strings{});
  EXPECT_EQ(d.Row(3 * kSecond, 0, "x"), Strings{}) << "other rows do not matter";
  EXPECT_EQ(d.Watermark(9 * kSecond), Strings{});
  EXPECT_EQ(d.Watermark(10 * kSecond - 1), Strings{});
  EXPECT_EQ(d.Watermark(10 * kSecond), Strings{"A1"});
  EXPECT_EQ(d.Finish(), Strings{});
}

TEST(CepMatcher, AbsenceIsCancelledByARowInItsWindow) {
  std::map<std::string, Define> defines = {{"A", TagIs("a")}, {"C", TagIs("c")}};
  Driver early("A NOT C", defines, Within(10 * kSecond));
  early.Row(0, 0, "a");
  early.Row(5 * kSecond, 0, "c");
  EXPECT_EQ(early.Finish(), Strings{});
  Driver boundary("A NOT C", defines, Within(10 * kSecond));
  boundary.Row(0, 0, "a");
  boundary.Row(10 * kSecond, 0, "c");
  EXPECT_EQ(boundary.Finish(), Strings{}) << "a C exactly at the end of the window counts";
  Driver late("A NOT C", defines, Within(10 * kSecond));
  late.Row(0, 0, "a");
  late.Row(4 * kSecond, 0, "x");
  EXPECT_EQ(late.Row(11 * kSecond, 0, "c"), Strings{"A1"})
      << "a row after the window proves the absence before it is processed";
  EXPECT_EQ(late.Finish(), Strings{});
}

TEST(CepMatcher, AbsenceWindowsOverlap) {
  std::map<std::string, Define> defines = {{"A", TagIs("a")}, {"C", TagIs("c")}};
  Driver d("A NOT C", defines, Within(10 * kSecond));
  d.Row(0, 0, "a");
  d.Row(5 * kSecond, 0, "a");
  EXPECT_EQ(d.Row(12 * kSecond, 0, "c"), Strings{"A1"}) << "A2's window [5 s, 15 s] has the C";
  EXPECT_EQ(d.Finish(), Strings{});

  Driver both("A NOT C", defines, Within(10 * kSecond));
  both.Row(0, 0, "a");
  both.Row(1 * kSecond, 0, "a");
  EXPECT_EQ(both.Watermark(10 * kSecond), Strings{"A1"});
  EXPECT_EQ(both.Watermark(11 * kSecond), Strings{"A2"});
}

// The absence window is anchored at the match's first row, like WITHIN: P NOT C completes at
// first row time + WITHIN.
TEST(CepMatcher, AbsenceAfterASequence) {
  std::map<std::string, Define> defines = {{"A", TagIs("a")}, {"B", TagIs("b")}, {"C", TagIs("c")}};
  Driver d("A B NOT C", defines, Within(10 * kSecond));
  d.Row(0, 0, "a");
  d.Row(2 * kSecond, 0, "b");
  EXPECT_EQ(d.Watermark(10 * kSecond), Strings{"A1 B2"});
  Driver cancelled("A B NOT C", defines, Within(10 * kSecond));
  cancelled.Row(0, 0, "a");
  cancelled.Row(2 * kSecond, 0, "b");
  cancelled.Row(3 * kSecond, 0, "c");
  EXPECT_EQ(cancelled.Finish(), Strings{});
  // The C condition sees the partial match: here C must repeat B's price.
  Driver navigating("A B NOT C",
                    {{"A", TagIs("a")},
                     {"B", TagIs("b")},
                     {"C",
                      [](const Ctx& c) {
                        EXPECT_EQ(c.Count("*"), 3);
                        return c.price() == *c.Last("B");
                      }}},
                    Within(10 * kSecond));
  navigating.Row(0, 0, "a");
  navigating.Row(1 * kSecond, 7, "b");
  navigating.Row(2 * kSecond, 8, "x");
  EXPECT_EQ(navigating.Watermark(10 * kSecond), Strings{"A1 B2"});
  Driver navigating2("A B NOT C",
                     {{"A", TagIs("a")},
                      {"B", TagIs("b")},
                      {"C", [](const Ctx& c) { return c.price() == *c.Last("B"); }}},
                     Within(10 * kSecond));
  navigating2.Row(0, 0, "a");
  navigating2.Row(1 * kSecond, 7, "b");
  navigating2.Row(2 * kSecond, 7, "x");
  EXPECT_EQ(navigating2.Finish(), Strings{});
}

// A greedy run before NOT: every length of A+ is a candidate; the longest whose window has no C
// wins, since all of them share the first row and thus the window.
TEST(CepMatcher, AbsenceAfterAGreedyRun) {
  Driver d("A+ NOT C", {{"A", TagIs("a")}, {"C", TagIs("c")}}, Within(10 * kSecond));
  d.Row(0, 0, "a");
  d.Row(1 * kSecond, 0, "a");
  d.Row(2 * kSecond, 0, "x");
  EXPECT_EQ(d.Watermark(10 * kSecond), Strings{"A1 A2"});
  EXPECT_EQ(d.Watermark(11 * kSecond), Strings{}) << "row 2 was skipped past";
}

// The NOT variable may also be one of P's: `A NOT A` is an A with no other A within the window.
TEST(CepMatcher, AbsenceOfTheSameVariable) {
  Driver d("A NOT A", {{"A", TagIs("a")}}, Within(10 * kSecond));
  d.Row(0, 0, "a");
  d.Row(5 * kSecond, 0, "a");
  EXPECT_EQ(d.Watermark(14 * kSecond), Strings{}) << "row 2 cancels row 1's absence";
  EXPECT_EQ(d.Row(16 * kSecond, 0, "x"), Strings{"A2"}) << "a row at 16 s closes [5 s, 15 s]";
  EXPECT_EQ(d.Watermark(15 * kSecond), Strings{});
  EXPECT_EQ(d.Finish(), Strings{});
  bool saw_both = false;
  Driver counted("A NOT A",
                 {{"A",
                   [&saw_both](const Ctx& c) {
                     // Testing row 2 against row 1's NOT A: both rows are A's.
                     if (c.Count("A") == 2) saw_both = c.Count("*") == 2;
                     return c.tag() == "a";
                   }}},
                 Within(10 * kSecond));
  counted.Row(0, 0, "a");
  EXPECT_EQ(counted.Row(3 * kSecond, 0, "a"), Strings{});
  EXPECT_TRUE(saw_both);
  EXPECT_EQ(counted.Finish(), Strings{"A2"});
}

TEST(CepMatcher, EqualTimestampsKeepArrivalOrder) {
  Driver d("A B", {{"A", TagIs("a")}, {"B", TagIs("b")}}, Within(1));
  EXPECT_EQ(d.Row(5, 0, "a"), Strings{});
  EXPECT_EQ(d.Row(5, 0, "b"), Strings{"A1 B2"});
  EXPECT_EQ(d.Row(5, 0, "b"), Strings{});
  EXPECT_EQ(d.Row(5, 0, "a"), Strings{});
  EXPECT_EQ(d.Row(6, 0, "b"), Strings{"A4 B5"}) << "1 µs apart is within 1 µs";
  EXPECT_EQ(d.Row(6, 0, "a"), Strings{});
  EXPECT_EQ(d.Row(8, 0, "b"), Strings{}) << "2 µs apart is not";
  EXPECT_TRUE(d.status().ok());
}

TEST(CepMatcher, RowsOutOfOrderOrLateAreRejected) {
  Driver d("A B", {});
  d.Row(10, 0);
  EXPECT_EQ(d.Row(9, 0), Strings{});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("event-time order"), std::string::npos);
  Driver late("A B", {});
  late.Row(10, 0);
  late.Watermark(20);
  late.Row(20, 0);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(late.status().message().find("watermark"), std::string::npos);
  late.Row(21, 0);
  EXPECT_TRUE(late.status().ok()) << "a rejected row does not poison the matcher";

  auto c = Compile(*ParsePattern("A B"), {});
  ASSERT_TRUE(c.ok());
  Matcher m(*c, [](VarId, int64_t, const MatchView&) { return true; });
  std::vector<Match> out;
  ASSERT_TRUE(m.ProcessRow(5, 1, &out).ok());
  EXPECT_EQ(m.ProcessRow(5, 2, &out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(m.ProcessRow(6, 2, &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Navigation.

TEST(CepMatcher, PrevIsThePreviousRowOfThePartition) {
  std::map<std::string, Define> defines = {
      {"B", [](const Ctx& c) { return c.price() > *c.Prev(); }},
      {"C", [](const Ctx& c) { return c.price() < *c.Prev(); }},
  };
  Driver d("A B+ C", defines);
  EXPECT_EQ(d.Prices({5, 6, 7, 8, 3}), Strings{"A1 B2 B3 B4 C5"});

  Driver first("X Y", {{"X", [](const Ctx& c) { return !c.Prev().has_value(); }}});
  EXPECT_EQ(first.Prices({1, 2, 3, 4}), Strings{"X1 Y2"}) << "only row 1 has no previous row";

  MatcherOptions two;
  two.max_prev_rows = 2;
  Driver back2("A", {{"A", [](const Ctx& c) { return c.Prev(2) == c.price(); }}}, {}, two);
  EXPECT_EQ(back2.Prices({1, 2, 1, 2, 3}), (Strings{"A3", "A4"}));
  EXPECT_EQ(back2.matcher().OldestNeededRow(), 4) << "rows 4 and 5 are PREV(x, 2) of the next";
}

TEST(CepMatcher, FirstCountAndAggregatesOfAnotherVariable) {
  std::map<std::string, Define> defines = {
      {"A", [](const Ctx& c) { return c.tag() == "a" && c.Count("A") <= 3; }},
      {"B",
       [](const Ctx& c) {
         EXPECT_EQ(c.Count("B"), 1);
         EXPECT_EQ(c.Count("*"), c.Count("A") + 1);
         return *c.First("A") == c.price() && c.Sum("A") > 20;
       }},
  };
  Driver d("A+ B", defines);
  // From row 1: A1 A2 A3 (at most 3 A); no row equals FIRST(A.price) = 5. From row 2: A2 A3 A4
  // and B5 = 6 = FIRST(A.price), SUM(A.price) = 21.
  EXPECT_EQ(d.Prices({5, 6, 7, 8, 6}, {"a", "a", "a", "a", "b"}), Strings{"A2 A3 A4 B5"});
}

TEST(CepMatcher, RepeatedVariableIsOneSetOfRows) {
  Driver d("A B A", {{"A", [](const Ctx& c) {
                        // The second A sees the first one.
                        return c.Count("A") == 1 || *c.First("A") == c.price();
                      }}});
  EXPECT_EQ(d.Prices({4, 0, 4, 9, 1, 2}), Strings{"A1 B2 A3"});
  EXPECT_EQ(d.Finish(), Strings{}) << "from row 4: 9 1 2 has no second A equal to 9";
}

// ---------------------------------------------------------------------------------------------
// Resources.

TEST(CepMatcher, PartialMatchLimit) {
  MatcherOptions options;
  options.max_partial_matches = 10;
  options.limit_setting = "'eddy.match-recognize.max-partial-matches'";
  Driver d("A+? B", {{"B", TagIs("b")}}, {}, options);
  // Every row starts a run; each start row has two runs (B next, or one more A).
  for (int i = 0; i < 5; ++i) d.Tags("a");
  EXPECT_TRUE(d.status().ok());
  EXPECT_EQ(d.matcher().partial_matches(), 10u);
  d.Tags("a");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(d.status().message().find("12 partial matches"), std::string::npos) << d.status();
  EXPECT_NE(d.status().message().find("limit of 10"), std::string::npos);
  EXPECT_NE(d.status().message().find("'eddy.match-recognize.max-partial-matches'"),
            std::string::npos);
  EXPECT_NE(d.status().message().find("WITHIN"), std::string::npos);
  d.Watermark(INT64_MAX);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted) << "the error sticks";
}

TEST(CepMatcher, CancelStopsARowBetweenPartialMatches) {
  // Every 'a' starts a run of A+ that B never ends: 600 start rows alive.
  std::atomic<bool> cancelled{false};
  MatcherOptions options;
  options.cancelled = &cancelled;
  Driver d("A+ B", {{"A", TagIs("a")}, {"B", TagIs("b")}}, {}, options);
  for (int i = 0; i < 600; ++i) d.Tags("a");
  ASSERT_TRUE(d.status().ok()) << d.status();
  EXPECT_GE(d.matcher().partial_matches(), 600u);
  cancelled = true;
  d.Tags("a");
  EXPECT_EQ(d.status().code(), absl::StatusCode::kCancelled) << d.status();
  d.Watermark(INT64_MAX);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kCancelled) << "the error sticks";
}

TEST(CepMatcher, FewPartialMatchesFinishTheRowDespiteACancel) {
  // The flag is read every 256 start rows: a row with fewer completes (the operator checks the
  // flag between rows).
  std::atomic<bool> cancelled{true};
  MatcherOptions options;
  options.cancelled = &cancelled;
  Driver d("A B", {{"A", TagIs("a")}, {"B", TagIs("b")}}, {}, options);
  EXPECT_EQ(d.Tags("a"), Strings{});
  EXPECT_EQ(d.Tags("b"), Strings{"A1 B2"});
  EXPECT_TRUE(d.status().ok()) << d.status();
}

TEST(CepMatcher, OldestNeededRow) {
  std::map<std::string, Define> defines = {{"A", TagIs("a")}, {"B", TagIs("b")}, {"C", TagIs("c")}};
  Driver d("A B C | A", defines);
  EXPECT_EQ(d.matcher().OldestNeededRow(), INT64_MIN) << "nothing fed yet";
  d.Tags("x");
  EXPECT_EQ(d.matcher().OldestNeededRow(), 1) << "PREV of the next row is row 1";
  d.Tags("a");
  EXPECT_EQ(d.matcher().OldestNeededRow(), 1) << "row 2 starts a run; PREV(row 2) is row 1";
  d.Tags("b");
  EXPECT_EQ(d.matcher().OldestNeededRow(), 1) << "A2 is complete but A2 B3 C? is preferred";
  EXPECT_EQ(d.Tags("x"), Strings{"A2"});
  EXPECT_EQ(d.matcher().OldestNeededRow(), 4);

  MatcherOptions no_prev;
  no_prev.max_prev_rows = 0;
  Driver e("A B", {{"A", TagIs("a")}}, {}, no_prev);
  e.Tags("xx");
  EXPECT_EQ(e.matcher().OldestNeededRow(), 3) << "nothing needed: the last row + 1";
  e.Tags("a");
  EXPECT_EQ(e.matcher().OldestNeededRow(), 3);
  EXPECT_EQ(e.Tags("x"), Strings{"A3 B4"});
  EXPECT_EQ(e.matcher().OldestNeededRow(), 5);
}

// What ALL ROWS PER MATCH holds its output watermark below: the time of the oldest start row
// still in play (a run or a complete match waiting for a preferred run).
TEST(CepMatcher, OldestStartTime) {
  std::map<std::string, Define> defines = {{"A", TagIs("a")}, {"B", TagIs("b")}, {"C", TagIs("c")}};
  Driver d("A B C | A", defines);
  EXPECT_EQ(d.matcher().OldestStartTime(), std::nullopt) << "nothing fed yet";
  d.Tags("x");
  EXPECT_EQ(d.matcher().OldestStartTime(), std::nullopt) << "row 1 starts nothing";
  d.Tags("a");
  EXPECT_EQ(d.matcher().OldestStartTime(), 2 * kSecond) << "row 2 starts a run";
  d.Tags("b");
  EXPECT_EQ(d.matcher().OldestStartTime(), 2 * kSecond) << "A2 waits for A2 B3 C?";
  EXPECT_EQ(d.Tags("x"), Strings{"A2"});
  EXPECT_EQ(d.matcher().OldestStartTime(), std::nullopt) << "emitted; row 4 starts nothing";

  // NOT: the match A1 is complete only when its window has passed, long after row 1.
  Driver n("A NOT C", {{"A", TagIs("a")}, {"C", TagIs("c")}}, Within(10 * kSecond));
  EXPECT_EQ(n.Row(0, 0, "a"), Strings{});
  EXPECT_EQ(n.Row(5 * kSecond, 0, "a"), Strings{});
  EXPECT_EQ(n.matcher().OldestStartTime(), 0);
  EXPECT_EQ(n.Watermark(10 * kSecond), Strings{"A1"});
  EXPECT_EQ(n.matcher().OldestStartTime(), 5 * kSecond);
  EXPECT_EQ(n.Finish(), Strings{"A2"});
  EXPECT_EQ(n.matcher().OldestStartTime(), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Compile-time rules.

absl::Status CompileText(const std::string& text, CompileOptions options = {}) {
  auto p = ParsePattern(text);
  if (!p.ok()) return p.status();
  return Compile(*p, options).status();
}

TEST(CepCompile, RejectsAGreedyQuantifierThatEndsThePattern) {
  for (const char* text : {"A B*", "A B+", "A B?", "A B{1,3}", "A B{2,}", "A (B | C+)", "A B? C??",
                           "(A B)+", "(A B*)+?", "A (B C*){2}"}) {
    absl::Status st = CompileText(text);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(st.message().find("greedy quantifier"), std::string::npos) << st;
    EXPECT_NE(st.message().find("reluctant"), std::string::npos) << st;
  }
  absl::Status st = CompileText("A B*");
  EXPECT_NE(st.message().find("B* at offset 2"), std::string::npos) << st;
  EXPECT_NE(st.message().find("B*?"), std::string::npos) << st;
  for (const char* text : {"A B*?", "A B+?", "A B??", "A B{3}", "A B{1,3}?", "A B* C", "(A B)",
                           "A (B | C)", "A (B C+?)+?", "A+ B", "A+ NOT C"}) {
    CompileOptions o;
    o.within_us = 10;
    EXPECT_TRUE(CompileText(text, o).ok()) << text << ": " << CompileText(text, o);
  }
}

TEST(CepCompile, RejectsPatternsThatMatchNoRows) {
  for (const char* text : {"A*", "A?", "A? B*", "A{0,} B{0,} C*", "(A | B?)", "A*? B??"}) {
    absl::Status st = CompileText(text);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(st.message().find("empty sequence"), std::string::npos) << st;
  }
  absl::Status st = CompileText("(A? B?)+ C");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("can match no rows in one repetition"), std::string::npos) << st;
  EXPECT_NE(st.message().find("at offset 0"), std::string::npos) << st;
  EXPECT_TRUE(CompileText("(A? B?)? C").ok()) << "no repetition";
}

TEST(CepCompile, AbsenceRules) {
  CompileOptions within;
  within.within_us = 5 * kSecond;
  auto compiled = Compile(*ParsePattern("A NOT C"), within);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ((*compiled)->absence_variable(), 1);
  EXPECT_EQ((*Compile(*ParsePattern("A C"), within))->absence_variable(), -1);
  absl::Status st = CompileText("A NOT C");
  EXPECT_NE(st.message().find("needs a WITHIN"), std::string::npos) << st;
  st = CompileText("NOT C", within);
  EXPECT_NE(st.message().find("needs an element before it"), std::string::npos) << st;
  for (const char* text :
       {"A NOT C B", "(A NOT C) B", "A NOT C | B", "A (NOT C)+", "A NOT C NOT D"}) {
    auto p = ParsePattern(text);
    if (!p.ok()) continue;  // rejected by the parser already
    st = Compile(*p, within).status();
    EXPECT_NE(st.message().find("must be the last element"), std::string::npos) << text << st;
  }
  st = CompileText("A? NOT C", within);
  EXPECT_NE(st.message().find("empty sequence"), std::string::npos) << st;
  CompileOptions skip_c = within;
  skip_c.skip = AfterMatchSkip::ToLast(1);
  st = CompileText("A NOT C", skip_c);
  EXPECT_NE(st.message().find("maps no rows to C"), std::string::npos) << st;
}

TEST(CepCompile, OptionChecks) {
  CompileOptions o;
  o.within_us = 0;
  EXPECT_NE(CompileText("A B", o).message().find("positive"), std::string::npos);
  o = {};
  o.skip = AfterMatchSkip::ToFirst(7);
  EXPECT_NE(CompileText("A B", o).message().find("maps no rows"), std::string::npos);
  o = {};
  o.conditions.assign(3, ConditionKind::kNone);
  EXPECT_NE(CompileText("A B", o).message().find("conditions has 3"), std::string::npos);

  Pattern bad;
  bad.variables = {"A"};
  bad.root = PatternNode::Concat({PatternNode::Variable(0), PatternNode::Variable(3)});
  EXPECT_NE(Compile(bad, {}).status().message().find("variable id 3"), std::string::npos);
  bad.root = PatternNode::Quantified(PatternNode::Variable(0), 3, 2);
  EXPECT_NE(Compile(bad, {}).status().message().find("invalid quantifier bounds"),
            std::string::npos);
}

TEST(CepCompile, PatternSizeIsBounded) {
  std::string text = "A";
  for (int i = 0; i < 1500; ++i) text += " | A B";
  absl::Status st = CompileText(text);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("at most 2000"), std::string::npos) << st.message().substr(0, 200);
  std::string ok = "A";
  for (int i = 0; i < 500; ++i) ok += " | A B";
  EXPECT_TRUE(CompileText(ok).ok());
}

TEST(CepCompile, ProgramForEXPLAIN) {
  auto c = Compile(*ParsePattern("A (B | C){2,3}? D"), {});
  ASSERT_TRUE(c.ok());
  std::string program = (*c)->DebugString();
  EXPECT_NE(program.find("loop c0 {2,3}? body"), std::string::npos) << program;
  EXPECT_NE(program.find("match"), std::string::npos) << program;
}

}  // namespace
}  // namespace eddy::runtime::cep
