#include <gtest/gtest.h>

#include "types/batch.h"
#include "types/time_util.h"
#include "types/value.h"

namespace eddy {
namespace {

TEST(TimeUtil, CivilRoundTrip) {
  for (int64_t d = -800000; d <= 800000; d += 997) {
    int64_t y;
    unsigned m, day;
    CivilFromDays(d, &y, &m, &day);
    EXPECT_EQ(DaysFromCivil(y, m, day), d);
  }
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2001, 1, 1), 11323);  // 31 years incl. 8 leap days
}

TEST(TimeUtil, ParseTimestampForms) {
  const int64_t base = 11323 * kMicrosPerDay;  // 2001-01-01
  EXPECT_EQ(*ParseTimestamp("2001-01-01T00:01:00"), base + kMicrosPerMinute);
  EXPECT_EQ(*ParseTimestamp("2001-01-01 00:01"), base + kMicrosPerMinute);
  EXPECT_EQ(*ParseTimestamp("2001-01-01 00:00:01.5"), base + 1'500'000);
  EXPECT_EQ(*ParseTimestamp("2001-01-01 00:00:00.123456789"), base + 123456);
  EXPECT_EQ(*ParseTimestamp("2001-01-01"), base);
  EXPECT_FALSE(ParseTimestamp("2001-02-29 00:00:00"));
  EXPECT_FALSE(ParseTimestamp("2001-01-01 24:00:00"));
  EXPECT_FALSE(ParseTimestamp("2001-01-01X00:00:00"));
  EXPECT_FALSE(ParseTimestamp(""));
}

TEST(TimeUtil, FormatTimestampPrecision) {
  int64_t t = *ParseTimestamp("1999-12-31 23:59:59.25");
  EXPECT_EQ(FormatTimestamp(t, 3), "1999-12-31 23:59:59.250");
  EXPECT_EQ(FormatTimestamp(t, 0), "1999-12-31 23:59:59");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("1969-12-31 23:59:59"), 3), "1969-12-31 23:59:59.000");
  EXPECT_EQ(FormatTimestampPattern(t, "yyyy/MM/dd HH'h'"), "1999/12/31 23h");
  EXPECT_EQ(*ParseTimestampPattern("31.12.1999", "dd.MM.yyyy"), *ParseTimestamp("1999-12-31"));
}

TEST(TimeUtil, FloorDivNegative) {
  EXPECT_EQ(FloorDiv(-1, 10), -1);
  EXPECT_EQ(FloorMod(-1, 10), 9);
  EXPECT_EQ(FloorDiv(10, 10), 1);
}

TEST(Value, FormatDoubleLikeJava) {
  EXPECT_EQ(FormatDouble(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatDouble(1.0), "1.0");
  EXPECT_EQ(FormatDouble(1e7), "1.0E7");
  EXPECT_EQ(FormatDouble(0.001), "0.001");
  EXPECT_EQ(FormatDouble(1.5e-4), "1.5E-4");
  EXPECT_EQ(FormatDouble(-2.5), "-2.5");
}

TEST(Value, FormatCellTypes) {
  Column dec(DataType::Decimal(10, 2));
  dec.AppendInt(-1205);
  dec.AppendNull();
  EXPECT_EQ(FormatCell(dec, 0), "-12.05");
  EXPECT_EQ(FormatCell(dec, 1), "NULL");
  Column b(DataType::Boolean());
  b.AppendInt(1);
  EXPECT_EQ(FormatCell(b, 0), "TRUE");
  EXPECT_EQ(FormatCell(b, 0, "NULL", true), "true");
}

TEST(Batch, GatherKeepsArenasAlive) {
  Schema s;
  s.fields = {{"a", DataType::String()}, {"b", DataType::Bigint()}};
  Batch src = Batch::Empty(s);
  Arena* ar = src.NewArena();
  src.columns[0].AppendString(ar->Add("hello"));
  src.columns[1].AppendInt(7);
  src.kinds.push_back(RowKind::kUpdateAfter);
  Batch dst = src.Gather({0});
  src = Batch();  // the arena stays alive through dst
  EXPECT_EQ(dst.columns[0].str[0], "hello");
  EXPECT_EQ(dst.columns[1].i64[0], 7);
  EXPECT_STREQ(RowKindName(dst.kinds[0]), "+U");
}

}  // namespace
}  // namespace eddy
