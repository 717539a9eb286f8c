#include "runtime/cep/nfa.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace eddy::runtime::cep {

// One instruction of the compiled program. Epsilon instructions (kSplit, kJmp, kLoop*) are
// followed when a run moves; a run rests only at kVar (waiting for the next row), kAbsent
// (waiting for its window to pass) or reaches kMatch.
struct CompiledPattern::Inst {
  enum class Op : uint8_t {
    kVar,       // map the next row to `var` if its condition holds, then go to x
    kSplit,     // go to x, and with lower preference to y
    kJmp,       // go to x
    kLoopInit,  // counter[slot] = 0, go to x
    kLoop,      // counted repetition: body x, exit y (see Closure)
    kLoopInc,   // counter[slot] += 1 (saturating at the bound that matters), go to x
    kAbsent,    // NOT var: wait until the WITHIN window passes with no row matching var
    kMatch,     // the match is complete
  };
  Op op = Op::kMatch;
  VarId var = -1;
  int32_t x = -1;
  int32_t y = -1;
  int32_t slot = -1;
  int32_t min = 0;
  int32_t max = 0;
  bool greedy = true;
};

CompiledPattern::~CompiledPattern() = default;

namespace {

using Kind = PatternNode::Kind;
using Inst = CompiledPattern::Inst;
using Op = Inst::Op;

std::string At(const PatternNode& n) {
  return n.offset >= 0 ? absl::StrCat(" at offset ", n.offset) : std::string();
}

// True when `n` can match zero rows.
bool Nullable(const PatternNode& n) {
  switch (n.kind) {
    case Kind::kVariable:
      return false;
    case Kind::kAbsence:
      return true;
    case Kind::kConcat:
      for (const PatternNode& c : n.children) {
        if (!Nullable(c)) return false;
      }
      return true;
    case Kind::kAlternation:
      for (const PatternNode& c : n.children) {
        if (Nullable(c)) return true;
      }
      return false;
    case Kind::kQuantified:
      return n.min == 0 || Nullable(n.children[0]);
  }
  return false;
}

size_t CountNodes(const PatternNode& n) {
  size_t count = 1;
  for (const PatternNode& c : n.children) count += CountNodes(c);
  return count;
}

void CollectVariables(const PatternNode& n, std::vector<bool>* used) {
  if (n.kind == Kind::kVariable) (*used)[n.var] = true;
  for (const PatternNode& c : n.children) CollectVariables(c, used);
}

// Shape checks of every node; `absence_ok` only for the last element of the top-level sequence.
absl::Status CheckNode(const Pattern& p, const PatternNode& n, bool absence_ok, int depth) {
  if (depth > 1000) return absl::InvalidArgumentError("PATTERN: nested too deeply");
  switch (n.kind) {
    case Kind::kVariable:
    case Kind::kAbsence:
      if (n.var < 0 || static_cast<size_t>(n.var) >= p.variables.size()) {
        return absl::InvalidArgumentError(absl::StrCat("PATTERN: variable id ", n.var, At(n),
                                                       " is not one of the pattern's ",
                                                       p.variables.size(), " variables"));
      }
      if (n.kind == Kind::kAbsence && !absence_ok) {
        return absl::InvalidArgumentError(absl::StrCat(
            "PATTERN: NOT ", p.variables[n.var], At(n),
            " must be the last element of the pattern, after what it follows, e.g. (A B NOT C); "
            "it cannot be repeated, alternated or followed by more elements"));
      }
      return absl::OkStatus();
    case Kind::kConcat:
    case Kind::kAlternation:
      if (n.children.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("PATTERN: empty sequence", At(n)));
      }
      for (const PatternNode& c : n.children) {
        EDDY_RETURN_IF_ERROR(CheckNode(p, c, false, depth + 1));
      }
      return absl::OkStatus();
    case Kind::kQuantified: {
      if (n.children.size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("PATTERN: a quantifier needs exactly one element", At(n)));
      }
      bool bounded = n.max != kUnbounded;
      if (n.min < 0 || n.min > kMaxQuantifierBound || (bounded && n.max > kMaxQuantifierBound) ||
          (bounded && (n.max < 1 || n.max < n.min)) || n.max < kUnbounded) {
        return absl::InvalidArgumentError(absl::StrCat(
            "PATTERN: invalid quantifier bounds {", n.min, ",", bounded ? absl::StrCat(n.max) : "",
            "}", At(n), ": need 0 <= n <= m, m >= 1, both at most ", kMaxQuantifierBound));
      }
      EDDY_RETURN_IF_ERROR(CheckNode(p, n.children[0], false, depth + 1));
      if (n.max != 1 && Nullable(n.children[0])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "PATTERN: the repeated element ", ToString(p, n), At(n),
            " can match no rows in one repetition; make its contents mandatory (e.g. (A B?)+ "
            "instead of (A? B?)+) so that every repetition maps at least one row"));
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

// Flink's rule that the last variable cannot be greedy (checked on every element that can end a
// match): a greedy quantifier with a variable count at the end means a complete match could only
// be emitted once a row arrives that does not extend it.
absl::Status CheckEnd(const Pattern& p, const PatternNode& n) {
  switch (n.kind) {
    case Kind::kVariable:
    case Kind::kAbsence:
      return absl::OkStatus();
    case Kind::kConcat:
      for (size_t i = n.children.size(); i-- > 0;) {
        EDDY_RETURN_IF_ERROR(CheckEnd(p, n.children[i]));
        if (!Nullable(n.children[i])) break;
      }
      return absl::OkStatus();
    case Kind::kAlternation:
      for (const PatternNode& c : n.children) EDDY_RETURN_IF_ERROR(CheckEnd(p, c));
      return absl::OkStatus();
    case Kind::kQuantified:
      if (n.greedy && n.min != n.max) {
        std::string text = ToString(p, n);
        return absl::InvalidArgumentError(absl::StrCat(
            "PATTERN: greedy quantifier ", text, At(n),
            " can end the match, so a match would only be known complete when a later row does "
            "not extend it (Flink: a greedy quantifier is not allowed on the last variable of a "
            "pattern). Make it reluctant (",
            text,
            "?) or end the pattern with a variable that excludes its rows, e.g. PATTERN (A "
            "B* C) with C AS NOT <condition of B>"));
      }
      return CheckEnd(p, n.children[0]);
  }
  return absl::OkStatus();
}

// Emits code for `n` that falls through to the instruction after it.
class CodeGen {
 public:
  explicit CodeGen(std::vector<Inst>* prog) : prog_(*prog) {}
  int32_t counters() const { return counters_; }

  void Gen(const PatternNode& n) {
    switch (n.kind) {
      case Kind::kVariable:
      case Kind::kAbsence: {
        int32_t pc = Emit({n.kind == Kind::kVariable ? Op::kVar : Op::kAbsent});
        prog_[pc].var = n.var;
        prog_[pc].x = pc + 1;
        return;
      }
      case Kind::kConcat:
        for (const PatternNode& c : n.children) Gen(c);
        return;
      case Kind::kAlternation: {
        std::vector<int32_t> jumps;
        for (size_t i = 0; i < n.children.size(); ++i) {
          if (i + 1 == n.children.size()) {
            Gen(n.children[i]);
            break;
          }
          int32_t split = Emit({Op::kSplit});
          prog_[split].x = split + 1;
          Gen(n.children[i]);
          jumps.push_back(Emit({Op::kJmp}));
          prog_[split].y = Size();
        }
        for (int32_t j : jumps) prog_[j].x = Size();
        return;
      }
      case Kind::kQuantified:
        GenQuantified(n);
        return;
    }
  }

 private:
  void GenQuantified(const PatternNode& n) {
    const PatternNode& body = n.children[0];
    if (n.min == 1 && n.max == 1) {
      Gen(body);
    } else if (n.min == 0 && n.max == 1) {  // ?  ??
      int32_t split = Emit({Op::kSplit});
      Gen(body);
      Prefer(split, split + 1, Size(), n.greedy);
    } else if (n.min == 0 && n.max == kUnbounded) {  // *  *?
      int32_t split = Emit({Op::kSplit});
      Gen(body);
      int32_t jmp = Emit({Op::kJmp});
      prog_[jmp].x = split;
      Prefer(split, split + 1, Size(), n.greedy);
    } else if (n.min == 1 && n.max == kUnbounded) {  // +  +?
      int32_t start = Size();
      Gen(body);
      int32_t split = Emit({Op::kSplit});
      Prefer(split, start, split + 1, n.greedy);
    } else {  // {n,m} with a counter
      int32_t slot = counters_++;
      int32_t init = Emit({Op::kLoopInit});
      prog_[init].slot = slot;
      prog_[init].x = init + 1;
      int32_t loop = Emit({Op::kLoop});
      Gen(body);
      int32_t inc = Emit({Op::kLoopInc});
      Inst& l = prog_[loop];
      l.slot = slot;
      l.min = n.min;
      l.max = n.max;
      l.greedy = n.greedy;
      l.x = loop + 1;
      l.y = Size();
      Inst& i = prog_[inc];
      i.slot = slot;
      i.min = n.min;
      i.max = n.max;
      i.x = loop;
    }
  }

  // Split at `pc` between "more" and "done", preferring "more" when greedy.
  void Prefer(int32_t pc, int32_t more, int32_t done, bool greedy) {
    prog_[pc].x = greedy ? more : done;
    prog_[pc].y = greedy ? done : more;
  }
  int32_t Emit(Inst inst) {
    prog_.push_back(inst);
    return Size() - 1;
  }
  int32_t Size() const { return static_cast<int32_t>(prog_.size()); }

  std::vector<Inst>& prog_;
  int32_t counters_ = 0;
};

const char* OpName(Op op) {
  switch (op) {
    case Op::kVar:
      return "var";
    case Op::kSplit:
      return "split";
    case Op::kJmp:
      return "jmp";
    case Op::kLoopInit:
      return "loop_init";
    case Op::kLoop:
      return "loop";
    case Op::kLoopInc:
      return "loop_inc";
    case Op::kAbsent:
      return "absent";
    case Op::kMatch:
      return "match";
  }
  return "?";
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledPattern>> Compile(const Pattern& pattern,
                                                               const CompileOptions& options) {
  const PatternNode& root = pattern.root;
  // The NFA's moves are followed recursively, so the program size bounds the stack depth.
  if (size_t n = CountNodes(root); n > kMaxPatternElements) {
    return absl::InvalidArgumentError(
        absl::StrCat("PATTERN: ", n, " elements; at most ", kMaxPatternElements, " are supported"));
  }
  // Split off a trailing NOT: P NOT C.
  const PatternNode* absence = nullptr;
  std::vector<const PatternNode*> prefix;
  if (root.kind == Kind::kAbsence) {
    EDDY_RETURN_IF_ERROR(CheckNode(pattern, root, true, 0));
    return absl::InvalidArgumentError(absl::StrCat(
        "PATTERN: NOT ", pattern.variables[root.var], At(root),
        " needs an element before it, e.g. (A NOT C): a match must map at least one row"));
  }
  if (root.kind == Kind::kConcat) {
    for (size_t i = 0; i < root.children.size(); ++i) {
      bool last = i + 1 == root.children.size();
      EDDY_RETURN_IF_ERROR(CheckNode(pattern, root.children[i], last, 1));
      if (last && root.children[i].kind == Kind::kAbsence) {
        absence = &root.children[i];
      } else {
        prefix.push_back(&root.children[i]);
      }
    }
    if (root.children.empty()) return absl::InvalidArgumentError("PATTERN: the pattern is empty");
  } else {
    EDDY_RETURN_IF_ERROR(CheckNode(pattern, root, false, 0));
    prefix.push_back(&root);
  }
  bool nullable = true;
  for (const PatternNode* n : prefix) nullable = nullable && Nullable(*n);
  if (nullable) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PATTERN: ", ToString(pattern),
        " can match an empty sequence of rows, which Flink does not support (e.g. PATTERN (A*) or "
        "(A? B*)): make at least one element mandatory, e.g. A+ instead of A*"));
  }
  if (absence == nullptr) EDDY_RETURN_IF_ERROR(CheckEnd(pattern, root));
  if (options.within_us && *options.within_us <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("WITHIN must be a positive interval, got ", *options.within_us, " µs"));
  }
  if (absence != nullptr && !options.within_us) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PATTERN: NOT ", pattern.variables[absence->var], At(*absence),
        " needs a WITHIN interval: it matches when no such row comes within that time, e.g. "
        "PATTERN (A NOT C) WITHIN INTERVAL '10' MINUTE"));
  }
  if (options.conditions.size() > pattern.variables.size()) {
    return absl::InvalidArgumentError(absl::StrCat("conditions has ", options.conditions.size(),
                                                   " entries but the pattern has ",
                                                   pattern.variables.size(), " variables"));
  }
  const AfterMatchSkip& skip = options.skip;
  if (skip.mode == AfterMatchSkip::Mode::kToFirst || skip.mode == AfterMatchSkip::Mode::kToLast) {
    std::vector<bool> used(pattern.variables.size(), false);
    for (const PatternNode* n : prefix) CollectVariables(*n, &used);
    if (skip.var < 0 || static_cast<size_t>(skip.var) >= used.size() || !used[skip.var]) {
      std::string name = skip.var >= 0 && static_cast<size_t>(skip.var) < used.size()
                             ? pattern.variables[skip.var]
                             : absl::StrCat("#", skip.var);
      return absl::InvalidArgumentError(absl::StrCat(
          "AFTER MATCH SKIP TO ", skip.mode == AfterMatchSkip::Mode::kToFirst ? "FIRST " : "LAST ",
          name, ": the pattern maps no rows to ", name));
    }
  }

  auto compiled = std::shared_ptr<CompiledPattern>(new CompiledPattern());
  compiled->pattern_ = pattern;
  compiled->options_ = options;
  CodeGen gen(&compiled->program_);
  gen.Gen(root);
  compiled->program_.push_back(Inst{Op::kMatch});
  compiled->num_counters_ = gen.counters();
  compiled->absence_var_ = absence ? absence->var : -1;
  bool merge = true;
  for (size_t v = 0; v < pattern.variables.size(); ++v) {
    ConditionKind k =
        v < options.conditions.size() ? options.conditions[v] : ConditionKind::kMatchDependent;
    if (k == ConditionKind::kMatchDependent) merge = false;
  }
  compiled->merge_runs_ = merge;
  return std::shared_ptr<const CompiledPattern>(std::move(compiled));
}

std::string CompiledPattern::DebugString() const {
  std::string out;
  for (size_t pc = 0; pc < program_.size(); ++pc) {
    const Inst& in = program_[pc];
    absl::StrAppend(&out, pc, ": ", OpName(in.op));
    switch (in.op) {
      case Op::kVar:
      case Op::kAbsent:
        absl::StrAppend(&out, " ", pattern_.variables[in.var], " -> ", in.x);
        break;
      case Op::kSplit:
        absl::StrAppend(&out, " ", in.x, ", ", in.y);
        break;
      case Op::kJmp:
        absl::StrAppend(&out, " ", in.x);
        break;
      case Op::kLoopInit:
      case Op::kLoopInc:
        absl::StrAppend(&out, " c", in.slot, " -> ", in.x);
        break;
      case Op::kLoop:
        absl::StrAppend(&out, " c", in.slot, " {", in.min, ",",
                        in.max == kUnbounded ? std::string() : absl::StrCat(in.max), "}",
                        in.greedy ? "" : "?", " body ", in.x, " exit ", in.y);
        break;
      case Op::kMatch:
        break;
    }
    out.push_back('\n');
  }
  return out;
}

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

Matcher::Impl::~Impl() {
  for (Group& g : groups_) ClearGroup(g);
}

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
  for (Group& g : groups_) {
    if (!g.threads.empty()) StepGroup(g, row, seq, time_us);
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

}  // namespace eddy::runtime::cep
