// Checkpointed state of the Matcher (nfa.h SnapshotState/RestoreState) on bad input: a snapshot
// cut short or with flipped bytes, one written for another pattern, one naming rows the caller no
// longer stores, and a restore into a Matcher that already consumed rows. Each is an error (never
// a crash, also in the ASan build); a corrupt state that still passes the checks must not crash
// the Matcher afterwards either. That matches survive a restore is the differential test's
// RandomPatternsAgreeAfterSnapshotAndRestore.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/cep/nfa.h"
#include "runtime/cep/pattern.h"
#include "state/serializer.h"

namespace eddy::runtime::cep {
namespace {

// Rows of one key: index i (1-based) has letter letters[i - 1] and time 10 * i µs.
struct Fixture {
  explicit Fixture(const std::string& text, int64_t within_us = 0) {
    auto p = ParsePattern(text);
    EXPECT_TRUE(p.ok()) << p.status();
    pattern = *p;
    CompileOptions o;
    if (within_us > 0) o.within_us = within_us;
    auto c = Compile(pattern, o);
    EXPECT_TRUE(c.ok()) << c.status();
    compiled = *c;
  }
  // A new Matcher: variable X matches rows whose letter is X's lower case; PREV(1) is read.
  std::unique_ptr<Matcher> Make() {
    MatcherOptions mo;
    mo.max_prev_rows = 1;
    return std::make_unique<Matcher>(
        compiled,
        [this](VarId v, int64_t row, const MatchView& view) {
          char want = static_cast<char>(pattern.variables[v][0] - 'A' + 'a');
          auto prev = view.Prev(row, 1);
          bool prev_ok = !prev || letters.at(static_cast<size_t>(*prev - 1)) != '!';
          return prev_ok && letters.at(static_cast<size_t>(row - 1)) == want;
        },
        mo);
  }
  // Feeds rows [from, to) (1-based indexes) to `m`, with a watermark every third row.
  absl::Status Feed(Matcher* m, int64_t from, int64_t to, std::vector<Match>* out) {
    for (int64_t i = from; i < to; ++i) {
      if (i % 3 == 0) {
        absl::Status st = m->AdvanceTime(10 * i - 5, out);
        if (!st.ok()) return st;
      }
      absl::Status st = m->ProcessRow(i, 10 * i, out);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

  Pattern pattern;
  std::shared_ptr<const CompiledPattern> compiled;
  std::string letters;
};

std::string Snapshot(const Matcher& m) {
  std::string s;
  state::StateWriter w(&s);
  m.SnapshotState(&w);
  return s;
}

TEST(MatcherState, CorruptStateIsAnErrorNotACrash) {
  // Counters, alternation, a reluctant loop, WITHIN and NOT: every part of the state is used.
  Fixture f("A (B{1,3} | C)+? D NOT E", 200);
  std::mt19937 rng(17);
  for (int i = 0; i < 300; ++i) f.letters.push_back("abcde"[rng() % 5]);
  f.letters.replace(144, 5, "abdab");  // rows 145..149: a match waiting on NOT E, a run at B
  std::unique_ptr<Matcher> m = f.Make();
  std::vector<Match> out;
  ASSERT_TRUE(f.Feed(m.get(), 1, 150, &out).ok());
  ASSERT_GT(m->partial_matches(), 0u) << "the cut must fall with partial matches in play";
  const std::string good = Snapshot(*m);
  int truncated = 0, truncated_detected = 0, flipped = 0, flipped_detected = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bad = good;
    bool truncate = trial % 2 == 0;
    if (truncate) {
      bad.resize(rng() % bad.size());
      ++truncated;
    } else {
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      ++flipped;
    }
    std::unique_ptr<Matcher> r = f.Make();
    state::StateReader reader(bad);
    absl::Status st = r->RestoreState(&reader, m->OldestNeededRow(), 150);
    if (!st.ok()) {
      EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
      truncated_detected += truncate;
      flipped_detected += !truncate;
      continue;
    }
    // A state that passed the checks (a flipped byte inside a time or a counter) may give other
    // matches, but the Matcher keeps working: no crash, no row outside the stored ones.
    std::vector<Match> more;
    absl::Status run = f.Feed(r.get(), 150, 300, &more);
    if (run.ok()) run = r->AdvanceTime(INT64_MAX, &more);
    for (const Match& match : more) {
      for (const MatchedRow& row : match.rows) {
        EXPECT_GE(row.row, 1);
        EXPECT_LT(row.row, 300);
      }
    }
  }
  EXPECT_EQ(truncated_detected, truncated) << "every cut is detected";
  EXPECT_GT(flipped_detected, flipped / 4) << "most flipped bytes break a structural check";
}

TEST(MatcherState, StateOfAnotherPatternIsRefused) {
  Fixture a("A B+? C", 0);
  Fixture b("A B C D", 0);
  a.letters = b.letters = "abbbcabbd";
  std::unique_ptr<Matcher> m = a.Make();
  std::vector<Match> out;
  ASSERT_TRUE(a.Feed(m.get(), 1, 8, &out).ok());
  std::string snap = Snapshot(*m);
  std::unique_ptr<Matcher> other = b.Make();
  state::StateReader r(snap);
  absl::Status st = other->RestoreState(&r, 1, 8);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("another pattern"), std::string::npos) << st;
}

TEST(MatcherState, RowsOutsideTheStoredOnesAreRefused) {
  Fixture f("A B+? C", 0);
  f.letters = "abbbbbbc";
  std::unique_ptr<Matcher> m = f.Make();
  std::vector<Match> out;
  ASSERT_TRUE(f.Feed(m.get(), 1, 7, &out).ok());
  ASSERT_EQ(m->OldestNeededRow(), 1) << "the run from row 1 is alive";
  std::string snap = Snapshot(*m);
  // The caller stores rows 2..6 only, or rows 1..5 only: both miss a row the state names.
  for (auto [first, end] : {std::pair<int64_t, int64_t>{2, 7}, {1, 6}}) {
    std::unique_ptr<Matcher> r = f.Make();
    state::StateReader reader(snap);
    absl::Status st = r->RestoreState(&reader, first, end);
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << first << ".." << end << ": " << st;
  }
  // With rows 1..6 it restores, and rows 7 (b) and 8 (c) complete A1 B2..B7 C8.
  std::unique_ptr<Matcher> r = f.Make();
  state::StateReader reader(snap);
  ASSERT_TRUE(r->RestoreState(&reader, 1, 7).ok());
  ASSERT_TRUE(f.Feed(r.get(), 7, 9, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rows.front().row, 1);
  EXPECT_EQ(out[0].rows.back().row, 8);
  EXPECT_EQ(out[0].rows.size(), 8u);
}

TEST(MatcherState, OnlyAFreshMatcherRestores) {
  Fixture f("A B", 0);
  f.letters = "aab";
  std::unique_ptr<Matcher> m = f.Make();
  std::vector<Match> out;
  ASSERT_TRUE(f.Feed(m.get(), 1, 3, &out).ok());
  std::string snap = Snapshot(*m);
  state::StateReader r(snap);
  EXPECT_EQ(m->RestoreState(&r, 1, 3).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eddy::runtime::cep
