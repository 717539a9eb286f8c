// Differential test: the streaming Matcher against a naive evaluator written here independently.
// The reference knows the whole partition up front and, for each start row in order, searches the
// pattern tree by recursive backtracking in SQL preferment order (alternatives left to right, a
// greedy quantifier tries one more repetition before stopping, a reluctant one the reverse); the
// first complete mapping is the match, and AFTER MATCH SKIP picks the next start row. The Matcher
// gets the same rows one at a time with watermarks at random points and must emit the same
// matches (and fail the same way on a bad skip). Random patterns over four variables, random rows
// over a three-letter alphabet, conditions on the letter plus PREV/LAST/FIRST/COUNT/SUM/AVG.
// A second run of the same cases snapshots the Matcher at random points between rows and goes on
// with a new Matcher restored from the snapshot (checkpoint recovery): the matches must not change.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/cep/nfa.h"
#include "runtime/cep/pattern.h"
#include "state/serializer.h"

namespace eddy::runtime::cep {
namespace {

constexpr int kVars = 4;
constexpr int64_t kIndexBase = 100;  // row i has index kIndexBase + kIndexStep * i
constexpr int64_t kIndexStep = 7;

struct Row {
  char letter;
  int64_t value;
  int64_t time;
  int64_t index;
};

// A condition from a small menu; `letter`, `k` and `other` parameterize it.
struct Cond {
  enum Type {
    kNone,          // no DEFINE
    kLetterIs,      // letter == L
    kLetterIsNot,   // letter != L
    kLetterOrRise,  // letter == L or value > PREV(value)
    kNotBelowLast,  // LAST(v.value, 1) is null or value >= it
    kCountAtMost,   // COUNT(v.*) <= k and letter != L
    kAboveLastAny,  // LAST(value, 1) (any variable) is null ? letter == L : value > it
    kSumAtMost,     // SUM(v.value) <= k
    kFirstAnyEq,    // FIRST(value) (any variable) == value or letter == L
    kAvgOfOther,    // AVG(other.value) is null or >= value (other: another variable)
  };
  Type type = kNone;
  char letter = 'a';
  int64_t k = 0;
  VarId other = 0;
  bool declared_row_only = false;  // kLetter*: declared kRowOnly rather than kMatchDependent

  bool RowOnly() const {
    return type == kLetterIs || type == kLetterIsNot || type == kLetterOrRise;
  }
};

// Looks rows up by index; the Matcher side also checks that only rows it said it still needs
// are read.
struct RowStore {
  const std::vector<Row>* rows = nullptr;
  int64_t oldest_allowed = INT64_MIN;
  bool violated = false;

  const Row& Get(int64_t index) {
    if (index < oldest_allowed) violated = true;
    int64_t pos = (index - kIndexBase) / kIndexStep;
    return rows->at(static_cast<size_t>(pos));
  }
};

bool Evaluate(const Cond& c, VarId v, const MatchView& view, RowStore& store) {
  const Row& cur = store.Get(view.row());
  switch (c.type) {
    case Cond::kNone:
      return true;
    case Cond::kLetterIs:
      return cur.letter == c.letter;
    case Cond::kLetterIsNot:
      return cur.letter != c.letter;
    case Cond::kLetterOrRise: {
      if (cur.letter == c.letter) return true;
      auto prev = view.Prev(view.row(), 1);
      return prev && cur.value > store.Get(*prev).value;
    }
    case Cond::kNotBelowLast: {
      auto last = view.Last(v, 1);
      return !last || cur.value >= store.Get(*last).value;
    }
    case Cond::kCountAtMost:
      return view.Count(v) <= c.k && cur.letter != c.letter;
    case Cond::kAboveLastAny: {
      auto last = view.Last(kAnyVariable, 1);
      if (!last) return cur.letter == c.letter;
      return cur.value > store.Get(*last).value;
    }
    case Cond::kSumAtMost: {
      int64_t sum = 0;
      for (int64_t r : view.Rows(v)) sum += store.Get(r).value;
      return sum <= c.k;
    }
    case Cond::kFirstAnyEq:
      return store.Get(*view.First(kAnyVariable)).value == cur.value || cur.letter == c.letter;
    case Cond::kAvgOfOther: {
      std::vector<int64_t> rows = view.Rows(c.other);
      if (rows.empty()) return true;
      int64_t sum = 0;
      for (int64_t r : rows) sum += store.Get(r).value;
      return sum >= cur.value * static_cast<int64_t>(rows.size());
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The reference: backtracking over the pattern tree.

class Reference {
 public:
  Reference(const Pattern& pattern, const CompileOptions& options, const std::vector<Row>& rows,
            const std::vector<Cond>& conds)
      : p_(pattern), o_(options), rows_(rows), conds_(conds) {
    store_.rows = &rows_;
  }

  // The matches; `*error` when AFTER MATCH SKIP fails (after the match that triggers it), and
  // `*gave_up` when the search took too long to be worth comparing.
  std::vector<Match> Run(bool* error, bool* gave_up) {
    std::vector<Match> out;
    *error = false;
    *gave_up = false;
    int n = static_cast<int>(rows_.size());
    int pos = 0;
    while (pos < n) {
      start_ = pos;
      assign_.clear();
      bool found = M(p_.root, pos, [](int) { return true; });
      if (budget_ <= 0) {
        *gave_up = true;
        return out;
      }
      if (!found) {
        ++pos;
        continue;
      }
      Match m;
      m.number = static_cast<int64_t>(out.size()) + 1;
      for (auto [r, v] : assign_) m.rows.push_back(MatchedRow{rows_[r].index, v});
      out.push_back(m);
      int target = assign_.back().first + 1;
      switch (o_.skip.mode) {
        case AfterMatchSkip::Mode::kPastLastRow:
          break;
        case AfterMatchSkip::Mode::kToNextRow:
          target = pos + 1;
          break;
        case AfterMatchSkip::Mode::kToFirst:
        case AfterMatchSkip::Mode::kToLast: {
          int first = -1, last = -1;
          for (auto [r, v] : assign_) {
            if (v != o_.skip.var) continue;
            if (first < 0) first = r;
            last = r;
          }
          if (first < 0) {
            *error = true;
            return out;
          }
          target = o_.skip.mode == AfterMatchSkip::Mode::kToFirst ? first : last;
          if (target == pos) {
            *error = true;
            return out;
          }
        }
      }
      pos = target;
    }
    return out;
  }

 private:
  using Cont = std::function<bool(int)>;

  // A MatchView over assign_ plus a candidate row.
  class View : public MatchView {
   public:
    View(const Reference& r, int cand, VarId var) : r_(r), cand_(cand), var_(var) {}
    int64_t row() const override { return r_.rows_[cand_].index; }
    VarId var() const override { return var_; }
    int64_t Count(VarId v) const override { return static_cast<int64_t>(List(v).size()); }
    int64_t RowAt(VarId v, int64_t i) const override { return List(v).at(i); }
    void AppendRows(VarId v, std::vector<int64_t>* rows) const override {
      for (int64_t r : List(v)) rows->push_back(r);
    }
    std::optional<int64_t> Prev(int64_t row, int64_t n) const override {
      int64_t pos = (row - kIndexBase) / kIndexStep - n;
      if (pos < 0) return std::nullopt;
      return r_.rows_[pos].index;
    }

   private:
    std::vector<int64_t> List(VarId v) const {
      std::vector<int64_t> out;
      for (auto [r, var] : r_.assign_) {
        if (v == kAnyVariable || var == v) out.push_back(r_.rows_[r].index);
      }
      if (v == kAnyVariable || v == var_) out.push_back(r_.rows_[cand_].index);
      return out;
    }
    const Reference& r_;
    int cand_;
    VarId var_;
  };

  bool Holds(VarId v, int pos) {
    View view(*this, pos, v);
    return Evaluate(conds_[v], v, view, store_);
  }

  bool InWindow(int pos) const {
    return !o_.within_us || rows_[pos].time - rows_[start_].time <= *o_.within_us;
  }

  // Tries `n` at row `pos` in preferment order; `k` continues with the rest of the pattern and
  // returns true once the whole pattern matched (then assign_ holds the mapping).
  bool M(const PatternNode& n, int pos, const Cont& k) {
    if (--budget_ <= 0) return false;
    switch (n.kind) {
      case PatternNode::Kind::kVariable: {
        if (pos >= static_cast<int>(rows_.size()) || !InWindow(pos) || !Holds(n.var, pos)) {
          return false;
        }
        assign_.emplace_back(pos, n.var);
        if (k(pos + 1)) return true;
        assign_.pop_back();
        return false;
      }
      case PatternNode::Kind::kConcat:
        return Seq(n, 0, pos, k);
      case PatternNode::Kind::kAlternation:
        for (const PatternNode& c : n.children) {
          if (M(c, pos, k)) return true;
        }
        return false;
      case PatternNode::Kind::kQuantified:
        return Rep(n, 0, pos, k);
      case PatternNode::Kind::kAbsence: {
        // No row after the mapped rows, up to the first row's time + WITHIN, may match.
        int64_t deadline = rows_[start_].time + *o_.within_us;
        for (int j = pos; j < static_cast<int>(rows_.size()) && rows_[j].time <= deadline; ++j) {
          if (Holds(n.var, j)) return false;
        }
        return k(pos);
      }
    }
    return false;
  }

  bool Seq(const PatternNode& n, size_t i, int pos, const Cont& k) {
    if (i == n.children.size()) return k(pos);
    return M(n.children[i], pos, [&](int next) { return Seq(n, i + 1, next, k); });
  }

  bool Rep(const PatternNode& n, int count, int pos, const Cont& k) {
    bool can_more = n.max == kUnbounded || count < n.max;
    bool can_stop = count >= n.min;
    auto more = [&] {
      return can_more &&
             M(n.children[0], pos, [&](int next) { return Rep(n, count + 1, next, k); });
    };
    auto stop = [&] { return can_stop && k(pos); };
    return n.greedy ? (more() || stop()) : (stop() || more());
  }

  const Pattern& p_;
  const CompileOptions& o_;
  const std::vector<Row>& rows_;
  const std::vector<Cond>& conds_;
  RowStore store_;
  int start_ = 0;
  std::vector<std::pair<int, VarId>> assign_;
  int64_t budget_ = 3'000'000;
};

// ---------------------------------------------------------------------------------------------
// Random cases.

PatternNode RandomNode(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  if (depth == 0 || pick(10) < 4) return PatternNode::Variable(pick(kVars));
  switch (pick(3)) {
    case 0: {
      std::vector<PatternNode> items;
      for (int i = 0, n = 2 + pick(2); i < n; ++i) items.push_back(RandomNode(rng, depth - 1));
      return PatternNode::Concat(std::move(items));
    }
    case 1: {
      std::vector<PatternNode> items;
      for (int i = 0, n = 2 + pick(2); i < n; ++i) items.push_back(RandomNode(rng, depth - 1));
      return PatternNode::Alternation(std::move(items));
    }
    default: {
      int32_t min = 0, max = kUnbounded;
      switch (pick(7)) {
        case 0:
          min = 0, max = 1;
          break;
        case 1:
          min = 0, max = kUnbounded;
          break;
        case 2:
          min = 1, max = kUnbounded;
          break;
        case 3:
          min = max = 1 + pick(3);
          break;
        case 4:
          min = pick(3), max = kUnbounded;
          break;
        case 5:
          min = pick(3), max = std::max(1, min) + pick(3);
          break;
        default:
          min = 0, max = 1 + pick(3);
          break;
      }
      return PatternNode::Quantified(RandomNode(rng, depth - 1), min, max, pick(2) == 0);
    }
  }
}

// `row_only`: only conditions that do not read the partial match (so runs may merge).
Cond RandomCond(std::mt19937& rng, VarId self, bool row_only) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  Cond c;
  c.type = static_cast<Cond::Type>(row_only ? pick(4) : pick(10));
  c.letter = static_cast<char>('a' + pick(3));
  c.declared_row_only = row_only ? pick(8) != 0 : pick(2) == 0;
  switch (c.type) {
    case Cond::kCountAtMost:
      c.k = 1 + pick(3);
      break;
    case Cond::kSumAtMost:
      c.k = 2 + pick(9);
      break;
    case Cond::kAvgOfOther:
      c.other = (self + 1 + pick(kVars - 1)) % kVars;
      break;
    default:
      break;
  }
  return c;
}

std::string Describe(const std::vector<Match>& ms) {
  std::vector<std::string> parts;
  for (const Match& m : ms) {
    std::vector<std::string> rows;
    for (const MatchedRow& r : m.rows) {
      rows.push_back(absl::StrCat(std::string(1, static_cast<char>('A' + r.var)),
                                  (r.row - kIndexBase) / kIndexStep));
    }
    parts.push_back(absl::StrCat("#", m.number, "[", absl::StrJoin(rows, " "), "]"));
  }
  return absl::StrJoin(parts, " ");
}

// Structural equality with variables compared by name (the parser numbers them by appearance).
bool SameTree(const Pattern& pa, const PatternNode& a, const Pattern& pb, const PatternNode& b) {
  if (a.kind != b.kind || a.children.size() != b.children.size()) return false;
  if (a.kind == PatternNode::Kind::kVariable || a.kind == PatternNode::Kind::kAbsence) {
    return pa.variables[a.var] == pb.variables[b.var];
  }
  if (a.kind == PatternNode::Kind::kQuantified &&
      (a.min != b.min || a.max != b.max || a.greedy != b.greedy)) {
    return false;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!SameTree(pa, a.children[i], pb, b.children[i])) return false;
  }
  return true;
}

struct Stats {
  int cases = 0;
  int rejected = 0;
  int limit_hit = 0;
  int gave_up = 0;
  int with_matches = 0;
  int matches = 0;
  int errors = 0;
  int absence = 0;
  int merged = 0;
  int restores = 0;          // Matchers restored from a snapshot
  int restores_in_play = 0;  // ... while partial matches were in play
};

// One random case; disagreements are test failures that name the seed, pattern and rows. With
// `snapshots`, the Matcher is replaced at random points by one restored from its snapshot (the
// points come from their own generator, so the case is the same as without).
void RunCase(std::mt19937& rng, Stats* stats, uint64_t seed, bool snapshots = false) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  Pattern p;
  for (int v = 0; v < kVars; ++v) p.variables.push_back(std::string(1, static_cast<char>('A' + v)));
  std::vector<PatternNode> top = {RandomNode(rng, 1 + pick(3))};
  if (pick(2) == 0) top.push_back(PatternNode::Variable(pick(kVars)));
  CompileOptions options;
  if (pick(2) == 0) options.within_us = 1 + pick(6);
  if (pick(5) == 0) {
    top.push_back(PatternNode::Absence(pick(kVars)));
    options.within_us = 1 + pick(6);
  }
  p.root = PatternNode::Concat(std::move(top));
  switch (pick(4)) {
    case 0:
      options.skip = AfterMatchSkip::PastLastRow();
      break;
    case 1:
      options.skip = AfterMatchSkip::ToNextRow();
      break;
    case 2:
      options.skip = AfterMatchSkip::ToFirst(pick(kVars));
      break;
    default:
      options.skip = AfterMatchSkip::ToLast(pick(kVars));
      break;
  }
  std::vector<Cond> conds;
  bool row_only = pick(3) == 0;
  for (VarId v = 0; v < kVars; ++v) {
    conds.push_back(RandomCond(rng, v, row_only));
    const Cond& c = conds.back();
    options.conditions.push_back(c.type == Cond::kNone ? ConditionKind::kNone
                                 : c.RowOnly() && c.declared_row_only
                                     ? ConditionKind::kRowOnly
                                     : ConditionKind::kMatchDependent);
  }
  std::string text = ToString(p);
  SCOPED_TRACE(absl::StrCat("seed ", seed, " pattern (", text, ")"));
  {  // The printed pattern parses back to the same tree.
    auto back = ParsePattern(text);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_TRUE(SameTree(*back, back->root, p, p.root)) << ToString(*back);
  }
  auto compiled = Compile(p, options);
  if (!compiled.ok()) {
    ++stats->rejected;
    return;
  }
  ++stats->cases;
  bool merged = true;
  for (ConditionKind k : options.conditions) merged = merged && k != ConditionKind::kMatchDependent;
  stats->merged += merged;
  stats->absence += options.within_us && p.root.kind == PatternNode::Kind::kConcat &&
                    p.root.children.back().kind == PatternNode::Kind::kAbsence;

  std::vector<Row> rows;
  int64_t t = pick(3);
  for (int i = 0, n = pick(17); i < n; ++i) {
    static constexpr int kGaps[] = {0, 0, 1, 1, 1, 2, 3};
    t += kGaps[pick(7)];
    rows.push_back(Row{static_cast<char>('a' + pick(3)), pick(5), t, kIndexBase + kIndexStep * i});
  }

  bool ref_error = false, gave_up = false;
  Reference ref(p, options, rows, conds);
  std::vector<Match> expected = ref.Run(&ref_error, &gave_up);
  if (gave_up) {
    ++stats->gave_up;
    return;
  }

  RowStore store;
  store.rows = &rows;
  MatcherOptions mo;
  mo.max_partial_matches = 100'000;
  auto make_matcher = [&] {
    return std::make_unique<Matcher>(
        *compiled,
        [&](VarId v, int64_t row, const MatchView& view) {
          EXPECT_EQ(view.row(), row);
          return Evaluate(conds[v], v, view, store);
        },
        mo);
  };
  std::unique_ptr<Matcher> m = make_matcher();
  std::mt19937 cut_rng(static_cast<uint32_t>(seed * 31 + 7));
  // Replaces the Matcher by one restored from its snapshot, after `fed` rows; the restored
  // Matcher's own snapshot must be the same bytes.
  auto restore = [&](size_t fed) {
    std::string snap;
    state::StateWriter w(&snap);
    m->SnapshotState(&w);
    std::unique_ptr<Matcher> fresh = make_matcher();
    state::StateReader r(snap);
    int64_t first = std::max(kIndexBase, store.oldest_allowed);
    int64_t end = kIndexBase + kIndexStep * static_cast<int64_t>(fed);
    absl::Status rs = fresh->RestoreState(&r, first, end);
    ASSERT_TRUE(rs.ok()) << rs << " after " << fed << " rows";
    EXPECT_TRUE(r.done()) << "RestoreState reads exactly what SnapshotState wrote";
    std::string again;
    state::StateWriter w2(&again);
    fresh->SnapshotState(&w2);
    EXPECT_EQ(again, snap) << "snapshot of the restored Matcher after " << fed << " rows";
    EXPECT_EQ(fresh->OldestNeededRow(), m->OldestNeededRow());
    EXPECT_EQ(fresh->OldestStartTime(), m->OldestStartTime());
    EXPECT_EQ(fresh->NextTimeout(), m->NextTimeout());
    EXPECT_EQ(fresh->partial_matches(), m->partial_matches());
    ++stats->restores;
    stats->restores_in_play += m->partial_matches() > 0;
    m = std::move(fresh);
  };
  std::vector<Match> got;
  absl::Status st;
  int64_t watermark = INT64_MIN;
  auto check_needed = [&](size_t from) {
    for (size_t i = from; i < got.size(); ++i) {
      for (const MatchedRow& r : got[i].rows) {
        if (r.row < store.oldest_allowed) store.violated = true;
      }
    }
    int64_t oldest = m->OldestNeededRow();
    EXPECT_GE(oldest, store.oldest_allowed) << "OldestNeededRow never decreases";
    store.oldest_allowed = oldest;
  };
  for (size_t i = 0; i < rows.size() && st.ok(); ++i) {
    if (snapshots && cut_rng() % 3 == 0) {
      restore(i);
      if (::testing::Test::HasFatalFailure()) return;
    }
    if (i > 0 && pick(3) == 0) {
      // Any watermark below this row's time is allowed; it may trail rows already fed.
      int64_t w = rows[i].time - 1 - pick(3);
      if (w > watermark) {
        size_t before = got.size();
        st = m->AdvanceTime(w, &got);
        watermark = w;
        check_needed(before);
        if (!st.ok()) break;
      }
    }
    size_t before = got.size();
    st = m->ProcessRow(rows[i].index, rows[i].time, &got);
    check_needed(before);
  }
  if (st.ok() && !rows.empty() && pick(2) == 0) {
    if (snapshots && cut_rng() % 2 == 0) {
      restore(rows.size());
      if (::testing::Test::HasFatalFailure()) return;
    }
    size_t before = got.size();
    st = m->AdvanceTime(rows.back().time + pick(8), &got);
    check_needed(before);
  }
  if (st.ok()) {
    if (snapshots && cut_rng() % 2 == 0) {
      restore(rows.size());
      if (::testing::Test::HasFatalFailure()) return;
    }
    size_t before = got.size();
    st = m->AdvanceTime(INT64_MAX, &got);
    check_needed(before);
  }
  if (st.code() == absl::StatusCode::kResourceExhausted) {
    ++stats->limit_hit;
    return;
  }
  EXPECT_FALSE(store.violated) << "a row older than OldestNeededRow() was read or emitted";
  EXPECT_EQ(!st.ok(), ref_error) << st;
  if (!st.ok()) {
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    ++stats->errors;
  }
  std::string rows_text;
  for (const Row& r : rows) {
    absl::StrAppend(&rows_text, std::string(1, r.letter), r.value, "@", r.time, " ");
  }
  EXPECT_EQ(Describe(got), Describe(expected)) << "rows " << rows_text;
  stats->with_matches += !expected.empty();
  stats->matches += static_cast<int>(expected.size());
}

TEST(CepDifferential, RandomPatternsAgreeWithBacktracking) {
  Stats stats;
  constexpr int kCases = 20000;
  for (int i = 0; i < kCases && !HasFailure(); ++i) {
    uint64_t seed = 0x5eed0000u + static_cast<uint64_t>(i);
    std::mt19937 rng(static_cast<uint32_t>(seed));
    RunCase(rng, &stats, seed);
  }
  std::printf(
      "compared %d cases (%d rejected by Compile, %d over the limit, %d too slow for the "
      "reference): %d with matches, %d matches, %d skip errors, %d with NOT, %d merged runs\n",
      stats.cases, stats.rejected, stats.limit_hit, stats.gave_up, stats.with_matches,
      stats.matches, stats.errors, stats.absence, stats.merged);
  EXPECT_GE(stats.cases - stats.limit_hit - stats.gave_up, 10000);
  EXPECT_GE(stats.with_matches, 5000);
  EXPECT_GE(stats.absence, 1000);
  EXPECT_GE(stats.errors, 500);
  EXPECT_GE(stats.merged, 1500);
}

// The same cases, with the Matcher snapshotted and restored at random points (about one row in
// three, and before the last watermarks): runs, complete matches waiting for earlier start rows,
// WITHIN deadlines, NOT elements, AFTER MATCH SKIP and counters all cross the cut.
TEST(CepDifferential, RandomPatternsAgreeAfterSnapshotAndRestore) {
  Stats stats;
  constexpr int kCases = 8000;
  for (int i = 0; i < kCases && !HasFailure(); ++i) {
    uint64_t seed = 0x5eed0000u + static_cast<uint64_t>(i);
    std::mt19937 rng(static_cast<uint32_t>(seed));
    RunCase(rng, &stats, seed, true);
  }
  std::printf("compared %d cases with %d restores (%d with partial matches in play)\n", stats.cases,
              stats.restores, stats.restores_in_play);
  EXPECT_GE(stats.restores_in_play, 5000);
  EXPECT_GE(stats.absence, 300);
  EXPECT_GE(stats.errors, 150);
}

}  // namespace
}  // namespace eddy::runtime::cep
