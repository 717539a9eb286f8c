// String functions that build strings: Flink's results for REPEAT, LPAD and RPAD, and the
// 16 MiB limit on any string a function builds (REPEAT, LPAD, RPAD, CONCAT / ||, REPLACE,
// REGEXP_REPLACE): the row fails with an error naming the function instead of taking memory.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>
#include <string>
#include <vector>

#include "function/expr.h"

namespace eddy {
namespace {

// Evaluates function `name` over constant arguments.
absl::StatusOr<Value> Call(const std::string& name, std::vector<Value> args) {
  std::vector<DataType> types;
  std::vector<const Value*> lits;
  std::vector<BoundExprPtr> exprs;
  for (auto& a : args) types.push_back(a.type);
  for (auto& a : args) lits.push_back(&a);
  auto r = ResolveScalarFunction(name, types, lits);
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < args.size(); ++i) {
    BoundExprPtr e = MakeLiteral(args[i]);
    if (!args[i].type.SameAs(r->arg_types[i])) e = MakeCast(e, r->arg_types[i], false);
    exprs.push_back(e);
  }
  return EvalConstant(*MakeCall(name, r->kernel, r->result, exprs));
}

Value I(int64_t v) { return Value::Int64(DataType::Int(), v); }
Value B(int64_t v) { return Value::Int64(DataType::Bigint(), v); }
Value S(std::string v) { return Value::String(std::move(v)); }
Value NullString() { return Value::Null(DataType::String()); }

constexpr size_t kLimit = size_t{16} << 20;

// The call fails with an InvalidArgument that names `fn` and the limit.
void ExpectTooLong(const absl::StatusOr<Value>& r, const std::string& fn) {
  ASSERT_FALSE(r.ok()) << fn << " returned " << r->s.size() << " bytes";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::string msg(r.status().message());
  EXPECT_EQ(msg.rfind(fn + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find("16777216 bytes (16 MiB)"), std::string::npos) << msg;
}

TEST(StringFunctions, RepeatAsFlink) {
  EXPECT_EQ(Call("REPEAT", {S("ab"), I(3)})->s, "ababab");
  EXPECT_EQ(Call("REPEAT", {S("This is a test String."), I(2)})->s,
            "This is a test String.This is a test String.");
  EXPECT_EQ(Call("REPEAT", {S("x"), I(0)})->s, "");
  EXPECT_EQ(Call("REPEAT", {S("x"), I(-5)})->s, "");
  EXPECT_EQ(Call("REPEAT", {S(""), I(1000000000)})->s, "");
  EXPECT_TRUE(Call("REPEAT", {NullString(), I(2)})->is_null);
  EXPECT_TRUE(Call("REPEAT", {S("x"), Value::Null(DataType::Int())})->is_null);
  EXPECT_FALSE(Call("REPEAT", {S("x"), S("2")}).ok());  // the count must be an integer
}

TEST(StringFunctions, PadAsFlink) {
  // Flink's documentation examples.
  EXPECT_EQ(Call("LPAD", {S("hi"), I(4), S("??")})->s, "??hi");
  EXPECT_EQ(Call("LPAD", {S("hi"), I(1), S("??")})->s, "h");
  EXPECT_EQ(Call("RPAD", {S("hi"), I(4), S("??")})->s, "hi??");
  EXPECT_EQ(Call("RPAD", {S("hi"), I(1), S("??")})->s, "h");
  // Padding repeats and is cut; lengths count characters; NULL for a negative length or an
  // empty pad; '' for length 0.
  EXPECT_EQ(Call("LPAD", {S("7"), I(6), S("ab")})->s, "ababa7");
  EXPECT_EQ(Call("RPAD", {S("7"), I(6), S("ab")})->s, "7ababa");
  EXPECT_EQ(Call("LPAD", {S("é"), I(3), S("ü")})->s, "üüé");
  EXPECT_EQ(Call("RPAD", {S("héllo"), I(2), S("x")})->s, "hé");
  EXPECT_EQ(Call("LPAD", {S("hi"), I(0), S("x")})->s, "");
  EXPECT_TRUE(Call("LPAD", {S("hi"), I(-1), S("x")})->is_null);
  EXPECT_TRUE(Call("RPAD", {S("hi"), I(5), S("")})->is_null);
  EXPECT_TRUE(Call("LPAD", {NullString(), I(5), S("x")})->is_null);
}

TEST(StringFunctions, BuiltStringsStopAtTheLimit) {
  // Exactly the limit is allowed; one byte more is not.
  auto at = Call("REPEAT", {S("a"), I(static_cast<int64_t>(kLimit))});
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->s.size(), kLimit);
  ExpectTooLong(Call("REPEAT", {S("a"), I(static_cast<int64_t>(kLimit) + 1)}), "REPEAT");
  ExpectTooLong(Call("REPEAT", {S("abc"), I(6000000)}), "REPEAT");
  ExpectTooLong(Call("REPEAT", {S("ab"), B(INT64_MAX)}), "REPEAT");  // no overflow
  ExpectTooLong(Call("LPAD", {S("x"), I(2000000000), S("y")}), "LPAD");
  ExpectTooLong(Call("RPAD", {S("x"), B(INT64_MAX), S("yz")}), "RPAD");
  ExpectTooLong(Call("LPAD", {S("x"), I(6000000), S("€")}), "LPAD");  // 3 bytes a character
  EXPECT_EQ(Call("LPAD", {S("x"), I(5000000), S("y")})->s.size(), 5000000u);

  const std::string ten_mib(10 << 20, 'a');
  ExpectTooLong(Call("CONCAT", {S(ten_mib), S(ten_mib)}), "CONCAT");
  ExpectTooLong(Call("||", {S(ten_mib), S(ten_mib)}), "CONCAT");
  EXPECT_EQ(Call("CONCAT", {S(ten_mib), S("b")})->s.size(), ten_mib.size() + 1);

  const std::string a16k(16 << 10, 'a'), b2k(2 << 10, 'b');
  ExpectTooLong(Call("REPLACE", {S(a16k), S("a"), S(b2k)}), "REPLACE");  // 32 MiB
  EXPECT_EQ(Call("REPLACE", {S(a16k), S("a"), S("bb")})->s, std::string(32 << 10, 'b'));

  ExpectTooLong(Call("REGEXP_REPLACE", {S(std::string(10000, 'x')), S(""), S(b2k)}),
                "REGEXP_REPLACE");
  ExpectTooLong(Call("REGEXP_REPLACE", {S(a16k), S("a"), S("\\0" + b2k)}), "REGEXP_REPLACE");
}

TEST(StringFunctions, RegexpReplaceKeepsRe2GlobalReplaceResults) {
  EXPECT_EQ(
      Call("REGEXP_REPLACE", {S("2024-01-05"), S("(\\d+)-(\\d+)-(\\d+)"), S("\\3.\\2.\\1")})->s,
      "05.01.2024");
  // Empty matches: between every character and at both ends, but not right after a match.
  EXPECT_EQ(Call("REGEXP_REPLACE", {S("abc"), S("x*"), S("-")})->s, "-a-b-c-");
  EXPECT_EQ(Call("REGEXP_REPLACE", {S("aaa"), S("a*"), S("X")})->s, "X");
  EXPECT_EQ(Call("REGEXP_REPLACE", {S("baaac"), S("a*"), S("X")})->s, "XbXcX");
  EXPECT_EQ(Call("REGEXP_REPLACE", {S("é"), S(""), S("-")})->s, "-é-");  // whole characters
  EXPECT_EQ(Call("REGEXP_REPLACE", {S("no match"), S("z+"), S("-")})->s, "no match");
  EXPECT_EQ(Call("REGEXP_REPLACE", {S("a.b.c"), S("\\."), S("\\\\")})->s, "a\\b\\c");
}

// REGEXP_REPLACE checks the limit as it builds its result, so it has its own global-replace loop:
// it must give exactly what RE2::GlobalReplace gives (what eddy used before), on random text.
TEST(StringFunctions, RegexpReplaceMatchesRe2GlobalReplaceOnRandomText) {
  std::mt19937 rng(20261122);
  const std::vector<std::string> alphabet = {"a",    "b", "c", "\xC3\xA9", "\xED\xA0\x80",
                                             "\xFF", "\n"};
  const std::vector<std::string> patterns = {"",     "a*",  "a",      "b+",  "(a)(b)?", "x*",
                                             "[ab]", "é",   ".",      "a|",  "^",       "$",
                                             "\\b",  "(c)", "(?s).*", "a*?", "\\w+"};
  const std::vector<std::string> rewrites = {"-", "", "\\0\\0", "<\\1>", "\\\\", "\\2"};
  for (int iter = 0; iter < 300; ++iter) {
    std::string text;
    size_t len = rng() % 12;
    for (size_t i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    for (const std::string& pat : patterns) {
      RE2 re(pat, RE2::Quiet);
      ASSERT_TRUE(re.ok()) << pat;
      for (const std::string& rw : rewrites) {
        std::string want = text;
        RE2::GlobalReplace(&want, re, rw);
        auto got = Call("REGEXP_REPLACE", {S(text), S(pat), S(rw)});
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_EQ(got->s, want) << "text '" << text << "' pattern '" << pat << "' rewrite '" << rw
                                << "'";
      }
    }
  }
}

}  // namespace
}  // namespace eddy
