// The PATTERN text parser: the syntax of docs/cep.md, canonical printing, and errors that give
// the character offset.
#include "runtime/cep/pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace eddy::runtime::cep {
namespace {

using Kind = PatternNode::Kind;

Pattern MustParse(const std::string& text) {
  auto p = ParsePattern(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return p.ok() ? *p : Pattern{};
}

TEST(CepParsePattern, VariablesConcatenationAndIdsInOrderOfAppearance) {
  Pattern p = MustParse("A B C A");
  ASSERT_EQ(p.variables, (std::vector<std::string>{"A", "B", "C"}));
  ASSERT_EQ(p.root.kind, Kind::kConcat);
  ASSERT_EQ(p.root.children.size(), 4u);
  EXPECT_EQ(p.root.children[0], PatternNode::Variable(0));
  EXPECT_EQ(p.root.children[3], PatternNode::Variable(0));
  EXPECT_EQ(p.root.children[2].offset, 4);
}

TEST(CepParsePattern, AlternationBindsLoosestAndGroupsDoNotAddNodes) {
  Pattern p = MustParse("(A B+? C) | D{2,3}");
  ASSERT_EQ(p.root.kind, Kind::kAlternation);
  const PatternNode& left = p.root.children[0];
  ASSERT_EQ(left.kind, Kind::kConcat);
  EXPECT_EQ(left.children[1], PatternNode::Quantified(PatternNode::Variable(1), 1, kUnbounded,
                                                      /*greedy=*/false));
  EXPECT_EQ(p.root.children[1], PatternNode::Quantified(PatternNode::Variable(3), 2, 3));
  EXPECT_EQ(MustParse("((A))").root, PatternNode::Variable(0));
  EXPECT_EQ(MustParse("A B | C").root.children.size(), 2u);
}

TEST(CepParsePattern, EveryQuantifierGreedyAndReluctant) {
  struct Case {
    const char* text;
    int32_t min, max;
    bool greedy;
  };
  for (const Case& c :
       {Case{"A*", 0, kUnbounded, true}, Case{"A*?", 0, kUnbounded, false},
        Case{"A+", 1, kUnbounded, true}, Case{"A+?", 1, kUnbounded, false}, Case{"A?", 0, 1, true},
        Case{"A??", 0, 1, false}, Case{"A{3}", 3, 3, true}, Case{"A{3}?", 3, 3, false},
        Case{"A{2,}", 2, kUnbounded, true}, Case{"A{0,}?", 0, kUnbounded, false},
        Case{"A{2,5}", 2, 5, true}, Case{"A{ 2 , 5 }?", 2, 5, false}, Case{"A{,4}", 0, 4, true},
        Case{"A {,4}?", 0, 4, false}}) {
    Pattern p = MustParse(c.text);
    EXPECT_EQ(p.root, PatternNode::Quantified(PatternNode::Variable(0), c.min, c.max, c.greedy))
        << c.text;
  }
  EXPECT_EQ(MustParse("(A B)+").root.children[0].kind, Kind::kConcat);
}

TEST(CepParsePattern, AbsenceQuotedIdentifiersAndWhitespace) {
  Pattern p = MustParse(" ( A\tB\nnot  C ) ");
  ASSERT_EQ(p.root.kind, Kind::kConcat);
  EXPECT_EQ(p.root.children[2], PatternNode::Absence(2));
  EXPECT_EQ(p.root.children[2].offset, 7);
  Pattern q = MustParse("`my var` `not` `a``b` x_1$");
  EXPECT_EQ(q.variables, (std::vector<std::string>{"my var", "not", "a`b", "x_1$"}));
  EXPECT_EQ(q.root.children[1], PatternNode::Variable(1)) << "a quoted NOT is a variable";
  EXPECT_EQ(MustParse("a A").variables.size(), 2u) << "names are case-sensitive";
}

TEST(CepParsePattern, ToStringIsCanonicalAndParsesBack) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const Case& c : {
           Case{"(A B+? C) | D{2,3}", "A B+? C | D{2,3}"},
           Case{"A (B | C)* D", "A (B | C)* D"},
           Case{"((A B) C)", "A B C"},
           Case{"(A (B C)+)", "A (B C)+"},
           Case{"A{0,1}? B{1,} C{0,}", "A?? B+ C*"},
           Case{"A ((B)){2}", "A B{2}"},
           Case{"(A{2}){3}", "(A{2}){3}"},
           Case{"A NOT C", "A NOT C"},
           Case{"`a b` `not` x", "`a b` `not` x"},
           Case{"(A | B) | C", "A | B | C"},
           Case{"A (B | (C | D)) E", "A (B | C | D) E"},
       }) {
    Pattern p = MustParse(c.in);
    EXPECT_EQ(ToString(p), c.out) << c.in;
    Pattern back = MustParse(ToString(p));
    EXPECT_EQ(back.root, p.root) << c.in;
    EXPECT_EQ(back.variables, p.variables) << c.in;
  }
}

TEST(CepParsePattern, ErrorsGiveTheOffset) {
  struct Case {
    const char* text;
    int offset;
    const char* words;  // part of the message
  };
  for (const Case& c : {
           Case{"", 0, "empty"},
           Case{"   ", 3, "empty"},
           Case{"A B (", 5, "expected a pattern variable"},
           Case{"A | | B", 4, "expected a pattern variable"},
           Case{"A ()", 3, "empty group"},
           Case{"(A", 2, "expected ')'"},
           Case{"A) B", 1, "unbalanced ')'"},
           Case{"A**", 2, "cannot follow another quantifier"},
           Case{"A+ ?", 3, "cannot follow another quantifier"},
           Case{"A{2}{3}", 4, "cannot follow another quantifier"},
           Case{"*A", 0, "must follow a pattern variable"},
           Case{"A{3,2}", 1, "lower bound above its upper bound"},
           Case{"A{}", 1, "needs a bound"},
           Case{"A{,}", 1, "needs a bound"},
           Case{"A{0}", 1, "matches no row"},
           Case{"A{0,0}", 1, "matches no row"},
           Case{"A{2", 3, "expected '}'"},
           Case{"A{2,x}", 4, "expected '}'"},
           Case{"A{99999999999}", 2, "too large"},
           Case{"PERMUTE(A, B)", 0, "PERMUTE is not supported"},
           Case{"^A", 0, "anchors"},
           Case{"A $", 2, "anchors"},
           Case{"A {- B -} C", 2, "exclusion"},
           Case{"A NOT", 5, "NOT must be followed by one pattern variable"},
           Case{"A NOT (C)", 6, "NOT must be followed by one pattern variable"},
           Case{"A NOT C+", 7, "NOT C takes no quantifier"},
           Case{"A `b", 2, "unterminated quoted identifier"},
           Case{"A ``", 2, "empty quoted identifier"},
           Case{"A , B", 2, "unexpected ','"},
           Case{"A - B", 2, "unexpected '-'"},
       }) {
    int offset = -2;
    auto p = ParsePattern(c.text, &offset);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(offset, c.offset) << c.text << ": " << p.status();
    EXPECT_NE(p.status().message().find(c.words), std::string::npos) << p.status();
    EXPECT_NE(p.status().message().find("at offset " + std::to_string(c.offset)), std::string::npos)
        << p.status();
  }
  int offset = 7;
  ASSERT_TRUE(ParsePattern("A", &offset).ok());
  EXPECT_EQ(offset, -1);
}

TEST(CepParsePattern, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string text = std::string(5000, '(') + "A" + std::string(5000, ')');
  auto p = ParsePattern(text);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("nested too deeply"), std::string::npos);
}

}  // namespace
}  // namespace eddy::runtime::cep
