// Compile(): checks a row pattern against the rules of nfa.h and compiles it into a Thompson NFA
// with counters (runtime/cep/program.h).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "runtime/cep/nfa.h"
#include "runtime/cep/program.h"

namespace eddy::runtime::cep {

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

}  // namespace eddy::runtime::cep
