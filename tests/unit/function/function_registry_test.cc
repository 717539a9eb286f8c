// The table of scalar functions registered by family (function/function_registry.h): every entry
// is reachable, listed, documented, and no argument types or values crash it.
#include "function/function_registry.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "function/expr.h"
#include "types/time_util.h"

namespace eddy {
namespace {

TEST(FunctionRegistry, EveryEntryIsUniqueListedAndResolvable) {
  std::set<std::string> seen;
  std::vector<std::string> listed = ScalarFunctionNames();
  for (const ScalarFunctionEntry* e : RegisteredScalarFunctions()) {
    std::string name(e->name);
    EXPECT_TRUE(seen.insert(name).second) << name << " is registered twice";
    for (char c : name) EXPECT_FALSE(c >= 'a' && c <= 'z') << name << " is not upper case";
    EXPECT_EQ(FindScalarFunction(name), e);
    EXPECT_NE(std::find(listed.begin(), listed.end(), name), listed.end())
        << name << " is missing from SHOW FUNCTIONS";
  }
  EXPECT_EQ(FindScalarFunction("NO_SUCH_FUNCTION"), nullptr);
}

TEST(FunctionRegistry, EveryEntryIsDocumented) {
  std::ifstream f(std::string(EDDY_SOURCE_DIR) + "/docs/sql-reference.md");
  ASSERT_TRUE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  std::string doc = ss.str();
  for (const ScalarFunctionEntry* e : RegisteredScalarFunctions()) {
    std::string name(e->name);
    bool found = doc.find("`" + name + "(") != std::string::npos ||
                 doc.find("`" + name + "`") != std::string::npos ||
                 doc.find(", " + name + ",") != std::string::npos ||
                 doc.find(", `" + name + "`") != std::string::npos;
    EXPECT_TRUE(found) << name << " is not in docs/sql-reference.md";
  }
}

// Every entry, with 0 to 3 arguments of assorted types and values (NULLs, empty strings, extreme
// numbers), resolves to a function or an InvalidArgument error, and evaluating a resolved one
// returns a value or an error: never a crash.
TEST(FunctionRegistry, NoArgumentsCrashAFunction) {
  std::vector<Value> samples = {
      Value::Null(DataType::Int()),
      Value::Int64(DataType::Int(), 0),
      Value::Int64(DataType::Bigint(), INT64_MIN),
      Value::Int64(DataType::Bigint(), INT64_MAX),
      Value::Int64(DataType::Int(), -1),
      Value::Double(-0.5),
      Value::String(""),
      Value::String("a,b,,c"),
      Value::String("DAY"),
      Value::String("\xff\xfe z\xc3"),
      Value::Int64(DataType::Timestamp(3), *ParseTimestamp("2024-02-29 23:59:59.999")),
      Value::Int64(DataType::Timestamp(3), kMaxTimestamp),
  };
  for (const ScalarFunctionEntry* e : RegisteredScalarFunctions()) {
    for (size_t n = 0; n <= 3; ++n) {
      size_t combos = 1;
      for (size_t k = 0; k < n; ++k) combos *= samples.size();
      for (size_t c = 0; c < combos; ++c) {
        std::vector<Value> args;
        size_t x = c;
        for (size_t k = 0; k < n; ++k) {
          args.push_back(samples[x % samples.size()]);
          x /= samples.size();
        }
        std::vector<DataType> types;
        std::vector<const Value*> lits;
        for (auto& a : args) types.push_back(a.type);
        for (auto& a : args) lits.push_back(&a);
        auto r = e->resolve(types, lits);
        if (!r.ok()) {
          EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << e->name;
          continue;
        }
        std::vector<BoundExprPtr> exprs;
        bool castable = true;
        for (size_t i = 0; i < args.size(); ++i) {
          BoundExprPtr b = MakeLiteral(args[i]);
          if (!args[i].type.SameAs(r->arg_types[i])) {
            castable &= CanCast(args[i].type, r->arg_types[i]);
            b = MakeCast(b, r->arg_types[i], true);
          }
          exprs.push_back(b);
        }
        if (!castable) continue;
        auto v = EvalConstant(*MakeCall(std::string(e->name), r->kernel, r->result, exprs));
        (void)v;  // a value or an error, both fine
      }
    }
  }
}

}  // namespace
}  // namespace eddy
