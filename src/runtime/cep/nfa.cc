#include "runtime/cep/nfa.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "runtime/cep/program.h"
#include "state/serializer.h"

namespace eddy::runtime::cep {

namespace {

using Inst = CompiledPattern::Inst;
using Op = Inst::Op;

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Matcher

class Matcher::Impl {
 public:
  Impl(std::shared_ptr<const CompiledPattern> pattern, Condition condition, MatcherOptions options);
  ~Impl();

  absl::Status ProcessRow(int64_t row, int64_t time_us, std::vector<Match>* out);
  absl::Status AdvanceTime(int64_t watermark_us, std::vector<Match>* out);
  int64_t OldestNeededRow() const { return oldest_needed_; }
  std::optional<int64_t> OldestStartTime() const {
    for (const Group& g : groups_) {
      if (!g.threads.empty() || g.match >= 0) return g.start_time;
    }
    return std::nullopt;
  }
  size_t PartialMatches() const;
  int64_t matches_emitted() const { return match_count_; }
  std::optional<int64_t> NextTimeout() const {
    for (const Group& g : groups_) {
      if (!g.threads.empty()) return g.deadline;  // deadlines grow with the start rows
    }
    return std::nullopt;
  }
  void SnapshotState(state::StateWriter* w) const;
  absl::Status RestoreState(state::StateReader* r, int64_t first_row, int64_t end_row);

 private:
  // A row of a partial match in the shared buffer. Runs that forked share the nodes of their
  // common prefix; a node is freed when no run, match or later node refers to it.
  struct Node {
    int64_t row = 0;
    int64_t seq = 0;
    int32_t prev = -1;       // the previous row of the match (holds a reference)
    int32_t prev_same = -1;  // the previous row mapped to the same variable
    int32_t count_same = 0;  // rows mapped to `var` up to this one
    int32_t count_all = 0;   // rows of the match up to this one
    VarId var = -1;
    int32_t refs = 0;
  };
  // A run: a program position and the rows mapped so far.
  struct Thread {
    int32_t pc = 0;
    int32_t last = -1;          // node of the last mapped row (holds a reference), -1 if none
    std::vector<int32_t> regs;  // counters [0, C), then the last node of each variable
  };
  // The runs that start at one row, in preferment order, and the best complete match so far.
  struct Group {
    int64_t start_seq = 0;
    int64_t start_time = 0;
    int64_t deadline = INT64_MAX;  // start time + WITHIN: the last time a row may be mapped
    std::vector<Thread> threads;
    int32_t match = -1;  // last node of the best complete match (holds a reference)
  };
  class View;

  const CompiledPattern::Inst& At(int32_t pc) const { return pattern_->program_[pc]; }
  absl::Status Fail(absl::Status st) {
    status_ = st;
    return st;
  }
  void StepGroup(Group& g, int64_t row, int64_t seq, int64_t time);
  bool Closure(Group& g, int32_t last, std::vector<int32_t>& regs, int32_t pc,
               std::vector<Thread>* out);
  bool Mark(int32_t pc, const std::vector<int32_t>& regs);
  void NewEpoch();
  bool Eval(VarId var, int64_t row, int64_t seq, const Thread& t);
  absl::Status Expire(int64_t floor, std::vector<Match>* out);
  absl::Status Emit(std::vector<Match>* out);
  absl::Status CheckLimit();
  void RemoveDeadGroups();
  void Trim();
  int32_t NewNode(int64_t row, int64_t seq, VarId var, const Thread& t);
  int32_t AddRef(int32_t node) {
    if (node >= 0) ++nodes_[node].refs;
    return node;
  }
  void Release(int32_t node);
  void SetMatch(Group& g, int32_t node) {
    Release(g.match);
    g.match = node;
  }
  void ClearGroup(Group& g) {
    for (Thread& t : g.threads) Release(t.last);
    g.threads.clear();
    SetMatch(g, -1);
  }
  std::optional<int64_t> PrevRow(int64_t row, int64_t n) const;
  ConditionKind KindOf(VarId v) const {
    const auto& c = pattern_->options().conditions;
    return static_cast<size_t>(v) < c.size() ? c[v] : ConditionKind::kMatchDependent;
  }

  std::shared_ptr<const CompiledPattern> pattern_;
  Condition condition_;
  MatcherOptions options_;
  absl::Status status_;
  int32_t num_counters_ = 0;
  int32_t num_vars_ = 0;
  std::vector<Thread> initial_;  // the runs of a new start row, before it is consumed

  // Row indexes by sequence number (0 = the first row fed), from ring_base_ on.
  std::deque<int64_t> rows_;
  int64_t ring_base_ = 0;
  int64_t next_seq_ = 0;
  int64_t last_row_ = INT64_MIN;
  int64_t last_time_ = INT64_MIN;
  int64_t watermark_ = INT64_MIN;  // the last AdvanceTime
  int64_t floor_ = INT64_MIN;      // every later row has time > floor_
  int64_t oldest_needed_ = INT64_MIN;

  std::deque<Group> groups_;  // by start row, ascending
  int64_t resume_seq_ = 0;    // the first row a match may start at (AFTER MATCH SKIP)
  int64_t match_count_ = 0;

  std::vector<Node> nodes_;  // the shared buffer
  std::vector<int32_t> free_nodes_;

  // Per-row scratch: kRowOnly results by variable (0 unknown, 1 false, 2 true), and the states a
  // closure already reached (by pc, or by pc and counters when the program has counters).
  std::vector<uint8_t> row_cache_;
  std::vector<uint32_t> pc_mark_;
  uint32_t epoch_ = 0;
  absl::flat_hash_set<std::vector<int32_t>> seen_;
  std::vector<int32_t> key_;
};

// MatchView over a run plus the candidate row.
class Matcher::Impl::View final : public MatchView {
 public:
  View(const Impl& m, const Thread& t, int64_t row, VarId var)
      : m_(m), t_(t), row_(row), var_(var) {}

  int64_t row() const override { return row_; }
  VarId var() const override { return var_; }
  int64_t Count(VarId v) const override { return Stored(v) + (Includes(v) ? 1 : 0); }
  int64_t RowAt(VarId v, int64_t i) const override {
    int64_t n = Count(v);
    EDDY_CHECK(i >= 0 && i < n);
    if (Includes(v) && i == n - 1) return row_;
    int32_t node = Head(v);
    for (int64_t steps = Stored(v) - 1 - i; steps > 0; --steps) node = Step(v, node);
    return m_.nodes_[node].row;
  }
  void AppendRows(VarId v, std::vector<int64_t>* rows) const override {
    size_t begin = rows->size();
    for (int32_t node = Head(v); node >= 0; node = Step(v, node)) {
      rows->push_back(m_.nodes_[node].row);
    }
    std::reverse(rows->begin() + static_cast<std::ptrdiff_t>(begin), rows->end());
    if (Includes(v)) rows->push_back(row_);
  }
  std::optional<int64_t> Prev(int64_t row, int64_t n) const override { return m_.PrevRow(row, n); }

 private:
  bool Includes(VarId v) const { return v == kAnyVariable || v == var_; }
  int32_t Head(VarId v) const {
    if (v == kAnyVariable) return t_.last;
    EDDY_CHECK(v >= 0 && v < m_.num_vars_);
    return t_.regs[m_.num_counters_ + v];
  }
  int32_t Step(VarId v, int32_t node) const {
    return v == kAnyVariable ? m_.nodes_[node].prev : m_.nodes_[node].prev_same;
  }
  int64_t Stored(VarId v) const {
    int32_t h = Head(v);
    if (h < 0) return 0;
    return v == kAnyVariable ? m_.nodes_[h].count_all : m_.nodes_[h].count_same;
  }

  const Impl& m_;
  const Thread& t_;
  int64_t row_;
  VarId var_;
};

Matcher::Impl::Impl(std::shared_ptr<const CompiledPattern> pattern, Condition condition,
                    MatcherOptions options)
    : pattern_(std::move(pattern)), condition_(std::move(condition)), options_(std::move(options)) {
  EDDY_CHECK(pattern_ != nullptr);
  EDDY_CHECK(options_.max_prev_rows >= 0);
  num_counters_ = pattern_->num_counters_;
  num_vars_ = static_cast<int32_t>(pattern_->pattern().variables.size());
  row_cache_.assign(num_vars_, 0);
  pc_mark_.assign(pattern_->program_.size(), 0);
  // The runs of a fresh start row: the closure of the program's entry. The pattern cannot match
  // the empty sequence, so this reaches neither kMatch nor kAbsent.
  Group scratch;
  std::vector<int32_t> regs(num_counters_ + num_vars_, 0);
  std::fill(regs.begin() + num_counters_, regs.end(), -1);
  NewEpoch();
  bool matched = Closure(scratch, -1, regs, 0, &initial_);
  EDDY_CHECK(!matched);
}

// The shared buffer goes as a whole: releasing each run's nodes one by one first would walk every
// partial match (up to max_partial_matches runs of many rows each; seconds for a cancelled job).
Matcher::Impl::~Impl() = default;

void Matcher::Impl::NewEpoch() {
  if (num_counters_ > 0) {
    seen_.clear();
    return;
  }
  if (++epoch_ == 0) {  // wrapped: forget every mark
    std::fill(pc_mark_.begin(), pc_mark_.end(), 0);
    epoch_ = 1;
  }
}

bool Matcher::Impl::Mark(int32_t pc, const std::vector<int32_t>& regs) {
  if (num_counters_ == 0) {
    if (pc_mark_[pc] == epoch_) return false;
    pc_mark_[pc] = epoch_;
    return true;
  }
  key_.assign(1, pc);
  key_.insert(key_.end(), regs.begin(), regs.begin() + num_counters_);
  return seen_.insert(key_).second;
}

// Follows the epsilon moves from `pc` depth-first in preferment order, appending the runs that
// come to rest (at kVar or kAbsent) to `out`. On kMatch the group's match becomes this run and
// the closure stops: every run not yet reached is less preferred than the match (Pike VM). A
// state (pc and counters) reached twice is followed only the first time: both arrivals carry the
// same rows, and the first is preferred. Returns true when a match was reached.
bool Matcher::Impl::Closure(Group& g, int32_t last, std::vector<int32_t>& regs, int32_t pc,
                            std::vector<Thread>* out) {
  if (!Mark(pc, regs)) return false;
  const Inst& in = At(pc);
  switch (in.op) {
    case Op::kVar:
    case Op::kAbsent:
      out->push_back(Thread{pc, AddRef(last), regs});
      return false;
    case Op::kMatch:
      SetMatch(g, AddRef(last));
      return true;
    case Op::kJmp:
      return Closure(g, last, regs, in.x, out);
    case Op::kSplit:
      if (Closure(g, last, regs, in.x, out)) return true;
      return Closure(g, last, regs, in.y, out);
    case Op::kLoopInit: {
      int32_t saved = regs[in.slot];
      regs[in.slot] = 0;
      bool r = Closure(g, last, regs, in.x, out);
      regs[in.slot] = saved;
      return r;
    }
    case Op::kLoop: {
      int32_t count = regs[in.slot];
      auto body = [&] { return Closure(g, last, regs, in.x, out); };
      auto exit = [&] {
        // Leaving resets the counter so that runs past the loop compare equal.
        int32_t saved = regs[in.slot];
        regs[in.slot] = 0;
        bool r = Closure(g, last, regs, in.y, out);
        regs[in.slot] = saved;
        return r;
      };
      if (count < in.min) return body();
      if (in.max != kUnbounded && count >= in.max) return exit();
      if (in.greedy) return body() || exit();
      return exit() || body();
    }
    case Op::kLoopInc: {
      int32_t saved = regs[in.slot];
      // Without an upper bound only "reached min" matters, so the count stops there.
      int32_t cap = in.max == kUnbounded ? in.min : in.max;
      regs[in.slot] = std::min(saved + 1, cap);
      bool r = Closure(g, last, regs, in.x, out);
      regs[in.slot] = saved;
      return r;
    }
  }
  return false;
}

bool Matcher::Impl::Eval(VarId var, int64_t row, int64_t seq, const Thread& t) {
  ConditionKind kind = KindOf(var);
  if (kind == ConditionKind::kNone) return true;
  if (kind == ConditionKind::kRowOnly && row_cache_[var] != 0) return row_cache_[var] == 2;
  View view(*this, t, row, var);
  bool ok = condition_(var, row, view);
  if (kind == ConditionKind::kRowOnly) row_cache_[var] = ok ? 2 : 1;
  return ok;
}

int32_t Matcher::Impl::NewNode(int64_t row, int64_t seq, VarId var, const Thread& t) {
  int32_t idx;
  if (!free_nodes_.empty()) {
    idx = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    idx = static_cast<int32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  int32_t prev_same = t.regs[num_counters_ + var];
  Node& n = nodes_[idx];
  n.row = row;
  n.seq = seq;
  n.var = var;
  n.prev = AddRef(t.last);
  n.prev_same = prev_same;
  n.count_same = (prev_same >= 0 ? nodes_[prev_same].count_same : 0) + 1;
  n.count_all = (t.last >= 0 ? nodes_[t.last].count_all : 0) + 1;
  n.refs = 1;
  return idx;
}

void Matcher::Impl::Release(int32_t node) {
  while (node >= 0) {
    Node& n = nodes_[node];
    if (--n.refs > 0) return;
    int32_t prev = n.prev;
    free_nodes_.push_back(node);
    node = prev;
  }
}

void Matcher::Impl::StepGroup(Group& g, int64_t row, int64_t seq, int64_t time) {
  bool merge = pattern_->merge_runs_;
  std::vector<Thread> next;
  next.reserve(g.threads.size());
  if (merge) NewEpoch();
  size_t i = 0;
  bool matched = false;
  for (; i < g.threads.size() && !matched; ++i) {
    Thread& t = g.threads[i];
    const Inst& in = At(t.pc);
    if (in.op == Op::kVar) {
      if (time <= g.deadline && Eval(in.var, row, seq, t)) {
        int32_t node = NewNode(row, seq, in.var, t);
        std::vector<int32_t> regs = t.regs;
        regs[num_counters_ + in.var] = node;
        if (!merge) NewEpoch();
        matched = Closure(g, node, regs, in.x, &next);
        Release(node);  // the closure took its own references
      }
      Release(t.last);
    } else {  // kAbsent: a row matching the NOT variable cancels the run; other rows pass by
      EDDY_CHECK(in.op == Op::kAbsent);
      if (Eval(in.var, row, seq, t) || (merge && !Mark(t.pc, t.regs))) {
        Release(t.last);
      } else {
        next.push_back(std::move(t));
      }
    }
  }
  for (; i < g.threads.size(); ++i) Release(g.threads[i].last);
  g.threads = std::move(next);
}

absl::Status Matcher::Impl::ProcessRow(int64_t row, int64_t time_us, std::vector<Match>* out) {
  if (!status_.ok()) return status_;
  if (next_seq_ > 0 && row <= last_row_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MATCH_RECOGNIZE: row index ", row, " after row ", last_row_, ": indexes must increase"));
  }
  if (time_us < last_time_) {
    return absl::InvalidArgumentError(absl::StrCat("MATCH_RECOGNIZE: row ", row, " at time ",
                                                   time_us, " µs after a row at ", last_time_,
                                                   " µs: rows must come in event-time order"));
  }
  if (time_us <= watermark_) {
    return absl::InvalidArgumentError(absl::StrCat("MATCH_RECOGNIZE: row ", row, " at time ",
                                                   time_us, " µs is not after the watermark ",
                                                   watermark_, " µs (a late row)"));
  }
  // Rows come in time order, so everything up to time_us - 1 has arrived.
  if (time_us - 1 > floor_) EDDY_RETURN_IF_ERROR(Expire(time_us - 1, out));

  int64_t seq = next_seq_++;
  rows_.push_back(row);
  last_row_ = row;
  last_time_ = time_us;
  std::fill(row_cache_.begin(), row_cache_.end(), 0);

  EDDY_CHECK(seq >= resume_seq_);
  Group fresh;
  fresh.start_seq = seq;
  fresh.start_time = time_us;
  if (pattern_->options().within_us) {
    fresh.deadline = SaturatingAdd(time_us, *pattern_->options().within_us);
  }
  fresh.threads = initial_;  // no row mapped yet: no references to take
  groups_.push_back(std::move(fresh));
  size_t stepped = 0;
  for (Group& g : groups_) {
    if (g.threads.empty()) continue;
    StepGroup(g, row, seq, time_us);
    if (++stepped % 256 == 0 && options_.cancelled &&
        options_.cancelled->load(std::memory_order_relaxed)) {
      return Fail(absl::CancelledError("job cancelled"));
    }
  }
  RemoveDeadGroups();
  EDDY_RETURN_IF_ERROR(Emit(out));
  EDDY_RETURN_IF_ERROR(CheckLimit());
  Trim();
  return absl::OkStatus();
}

absl::Status Matcher::Impl::AdvanceTime(int64_t watermark_us, std::vector<Match>* out) {
  if (!status_.ok()) return status_;
  if (watermark_us <= watermark_) return absl::OkStatus();
  watermark_ = watermark_us;
  if (watermark_us <= floor_) return absl::OkStatus();
  return Expire(watermark_us, out);
}

// No later row has time <= floor: runs whose WITHIN window ends at or before it can never map
// another row. They die, except runs waiting at NOT, whose window passed without a cancelling
// row: they complete. At the end of input (floor = INT64_MAX) every run ends.
absl::Status Matcher::Impl::Expire(int64_t floor, std::vector<Match>* out) {
  floor_ = std::max(floor_, floor);
  bool end_of_input = floor == INT64_MAX;
  for (Group& g : groups_) {
    if (g.threads.empty() || (!end_of_input && g.deadline > floor)) continue;
    size_t i = 0;
    for (; i < g.threads.size(); ++i) {
      Thread& t = g.threads[i];
      if (At(t.pc).op == Op::kAbsent) {
        SetMatch(g, t.last);  // takes the run's reference; cuts the less preferred runs
        ++i;
        break;
      }
      Release(t.last);
    }
    for (; i < g.threads.size(); ++i) Release(g.threads[i].last);
    g.threads.clear();
  }
  RemoveDeadGroups();
  EDDY_RETURN_IF_ERROR(Emit(out));
  Trim();
  return absl::OkStatus();
}

// Emits the matches that are certain, in order of their start rows: the first group decides
// once none of its runs is alive (its match, if any, is then the most preferred one).
absl::Status Matcher::Impl::Emit(std::vector<Match>* out) {
  while (!groups_.empty()) {
    Group& g = groups_.front();
    if (g.start_seq < resume_seq_) {  // skipped by the previous match
      ClearGroup(g);
      groups_.pop_front();
      continue;
    }
    if (!g.threads.empty()) break;
    if (g.match < 0) {
      groups_.pop_front();
      continue;
    }
    Match m;
    m.number = ++match_count_;
    const AfterMatchSkip& skip = pattern_->options().skip;
    int64_t first_var_seq = -1, last_var_seq = -1, last_seq = -1;
    for (int32_t node = g.match; node >= 0; node = nodes_[node].prev) {
      const Node& n = nodes_[node];
      m.rows.push_back(MatchedRow{n.row, n.var});
      if (last_seq < 0) last_seq = n.seq;
      if (n.var == skip.var) {
        if (last_var_seq < 0) last_var_seq = n.seq;
        first_var_seq = n.seq;
      }
    }
    std::reverse(m.rows.begin(), m.rows.end());
    int64_t start_seq = g.start_seq;
    SetMatch(g, -1);
    groups_.pop_front();

    int64_t target = last_seq + 1;
    switch (skip.mode) {
      case AfterMatchSkip::Mode::kPastLastRow:
        break;
      case AfterMatchSkip::Mode::kToNextRow:
        target = start_seq + 1;
        break;
      case AfterMatchSkip::Mode::kToFirst:
      case AfterMatchSkip::Mode::kToLast: {
        bool first = skip.mode == AfterMatchSkip::Mode::kToFirst;
        std::string what =
            absl::StrCat("AFTER MATCH SKIP TO ", first ? "FIRST " : "LAST ",
                         pattern_->pattern().variables[skip.var], ": match ", m.number, " (rows ",
                         m.rows.front().row, "..", m.rows.back().row, ")");
        out->push_back(std::move(m));
        if (first_var_seq < 0) {
          return Fail(absl::InvalidArgumentError(absl::StrCat(
              what, " has no row mapped to ", pattern_->pattern().variables[skip.var],
              "; SQL:2016 requires one. Use SKIP TO NEXT ROW or SKIP PAST LAST ROW, or make the "
              "variable mandatory")));
        }
        target = first ? first_var_seq : last_var_seq;
        if (target == start_seq) {
          return Fail(absl::InvalidArgumentError(absl::StrCat(
              what,
              " would restart at its own first row and loop forever; SQL:2016 forbids it. "
              "Skip to a variable that cannot map the first row, or use SKIP TO NEXT ROW")));
        }
        resume_seq_ = target;
        continue;
      }
    }
    resume_seq_ = target;
    out->push_back(std::move(m));
  }
  return absl::OkStatus();
}

void Matcher::Impl::RemoveDeadGroups() {
  auto dead = [](const Group& g) { return g.threads.empty() && g.match < 0; };
  groups_.erase(std::remove_if(groups_.begin(), groups_.end(), dead), groups_.end());
}

size_t Matcher::Impl::PartialMatches() const {
  size_t n = 0;
  for (const Group& g : groups_) n += g.threads.size() + (g.match >= 0 ? 1 : 0);
  return n;
}

absl::Status Matcher::Impl::CheckLimit() {
  size_t n = PartialMatches();
  if (n <= options_.max_partial_matches) return absl::OkStatus();
  return Fail(absl::ResourceExhaustedError(absl::StrCat(
      "MATCH_RECOGNIZE: ", n, " partial matches for one key exceed the limit of ",
      options_.max_partial_matches, " (", options_.limit_setting,
      "). Raise the limit, bound matches in time with WITHIN, or make the pattern less ambiguous "
      "(e.g. a reluctant A+? or conditions that exclude each other)")));
}

// Frees the rows no run, pending match or PREV can reach any more.
void Matcher::Impl::Trim() {
  int64_t oldest = next_seq_;
  if (!groups_.empty()) oldest = std::min(oldest, groups_.front().start_seq);
  int64_t needed = std::max<int64_t>(0, oldest - options_.max_prev_rows);
  while (ring_base_ < needed && !rows_.empty()) {
    rows_.pop_front();
    ++ring_base_;
  }
  if (next_seq_ == 0) return;
  oldest_needed_ = needed < next_seq_ ? rows_[needed - ring_base_] : last_row_ + 1;
}

std::optional<int64_t> Matcher::Impl::PrevRow(int64_t row, int64_t n) const {
  EDDY_CHECK(n >= 0 && n <= options_.max_prev_rows);
  auto it = std::lower_bound(rows_.begin(), rows_.end(), row);
  EDDY_CHECK(it != rows_.end() && *it == row);  // the candidate or a row of the partial match
  int64_t seq = ring_base_ + (it - rows_.begin());
  if (seq - n < 0) return std::nullopt;  // before the partition's first row
  EDDY_CHECK(seq - n >= ring_base_);
  return rows_[seq - n - ring_base_];
}

// ---------------------------------------------------------------------------------------------
// Checkpointed state (docs/cep.md "Checkpointed state"). The shared buffer is written compacted:
// only the nodes the runs and complete matches reach, ordered by sequence number, so a node's
// prev and prev_same come before it; a node's row, counts and reference counts are derived on
// restore rather than stored, so a restored buffer is consistent by construction.

namespace {

constexpr uint8_t kMatcherStateVersion = 1;

absl::Status Corrupt(const char* what) {
  return absl::DataLossError(absl::StrCat("MATCH_RECOGNIZE state corrupt: ", what));
}

// A node reference: 0 for none, else index + 1.
absl::Status GetRef(state::StateReader* r, uint64_t limit, int32_t* ref) {
  uint64_t v = 0;
  EDDY_RETURN_IF_ERROR(r->GetVarint(&v));
  if (v > limit) return Corrupt("a reference to a row of a partial match that is not there");
  *ref = static_cast<int32_t>(v) - 1;
  return absl::OkStatus();
}

}  // namespace

void Matcher::Impl::SnapshotState(state::StateWriter* w) const {
  w->PutByte(kMatcherStateVersion);
  w->PutVarint(pattern_->program_.size());
  w->PutVarint(static_cast<uint64_t>(num_counters_));
  w->PutVarint(static_cast<uint64_t>(num_vars_));
  w->PutVarint(static_cast<uint64_t>(status_.code()));
  w->PutString(std::string(status_.message()));
  for (int64_t v : {next_seq_, ring_base_, last_row_, last_time_, watermark_, floor_, resume_seq_,
                    match_count_}) {
    w->PutInt64(v);
  }
  // Row indexes strictly increase: the first, then the gaps.
  w->PutVarint(rows_.size());
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (i == 0) {
      w->PutInt64(rows_[0]);
    } else {
      w->PutVarint(static_cast<uint64_t>(rows_[i] - rows_[i - 1]));
    }
  }
  // The nodes reachable from runs and matches, by sequence number.
  std::vector<int32_t> order;
  std::vector<int32_t> index(nodes_.size(), -1);
  auto visit = [&](int32_t n) {
    for (; n >= 0 && index[n] == -1; n = nodes_[n].prev) {
      index[n] = 0;
      order.push_back(n);
    }
  };
  for (const Group& g : groups_) {
    visit(g.match);
    for (const Thread& t : g.threads) visit(t.last);
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return nodes_[a].seq != nodes_[b].seq ? nodes_[a].seq < nodes_[b].seq : a < b;
  });
  for (size_t i = 0; i < order.size(); ++i) index[order[i]] = static_cast<int32_t>(i);
  auto ref = [&](int32_t n) { return n < 0 ? 0 : static_cast<uint64_t>(index[n]) + 1; };
  w->PutVarint(order.size());
  for (int32_t n : order) {
    const Node& node = nodes_[n];
    w->PutVarint(static_cast<uint64_t>(node.seq - ring_base_));
    w->PutVarint(static_cast<uint64_t>(node.var));
    w->PutVarint(ref(node.prev));
    w->PutVarint(ref(node.prev_same));
  }
  w->PutVarint(groups_.size());
  for (const Group& g : groups_) {
    w->PutInt64(g.start_seq);
    w->PutInt64(g.start_time);
    w->PutInt64(g.deadline);
    w->PutVarint(ref(g.match));
    w->PutVarint(g.threads.size());
    for (const Thread& t : g.threads) {
      w->PutVarint(static_cast<uint64_t>(t.pc));
      w->PutVarint(ref(t.last));
      for (int32_t c = 0; c < num_counters_; ++c) w->PutInt64(t.regs[c]);
      for (int32_t v = 0; v < num_vars_; ++v) w->PutVarint(ref(t.regs[num_counters_ + v]));
    }
  }
}

absl::Status Matcher::Impl::RestoreState(state::StateReader* r, int64_t first_row,
                                         int64_t end_row) {
  if (next_seq_ != 0 || !groups_.empty()) {
    return absl::FailedPreconditionError(
        "MATCH_RECOGNIZE: a matcher that consumed rows cannot restore a snapshot");
  }
  uint8_t version = 0;
  EDDY_RETURN_IF_ERROR(r->GetByte(&version));
  if (version != kMatcherStateVersion) {
    return absl::DataLossError(absl::StrCat("MATCH_RECOGNIZE state has format version ", version,
                                            ", expected ", kMatcherStateVersion));
  }
  uint64_t program = 0, counters = 0, vars = 0, code = 0;
  EDDY_RETURN_IF_ERROR(r->GetVarint(&program));
  EDDY_RETURN_IF_ERROR(r->GetVarint(&counters));
  EDDY_RETURN_IF_ERROR(r->GetVarint(&vars));
  if (program != pattern_->program_.size() || counters != static_cast<uint64_t>(num_counters_) ||
      vars != static_cast<uint64_t>(num_vars_)) {
    return absl::DataLossError(
        "MATCH_RECOGNIZE state was written for another pattern (its program has another shape)");
  }
  std::string message;
  EDDY_RETURN_IF_ERROR(r->GetVarint(&code));
  EDDY_RETURN_IF_ERROR(r->GetString(&message));
  if (code > static_cast<uint64_t>(absl::StatusCode::kUnauthenticated)) {
    return Corrupt("unknown status code");
  }
  int64_t next_seq = 0, ring_base = 0, last_row = 0, last_time = 0, watermark = 0, floor = 0,
          resume_seq = 0, match_count = 0;
  for (int64_t* v : {&next_seq, &ring_base, &last_row, &last_time, &watermark, &floor, &resume_seq,
                     &match_count}) {
    EDDY_RETURN_IF_ERROR(r->GetInt64(v));
  }
  if (ring_base < 0 || next_seq < ring_base || resume_seq < 0 || resume_seq > next_seq ||
      match_count < 0) {
    return Corrupt("row sequence numbers out of order");
  }
  auto in_range = [&](int64_t row) { return row >= first_row && row < end_row; };
  uint64_t num_rows = 0;
  EDDY_RETURN_IF_ERROR(r->GetCount(&num_rows));
  if (num_rows != static_cast<uint64_t>(next_seq - ring_base)) {
    return Corrupt("the rows held do not match their sequence numbers");
  }
  std::deque<int64_t> rows;
  for (uint64_t i = 0; i < num_rows; ++i) {
    int64_t row = 0;
    if (i == 0) {
      EDDY_RETURN_IF_ERROR(r->GetInt64(&row));
    } else {
      uint64_t gap = 0;
      EDDY_RETURN_IF_ERROR(r->GetVarint(&gap));
      if (gap == 0 || gap > static_cast<uint64_t>(INT64_MAX) ||
          __builtin_add_overflow(rows.back(), static_cast<int64_t>(gap), &row)) {
        return Corrupt("row indexes do not increase");
      }
    }
    if (!in_range(row)) return Corrupt("a row index outside the rows the operator stores");
    rows.push_back(row);
  }
  if (next_seq > 0 && (!in_range(last_row) || (!rows.empty() && rows.back() != last_row))) {
    return Corrupt("the last row is not the last row held");
  }

  uint64_t num_nodes = 0;
  EDDY_RETURN_IF_ERROR(r->GetCount(&num_nodes));
  if (num_nodes > static_cast<uint64_t>(INT32_MAX)) return Corrupt("too many rows in play");
  std::vector<Node> nodes(num_nodes);
  for (uint64_t i = 0; i < num_nodes; ++i) {
    Node& n = nodes[i];
    uint64_t offset = 0, var = 0;
    EDDY_RETURN_IF_ERROR(r->GetVarint(&offset));
    EDDY_RETURN_IF_ERROR(r->GetVarint(&var));
    EDDY_RETURN_IF_ERROR(GetRef(r, i, &n.prev));
    EDDY_RETURN_IF_ERROR(GetRef(r, i, &n.prev_same));
    if (offset >= num_rows || var >= vars) return Corrupt("a mapped row out of range");
    n.seq = ring_base + static_cast<int64_t>(offset);
    n.row = rows[offset];
    n.var = static_cast<VarId>(var);
    if ((n.prev >= 0 && nodes[n.prev].seq >= n.seq) ||
        (n.prev_same >= 0 &&
         (nodes[n.prev_same].seq >= n.seq || nodes[n.prev_same].var != n.var))) {
      return Corrupt("the rows of a partial match are out of order");
    }
    n.count_all = (n.prev >= 0 ? nodes[n.prev].count_all : 0) + 1;
    n.count_same = (n.prev_same >= 0 ? nodes[n.prev_same].count_same : 0) + 1;
    if (n.prev >= 0) ++nodes[n.prev].refs;
  }

  uint64_t num_groups = 0;
  EDDY_RETURN_IF_ERROR(r->GetCount(&num_groups));
  std::deque<Group> groups;
  for (uint64_t gi = 0; gi < num_groups; ++gi) {
    Group& g = groups.emplace_back();
    uint64_t num_threads = 0;
    EDDY_RETURN_IF_ERROR(r->GetInt64(&g.start_seq));
    EDDY_RETURN_IF_ERROR(r->GetInt64(&g.start_time));
    EDDY_RETURN_IF_ERROR(r->GetInt64(&g.deadline));
    EDDY_RETURN_IF_ERROR(GetRef(r, num_nodes, &g.match));
    EDDY_RETURN_IF_ERROR(r->GetCount(&num_threads));
    if (g.start_seq < ring_base || g.start_seq >= next_seq ||
        (gi > 0 && g.start_seq <= groups[gi - 1].start_seq)) {
      return Corrupt("start rows out of order");
    }
    if (num_threads > 0 && g.deadline <= floor) {
      return Corrupt("a partial match alive past its WITHIN deadline");
    }
    if (g.match >= 0) ++nodes[g.match].refs;
    for (uint64_t ti = 0; ti < num_threads; ++ti) {
      Thread& t = g.threads.emplace_back();
      uint64_t pc = 0;
      EDDY_RETURN_IF_ERROR(r->GetVarint(&pc));
      if (pc >= program || (At(static_cast<int32_t>(pc)).op != Op::kVar &&
                            At(static_cast<int32_t>(pc)).op != Op::kAbsent)) {
        return Corrupt("a partial match at no pattern variable");
      }
      t.pc = static_cast<int32_t>(pc);
      EDDY_RETURN_IF_ERROR(GetRef(r, num_nodes, &t.last));
      if (t.last >= 0) ++nodes[t.last].refs;
      t.regs.assign(num_counters_ + num_vars_, -1);
      for (int32_t c = 0; c < num_counters_; ++c) {
        EDDY_RETURN_IF_ERROR(state::StateSerializer<int32_t>::Read(r, &t.regs[c]));
      }
      for (int32_t v = 0; v < num_vars_; ++v) {
        int32_t& node = t.regs[num_counters_ + v];
        EDDY_RETURN_IF_ERROR(GetRef(r, num_nodes, &node));
        if (node >= 0 && nodes[node].var != v) return Corrupt("a variable's last row is another's");
      }
    }
  }
  for (const Node& n : nodes) {
    if (n.refs == 0) return Corrupt("a row of no partial match");
  }
  // Trim() reads the rows PREV may need before the oldest start row: they must be there.
  int64_t oldest = groups.empty() ? next_seq : groups.front().start_seq;
  int64_t needed = std::max<int64_t>(0, oldest - options_.max_prev_rows);
  if (needed < next_seq && needed < ring_base) {
    return absl::DataLossError(
        "MATCH_RECOGNIZE state keeps fewer rows than PREV needs (the query changed?)");
  }

  status_ =
      code == 0 ? absl::OkStatus() : absl::Status(static_cast<absl::StatusCode>(code), message);
  next_seq_ = next_seq;
  ring_base_ = ring_base;
  last_row_ = last_row;
  last_time_ = last_time;
  watermark_ = watermark;
  floor_ = floor;
  resume_seq_ = resume_seq;
  match_count_ = match_count;
  rows_ = std::move(rows);
  nodes_ = std::move(nodes);
  free_nodes_.clear();
  groups_ = std::move(groups);
  Trim();
  return absl::OkStatus();
}

Matcher::Matcher(std::shared_ptr<const CompiledPattern> pattern, Condition condition,
                 MatcherOptions options)
    : impl_(std::make_unique<Impl>(std::move(pattern), std::move(condition), std::move(options))) {}
Matcher::~Matcher() = default;

absl::Status Matcher::ProcessRow(int64_t row, int64_t time_us, std::vector<Match>* out) {
  return impl_->ProcessRow(row, time_us, out);
}
absl::Status Matcher::AdvanceTime(int64_t watermark_us, std::vector<Match>* out) {
  return impl_->AdvanceTime(watermark_us, out);
}
int64_t Matcher::OldestNeededRow() const { return impl_->OldestNeededRow(); }
std::optional<int64_t> Matcher::OldestStartTime() const { return impl_->OldestStartTime(); }
size_t Matcher::partial_matches() const { return impl_->PartialMatches(); }
int64_t Matcher::matches_emitted() const { return impl_->matches_emitted(); }
std::optional<int64_t> Matcher::NextTimeout() const { return impl_->NextTimeout(); }
void Matcher::SnapshotState(state::StateWriter* w) const { impl_->SnapshotState(w); }
absl::Status Matcher::RestoreState(state::StateReader* r, int64_t first_row, int64_t end_row) {
  return impl_->RestoreState(r, first_row, end_row);
}

}  // namespace eddy::runtime::cep
