// The automaton that MATCH_RECOGNIZE runs on (SQL:2016 row pattern recognition with Flink SQL's
// rules and eddy's absence extension; docs/cep.md). A Pattern (runtime/cep/pattern.h) is compiled
// once into a CompiledPattern; each partition key gets a Matcher that consumes that key's rows in
// event-time order and emits matches.
//
// How it works: the compiled program is a Thompson NFA with counters for bounded repetition. A
// Matcher keeps, for every row that may still start a match, the runs (partial matches) from that
// row in SQL preferment order, as a Pike VM keeps its threads in priority order (greedy prefers
// one more iteration, reluctant one fewer, alternation its left branch); the rows mapped by the
// runs live in one shared buffer of reference-counted nodes where runs that forked share their
// common prefix (Agrawal et al., "Efficient pattern matching over event streams", SIGMOD 2008; the
// SharedBuffer of FlinkCEP). When a run completes, every run behind it in preferment order is
// dropped; the completed match is final when no run ahead of it is alive any more.
//
// eddy's absence extension, `P NOT C` with WITHIN w (P any pattern, C one variable): a mapping of
// P starting at row s (time t) is a match when no row after P's last row with time <= t + w
// satisfies C's condition (evaluated with P's rows plus that row mapped to C). The window is
// anchored at the match's first row like WITHIN itself, so for `A NOT C` it is A's time + w. Rows
// between P's end and the window's end that do not satisfy C are not part of the match (they may
// start or belong to other matches). The match lists P's rows; it is emitted when the watermark
// (or a later row) reaches t + w; a C row in the window, even one exactly at t + w, cancels it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/cep/pattern.h"

namespace eddy::state {
class StateReader;
class StateWriter;
}  // namespace eddy::state

namespace eddy::runtime::cep {

/// Where matching resumes after a match (SQL:2016 AFTER MATCH SKIP; Flink SQL supports all four).
struct AfterMatchSkip {
  enum class Mode : uint8_t {
    kPastLastRow,  // at the row after the match's last row (the default, as in SQL)
    kToNextRow,    // at the row after the match's first row
    kToFirst,      // at the first row mapped to `var`
    kToLast,       // at the last row mapped to `var`
  };
  Mode mode = Mode::kPastLastRow;
  VarId var = -1;  // kToFirst, kToLast

  static AfterMatchSkip PastLastRow() { return {Mode::kPastLastRow, -1}; }
  static AfterMatchSkip ToNextRow() { return {Mode::kToNextRow, -1}; }
  static AfterMatchSkip ToFirst(VarId v) { return {Mode::kToFirst, v}; }
  static AfterMatchSkip ToLast(VarId v) { return {Mode::kToLast, v}; }
};

/// What a variable's DEFINE condition reads. The matcher uses it to skip calls and to merge runs;
/// declaring less than a condition reads gives wrong matches.
enum class ConditionKind : uint8_t {
  /// No DEFINE for the variable: it matches every row and the callback is never called for it.
  kNone,
  /// Reads only the candidate row and rows before it in the partition (PREV): the result does not
  /// depend on the partial match. Evaluated once per row and variable.
  kRowOnly,
  /// Reads the partial match through MatchView (A.x of earlier rows, LAST, FIRST, aggregates):
  /// evaluated once per run. The default.
  kMatchDependent,
};

/// Options of Compile(). Fixed for the compiled pattern.
struct CompileOptions {
  /// AFTER MATCH SKIP. Default: PAST LAST ROW.
  AfterMatchSkip skip;
  /// Flink SQL's `WITHIN INTERVAL` in µs (> 0), or none. A match's rows all lie within this much
  /// of its first row: last row time - first row time <= within_us (inclusive, as in Flink's
  /// documented example where a drop 1 hour after its start matches `WITHIN INTERVAL '1' HOUR`).
  /// Required by NOT.
  std::optional<int64_t> within_us;
  /// By VarId; variables beyond the end of the vector are kMatchDependent.
  std::vector<ConditionKind> conditions;
};

/// A pattern compiled into its automaton. Immutable: one instance may be shared by the Matchers
/// of every key and thread.
class CompiledPattern {
 public:
  const Pattern& pattern() const { return pattern_; }
  const CompileOptions& options() const { return options_; }
  /// The variable of a trailing `NOT C`, or -1. No row of a match is mapped to it.
  VarId absence_variable() const { return absence_var_; }
  /// The program, one instruction per line (for EXPLAIN and tests).
  std::string DebugString() const;

  struct Inst;  // defined in nfa.cc
  ~CompiledPattern();

 private:
  friend absl::StatusOr<std::shared_ptr<const CompiledPattern>> Compile(const Pattern&,
                                                                        const CompileOptions&);
  friend class Matcher;
  CompiledPattern() = default;

  Pattern pattern_;
  CompileOptions options_;
  std::vector<Inst> program_;
  int32_t num_counters_ = 0;
  bool merge_runs_ = false;  // no kMatchDependent condition: runs in one state can merge
  VarId absence_var_ = -1;   // the NOT variable, or -1
};

/// The largest pattern Compile() accepts, in tree nodes. Bounds the recursion depth of matching.
inline constexpr size_t kMaxPatternElements = 2'000;

/// Checks `pattern` against the rules below and compiles it. Errors are InvalidArgumentError and
/// name the element (and its offset in the pattern text when the pattern was parsed):
/// - a pattern that can match no rows at all (`A*`, `A? B*`) is rejected, as Flink does; write
///   at least one mandatory variable (`A+`);
/// - a repeated group whose body can match no rows (`(A? B?)+`) is rejected: make the body
///   mandatory (`(A B?)+`), so every repetition consumes a row;
/// - a greedy quantifier with a variable count that can end the match (`A B*`, `A B{1,3}`,
///   `A (B | C+)`, `A B? C??`) is rejected, as Flink does ("It is not possible to use a greedy
///   quantifier for the last variable of a pattern"): such a match could only be known complete
///   when a row arrives that does not extend it. Write it reluctant (`A B*?`), or end with a
///   variable that excludes B (`A B* C` with `C AS NOT <B's condition>`). Reluctant quantifiers
///   and fixed counts (`B{3}`) may end a pattern; a NOT element ends the pattern, so the rule does
///   not apply before it;
/// - `NOT C` (eddy's absence extension) must be the last element of the top-level concatenation,
///   come after at least one mandatory element, appear once, and needs `within_us`;
/// - skip.var of SKIP TO FIRST/LAST must name a variable that the pattern maps rows to (not only
///   the NOT variable);
/// - quantifier bounds: 0 <= min <= max, max >= 1, at most kMaxQuantifierBound;
/// - variable ids must index pattern.variables; `conditions` has at most one entry per variable;
/// - at most kMaxPatternElements nodes (variables, groups, quantifiers) in the pattern tree.
///
/// Not rejected although Flink rejects them: groups and alternation (`(A B | C)+`), reluctant
/// optional `??`, a variable used more than once (`A B A`: its rows are one set for navigation).
absl::StatusOr<std::shared_ptr<const CompiledPattern>> Compile(const Pattern& pattern,
                                                               const CompileOptions& options);

/// Means "every variable" where MatchView takes a VarId: SQL's universal row pattern variable, as
/// in `LAST(price, 1)` or `SUM(price)` without a variable.
inline constexpr VarId kAnyVariable = -1;

/// Read access to a partial match while a condition decides whether the candidate row may be
/// mapped to the variable being defined. Everything includes the candidate, mapped to `var()`
/// (Flink SQL: "A.price describes the set of rows mapped so far to A plus the current row if we
/// try to match the current row to A"). Rows are the caller's row indexes. Valid only during the
/// callback; not thread-safe.
class MatchView {
 public:
  virtual ~MatchView() = default;

  /// The candidate row.
  virtual int64_t row() const = 0;
  /// The variable the candidate is tested for.
  virtual VarId var() const = 0;
  /// Rows mapped to `v` (kAnyVariable: to any variable), the candidate included: COUNT(A.*).
  virtual int64_t Count(VarId v) const = 0;
  /// The `i`-th row mapped to `v` in row order, 0 <= i < Count(v). O(Count(v) - i).
  virtual int64_t RowAt(VarId v, int64_t i) const = 0;
  /// Appends the rows mapped to `v` in row order (for SUM/AVG/MIN/MAX). O(Count(v)).
  virtual void AppendRows(VarId v, std::vector<int64_t>* rows) const = 0;
  /// The row `n` rows before `row` in the partition (physical offset: SQL's PREV(x, n)), or
  /// nullopt before the partition's first row. `row` must be the candidate or a row of the
  /// partial match, and 0 <= n <= MatcherOptions::max_prev_rows (checked: a bug otherwise).
  virtual std::optional<int64_t> Prev(int64_t row, int64_t n = 1) const = 0;

  /// LAST(v.x, n): the n-th row from the last mapped to `v`; nullopt when there are not that many.
  std::optional<int64_t> Last(VarId v, int64_t n = 0) const {
    int64_t c = Count(v);
    if (n < 0 || n >= c) return std::nullopt;
    return RowAt(v, c - 1 - n);
  }
  /// FIRST(v.x, n): the n-th row from the first mapped to `v`; nullopt when not that many.
  std::optional<int64_t> First(VarId v, int64_t n = 0) const {
    if (n < 0 || n >= Count(v)) return std::nullopt;
    return RowAt(v, n);
  }
  /// The rows mapped to `v`, in row order.
  std::vector<int64_t> Rows(VarId v) const {
    std::vector<int64_t> rows;
    AppendRows(v, &rows);
    return rows;
  }
};

/// A row of a match and the variable it is mapped to.
struct MatchedRow {
  int64_t row = 0;
  VarId var = -1;
  friend bool operator==(const MatchedRow&, const MatchedRow&) = default;
};

/// One match: its number (SQL MATCH_NUMBER(): 1, 2, ... per Matcher, i.e. per partition key) and
/// its rows in row order. A match of `P NOT C` lists P's rows only.
struct Match {
  int64_t number = 0;
  std::vector<MatchedRow> rows;
  friend bool operator==(const Match&, const Match&) = default;
};

/// Limits and knobs of a Matcher.
struct MatcherOptions {
  /// Maximum partial matches a Matcher holds (runs still alive plus complete matches waiting for
  /// an earlier start row to resolve). Exceeding it fails the call with ResourceExhaustedError.
  /// Default 10,000.
  size_t max_partial_matches = 10'000;
  /// Name of the setting that raises max_partial_matches, quoted in the error (the SQL layer
  /// passes its SET key).
  std::string limit_setting = "MatcherOptions::max_partial_matches";
  /// Largest `n` that conditions pass to MatchView::Prev (PREV(x, n)); the matcher keeps that
  /// many rows before the oldest partial match. Default 1.
  int64_t max_prev_rows = 1;
  /// The job's cancel flag (may be null). When it is set, ProcessRow stops between two start
  /// rows' partial matches (every 256) and fails with CancelledError: a row can step up to
  /// max_partial_matches runs, tens of ms. The Matcher is then partly stepped and returns that
  /// error from every call; it can only be destroyed.
  const std::atomic<bool>* cancelled = nullptr;
};

/// Finds the matches of a compiled pattern in one partition (one key) of a stream.
///
/// Input contract: rows come in event-time order (non-decreasing time; rows with equal times in
/// arrival order), each with a caller-owned index that strictly increases; AdvanceTime(w) promises
/// that every later row has time > w (a watermark: the caller buffers rows and releases them
/// sorted when the watermark passes them). Violations return InvalidArgumentError.
///
/// Output (SQL:2016 / Flink SQL semantics, docs/cep.md): for each start row in order, the most
/// preferred match starting there (rows strictly contiguous, conditions true, WITHIN respected);
/// after a match, matching resumes per AFTER MATCH SKIP. A match is emitted as soon as it is
/// certain: no run from its start row that is preferred to it is alive and every earlier start
/// row has failed or been skipped. A run dies when the next row does not extend it, when WITHIN
/// can no longer hold (a row or the watermark is past its first row's time + WITHIN), or at the
/// end of input (AdvanceTime(kMaxWatermark)). So the matches do not depend on how often the
/// watermark advances; only how early they come out does.
///
/// Errors: ResourceExhaustedError when max_partial_matches is exceeded; InvalidArgumentError when
/// AFTER MATCH SKIP TO FIRST/LAST finds no row mapped to its variable or would restart at the
/// match's first row (SQL:2016 requires both to fail; ORA-62514, ORA-62517); the match itself is
/// appended to `*out` before the error is returned. After either error the Matcher returns it from
/// every call. An input contract violation (InvalidArgumentError for that row) leaves the Matcher
/// as it was.
///
/// Cost per row: one condition call per run waiting at a variable (once per variable for
/// kRowOnly) plus the NFA moves, O(runs x program size). Runs: for each live start row, at most
/// one per NFA state (and counter values) when no condition is kMatchDependent; otherwise one per
/// distinct way of mapping the rows so far, which ambiguous patterns like `(A | B)+` can make
/// exponential; max_partial_matches bounds it. Memory: the shared buffer holds each mapped row
/// once per distinct prefix.
///
/// Not thread-safe: one Matcher per key, called from one thread.
class Matcher {
 public:
  /// The DEFINE conditions: whether `row` may be mapped to `var` given the partial match `view`
  /// (view.row() == row, view.var() == var). Called only for variables whose ConditionKind is not
  /// kNone; also for the NOT variable, where true means the row cancels the absence. Must be
  /// deterministic.
  using Condition = std::function<bool(VarId var, int64_t row, const MatchView& view)>;

  Matcher(std::shared_ptr<const CompiledPattern> pattern, Condition condition,
          MatcherOptions options = {});
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  /// Consumes the next row of the partition: `row` is the caller's index (strictly increasing),
  /// `time_us` its event time (µs, non-decreasing, > the last watermark). Appends the matches it
  /// completes to `*out`, in order.
  absl::Status ProcessRow(int64_t row, int64_t time_us, std::vector<Match>* out);

  /// The watermark advanced to `watermark_us` (µs): no later row has time <= watermark_us. Drops
  /// runs that WITHIN no longer allows, completes NOT elements whose window has passed, and
  /// appends the matches that become certain to `*out`. kMaxWatermark (INT64_MAX) is the end of
  /// input: every run ends. A watermark at or below the previous one is a no-op.
  absl::Status AdvanceTime(int64_t watermark_us, std::vector<Match>* out);

  /// The oldest row index the matcher may still read or emit: the caller may free every row with
  /// a smaller index. Never decreases. Before the first row: INT64_MIN; when nothing is needed:
  /// the last row's index + 1.
  int64_t OldestNeededRow() const;
  /// The event time (µs) of the oldest row a later match may start at among the rows already
  /// consumed: the first row of the oldest run or complete match still held; nullopt when none is
  /// held (every later match starts at a later row). A later match's rows all have at least this
  /// time, so a caller that emits match rows with their times may hold its output watermark below
  /// it. Never decreases while rows are consumed in time order.
  std::optional<int64_t> OldestStartTime() const;

  /// Partial matches held now (what max_partial_matches limits).
  size_t partial_matches() const;

  /// Matches emitted so far.
  int64_t matches_emitted() const;

  /// When time must next pass for this matcher (µs): the WITHIN deadline of the oldest start row
  /// whose runs are alive (AdvanceTime() to it drops runs or completes a NOT element), or
  /// kMaxWatermark when the live runs end only with the input; nullopt when no run is alive
  /// (AdvanceTime() then changes nothing before the next row). Deadlines grow with start rows,
  /// so after AdvanceTime(NextTimeout()) the next timeout is later. For callers that keep one
  /// timer per key instead of advancing every key at every watermark (match_recognize.cc).
  std::optional<int64_t> NextTimeout() const;

  /// Appends the matcher's state to `w` for a checkpoint (docs/cep.md "Checkpointed state",
  /// version 1): the rows it may still read (their indexes), its runs and complete matches in
  /// play with the rows they map (the shared buffer, compacted), AFTER MATCH SKIP's restart row,
  /// the match count, the last row's index and time, the watermark and a failure it returned.
  /// Neither the compiled pattern nor the options are written: the restoring Matcher has them.
  void SnapshotState(state::StateWriter* w) const;
  /// Takes the state SnapshotState() wrote, for the same compiled pattern, into this Matcher,
  /// which must not have consumed anything yet; reads exactly what SnapshotState() wrote. Every
  /// row index of the state must lie in [first_row, end_row) (the rows the caller stores).
  /// Errors, with this Matcher left as constructed: DataLoss when the state is truncated,
  /// corrupt, of another format version or written for another pattern, names a row outside
  /// [first_row, end_row), or lacks rows PREV may read (max_prev_rows grew);
  /// FailedPrecondition when this Matcher already consumed rows.
  absl::Status RestoreState(state::StateReader* r, int64_t first_row, int64_t end_row);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::runtime::cep
