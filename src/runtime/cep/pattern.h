// Row patterns of MATCH_RECOGNIZE (SQL:2016 row pattern recognition, Flink SQL dialect) as a tree
// independent of SQL, plus a parser for the text of a PATTERN clause. The automaton that runs a
// pattern is in runtime/cep/nfa.h; docs/cep.md describes the syntax and the semantics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace eddy::runtime::cep {

/// A pattern variable: an index into Pattern::variables (0-based). The SQL DEFINE clause gives
/// each variable its condition; a variable without one matches every row.
using VarId = int32_t;

/// The upper bound of an unbounded quantifier (`*`, `+`, `{n,}`).
inline constexpr int32_t kUnbounded = -1;

/// The largest bound a quantifier may have (`{n,m}` with n, m <= this).
inline constexpr int32_t kMaxQuantifierBound = 1'000'000'000;

/// One node of a row pattern expression. A value type: copies are deep.
struct PatternNode {
  enum class Kind : uint8_t {
    kVariable,     // one row mapped to `var`
    kConcat,       // `children` one after the other, rows strictly contiguous
    kAlternation,  // `A | B`: one of `children`, the leftmost preferred
    kQuantified,   // children[0] repeated `min`..`max` times, greedy or reluctant
    kAbsence,      // eddy's extension `NOT var`: see nfa.h (last element of the pattern only)
  };

  Kind kind = Kind::kVariable;
  VarId var = -1;                     // kVariable, kAbsence
  std::vector<PatternNode> children;  // kConcat, kAlternation (2 or more); kQuantified (1)
  int32_t min = 1;                    // kQuantified: 0 <= min
  int32_t max = 1;                    // kQuantified: kUnbounded, or max >= max(min, 1)
  bool greedy = true;                 // kQuantified: `*` greedy, `*?` reluctant
  int32_t offset = -1;  // 0-based byte offset in the pattern text; -1 if built in code

  static PatternNode Variable(VarId v);
  /// Concatenation; a single child is returned as is, nested concatenations are flattened.
  static PatternNode Concat(std::vector<PatternNode> children);
  /// Alternation; a single child is returned as is, nested alternations are flattened.
  static PatternNode Alternation(std::vector<PatternNode> children);
  /// `child{min,max}` (max may be kUnbounded); `greedy` false for the reluctant form `{min,max}?`.
  static PatternNode Quantified(PatternNode child, int32_t min, int32_t max, bool greedy = true);
  /// eddy's absence element `NOT v`.
  static PatternNode Absence(VarId v);

  /// Structural equality (offsets ignored).
  friend bool operator==(const PatternNode& a, const PatternNode& b);
};

/// A row pattern: the variables it names and its expression. Patterns are plain values; validity
/// (empty matches, a greedy last quantifier, where NOT may stand, ...) is checked by Compile() in
/// nfa.h, not here.
struct Pattern {
  /// Variable names by VarId. Names are case-sensitive, as Flink SQL identifiers.
  std::vector<std::string> variables;
  PatternNode root;

  /// The id of `name`, or -1 when the pattern has no such variable.
  VarId FindVariable(std::string_view name) const;
  /// The id of `name`, added at the end of `variables` when new.
  VarId AddVariable(std::string_view name);
};

/// Parses the text between the parentheses of `PATTERN ( ... )` (the outer parentheses may also
/// be included). Syntax (docs/cep.md): variables are identifiers `[A-Za-z_][A-Za-z0-9_$]*` or
/// back-quoted (`` `my var` ``, a back quote doubled inside); juxtaposition concatenates; `|`
/// alternates (lowest precedence); parentheses group; a quantifier follows a variable or a group:
/// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, `{,m}`, each greedy, or reluctant with a `?` right after
/// it (`*?`, `+?`, `??`, `{n,m}?`). `NOT C` is eddy's absence element. Whitespace separates
/// tokens. Variable ids are assigned in order of first appearance.
///
/// Errors: InvalidArgumentError whose message names the 0-based byte offset ("at offset 7"); the
/// offset is also stored in `*error_offset` when given (so the SQL layer can turn it into
/// line:column). Unsupported SQL:2016 syntax (`PERMUTE`, anchors `^ $`, exclusion `{- -}`) is
/// reported as such.
absl::StatusOr<Pattern> ParsePattern(std::string_view text, int* error_offset = nullptr);

/// The pattern as text in the syntax ParsePattern() reads (canonical spacing, minimal parentheses),
/// e.g. "(A B+? C) | D{2,3}". ParsePattern(ToString(p)) gives back p (up to offsets).
std::string ToString(const Pattern& pattern);

/// A node as text, with `pattern`'s variable names.
std::string ToString(const Pattern& pattern, const PatternNode& node);

/// The quantifier of a kQuantified node as text: "*", "+?", "??", "{2}", "{2,}", "{2,5}?".
std::string QuantifierText(const PatternNode& node);

}  // namespace eddy::runtime::cep
