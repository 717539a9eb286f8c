#include "runtime/cep/pattern.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace eddy::runtime::cep {

PatternNode PatternNode::Variable(VarId v) {
  PatternNode n;
  n.kind = Kind::kVariable;
  n.var = v;
  return n;
}

namespace {

// A node of `kind` over `children`, splicing in children of the same kind: both operators are
// associative, preference order included ((A | B) | C prefers A, then B, then C).
PatternNode Flattened(PatternNode::Kind kind, std::vector<PatternNode> children) {
  if (children.size() == 1) return std::move(children[0]);
  PatternNode n;
  n.kind = kind;
  for (PatternNode& c : children) {
    if (c.kind == kind) {
      for (PatternNode& g : c.children) n.children.push_back(std::move(g));
    } else {
      n.children.push_back(std::move(c));
    }
  }
  return n;
}

}  // namespace

PatternNode PatternNode::Concat(std::vector<PatternNode> children) {
  return Flattened(Kind::kConcat, std::move(children));
}

PatternNode PatternNode::Alternation(std::vector<PatternNode> children) {
  return Flattened(Kind::kAlternation, std::move(children));
}

PatternNode PatternNode::Quantified(PatternNode child, int32_t min, int32_t max, bool greedy) {
  PatternNode n;
  n.kind = Kind::kQuantified;
  n.children.push_back(std::move(child));
  n.min = min;
  n.max = max;
  n.greedy = greedy;
  return n;
}

PatternNode PatternNode::Absence(VarId v) {
  PatternNode n;
  n.kind = Kind::kAbsence;
  n.var = v;
  return n;
}

bool operator==(const PatternNode& a, const PatternNode& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case PatternNode::Kind::kVariable:
    case PatternNode::Kind::kAbsence:
      return a.var == b.var;
    case PatternNode::Kind::kQuantified:
      if (a.min != b.min || a.max != b.max || a.greedy != b.greedy) return false;
      break;
    default:
      break;
  }
  return a.children == b.children;
}

VarId Pattern::FindVariable(std::string_view name) const {
  for (size_t i = 0; i < variables.size(); ++i) {
    if (variables[i] == name) return static_cast<VarId>(i);
  }
  return -1;
}

VarId Pattern::AddVariable(std::string_view name) {
  VarId v = FindVariable(name);
  if (v >= 0) return v;
  variables.emplace_back(name);
  return static_cast<VarId>(variables.size() - 1);
}

namespace {

bool IsIdentStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '$'; }

// Recursive descent over the characters of the pattern text. Grammar (docs/cep.md):
//   alternation := concat ('|' concat)*
//   concat      := term+
//   term        := 'NOT' variable | primary quantifier?
//   primary     := variable | '(' alternation ')'
//   quantifier  := ('*' | '+' | '?' | '{' n? (',' m?)? '}') '?'?
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<Pattern> Parse(int* error_offset) {
    absl::Status st = ParseAll();
    if (!st.ok()) {
      if (error_offset) *error_offset = error_offset_;
      return st;
    }
    return std::move(pattern_);
  }

 private:
  absl::Status ParseAll() {
    SkipSpace();
    if (AtEnd()) return Error(pos_, "the pattern is empty: write at least one variable, e.g. (A)");
    auto root = ParseAlternation(0);
    if (!root.ok()) return root.status();
    SkipSpace();
    if (!AtEnd()) {
      if (Peek() == ')') return Error(pos_, "unbalanced ')'");
      return Error(pos_, absl::StrCat("unexpected '", std::string(1, text_[pos_]), "'"));
    }
    pattern_.root = std::move(*root);
    return absl::OkStatus();
  }

  absl::StatusOr<PatternNode> ParseAlternation(int depth) {
    if (depth > kMaxDepth) return Error(pos_, "parentheses nested too deeply");
    SkipSpace();
    int start = static_cast<int>(pos_);
    std::vector<PatternNode> branches;
    while (true) {
      auto branch = ParseConcat(depth);
      if (!branch.ok()) return branch.status();
      branches.push_back(std::move(*branch));
      SkipSpace();
      if (AtEnd() || Peek() != '|') break;
      ++pos_;
    }
    PatternNode n = PatternNode::Alternation(std::move(branches));
    if (n.kind == PatternNode::Kind::kAlternation) n.offset = start;
    return n;
  }

  absl::StatusOr<PatternNode> ParseConcat(int depth) {
    SkipSpace();
    int start = static_cast<int>(pos_);
    std::vector<PatternNode> items;
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() == ')' || Peek() == '|') break;
      auto term = ParseTerm(depth);
      if (!term.ok()) return term.status();
      items.push_back(std::move(*term));
    }
    if (items.empty()) {
      if (AtEnd()) return Error(pos_, "expected a pattern variable or '(' at the end");
      return Error(pos_, absl::StrCat("expected a pattern variable or '(' before '",
                                      std::string(1, text_[pos_]),
                                      "' (an empty group or alternative matches nothing)"));
    }
    PatternNode n = PatternNode::Concat(std::move(items));
    if (n.kind == PatternNode::Kind::kConcat) n.offset = start;
    return n;
  }

  absl::StatusOr<PatternNode> ParseTerm(int depth) {
    size_t start = pos_;
    PatternNode primary;
    char c = Peek();
    if (IsIdentStart(c) || c == '`') {
      bool quoted = c == '`';
      auto name = ParseIdentifier();
      if (!name.ok()) return name.status();
      if (!quoted && absl::EqualsIgnoreCase(*name, "NOT")) return ParseAbsence(start);
      if (!quoted && absl::EqualsIgnoreCase(*name, "PERMUTE")) {
        return Error(start,
                     "PERMUTE is not supported: list the orders as alternatives, e.g. "
                     "(A B | B A)");
      }
      primary = PatternNode::Variable(pattern_.AddVariable(*name));
    } else if (c == '(') {
      ++pos_;
      auto inner = ParseAlternation(depth + 1);
      if (!inner.ok()) return inner.status();
      SkipSpace();
      if (AtEnd() || Peek() != ')') {
        return Error(pos_, absl::StrCat("expected ')' to close the '(' at offset ", start));
      }
      ++pos_;
      primary = std::move(*inner);
    } else if (c == '^' || c == '$') {
      return Error(start, "anchors (^ and $) are not supported: a stream has no end to anchor to");
    } else if (AtExclusion()) {
      return Error(start, "exclusion {- -} is not supported yet");
    } else if (IsQuantifierStart(c)) {
      return Error(start, absl::StrCat("quantifier '", std::string(1, text_[pos_]),
                                       "' must follow a pattern variable or a ')'"));
    } else {
      return Error(start, absl::StrCat("unexpected '", std::string(1, text_[pos_]),
                                       "': expected a pattern variable or '('"));
    }
    if (primary.offset < 0) primary.offset = static_cast<int>(start);
    return ParseQuantifier(std::move(primary), start);
  }

  absl::StatusOr<PatternNode> ParseAbsence(size_t start) {
    SkipSpace();
    if (AtEnd() || !(IsIdentStart(Peek()) || Peek() == '`')) {
      return Error(pos_, "NOT must be followed by one pattern variable, e.g. A NOT C");
    }
    auto name = ParseIdentifier();
    if (!name.ok()) return name.status();
    PatternNode n = PatternNode::Absence(pattern_.AddVariable(*name));
    n.offset = static_cast<int>(start);
    size_t after = pos_;
    SkipSpace();
    if (!AtEnd() && IsQuantifierStart(Peek())) {
      return Error(pos_, "NOT C takes no quantifier: it means no row matching C at all");
    }
    pos_ = after;
    return n;
  }

  absl::StatusOr<PatternNode> ParseQuantifier(PatternNode primary, size_t start) {
    size_t before = pos_;
    SkipSpace();
    if (AtEnd() || !IsQuantifierStart(Peek()) || AtExclusion()) {
      pos_ = before;
      return primary;
    }
    size_t qpos = pos_;
    int32_t min = 0, max = kUnbounded;
    char c = text_[pos_++];
    if (c == '*') {
      min = 0;
      max = kUnbounded;
    } else if (c == '+') {
      min = 1;
      max = kUnbounded;
    } else if (c == '?') {
      min = 0;
      max = 1;
    } else {  // '{'
      SkipSpace();
      std::optional<int32_t> lo, hi;
      bool comma = false;
      if (!AtEnd() && absl::ascii_isdigit(Peek())) {
        auto n = ParseNumber();
        if (!n.ok()) return n.status();
        lo = *n;
      }
      SkipSpace();
      if (!AtEnd() && Peek() == ',') {
        comma = true;
        ++pos_;
        SkipSpace();
        if (!AtEnd() && absl::ascii_isdigit(Peek())) {
          auto n = ParseNumber();
          if (!n.ok()) return n.status();
          hi = *n;
        }
        SkipSpace();
      }
      if (AtEnd() || Peek() != '}') {
        return Error(pos_, "expected '}' to close the quantifier: write {n}, {n,}, {n,m} or {,m}");
      }
      ++pos_;
      if (!lo && !hi) {
        return Error(qpos, "a quantifier in braces needs a bound: write {n}, {n,}, {n,m} or {,m}");
      }
      if (!comma) {
        if (*lo == 0) return Error(qpos, "{0} matches no row: remove the element instead");
        min = max = *lo;
      } else {
        min = lo.value_or(0);
        max = hi ? *hi : kUnbounded;
        if (hi && *hi == 0)
          return Error(qpos, "{n,0} matches no row: the upper bound must be >= 1");
        if (hi && lo && *lo > *hi) {
          return Error(qpos, absl::StrCat("quantifier {", *lo, ",", *hi,
                                          "} has its lower bound above its upper bound"));
        }
      }
    }
    bool greedy = true;
    if (!AtEnd() && Peek() == '?') {
      greedy = false;
      ++pos_;
    }
    size_t after = pos_;
    SkipSpace();
    if (!AtEnd() && IsQuantifierStart(Peek()) && !AtExclusion()) {
      return Error(
          pos_,
          "a quantifier cannot follow another quantifier: put the quantified part in "
          "parentheses, e.g. (A{2})+; a reluctant '?' must follow its quantifier directly");
    }
    pos_ = after;
    PatternNode n = PatternNode::Quantified(std::move(primary), min, max, greedy);
    n.offset = static_cast<int>(start);
    return n;
  }

  absl::StatusOr<int32_t> ParseNumber() {
    size_t start = pos_;
    int64_t v = 0;
    while (!AtEnd() && absl::ascii_isdigit(Peek())) {
      v = v * 10 + (Peek() - '0');
      if (v > kMaxQuantifierBound) {
        return Error(start, absl::StrCat("quantifier bound too large (the maximum is ",
                                         kMaxQuantifierBound, ")"));
      }
      ++pos_;
    }
    return static_cast<int32_t>(v);
  }

  absl::StatusOr<std::string> ParseIdentifier() {
    size_t start = pos_;
    if (Peek() == '`') {
      ++pos_;
      std::string name;
      while (true) {
        if (AtEnd()) return Error(start, "unterminated quoted identifier: missing closing '`'");
        char c = text_[pos_++];
        if (c == '`') {
          if (!AtEnd() && Peek() == '`') {
            name.push_back('`');
            ++pos_;
            continue;
          }
          break;
        }
        name.push_back(c);
      }
      if (name.empty()) return Error(start, "empty quoted identifier ``");
      return name;
    }
    while (!AtEnd() && IsIdentChar(Peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  static bool IsQuantifierStart(char c) { return c == '*' || c == '+' || c == '?' || c == '{'; }
  bool AtEnd() const { return pos_ >= text_.size(); }
  bool AtExclusion() const {
    return pos_ + 1 < text_.size() && text_[pos_] == '{' && text_[pos_ + 1] == '-';
  }
  char Peek() const { return text_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && absl::ascii_isspace(static_cast<unsigned char>(Peek()))) ++pos_;
  }
  absl::Status Error(size_t offset, const std::string& what) {
    error_offset_ = static_cast<int>(offset);
    return absl::InvalidArgumentError(
        absl::StrCat("PATTERN: ", what, " at offset ", offset, " of \"", text_, "\""));
  }

  static constexpr int kMaxDepth = 200;
  std::string text_;
  size_t pos_ = 0;
  int error_offset_ = -1;
  Pattern pattern_;
};

bool NeedsQuotes(const std::string& name) {
  if (name.empty() || !IsIdentStart(name[0])) return true;
  for (char c : name) {
    if (!IsIdentChar(c)) return true;
  }
  return absl::EqualsIgnoreCase(name, "NOT") || absl::EqualsIgnoreCase(name, "PERMUTE");
}

std::string VarName(const Pattern& p, VarId v) {
  std::string name =
      v >= 0 && static_cast<size_t>(v) < p.variables.size() ? p.variables[v] : absl::StrCat("$", v);
  if (!NeedsQuotes(name)) return name;
  std::string q = "`";
  for (char c : name) {
    if (c == '`') q.push_back('`');
    q.push_back(c);
  }
  q.push_back('`');
  return q;
}

// `parent_prec`: 0 = top or inside parentheses, 1 = element of a concatenation, 2 = quantified.
void Print(const Pattern& p, const PatternNode& n, int parent_prec, std::string* out) {
  switch (n.kind) {
    case PatternNode::Kind::kVariable:
      out->append(VarName(p, n.var));
      return;
    case PatternNode::Kind::kAbsence:
      out->append("NOT ");
      out->append(VarName(p, n.var));
      return;
    case PatternNode::Kind::kConcat: {
      bool paren = parent_prec >= 2;
      if (paren) out->push_back('(');
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i) out->push_back(' ');
        Print(p, n.children[i], 1, out);
      }
      if (paren) out->push_back(')');
      return;
    }
    case PatternNode::Kind::kAlternation: {
      bool paren = parent_prec >= 1;
      if (paren) out->push_back('(');
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i) out->append(" | ");
        Print(p, n.children[i], 0, out);
      }
      if (paren) out->push_back(')');
      return;
    }
    case PatternNode::Kind::kQuantified: {
      const PatternNode& child = n.children[0];
      // A quantified child always gets parentheses: A{2}{3} would not parse back.
      bool paren = child.kind != PatternNode::Kind::kVariable;
      if (paren) out->push_back('(');
      Print(p, child, 0, out);
      if (paren) out->push_back(')');
      out->append(QuantifierText(n));
      return;
    }
  }
}

}  // namespace

std::string QuantifierText(const PatternNode& n) {
  std::string q;
  if (n.min == 0 && n.max == kUnbounded) {
    q = "*";
  } else if (n.min == 1 && n.max == kUnbounded) {
    q = "+";
  } else if (n.min == 0 && n.max == 1) {
    q = "?";
  } else if (n.min == n.max) {
    q = absl::StrCat("{", n.min, "}");
  } else if (n.max == kUnbounded) {
    q = absl::StrCat("{", n.min, ",}");
  } else {
    q = absl::StrCat("{", n.min, ",", n.max, "}");
  }
  if (!n.greedy) q.push_back('?');
  return q;
}

absl::StatusOr<Pattern> ParsePattern(std::string_view text, int* error_offset) {
  if (error_offset) *error_offset = -1;
  return Parser(text).Parse(error_offset);
}

std::string ToString(const Pattern& pattern, const PatternNode& node) {
  std::string out;
  Print(pattern, node, 0, &out);
  return out;
}

std::string ToString(const Pattern& pattern) { return ToString(pattern, pattern.root); }

}  // namespace eddy::runtime::cep
