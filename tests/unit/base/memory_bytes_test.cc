// ParseMemoryBytes: Flink's MemorySize syntax, as 'source.max-record-size', 'source.chunk-size'
// and 'table.exec.state.max-bytes' take it.
#include <gtest/gtest.h>

#include "base/strings.h"

namespace eddy {
namespace {

TEST(Strings, ParseMemoryBytesTakesFlinkUnits) {
  EXPECT_EQ(ParseMemoryBytes("1048576"), 1048576);
  EXPECT_EQ(ParseMemoryBytes("64 mb"), 64 << 20);
  EXPECT_EQ(ParseMemoryBytes("64MB"), 64 << 20);
  EXPECT_EQ(ParseMemoryBytes("64m"), 64 << 20);
  EXPECT_EQ(ParseMemoryBytes("512 kb"), 512 << 10);
  EXPECT_EQ(ParseMemoryBytes("1 gb"), int64_t{1} << 30);
  EXPECT_EQ(ParseMemoryBytes("2 tebibytes"), int64_t{2} << 40);
  EXPECT_EQ(ParseMemoryBytes("7 bytes"), 7);
  EXPECT_EQ(ParseMemoryBytes("0"), 0);
  EXPECT_EQ(ParseMemoryBytes(""), -1);
  EXPECT_EQ(ParseMemoryBytes("mb"), -1);
  EXPECT_EQ(ParseMemoryBytes("-1"), -1);
  EXPECT_EQ(ParseMemoryBytes("10 parsecs"), -1);
  EXPECT_EQ(ParseMemoryBytes("1.5 mb"), -1);
  EXPECT_EQ(ParseMemoryBytes("99999999999999 tb"), -1);  // overflows int64
}

}  // namespace
}  // namespace eddy
